/**
 * What a view may ask of the running daemon: a Command, data that names the
 * operator's action (operator.ts) and its arguments, or `stop`. The TUI's key
 * table maps keys to Commands; the daemon acknowledges each with an event in
 * the next snapshot. Every command returns quickly: slow work (a probe, a
 * kernel call) is started and reported later, never awaited by a view.
 */
import type { Snapshot } from "../core/snapshot.ts";
import type { OperatorCommand } from "./operator.ts";

export type { OperatorCommand };

/** Ask the daemon to stop: its run ends, then it undoes what it changed. */
export interface StopCommand {
  readonly kind: "stop";
  readonly reason: string;
}

export type Command = OperatorCommand | StopCommand;

export interface DaemonControl {
  /** Carry out one command; its outcome is an event in a later snapshot. */
  act(command: Command): void;
}

/** A view receives each snapshot as it is made. */
export type SnapshotListener = (snapshot: Snapshot) => void;
