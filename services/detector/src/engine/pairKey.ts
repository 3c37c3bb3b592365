// The workload pair a flow belongs to: the key of baselines and episodes, and the enriched
// topic's partition key (the enricher keys by the same function, flowKey.ts in the runtime), so
// one replica sees a pair's flows, in order.
import { endKey, workloadPairKey } from "@netpulse/runtime/flowKey";
import type { Endpoint, EnrichedFlow } from "@netpulse/runtime/records";

/**
 * One end's name: `namespace/workload` (owner workload, else the pod), `node/NAME`,
 * `namespace/service/NAME`, the external CIDR name, else the IP.
 */
export const endName = (e: Endpoint, ip: string): string => endKey(e, ip);

/** Both ends' names, sorted, joined by "|": the same for both directions and both nodes' records. */
export const pairKeyOf = (flow: EnrichedFlow): string => workloadPairKey(flow);
