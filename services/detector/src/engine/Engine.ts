// The detector's pure engine: batches of enriched flows and heartbeats in, anomalies out, over
// event time. No I/O, no clock, no randomness: the same inputs in the same order give the same
// anomalies with the same ids, live or in a replay.
//
// API (what the service, `netpulse replay` and `backtest` drive):
//   const engine = new DetectorEngine({ maxPairs });           // one per consumer (partition set / replay)
//   engine.step({ _tag: "Flows", flows }, { rules, policies })  // → anomalies to publish, in order
//   engine.step({ _tag: "Heartbeats", beats }, ctx)
//   engine.step({ _tag: "Tick", nowNs }, ctx)                   // advance event time with no data
//   engine.stats()                                              // pairs, evictions, watermark, episodes…
//   pairKeyOf(flow)                                             // ./pairKey.ts: the enriched topic's key
// Rules (../rules/index.ts): parseRules(yamlText, file) / decodeRules(json, source) →
//   Either<RuleSet, RulesError> (message = "file: path: reason"); encodeRules(ruleSet) = canonical
//   JSON for the rules topic; defaultRules (version 0); withVersion(ruleSet, n) for a publisher.
//
// - Event time: the watermark is the largest timestamp seen (flow window end, heartbeat ts, tick)
//   on every input (`source`: the bus partition a batch came from) that keeps up; an input more
//   than `maxSourceLagS` behind the newest time seen is left out, and a time more than `maxAheadS`
//   past its message's arrival on the bus (`arrivalNs`) counts as the arrival (EventClock.ts).
//   `detected_ns` of an opening is the watermark after its flow; of a resolution, last seen +
//   cooldown; of a capture_silent opening, last heartbeat + after_s; of its resolution, the
//   heartbeat that ended the silence.
// - Tick: live, the wall clock from the Clock service (minus whatever lateness the pipeline allows:
//   a tick past a node's last heartbeat + after_s declares it silent). End of a replay: tick to the
//   replay's end time to resolve what ended before it; ticking further also declares silent every
//   node whose heartbeats stop where the replay does.
// - Episodes: a finding of one (kind, subject) opens an episode and publishes one record (status
//   "open", count 1, the opening flow's window). Repeats within `rules.cooldown_s` (one value for
//   every kind) of the last fold into it, unpublished. When the watermark passes last seen +
//   cooldown, a second record with the SAME id says status "resolved" with the final count, last
//   seen and up to 5 sample flow ids: the sink keeps the latest version of the row by id, and a
//   redelivered record is byte-identical. Subjects: the workload pair (pairKeyOf) for flow kinds,
//   pair + "#port" for policy_denied, the destination workload + "#port" for policy_unprotected,
//   "node:X" for capture_silent and conntrack_pressure. Id: sha1(rule id, rule version, subject,
//   episode start), 32 hex digits.
// - Output order of one step: openings and (when a repeat comes after the cooldown) the old
//   episode's resolution in input order, then resolutions due at the watermark (by deadline, then
//   key), then capture_silent openings.
// - Node-wide hint: at the end of a Flows step, openings of slow findings (rtt_high, baseline RTT)
//   whose capturing node reported ≥ 5 pairs in its current (or previous) 10 s bucket, ≥ 80 % of
//   them slow, get a cause hint naming the node. This hint is the one output that depends on how
//   flows are batched.
// - Rules: ctx.rules may change between steps (a new version on the rules topic); it is compiled
//   once per RuleSet object, so hand the same object until it changes. Openings name the
//   rule id and version in force; open episodes keep their id. Overrides resolve per flow (first
//   match on namespace and/or workload, either end); node kinds use the base rules; baseline
//   parameters are global (PairBaselines.setParams on change).
// - Policies: ctx.policies is the cluster state (fed by informers or manifests); undefined = the
//   policy kinds are off. Verdicts are cached per (src IP, dst IP, port) until its generation moves.
// - The same connection from both nodes (client and server records, same 5-tuple, overlapping
//   windows) is one finding: the second record folds in without counting.
// - Units: RTT values in µs (unit "us"), retransmits in segments, retransmit rate as a ratio,
//   conntrack as a ratio or a count, silence in seconds.
// - Memory: baselines bounded by maxPairs (evictions counted), the both-sides filter and the
//   verdict cache bounded, episodes bounded by time (each resolves a cooldown after its last repeat).
// - Not thread-safe, not shareable: state is mutable inside; one engine per consumer.
import type { PolicyEngine } from "@netpulse/policy/PolicyEngine";
import type { Anomaly, EnrichedFlow, Heartbeat } from "@netpulse/runtime/records";
import { PairBaselines } from "./baseline/PairBaselines.js";
import { CompiledRules } from "./CompiledRules.js";
import { EventClock } from "./EventClock.js";
import { Episodes, type AnomalyDraft } from "./Episodes.js";
import { FlowRules } from "./FlowRules.js";
import { MirrorFilter } from "./MirrorFilter.js";
import { NodeChecks } from "./NodeChecks.js";
import { NodeHealth } from "./NodeHealth.js";
import { NODE_LOAD_DEFAULTS, NodeLoad, type NodeLoadOptions } from "./NodeLoad.js";
import { VerdictCache } from "./VerdictCache.js";
import type { RuleSet } from "../rules/RuleSet.js";

