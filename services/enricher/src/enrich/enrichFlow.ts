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
  return { ...raw, src: src.endpoint(), dst: dst.endpoint() };
};
