/**
 * The ownership record as a state file (owned.json next to pins.json): read
 * with the same hardening as the pins file (regular file only, size cap, a
 * bad one set aside and reported once), replaced atomically; never read
 * from a state directory others can write (state_dir.ts).
 */
import { decodeOwned, encodeOwned, type OwnedStore } from "../core/ownership_record.ts";
import { loadStateFile, removeStateFile, writeStateFile } from "./state_file.ts";
import { LOCK_FILE_NAME, lockStateFile } from "./state_lock.ts";
import { dirOf, stateDirDistrust } from "./state_dir.ts";

export const OWNED_FILE_NAME = "owned.json";

export function fileOwnedStore(path: string): OwnedStore {
  return {
    where: path,
    load: (nowMs) => {
      // A record anyone else could have written is not acted on (the file is left as it is).
      const distrust = stateDirDistrust(dirOf(path));
      if (distrust !== null) {
        return {
          record: null,
          warning: `ownership record: ${distrust}: nothing in it is adopted or restored`,
        };
      }
      const { value, warning } = loadStateFile(path, "ownership record", decodeOwned, nowMs);
      return { record: value, warning };
    },
    save: (record) => writeStateFile(path, encodeOwned(record)),
    clear: () => removeStateFile(path),
    // One enforcing waspd per state directory: the lock lives next to the record.
    claim: (create) =>
      lockStateFile(`${path.replace(/[^/]*$/, "")}${LOCK_FILE_NAME}`, Deno.pid, create),
  };
}
