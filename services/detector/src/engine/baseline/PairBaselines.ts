// Learned per-workload-pair baselines of RTT and retransmit rate, for baseline_deviation.
// Owns the per-pair state only: the engine owns episodes and anomalies, and passes each window's
// event time. Deterministic: no wall clock, no randomness.
//
// Method (chosen by measurement, docs/detector-baseline.md): RTT in log space, where real RTTs are
// roughly normal and a 2× change weighs the same at 1 ms as at 100 ms. Location is an exponentially
// weighted mean of ln(RTT), scale an exponentially weighted mean absolute deviation, both learned
// from residuals clipped at 1.5 sd and not at all from a window above the baseline, so an anomaly
// does not become the new normal; a deviation either way that lasts `acceptAfterS` and
// `acceptAfterSamples` is taken as the new level (so the baseline also comes back down after one). An alert needs `confirmSamples` deviating windows in a row, each with z above
// `sensitivity`, RTT ≥ `minRatio` × baseline and ≥ `minDeviationMs` above it. The retransmit rate
// runs the same recursion on the rate itself, with the absolute floor `minRetransRate`.
//
// Memory: ≤ 59 B per tracked pair with the key bookkeeping (PairTable.ts), in typed arrays sized by
// `capacity` at construction (bench/baseline.bench.ts).
import { PairTable } from "./PairTable.js";
import { type ResolvedBaselineParams, resolveBaselineParams } from "./baselineParams.js";

export { BASELINE_PARAM_SPEC, baselineDefaults } from "./baselineParams.js";

export interface BaselineFinding {
  /** The learned baseline: RTT in ms (geometric mean) or retransmit rate (0..1). */
  readonly baseline: number;
  /** The window's value, in the baseline's unit. */
  readonly observed: number;
  readonly metric: "rtt" | "retrans";
  /** Robust z-score of the window against the baseline (≥ sensitivity when reported). */
  readonly score: number;
}

/** Mean absolute deviation → standard deviation for a normal distribution (√(π/2)). */
const SIGMA_PER_MAD = 1.2533;
/** Event time is kept per pair in Uint32 ticks of 1/16 s from an epoch ~4 years before the first window. */
const TICKS_PER_S = 16;
const EPOCH_BACK_NS = 2 ** 31 * (1e9 / TICKS_PER_S);
/**
 * Busy pairs report many windows with one timestamp (one per connection); each still weighs at
 * least a half-life of this many windows, so the baseline does not depend on which came first.
 */
const MAX_HALF_LIFE_WINDOWS = 1000;
/**
 * Residuals are clipped at this many sd before they update location and scale: heavy-tailed
 * benign spikes then barely move either (1.5 measured best of 1.5 / 2 / 3 / sensitivity).
 */
const HUBER_CLIP = 1.5;
const RTT = 0;
const RETRANS = 1;

export class PairBaselines {
  private readonly table: PairTable;
  private p: ResolvedBaselineParams;
  private alphaMax: number;
  private readonly alphaMin = 1 - 2 ** (-1 / MAX_HALF_LIFE_WINDOWS);
  /** Event time of tick 0, in ns as a double (its 256 ns rounding is far below a tick). */
  private epochNs = NaN;
  // Per-pair columns, indexed by slot.
  private readonly lastTick: Uint32Array;
  // Per-pair-and-metric columns, indexed by 2 × slot + metric.
  private readonly loc: Float32Array;
  private readonly scale: Float32Array;
  private readonly devStart: Uint32Array;
  /** Windows learned, saturating at warmupSamples (≤ 255). */
  private readonly seen: Uint8Array;
  /** Windows in a row beyond `sensitivity`: > 0 above the baseline, < 0 below; saturating at ±127. */
  private readonly run: Int8Array;

  constructor(o: { capacity: number; params: Readonly<Record<string, number>> }) {
    this.table = new PairTable(o.capacity);
    const c = o.capacity;
    this.lastTick = new Uint32Array(c);
    this.loc = new Float32Array(2 * c);
    this.scale = new Float32Array(2 * c);
    this.devStart = new Uint32Array(2 * c);
    this.seen = new Uint8Array(2 * c);
    this.run = new Int8Array(2 * c);
    this.p = resolveBaselineParams(o.params);
    this.alphaMax = this.alphaMaxOf(this.p);
  }

  /** Pairs tracked. */
  get size(): number {
    return this.table.size;
  }

  /** Pairs dropped (least recently seen) to make room for a new one at capacity. */
  get evictions(): number {
    return this.table.evictions;
  }

  /** Bytes of all typed arrays: the structure's whole memory but a few object headers. */
  get bytes(): number {
    const cols = [this.lastTick, this.loc, this.scale, this.devStart, this.seen, this.run];
    return this.table.bytes + cols.reduce((a, x) => a + x.byteLength, 0);
  }

