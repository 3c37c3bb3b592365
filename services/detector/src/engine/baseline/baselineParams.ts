// The parameters of baseline_deviation: one spec (default, range, meaning) that the rules
// validation, the docs and PairBaselines all read. Defaults were chosen by measurement:
// docs/detector-baseline.md and bench/baseline.bench.ts.

export interface BaselineParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
}

export const BASELINE_PARAM_SPEC: Readonly<Record<string, BaselineParamSpec>> = {
  warmupSamples: {
    default: 20,
    min: 2,
    max: 255,
    doc: "flow windows of a pair (per metric) learned before it may alert",
  },
  sensitivity: {
    default: 3,
    min: 1,
    max: 50,
    doc: "alert when log RTT (or the retransmit rate) is this many robust standard deviations above the baseline",
  },
  halfLifeS: {
    default: 1800,
    min: 1,
    max: 86_400 * 30,
    doc: "event-time half-life of the baseline: older windows weigh half after this many seconds",
  },
  minHalfLifeSamples: {
    default: 30,
    min: 1,
    max: 100_000,
    doc: "one window never weighs more than a half-life of this many windows (a sparse pair's baseline is not its last window)",
  },
  minDeviationMs: {
    default: 5,
    min: 0,
    max: 60_000,
    doc: "an RTT alert also needs the RTT this many ms above the baseline (tiny-RTT pairs do not alert on +0.3 ms)",
  },
  minRatio: {
    default: 1.5,
    min: 1,
    max: 1_000,
    doc: "an RTT alert also needs the RTT at least this many times the baseline",
  },
  minRetransRate: {
    default: 0.05,
    min: 0,
    max: 1,
    doc: "a retransmit alert needs the window's retransmit rate this much (absolute) above the baseline rate",
  },
  confirmSamples: {
    default: 3,
    min: 1,
    max: 127,
    doc: "consecutive deviating windows before alerting (1: the first one alerts)",
  },
  acceptAfterSamples: {
    default: 60,
    min: 1,
    max: 127,
    doc: "a deviation (either way) is taken as the new baseline level once it lasted this many windows in a row and acceptAfterS",
  },
  acceptAfterS: {
    default: 1800,
    min: 0,
    max: 86_400,
    doc: "a deviation is taken as the new baseline level once it lasted this many seconds and acceptAfterSamples windows",
  },
};

export const baselineDefaults = (): Record<string, number> =>
  Object.fromEntries(Object.entries(BASELINE_PARAM_SPEC).map(([k, s]) => [k, s.default]));

/** The parameters in force: defaults for what is missing; keys outside the spec are ignored. */
export interface ResolvedBaselineParams {
  readonly warmupSamples: number;
  readonly sensitivity: number;
  readonly halfLifeS: number;
  readonly minHalfLifeSamples: number;
  readonly minDeviationMs: number;
  readonly minRatio: number;
  readonly minRetransRate: number;
  readonly confirmSamples: number;
  readonly acceptAfterSamples: number;
  readonly acceptAfterS: number;
}

const INTEGER = new Set(["warmupSamples", "minHalfLifeSamples", "confirmSamples", "acceptAfterSamples"]);

/** Throws a RangeError naming the parameter when a value is not a number in its range (rules are validated before this). */
export const resolveBaselineParams = (params: Readonly<Record<string, number>>): ResolvedBaselineParams => {
  const out: Record<string, number> = {};
  for (const [name, spec] of Object.entries(BASELINE_PARAM_SPEC)) {
    const raw = params[name] ?? spec.default;
    if (typeof raw !== "number" || !Number.isFinite(raw) || raw < spec.min || raw > spec.max) {
      throw new RangeError(`baseline_deviation.${name}: ${String(raw)} is not a number in [${spec.min}, ${spec.max}]`);
    }
    out[name] = INTEGER.has(name) ? Math.round(raw) : raw;
  }
  return out as unknown as ResolvedBaselineParams;
};
