// `--rules live`: each flow is judged by the rules version that was in force at its moment, the
// newest version whose publish time (its broker time on netpulse.rules) is at or before the
// watermark (newest flow window end) of the records seen so far, this one included; before the
// first version, the built-in defaults. A batch whose records cross a publish time is cut there,
// so the switch happens at that record and not at the next batch (only such batches are
// re-encoded; the others pass as they came).
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import type { BusMessage } from "@netpulse/runtime/bus/Bus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import type { RuleSet } from "@netpulse/detector";

export interface RulesVersionAt {
  readonly atMs: number;
  readonly rules: RuleSet;
}

export interface JudgedMessage {
  readonly message: BusMessage;
  readonly rules: RuleSet;
}

/** Rules (in publish order) → a function from each message to its pieces, each with its rules. */
export const rulesInForce = (history: ReadonlyArray<RulesVersionAt>, initial: RuleSet) => {
  const versions = [...history].sort((a, b) => a.atMs - b.atMs);
  let next = 0;
  let current = initial;
  let watermarkNs = 0n;
  let sequence = 0n;
  const nextAtNs = () => {
    const v = versions[next];
    return v === undefined ? undefined : BigInt(v.atMs) * 1_000_000n;
  };
  /** Advance past every version published at or before the watermark. */
  const advance = () => {
    for (let at = nextAtNs(); at !== undefined && at <= watermarkNs; at = nextAtNs()) {
      current = (versions[next] as RulesVersionAt).rules;
      next++;
    }
  };
  const piece = (m: BusMessage, flows: ReadonlyArray<EnrichedFlow>): BusMessage => {
    let newest = 0n;
    for (const f of flows) if (f.end_ns > newest) newest = f.end_ns;
    return {
      ...m,
      value: EnrichedFlowCodec.encodeBatch(flows, {
        producer: "replay:rules-live",
        sequence: sequence++,
        createdNs: newest,
      }),
    };
  };
  return (m: BusMessage): JudgedMessage[] => {
    if (nextAtNs() === undefined || m.topic !== Topics.flowsEnriched) return [{ message: m, rules: current }];
    const batch = EnrichedFlowCodec.decodeBatch(m.value);
    // the detector rejects it with the reason; which rules it sees does not matter
    if (Either.isLeft(batch)) return [{ message: m, rules: current }];
    const flows = batch.right.records;
    const out: JudgedMessage[] = [];
    let from = 0;
    for (let i = 0; i < flows.length; i++) {
      const end = (flows[i] as EnrichedFlow).end_ns;
      if (end > watermarkNs) watermarkNs = end;
      const at = nextAtNs();
      if (at === undefined || watermarkNs < at) continue;
      if (i > from) out.push({ message: piece(m, flows.slice(from, i)), rules: current });
      from = i;
      advance();
    }
    if (from === 0) return [{ message: m, rules: current }];
    out.push({ message: piece(m, flows.slice(from)), rules: current });
    return out;
  };
};

/** The stream, each message (or piece of one) with the rules in force for it. */
export const withRulesInForce =
  (history: ReadonlyArray<RulesVersionAt>, initial: RuleSet) =>
  <E, R>(stream: Stream.Stream<BusMessage, E, R>): Stream.Stream<JudgedMessage, E, R> => {
    const judge = rulesInForce(history, initial);
    return Stream.mapConcat(stream, judge);
  };