  /** A rule change: new parameters apply from the next window; what was learned stays. */
  setParams(params: Readonly<Record<string, number>>): void {
    this.p = resolveBaselineParams(params);
    this.alphaMax = this.alphaMaxOf(this.p);
  }

  /** A window never weighs more than a half-life of minHalfLifeSamples windows. */
  private alphaMaxOf(p: ResolvedBaselineParams): number {
    return 1 - 2 ** (-1 / p.minHalfLifeSamples);
  }

  /**
   * One flow window of a pair, in event-time order per pair. `srttUs` 0 means no RTT sample;
   * `retransRate` is retransmitted / sent segments (0 when none were sent).
   * Returns undefined while warming up or when the window is normal.
   */
  observe(pairKey: string, tNs: bigint, srttUs: number, retransRate: number): BaselineFinding | undefined {
    const s = this.table.acquire(pairKey);
    const tick = this.tickOf(tNs);
    if (this.table.isNew) this.reset(s, tick);
    const last = this.lastTick[s] ?? tick;
    const dt = (tick - last) / TICKS_PER_S;
    if (dt > 0) this.lastTick[s] = tick;
    const timeAlpha = dt > 0 ? 1 - 2 ** (-dt / this.p.halfLifeS) : 0;
    const alpha = Math.min(this.alphaMax, Math.max(this.alphaMin, timeAlpha));
    // A value that is not a finite number would poison the baseline for good: it is skipped.
    const rtt =
      srttUs > 0 && srttUs < Infinity ? this.step(2 * s + RTT, Math.log(srttUs / 1000), tick, alpha) : undefined;
    const rate = Math.min(1, retransRate); // retransmits of segments sent in an earlier window
    const ret = rate >= 0 ? this.step(2 * s + RETRANS, rate, tick, alpha) : undefined;
    if (rtt === undefined) return ret;
    if (ret === undefined) return rtt;
    return ret.score > rtt.score ? ret : rtt;
  }

  private tickOf(tNs: bigint): number {
    const t = Number(tNs);
    if (Number.isNaN(this.epochNs)) this.epochNs = Math.max(0, t - EPOCH_BACK_NS);
    const ticks = (t - this.epochNs) / (1e9 / TICKS_PER_S);
    return Math.max(0, Math.min(0xffffffff, Math.floor(ticks)));
  }

  private reset(s: number, tick: number): void {
    this.lastTick[s] = tick;
    for (let i = 2 * s; i < 2 * s + 2; i++) {
      this.loc[i] = 0;
      this.scale[i] = 0;
      this.devStart[i] = 0;
      this.seen[i] = 0;
      this.run[i] = 0;
    }
  }

  /** One value of one metric (ln ms for RTT, the rate for retransmits) of slot i >> 1. */
  private step(i: number, x: number, tick: number, alpha: number): BaselineFinding | undefined {
    const p = this.p;
    const n = this.seen[i] ?? 0;
    const loc = this.loc[i] ?? 0;
    const scale = this.scale[i] ?? 0;
    if (n < p.warmupSamples) {
      // Warm-up: plain running mean and mean absolute deviation of everything seen.
      const d = n === 0 ? 0 : x - loc;
      this.loc[i] = n === 0 ? x : loc + d / (n + 1);
      this.scale[i] = scale + (Math.abs(d) - scale) / (n + 1);
      this.seen[i] = n + 1;
      return undefined;
    }
    const k = p.sensitivity;
    const isRtt = (i & 1) === RTT;
    const floor = isRtt ? Math.log(p.minRatio) / k : p.minRetransRate / k;
    const sd = Math.max(SIGMA_PER_MAD * scale, floor, 1e-6);
    const z = (x - loc) / sd;
    const base = isRtt ? Math.exp(loc) : loc;
    const observed = isRtt ? Math.exp(x) : x;
    const up = z > k && (!isRtt || observed - base >= p.minDeviationMs);
    if (up || z < -k) {
      // A run of windows beyond k on one side: above alerts, either way a run that lasts is a new level.
      const run = this.run[i] ?? 0;
      const len = (up ? run > 0 : run < 0) ? Math.abs(run) + 1 : 1;
      if (len === 1) this.devStart[i] = tick;
      if (len >= p.acceptAfterSamples && (tick - (this.devStart[i] ?? tick)) / TICKS_PER_S >= p.acceptAfterS) {
        this.loc[i] = x;
        this.run[i] = 0;
        return undefined;
      }
      this.run[i] = Math.min(127, len) * (up ? 1 : -1);
      if (up)
        return len >= p.confirmSamples
          ? { baseline: base, observed, metric: isRtt ? "rtt" : "retrans", score: z }
          : undefined;
      // Far below: still learned (clipped), the baseline may come down.
    } else {
      this.run[i] = 0;
    }
    const c = HUBER_CLIP * sd;
    const d = Math.max(-c, Math.min(c, x - loc));
    this.loc[i] = loc + alpha * d;
    this.scale[i] = scale + alpha * (Math.abs(d) - scale);
    return undefined;
  }
}