export type EngineInput =
  | {
      readonly _tag: "Flows";
      readonly flows: ReadonlyArray<EnrichedFlow>;
      readonly source?: string;
      /** When the batch reached the bus (its message timestamp); 0 or absent: unknown. */
      readonly arrivalNs?: bigint;
    }
  | {
      readonly _tag: "Heartbeats";
      readonly beats: ReadonlyArray<Heartbeat>;
      readonly source?: string;
      readonly arrivalNs?: bigint;
    }
  | { readonly _tag: "Tick"; readonly nowNs: bigint };

export interface EngineContext {
  readonly rules: RuleSet;
  readonly policies: PolicyEngine | undefined;
}

export interface EngineOptions {
  /** Workload pairs whose baselines are kept; the least recently seen is evicted beyond. [100 000] */
  readonly maxPairs?: number;
  /** Connections remembered for the both-sides dedupe, per generation. [65 536] */
  readonly mirrorLimit?: number;
  /** The node-wide slowness hint: bucket width, minimum pairs, ratio slow. [10 s, 5, 0.8] */
  readonly nodeLoad?: Partial<NodeLoadOptions>;
  /** How far one input (partition) may lag the newest time seen before time goes on without it. [120 s] */
  readonly maxSourceLagS?: number;
  /** How far a record's time may be past its message's arrival before the clock takes the arrival instead. [900 s] */
  readonly maxAheadS?: number;
}

export interface EngineStats {
  readonly pairsTracked: number;
  readonly evictions: number;
  /** Memory of the baselines (typed arrays sized by maxPairs): bytes per pair = this / maxPairs. */
  readonly baselineBytes: number;
  readonly watermarkNs: bigint;
  readonly openEpisodes: number;
  readonly nodesTracked: number;
  readonly silentNodes: number;
  readonly rulesVersion: number;
  readonly anomalies: number;
  /** Records whose time was more than maxAheadS past their message's arrival (EventClock.ts). */
  readonly recordsAhead: number;
}

/** Mutable engine state shared by the flow and node checks (one object, no module state). */
export interface EngineState {
  watermarkNs: bigint;
  readonly clock: EventClock;
  readonly episodes: Episodes;
  readonly nodes: NodeHealth;
  readonly load: NodeLoad;
  readonly mirror: MirrorFilter;
  readonly baselines: PairBaselines;
  readonly verdicts: VerdictCache;
  /** Openings of this step that a node-wide hint may still annotate. */
  readonly slowOpenings: AnomalyDraft[];
}

export class DetectorEngine {
  readonly #state: EngineState;
  readonly #flows: FlowRules;
  readonly #nodes: NodeChecks;
  #compiled: CompiledRules | undefined;
  #baselineParams = "";
  #anomalies = 0;

  constructor(options: EngineOptions = {}) {
    this.#state = {
      watermarkNs: 0n,
      clock: new EventClock(
        BigInt(options.maxSourceLagS ?? 120) * 1_000_000_000n,
        BigInt(options.maxAheadS ?? 900) * 1_000_000_000n,
      ),
      episodes: new Episodes(),
      nodes: new NodeHealth(),
      load: new NodeLoad({ ...NODE_LOAD_DEFAULTS, ...options.nodeLoad }),
      mirror: new MirrorFilter(options.mirrorLimit),
      baselines: new PairBaselines({ capacity: options.maxPairs ?? 100_000, params: {} }),
      verdicts: new VerdictCache(),
      slowOpenings: [],
    };
    this.#flows = new FlowRules(this.#state);
    this.#nodes = new NodeChecks(this.#state);
  }

  step(input: EngineInput, ctx: EngineContext): ReadonlyArray<Anomaly> {
    const c = this.#rules(ctx.rules);
    const s = this.#state;
    const out: Anomaly[] = [];
    switch (input._tag) {
      case "Flows": {
        s.clock.begin(input.source ?? "", input.arrivalNs);
        const flows = input.flows;
        for (let i = 0; i < flows.length; i++) this.#flows.flow(flows[i]!, c, ctx.policies, out);
        this.#flows.annotateSlow();
        break;
      }
      case "Heartbeats":
        s.clock.begin(input.source ?? "", input.arrivalNs);
        for (const b of input.beats) this.#nodes.beat(b, c, out);
        break;
      case "Tick":
        if (input.nowNs > s.watermarkNs) s.watermarkNs = input.nowNs;
        break;
    }
    for (const a of s.episodes.sweep(s.watermarkNs)) out.push(a);
    this.#nodes.silences(c, out);
    this.#anomalies += out.length;
    return out;
  }

  /** Event time reached: the newest flow window end, heartbeat or tick seen. */
  get watermarkNs(): bigint {
    return this.#state.watermarkNs;
  }

  stats(): EngineStats {
    const s = this.#state;
    let silent = 0;
    for (const n of s.nodes.nodes()) if (n.silence !== undefined) silent++;
    return {
      pairsTracked: s.baselines.size,
      evictions: s.baselines.evictions,
      baselineBytes: s.baselines.bytes,
      watermarkNs: s.watermarkNs,
      openEpisodes: s.episodes.size + silent,
      nodesTracked: s.nodes.size,
      silentNodes: silent,
      rulesVersion: this.#compiled?.rules.version ?? 0,
      anomalies: this.#anomalies,
      recordsAhead: s.clock.ahead,
    };
  }

  #rules(rules: RuleSet): CompiledRules {
    const known = this.#compiled;
    if (known !== undefined && known.rules === rules) return known;
    const c = new CompiledRules(rules);
    const params = rules.base.baseline_deviation.params;
    const key = JSON.stringify(params);
    if (key !== this.#baselineParams) {
      this.#state.baselines.setParams(params);
      this.#baselineParams = key;
    }
    this.#compiled = c;
    return c;
  }
}
