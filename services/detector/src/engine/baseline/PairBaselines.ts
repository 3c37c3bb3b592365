// Learned per-workload-pair baselines of RTT and retransmit rate, for baseline_deviation.
// Owns the per-pair state only: the engine owns time (it passes each window's event time),
// episodes and anomalies. Deterministic: no wall clock, no randomness.
//
// Method (chosen by measurement, docs/detector-baseline.md): RTT in log space, where real RTTs
// are roughly normal and a 2× change weighs the same at 1 ms as at 100 ms. Location is an
// exponentially weighted mean of ln(RTT), scale an exponentially weighted mean absolute deviation;
// both are learned from clipped residuals, and not at all from a window that deviates, so an
// anomaly does not become the new normal; after `acceptAfterSamples` deviating windows in a row
// the new level is taken as the baseline. An alert needs three things: z above `sensitivity`,
// the RTT `minRatio` times the baseline and `minDeviationMs` above it. The retransmit rate uses the
// same recursion on the rate itself with an absolute floor `minRetransRate`.
//
// Memory: about 52-59 B per tracked pair including the key bookkeeping (PairTable.ts), all in
// typed arrays sized by `capacity` at construction.
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

export class PairBaselines {
  private readonly table: PairTable;
  private p: ResolvedBaselineParams;
  private alphaCap = 0;
  // Per-slot state columns.
  private readonly lastS: Float64Array;
  private readonly rttLoc: Float32Array;
  private readonly rttScale: Float32Array;
  private readonly retLoc: Float32Array;
  private readonly retScale: Float32Array;
  private readonly rttN: Uint16Array;
  private readonly retN: Uint16Array;
  private readonly rttRun: Uint16Array;
  private readonly retRun: Uint16Array;

  constructor(o: { capacity: number; params: Readonly<Record<string, number>> }) {
    this.table = new PairTable(o.capacity);
    const c = o.capacity;
    this.lastS = new Float64Array(c);
    this.rttLoc = new Float32Array(c);
    this.rttScale = new Float32Array(c);
    this.retLoc = new Float32Array(c);
    this.retScale = new Float32Array(c);
    this.rttN = new Uint16Array(c);
    this.retN = new Uint16Array(c);
    this.rttRun = new Uint16Array(c);
    this.retRun = new Uint16Array(c);
    this.p = resolveBaselineParams(o.params);
    this.setParams(o.params);
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
    const cols = [this.lastS, this.rttLoc, this.rttScale, this.retLoc, this.retScale];
    const counters = [this.rttN, this.retN, this.rttRun, this.retRun];
    return this.table.bytes + [...cols, ...counters].reduce((a, x) => a + x.byteLength, 0);
  }

  /** A rule change: new parameters apply from the next window; what was learned stays. */
  setParams(params: Readonly<Record<string, number>>): void {
    this.p = resolveBaselineParams(params);
    this.alphaCap = 1 - 2 ** (-1 / this.p.minHalfLifeSamples);
  }

  /**
   * One flow window of a pair, in event-time order per pair. `srttUs` 0 means no RTT sample;
   * `retransRate` is retransmitted / sent segments (0 when none were sent).
   * Returns undefined while warming up or when the window is normal.
   */
  observe(pairKey: string, tNs: bigint, srttUs: number, retransRate: number): BaselineFinding | undefined {
    const s = this.table.acquire(pairKey);
    const t = Number(tNs) / 1e9;
    if (this.table.isNew) this.reset(s, t);
    const dt = t - (this.lastS[s] ?? t);
    if (dt > 0) this.lastS[s] = t;
    const timeAlpha = dt > 0 ? 1 - 2 ** (-dt / this.p.halfLifeS) : 0;
    const alpha = Math.min(timeAlpha, this.alphaCap);
    const rtt = srttUs > 0 ? this.observeRtt(s, srttUs / 1000, alpha) : undefined;
    const ret =
      Number.isFinite(retransRate) && retransRate >= 0 ? this.observeRetrans(s, retransRate, alpha) : undefined;
    if (rtt === undefined) return ret;
    if (ret === undefined) return rtt;
    return ret.score > rtt.score ? ret : rtt;
  }

  private reset(s: number, t: number): void {
    this.lastS[s] = t;
    this.rttLoc[s] = 0;
    this.rttScale[s] = 0;
    this.retLoc[s] = 0;
    this.retScale[s] = 0;
    this.rttN[s] = 0;
    this.retN[s] = 0;
    this.rttRun[s] = 0;
    this.retRun[s] = 0;
  }

  private observeRtt(s: number, ms: number, alpha: number): BaselineFinding | undefined {
    const p = this.p;
    const y = Math.log(ms);
    const n = this.rttN[s] ?? 0;
    const loc = this.rttLoc[s] ?? 0;
    const scale = this.rttScale[s] ?? 0;
    if (n < p.warmupSamples) {
      // Warm-up: plain running mean and mean absolute deviation of everything seen.
      const a = 1 / (n + 1);
      const d = n === 0 ? 0 : y - loc;
      this.rttLoc[s] = n === 0 ? y : loc + a * d;
      this.rttScale[s] = scale + a * (Math.abs(d) - scale);
      this.rttN[s] = n + 1;
      return undefined;
    }
    const k = p.sensitivity;
    const sd = Math.max(SIGMA_PER_MAD * scale, Math.log(p.minRatio) / k, 1e-6);
    const z = (y - loc) / sd;
    const base = Math.exp(loc);
    if (z > k && ms - base >= p.minDeviationMs) {
      const run = (this.rttRun[s] ?? 0) + 1;
      if (run >= p.acceptAfterSamples) {
        // A level shift that lasted: it is the new normal.
        this.rttLoc[s] = y;
        this.rttRun[s] = 0;
        return undefined;
      }
      this.rttRun[s] = run;
      return run >= p.confirmSamples ? { baseline: base, observed: ms, metric: "rtt", score: z } : undefined;
    }
    this.rttRun[s] = 0;
    const d = Math.max(-k * sd, Math.min(k * sd, y - loc));
    this.rttLoc[s] = loc + alpha * d;
    this.rttScale[s] = scale + alpha * (Math.abs(d) - scale);
    return undefined;
  }

  private observeRetrans(s: number, rate: number, alpha: number): BaselineFinding | undefined {
    const p = this.p;
    const n = this.retN[s] ?? 0;
    const loc = this.retLoc[s] ?? 0;
    const scale = this.retScale[s] ?? 0;
    if (n < p.warmupSamples) {
      const a = 1 / (n + 1);
      const d = n === 0 ? 0 : rate - loc;
      this.retLoc[s] = n === 0 ? rate : loc + a * d;
      this.retScale[s] = scale + a * (Math.abs(d) - scale);
      this.retN[s] = n + 1;
      return undefined;
    }
    const k = p.sensitivity;
    const sd = Math.max(SIGMA_PER_MAD * scale, p.minRetransRate / k, 1e-6);
    const z = (rate - loc) / sd;
    if (z > k) {
      const run = (this.retRun[s] ?? 0) + 1;
      if (run >= p.acceptAfterSamples) {
        this.retLoc[s] = rate;
        this.retRun[s] = 0;
        return undefined;
      }
      this.retRun[s] = run;
      return run >= p.confirmSamples ? { baseline: loc, observed: rate, metric: "retrans", score: z } : undefined;
    }
    this.retRun[s] = 0;
    const d = Math.max(-k * sd, Math.min(k * sd, rate - loc));
    this.retLoc[s] = loc + alpha * d;
    this.retScale[s] = scale + alpha * (Math.abs(d) - scale);
    return undefined;
  }
}
