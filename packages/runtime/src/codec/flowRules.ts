// The rules every raw or enriched flow keeps beyond its Avro types, in one place for the three
// readers that apply them: the codec (decoded records), the enricher's scanner and the sink's
// transcoder (both on the bytes, where a word is matched without building a string).

export const DIRECTIONS = ["client", "server"] as const;
export const CLOSE_REASONS = ["fin", "rst_sent", "rst_received", "timeout", "open"] as const;

/** The same words as bytes, for AvroCursor.oneOf. */
export const DIRECTION_BYTES = DIRECTIONS.map((w) => Buffer.from(w));
export const CLOSE_REASON_BYTES = CLOSE_REASONS.map((w) => Buffer.from(w));

const validPort = (p: number) => p >= 0 && p <= 65535;

/**
 * The first rule a flow breaks, as a message, or undefined. `badDirection` / `badClose` carry
 * the offending word only when it is not one of the allowed ones; `backwards` carries
 * [end_ns, start_ns] only when end_ns < start_ns (callers compare without building bigints).
 */
export const flowProblem = (
  badDirection: string | undefined,
  badClose: string | undefined,
  srcPort: number,
  dstPort: number,
  backwards: readonly [bigint, bigint] | undefined,
  sampling: number,
): string | undefined => {
  if (badDirection !== undefined) return `direction "${badDirection}" is not ${DIRECTIONS.join("|")}`;
  if (badClose !== undefined) return `close_reason "${badClose}" is not ${CLOSE_REASONS.join("|")}`;
  if (!validPort(srcPort)) return `src_port ${srcPort} out of range`;
  if (!validPort(dstPort)) return `dst_port ${dstPort} out of range`;
  if (backwards !== undefined) return `end_ns ${backwards[0]} before start_ns ${backwards[1]}`;
  if (sampling < 1) return `sampling ${sampling} < 1`;
  return undefined;
};
