/**
 * LinuxHost: the real machine behind the Host seam, assembled from the small
 * modules that each touch one part of the OS. Nothing here decides anything.
 */
import type { ProcessInfo, ProcessKey, SignalKind, Topology } from "../core/types.ts";
import { type Clock, type Host, type Privileges, realClock } from "../host.ts";
import { LinuxProber } from "../../probe/prober.ts";
import { LightProber } from "../../probe/light_prober.ts";
import { LinuxCounterSource } from "./perf/counters.ts";
import { LinuxMitosis } from "./mitosis/linux.ts";
import { FilePins } from "./pins.ts";
import type { OwnedStore } from "../core/ownership_record.ts";
import { fileOwnedStore, OWNED_FILE_NAME } from "./ownership_file.ts";
import { readPrivileges } from "./privileges.ts";
import { OwnerCache } from "./owner_cache.ts";
import { KeptStatFiles } from "./kept_stat_files.ts";
import { fdBudget, raiseFdLimit } from "./perf/fd_budget.ts";
import { RLIMIT_NOFILE } from "../ffi/libc.ts";
import { confirmProcess, listProcesses, readPageTablesKb, readProcess } from "./procfs.ts";
import { type FixedFacts, readFixedFacts, readTopology } from "./topology.ts";

export interface LinuxHostOptions {
  procRoot: string;
  sysRoot: string;
  /** Where waspd's state files live (default /run/waspd): pins.json, owned.json. */
  stateDir?: string;
  /** `--signals`: PMU events (default), or the software stand-in the user asked for. */
  signals?: SignalKind;
}

/** The share of RLIMIT_NOFILE the scan may keep open (the counters take half). */
const STAT_FD_SHARE = 0.35;

/** Where the real host keeps waspd's state (pins.json, owned.json) unless told otherwise. */
export const DEFAULT_STATE_DIR = "/run/waspd";

export class LinuxHost implements Host {
  readonly simulated = false;
  readonly clock: Clock = realClock;
  readonly counters: LinuxCounterSource;
  readonly mitosis: LinuxMitosis;
  readonly prober: LinuxProber;
  readonly refresher = new LightProber();
  readonly pins: FilePins;
  readonly ownership: OwnedStore;
  readonly #options: LinuxHostOptions;
  readonly #owners = new OwnerCache();
  /** The scan's stat files kept open between ticks, beside the counters' half of the fds. */
  readonly #statFiles = new KeptStatFiles(fdBudget(raiseFdLimit(RLIMIT_NOFILE), STAT_FD_SHARE));
  /** Caches, CPU identity, command line: read once, as they cannot change while waspd runs. */
  readonly #fixed: Promise<FixedFacts>;

  private constructor(options: LinuxHostOptions, topology: Topology, fixed: Promise<FixedFacts>) {
    this.#options = options;
    this.#fixed = fixed;
    // The counter event table depends on the CPU model, hence the topology first.
    this.counters = new LinuxCounterSource({
      cpu: topology.cpu,
      procRoot: options.procRoot,
      signals: options.signals ?? "hardware",
    });
    this.mitosis = new LinuxMitosis(options.procRoot);
    // The daemon refreshes through `refresher`, which keeps its rings; the
    // full chase runs only on demand (`r`, `waspd probe`): its workers need not stay.
    this.prober = new LinuxProber({ sysRoot: options.sysRoot });
    const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
    this.pins = new FilePins(
      `${stateDir}/pins.json`,
      async (key) => (await confirmProcess(options.procRoot, key)) !== null,
    );
    this.ownership = fileOwnedStore(`${stateDir}/${OWNED_FILE_NAME}`);
  }

  static async open(options: LinuxHostOptions): Promise<LinuxHost> {
    const fixed = readFixedFacts(options.sysRoot, options.procRoot);
    const topology = await readTopology(options.sysRoot, options.procRoot, fixed);
    return new LinuxHost(options, topology, fixed);
  }

  hostname(): string {
    return Deno.hostname();
  }

  kernelRelease(): string {
    return Deno.osRelease();
  }

  privileges(): Privileges {
    return readPrivileges();
  }

  topology(): Promise<Topology> {
    return readTopology(this.#options.sysRoot, this.#options.procRoot, this.#fixed);
  }

  processes(): Promise<ProcessInfo[]> {
    return listProcesses(this.#options.procRoot, this.#owners, this.#statFiles);
  }

  process(pid: number): Promise<ProcessInfo | null> {
    return readProcess(this.#options.procRoot, pid);
  }

  confirm(key: ProcessKey): Promise<ProcessInfo | null> {
    return confirmProcess(this.#options.procRoot, key);
  }

  pageTablesKb(key: ProcessKey): number | null {
    return readPageTablesKb(this.#options.procRoot, key);
  }

  async close(): Promise<void> {
    this.counters.close();
    this.prober.close();
    this.refresher.close();
    this.#statFiles.close();
    // The prctl helpers are killed; one stuck in the kernel gets a moment, never more.
    await this.mitosis.drain(200);
  }
}
