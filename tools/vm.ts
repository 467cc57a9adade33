/**
 * `deno task vm`: run the QEMU NUMA suite (tests/vm/suite.sh) with the deno
 * that runs this task. A newcomer runs `npx -y deno@2.9.6 task vm` with no
 * deno on PATH; the shell scripts need a deno on the host (to cache the npm
 * packages the offline guest needs, and to copy into the guest), so they are
 * handed this one as $DENO instead of looking it up on PATH.
 */
const suite = new URL("../tests/vm/suite.sh", import.meta.url).pathname;
const { code } = await new Deno.Command("bash", {
  args: [suite, ...Deno.args],
  env: { DENO: Deno.execPath() },
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(code);
