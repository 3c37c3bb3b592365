// Bus keys of flows. Raw flows: the two IPs sorted, so both directions of a conversation (and
// both nodes' records of it) hash onto the same partition and stay ordered together. Enriched
// flows: the sorted workload pair, so every flow of one pair of workloads reaches one detector
// replica, in order, and that replica alone holds the pair's baseline.
import type { Endpoint } from "./records.js";

export const flowKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/**
 * What one end of a flow is, as far as baselines go: `namespace/workload` for a pod with an
 * owner (the pod's name when it has none), `node/NAME` for a node, `namespace/service/NAME` for
 * a service address, the CIDR name for a named external address, else the IP itself.
 */
export const endKey = (e: Endpoint, ip: string): string => {
  switch (e.kind) {
    case "pod":
      return `${e.namespace}/${e.workload_name !== "" ? e.workload_name : e.pod}`;
    case "node":
      return `node/${e.node}`;
    case "service":
      return `${e.namespace}/service/${e.service}`;
    case "external":
      return e.external_name !== "" ? e.external_name : ip;
    default:
      return ip;
  }
};

/** The key of an enriched flow's workload pair (sorted, so both directions agree). */
export const workloadPairKey = (f: {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly src_ip: string;
  readonly dst_ip: string;
}): string => flowKey(endKey(f.src, f.src_ip), endKey(f.dst, f.dst_ip));
