// The workload pair a flow belongs to: the key of baselines and episodes, and (the wiring uses
// this same function) of the enriched topic's partitions, so one replica sees a pair in order.
import type { Endpoint, EnrichedFlow } from "@netpulse/runtime/records";

/**
 * One end's name: `namespace/workload` (owner workload, else the pod), the external CIDR name or
 * else the IP for ends outside the cluster's pods.
 */
export const endName = (e: Endpoint, ip: string): string => {
  if (e.namespace !== "") {
    if (e.workload_name !== "") return `${e.namespace}/${e.workload_name}`;
    if (e.pod !== "") return `${e.namespace}/${e.pod}`;
  }
  return e.external_name !== "" ? e.external_name : ip;
};

/** Both ends' names, sorted, joined by "|": the same for both directions and both nodes' records. */
export const pairKeyOf = (flow: EnrichedFlow): string => {
  const a = endName(flow.src, flow.src_ip);
  const b = endName(flow.dst, flow.dst_ip);
  return a <= b ? `${a}|${b}` : `${b}|${a}`;
};
