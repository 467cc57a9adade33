/** The replication mask of the simulated machine, for tests that build an Actuator by hand. */
import { type ReplicationMask, replicationMask } from "../../src/core/replication_mask.ts";
import { simTopology } from "../../src/sim/topology.ts";

/** The mask of an all-CPU simulated machine of `nodes` nodes (4: 0xf). */
export function simReplication(nodes = 4): () => ReplicationMask {
  const mask = replicationMask(simTopology(nodes));
  return () => mask;
}
