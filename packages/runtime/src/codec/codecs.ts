// The codec of every record type on the bus, built once from schemas/ (newest version is the
// reader, older versions stay readable).
import { type AvroSchema, type AvroType, loadSchemaFile, parseSchema, schemaVersions } from "./avro.js";
import { makeBatchCodec, type BatchCodec } from "./BatchCodec.js";
import { CLOSE_REASONS, DIRECTIONS, flowProblem } from "./flowRules.js";
import type { Anomaly, DeadLetter, EnrichedFlow, Heartbeat, RawFlow } from "../records.js";

const versions = (base: string): { schema: AvroSchema; writers: AvroSchema[] } => {
  const all = schemaVersions(base);
  const newest = all[all.length - 1];
  if (newest === undefined) throw new Error(`schemas/${base}.v*.avsc missing`);
  return { schema: newest.schema, writers: all.map((v) => v.schema) };
};

const DIRECTION_SET = new Set<string>(DIRECTIONS);
const CLOSE_REASON_SET = new Set<string>(CLOSE_REASONS);

/** Semantic checks shared by raw and enriched flows (Avro already checked the types). */
export const checkFlow = (f: RawFlow): string | undefined =>
  flowProblem(
    DIRECTION_SET.has(f.direction) ? undefined : f.direction,
    CLOSE_REASON_SET.has(f.close_reason) ? undefined : f.close_reason,
    f.src_port,
    f.dst_port,
    f.end_ns < f.start_ns ? [f.end_ns, f.start_ns] : undefined,
    f.sampling,
  );

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
