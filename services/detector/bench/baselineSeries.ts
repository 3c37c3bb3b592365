// Generated per-pair latency series with labelled anomalies, for choosing and tuning the baseline
// method (baseline.bench.ts). Seeded and deterministic. What real RTT series look like guides the
// shape: log-normal-ish noise with Student-t tails, benign one-window spikes (unlabelled), periodic
// load and slow drifts (unlabelled: the baseline should follow them), windows without an RTT sample,
// and labelled level shifts, short incident bursts, fast ramps and retransmit bursts. Changes too
// small to matter to anyone (under 3 ms) are generated as benign, not labelled.

export interface LabelledEvent {
  readonly kind: "shift" | "burst" | "ramp" | "retrans";
  /** First and last sample index (inclusive) labelled anomalous. */
  readonly start: number;
  readonly end: number;
}

export interface Series {
  readonly key: string;
  readonly stepS: number;
  readonly srttUs: Float64Array;
  readonly retrans: Float64Array;
  readonly events: readonly LabelledEvent[];
  readonly noisy: boolean;
}

/** mulberry32: a small seeded PRNG, enough for test data. */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
/** Student t with 3 degrees of freedom, scaled to unit standard deviation. */
const t3 = (r: () => number): number => {
  let chi = 0;
  for (let i = 0; i < 3; i++) chi += normal(r) ** 2;
  return normal(r) / Math.sqrt(chi / 3) / Math.sqrt(3);
};
const uniform = (r: () => number, a: number, b: number): number => a + (b - a) * r();
const intIn = (r: () => number, a: number, b: number): number => Math.floor(uniform(r, a, b + 1));

export interface GenOptions {
  readonly seed: number;
  readonly series: number;
  readonly length: number;
  /** Seconds between a pair's flow windows. */
  readonly stepS: number;
}

export const generateSeries = (o: GenOptions): Series[] => {
  const r = prng(o.seed);
  const out: Series[] = [];
  for (let i = 0; i < o.series; i++) out.push(oneSeries(r, `pair-${o.seed}-${i}`, o.length, o.stepS));
  return out;
};

const oneSeries = (r: () => number, key: string, n: number, stepS: number): Series => {
  const base = Math.exp(uniform(r, Math.log(0.15), Math.log(120))); // ms
  const noisy = r() < 0.25;
  const sigma = noisy ? uniform(r, 0.25, 0.55) : uniform(r, 0.03, 0.25);
  const spikeP = uniform(r, 0.002, noisy ? 0.05 : 0.02);
  const periodAmp = r() < 0.5 ? uniform(r, 0.05, 0.35) : 0;
  const period = uniform(r, 60, 400);
  const phase = uniform(r, 0, 2 * Math.PI);
  const drift = r() < 0.3 ? uniform(r, -0.4, 0.4) : 0;
  const noRttP = r() < 0.3 ? 0.05 : 0;
  const level = new Float64Array(n); // log-space offset of the mean from anomalies and benign changes
  const events: LabelledEvent[] = [];
  // Labelled and benign changes, non-overlapping, after 150 samples, at least 60 apart.
  let at = intIn(r, 150, 400);
  while (at < n - 40) {
    const u = r();
    let end: number;
    if (u < 0.3) {
      // Level shift, sometimes for good.
      const factor = uniform(r, 1.8, 6);
      const forGood = r() < 0.3;
      end = forGood ? n - 1 : Math.min(n - 1, at + intIn(r, 20, 300));
      for (let j = at; j <= end; j++) level[j] = Math.log(factor);
      if (base * (factor - 1) >= 3) events.push({ kind: "shift", start: at, end });
    } else if (u < 0.5) {
      // A short incident: a few windows much slower.
      const factor = uniform(r, 4, 20);
      end = Math.min(n - 1, at + intIn(r, 1, 5));
      for (let j = at; j <= end; j++) level[j] = Math.log(factor);
      if (base * (factor - 1) >= 3) events.push({ kind: "burst", start: at, end });
    } else if (u < 0.65) {
      // A fast ramp up to a plateau, then back.
      const top = Math.log(uniform(r, 2.5, 6));
      const ramp = intIn(r, 30, 120);
      const hold = intIn(r, 20, 80);
      end = Math.min(n - 1, at + ramp + hold);
      let first = -1;
      for (let j = at; j <= end; j++) {
        level[j] = top * Math.min(1, (j - at) / ramp);
        if (first < 0 && Math.exp(level[j] ?? 0) >= 1.5 && base * (Math.exp(level[j] ?? 0) - 1) >= 3) first = j;
      }
      if (first >= 0) events.push({ kind: "ramp", start: first, end });
    } else if (u < 0.85) {
      end = Math.min(n - 1, at + intIn(r, 5, 40));
      events.push({ kind: "retrans", start: at, end });
      for (let j = at; j <= end; j++) level[j] = -1e9; // marker: retransmit burst, RTT unchanged
    } else {
      // Benign: a small shift nobody would act on.
      const factor = uniform(r, 1.1, 1.4);
      end = Math.min(n - 1, at + intIn(r, 20, 200));
      for (let j = at; j <= end; j++) level[j] = Math.log(factor);
    }
    at = end + intIn(r, 60, 500);
  }
  const srttUs = new Float64Array(n);
  const retrans = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const burst = (level[j] ?? 0) < -1e8;
    let y = Math.log(base) + (burst ? 0 : (level[j] ?? 0));
    y += periodAmp * Math.sin((2 * Math.PI * j) / period + phase) + (drift * j) / n;
    y += sigma * t3(r);
    if (r() < spikeP) y += Math.log(1.5) + 1.2 * -Math.log(1 - r()); // benign spike: median ×3.4, long tail
    srttUs[j] = r() < noRttP ? 0 : Math.max(20, Math.exp(y) * 1000);
    const bg = r() < 0.15 ? -0.01 * Math.log(1 - r()) : 0;
    const blip = r() < 0.003 ? uniform(r, 0.1, 0.5) : 0; // benign: one window with a lost segment or two
    retrans[j] = Math.min(1, burst ? uniform(r, 0.08, 0.4) : bg + blip);
  }
  return { key, stepS, srttUs, retrans, events, noisy };
};
