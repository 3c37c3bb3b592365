// Bytes per tracked pair: the baselines' own figure (typed arrays sized by maxPairs, from
// engine.stats()) and the heap growth of a whole DetectorEngine (baselines, episodes, the
// both-sides filter, the verdict cache, the node tally) after every pair of the bench traffic sent
// it 2 windows with all rules on. The PolicyEngine is cluster state, not the detector's: it is built
// before the first reading with its own verdict cache off, so the verdicts the detector's cache
// keeps alive are counted here; a throwaway engine fed the same traffic first compiles the code
// and fills the policy engine's endpoint and selection caches.
import type { PolicyEngine } from "@netpulse/policy";
import { DetectorEngine, type EngineContext } from "../src/engine/Engine.js";
import type { RuleSet } from "../src/rules/RuleSet.js";
import { BATCH } from "./detectorThroughput.js";
import type { Traffic } from "./detectorTraffic.js";
import { heapBytes } from "./detectorStats.js";

const CYCLES = 2;

export interface MemoryResult {
  readonly pairs: number;
  readonly copies: number;
  /** engine.stats().baselineBytes / maxPairs. */
  readonly baselineBytesPerPair: number;
  /** Heap + array buffers grown per tracked pair, the whole engine with the policy audit on. */
  readonly engineBytesPerPair: number;
  /** The same without policies (policy kinds off: no verdict cache). */
  readonly engineNoPolicyBytesPerPair: number;
  readonly pairsTracked: number;
  readonly openEpisodes: number;
}

const feed = (engine: DetectorEngine, traffic: Traffic, ctx: EngineContext): void => {
  const total = CYCLES * traffic.pairs.length;
  for (let i = 0; i < total; i += BATCH)
    engine.step({ _tag: "Flows", flows: traffic.flows(i, Math.min(BATCH, total - i)) }, ctx);
};

/** In a frame of its own: a temporary in the measuring frame's registers could stay reachable. */
const warm = (traffic: Traffic, ctx: EngineContext): number => {
  const e = new DetectorEngine({ maxPairs: traffic.pairs.length });
  feed(e, traffic, ctx);
  return e.stats().pairsTracked;
};

/** Heap growth per pair of `copies` engines kept alive together (so a stray 100 kB weighs little). */
const perPair = (traffic: Traffic, ctx: EngineContext, copies: number): { bytes: number; last: DetectorEngine } => {
  const n = traffic.pairs.length;
  warm(traffic, ctx);
  const engines: DetectorEngine[] = [];
  const before = heapBytes();
  for (let c = 0; c < copies; c++) {
    const e = new DetectorEngine({ maxPairs: n });
    feed(e, traffic, ctx);
    engines.push(e);
  }
  const after = heapBytes();
  return { bytes: (after - before) / n / copies, last: engines[engines.length - 1]! };
};

export const measureMemory = (traffic: Traffic, rules: RuleSet, policies: PolicyEngine): MemoryResult => {
  const n = traffic.pairs.length;
  const copies = Math.max(1, Math.ceil(40_000 / n));
  const withPolicies = perPair(traffic, { rules, policies }, copies);
  const withoutPolicies = perPair(traffic, { rules, policies: undefined }, copies);
  const s = withPolicies.last.stats();
  return {
    pairs: n,
    copies,
    baselineBytesPerPair: s.baselineBytes / n,
    engineBytesPerPair: withPolicies.bytes,
    engineNoPolicyBytesPerPair: withoutPolicies.bytes,
    pairsTracked: s.pairsTracked,
    openEpisodes: s.openEpisodes,
  };
};
