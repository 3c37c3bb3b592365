// Candidate baseline methods for RTT, compared in baseline.bench.ts on the generated series. Each
// makes a per-pair detector: (event time s, RTT ms) → alert or not. All share the alert gates of
// PairBaselines (RTT ≥ minRatio × baseline and ≥ minDeviationMs above it) and a 20-window warm-up,
// so the table compares the statistics, not the gates. "pair-baselines" is the shipped class itself.
import { PairBaselines, baselineDefaults } from "../src/engine/baseline/PairBaselines.js";

export type RttDetector = (tS: number, ms: number) => boolean;
export interface Method {
  readonly name: string;
  /** A fresh detector for one pair, at sensitivity k. */
  readonly make: (k: number) => RttDetector;
}

const WARMUP = 20;
const ALPHA = 1 - 2 ** (-1 / 180); // the default half-life (1800 s) at the bench's 10 s windows
const MIN_DEV_MS = 5;
const MIN_RATIO = 1.5;
const gate = (ms: number, baseMs: number): boolean => ms - baseMs >= MIN_DEV_MS && ms >= MIN_RATIO * baseMs;

/** Mean and variance by EWMA over every window, on ms or on ln(ms): the textbook z-score. */
const ewmaZ =
  (log: boolean): Method["make"] =>
  (k) => {
    let n = 0;
    let mean = 0;
    let varc = 0;
    return (_t, ms) => {
      const x = log ? Math.log(ms) : ms;
      if (n < WARMUP) {
        n++;
        const d = x - mean;
        mean += d / n;
        varc += (d * (x - mean) - varc) / n;
        return false;
      }
      const z = (x - mean) / Math.sqrt(Math.max(varc, 1e-12));
      const base = log ? Math.exp(mean) : mean;
      const d = x - mean;
      mean += ALPHA * d;
      varc = (1 - ALPHA) * (varc + ALPHA * d * d);
      return z > k && gate(ms, base);
    };
  };

/** Exponentially weighted median and MAD of ln(ms) by stochastic approximation (sign steps). */
const ewMedianMad: Method["make"] = (k) => {
  let n = 0;
  let med = 0;
  let mad = 0;
  let sum = 0;
  let sumAbs = 0;
  const warm: number[] = [];
  return (_t, ms) => {
    const y = Math.log(ms);
    if (n < WARMUP) {
      n++;
      warm.push(y);
      sum += y;
      if (n === WARMUP) {
        warm.sort((a, b) => a - b);
        med = warm[WARMUP >> 1] ?? sum / n;
        for (const v of warm) sumAbs += Math.abs(v - med);
        mad = Math.max(sumAbs / n / 1.25, 1e-3);
      }
      return false;
    }
    const sd = 1.4826 * mad;
    const z = (y - med) / Math.max(sd, Math.log(MIN_RATIO) / k);
    const base = Math.exp(med);
    // Steps of size ∝ scale: the median moves by a fixed fraction of the spread per window.
    med += 2 * ALPHA * sd * Math.sign(y - med);
    mad *= Math.abs(y - med) > mad ? 1 + 2 * ALPHA : 1 - 2 * ALPHA;
    mad = Math.max(mad, 1e-4);
    return z > k && gate(ms, base);
  };
};

/** One-sided CUSUM of robust z (reference 1 sd, increments clipped at 3) over a clipped log EWMA frozen while S > 0. */
const cusumLog: Method["make"] = (h) => {
  let n = 0;
  let loc = 0;
  let scale = 0;
  let s = 0;
  return (_t, ms) => {
    const y = Math.log(ms);
    if (n < WARMUP) {
      n++;
      const d = n === 1 ? 0 : y - loc;
      loc = n === 1 ? y : loc + d / n;
      scale += (Math.abs(d) - scale) / n;
      return false;
    }
    const sd = Math.max(1.2533 * scale, Math.log(MIN_RATIO) / 4);
    const z = (y - loc) / sd;
    s = Math.max(0, s + Math.min(z, 3) - 1); // z clipped: one heavy-tailed spike alone cannot cross h
    const base = Math.exp(loc);
    if (s === 0) {
      const d = Math.max(-4 * sd, Math.min(4 * sd, y - loc));
      loc += ALPHA * d;
      scale += ALPHA * (Math.abs(d) - scale);
    }
    if (s > 40) s = 0; // bounded: a long shift is accepted
    return s > h && z > 1 && gate(ms, base);
  };
};

/** The shipped class, one pair, with the given parameter overrides. */
export const pairBaselinesMethod = (name: string, over: Record<string, number>): Method => ({
  name,
  make: (k) => {
    const b = new PairBaselines({ capacity: 1, params: { ...baselineDefaults(), ...over, sensitivity: k } });
    let t = 0n;
    return (tS, ms) => {
      t = BigInt(Math.round(tS * 1e9));
      return b.observe("p", t, ms * 1000, 0)?.metric === "rtt";
    };
  },
});

/** Alerts only from the `confirm`-th deviating window in a row on. */
const inARow = (m: Method, confirm: number): Method => ({
  name: `${m.name}, ${confirm} in a row`,
  make: (k) => {
    const d = m.make(k);
    let run = 0;
    return (t, ms) => {
      run = d(t, ms) ? run + 1 : 0;
      return run >= confirm;
    };
  },
});

const statistics: readonly Method[] = [
  { name: "ewma-z (ms)", make: ewmaZ(false) },
  { name: "ewma-z (log)", make: ewmaZ(true) },
  { name: "ew-median/MAD (log)", make: ewMedianMad },
  { name: "cusum (log)", make: cusumLog },
];

export const candidateMethods: readonly Method[] = [1, 2, 3].flatMap((c) => [
  ...statistics.map((m) => (c === 1 ? m : inARow(m, c))),
  pairBaselinesMethod(`robust log ewma${c === 1 ? "" : `, ${c} in a row`}`, { confirmSamples: c }),
]);
