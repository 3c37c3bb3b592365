// The codec of every record type on the bus, built once from schemas/ (newest version is the
// reader, older versions stay readable).
import { type AvroSchema, type AvroType, loadSchemaFile, parseSchema, schemaVersions } from "./avro.js";
import { makeBatchCodec, type BatchCodec } from "./BatchCodec.js";
import type { Anomaly, DeadLetter, EnrichedFlow, Heartbeat, RawFlow } from "../records.js";

const versions = (base: string): { schema: AvroSchema; writers: AvroSchema[] } => {
  const all = schemaVersions(base);
  const newest = all[all.length - 1];
  if (newest === undefined) throw new Error(`schemas/${base}.v*.avsc missing`);
  return { schema: newest.schema, writers: all.map((v) => v.schema) };
};

const DIRECTIONS = new Set(["client", "server"]);
const CLOSE_REASONS = new Set(["fin", "rst_sent", "rst_received", "timeout", "open"]);
const validPort = (p: number) => p >= 0 && p <= 65535;

/** Semantic checks shared by raw and enriched flows (Avro already checked the types). */
export const checkFlow = (f: RawFlow): string | undefined => {
  if (!DIRECTIONS.has(f.direction)) return `direction "${f.direction}" is not client|server`;
  if (!CLOSE_REASONS.has(f.close_reason))
    return `close_reason "${f.close_reason}" is not fin|rst_sent|rst_received|timeout|open`;
  if (!validPort(f.src_port)) return `src_port ${f.src_port} out of range`;
  if (!validPort(f.dst_port)) return `dst_port ${f.dst_port} out of range`;
  if (f.end_ns < f.start_ns) return `end_ns ${f.end_ns} before start_ns ${f.start_ns}`;
  if (f.sampling < 1) return `sampling ${f.sampling} < 1`;
  return undefined;
};

export const RawFlowCodec: BatchCodec<RawFlow> = makeBatchCodec<RawFlow>({ ...versions("raw-flow"), check: checkFlow });

export const EnrichedFlowCodec: BatchCodec<EnrichedFlow> = makeBatchCodec<EnrichedFlow>({
  ...versions("enriched-flow"),
  check: checkFlow,
});

/** Named types that other schemas refer to by name. */
const endpointRegistry = (): Record<string, AvroType> => {
  const registry: Record<string, AvroType> = {};
  parseSchema(loadSchemaFile("endpoint.v1.avsc"), registry);
  return registry;
};

export const AnomalyCodec: BatchCodec<Anomaly> = makeBatchCodec<Anomaly>({
  ...versions("anomaly"),
  registry: endpointRegistry(),
});

export const HeartbeatCodec: BatchCodec<Heartbeat> = makeBatchCodec<Heartbeat>(versions("heartbeat"));

/** DLQ messages are single records (one per bad message), but share the codec shape. */
export const DeadLetterCodec: BatchCodec<DeadLetter> = makeBatchCodec<DeadLetter>(versions("dlq"));
