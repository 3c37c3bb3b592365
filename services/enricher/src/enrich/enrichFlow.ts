// One RawFlow object → EnrichedFlow object: the record path used by the offline CLI and by
// batches from older writer schemas (the bus path appends cached bytes instead, BatchEnricher).
import type { EnrichedFlow, RawFlow } from "@netpulse/runtime/records";
import type { MetadataIndex } from "../index/MetadataIndex.js";
import type { Target } from "../index/Target.js";

/** Flow start as ms since the epoch, the time the index resolves IPs at. */
export const flowStartMs = (f: RawFlow): number => Number(f.start_ns) / 1e6;

export const enrichFlow = (index: MetadataIndex, raw: RawFlow, onEnd?: (t: Target) => void): EnrichedFlow => {
  const t = flowStartMs(raw);
  const src = index.resolve(raw.src_ip, t);
  const dst = index.resolve(raw.dst_ip, t);
  onEnd?.(src);
  onEnd?.(dst);
  // Spelled out: an object spread of a 26-field record measured ~6× slower (MEASURED.md).
  return {
    flow_id: raw.flow_id,
    node: raw.node,
    start_ns: raw.start_ns,
    end_ns: raw.end_ns,
    src_ip: raw.src_ip,
    src_port: raw.src_port,
    dst_ip: raw.dst_ip,
    dst_port: raw.dst_port,
    protocol: raw.protocol,
    direction: raw.direction,
    bytes_sent: raw.bytes_sent,
    bytes_received: raw.bytes_received,
    segs_sent: raw.segs_sent,
    segs_received: raw.segs_received,
    retransmits: raw.retransmits,
    syn_retransmits: raw.syn_retransmits,
    srtt_us: raw.srtt_us,
    min_rtt_us: raw.min_rtt_us,
    max_rtt_us: raw.max_rtt_us,
    state: raw.state,
    close_reason: raw.close_reason,
    netns: raw.netns,
    cgroup_id: raw.cgroup_id,
    pid: raw.pid,
    comm: raw.comm,
    sampling: raw.sampling,
    src: src.endpoint(),
    dst: dst.endpoint(),
  };
};
