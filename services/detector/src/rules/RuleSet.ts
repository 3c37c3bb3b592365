// What the detector's rules are once validated: per anomaly kind whether it is on, its severity and
// its numeric parameters; overrides (first match wins) that replace some of them for matching
// workloads; the episode cooldown; the version the publisher stamped. Parameter specs (default,
// bounds, doc) live here too, so the parser, the encoder and the built-in defaults agree.
import { BASELINE_PARAM_SPEC } from "../engine/baseline/PairBaselines.js";

export const RULE_KINDS = [
  "rtt_high",
  "retransmits_high",
  "syn_retransmits",
  "baseline_deviation",
  "policy_denied",
  "policy_unprotected",
  "capture_silent",
  "conntrack_pressure",
] as const;

export type RuleKind = (typeof RULE_KINDS)[number];

export const SEVERITIES = ["info", "warning", "critical"] as const;
export type RuleSeverity = (typeof SEVERITIES)[number];

export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly doc: string;
  readonly integer?: boolean;
}

export interface KindSpec {
  readonly enabled: boolean;
  readonly severity: RuleSeverity;
  readonly params: Readonly<Record<string, ParamSpec>>;
}

/** Every kind's defaults; a rules file only says what differs. */
export const KIND_SPECS: { readonly [K in RuleKind]: KindSpec } = {
  rtt_high: {
    enabled: true,
    severity: "warning",
    params: { threshold_ms: { default: 100, min: 0, max: 3_600_000, doc: "flow window srtt above this fires" } },
  },
  retransmits_high: {
    enabled: true,
    severity: "warning",
    params: {
      threshold: { default: 3, min: 0, max: 1e9, integer: true, doc: "more retransmitted segments than this fires" },
    },
  },
  syn_retransmits: {
    enabled: true,
    severity: "warning",
    params: { threshold: { default: 0, min: 0, max: 1e6, integer: true, doc: "more SYN retransmits than this fires" } },
  },
  baseline_deviation: { enabled: true, severity: "warning", params: BASELINE_PARAM_SPEC },
  policy_denied: { enabled: true, severity: "critical", params: {} },
  policy_unprotected: { enabled: false, severity: "info", params: {} },
  capture_silent: {
    enabled: true,
    severity: "critical",
    params: { after_s: { default: 15, min: 0, max: 86_400, doc: "heartbeat silence longer than this fires" } },
  },
  conntrack_pressure: {
    enabled: true,
    severity: "warning",
    params: { ratio: { default: 0.9, min: 0, max: 1, doc: "conntrack count/max at or above this fires" } },
  },
};

/** `rules.cooldown_s`: one value for every kind (an episode closes after this long without a repeat). */
export const COOLDOWN_SPEC: ParamSpec = {
  default: 60,
  min: 0,
  max: 86_400,
  doc: "an episode resolves after this long (event time) with no repeat",
};

export interface RuleConfig {
  /** Stable: the kind (`rtt_high`), or `rtt_high@override[2]` when an override changed it. */
  readonly id: string;
  readonly kind: RuleKind;
  readonly enabled: boolean;
  readonly severity: RuleSeverity;
  /** Every parameter of the kind, defaults filled in. */
  readonly params: Readonly<Record<string, number>>;
}

export type Profile = { readonly [K in RuleKind]: RuleConfig };

/** Keys of one kind as written in a file: what an override changes. */
export interface KindSettings {
  readonly enabled?: boolean;
  readonly severity?: RuleSeverity;
  readonly params: Readonly<Record<string, number>>;
}

export type PartialRules = { readonly [K in RuleKind]?: KindSettings };

export interface OverrideMatch {
  readonly namespace?: string;
  /** The owner workload's name, or the pod's when it has none. */
  readonly workload?: string;
}

export interface Override {
  readonly match: OverrideMatch;
  /** What the override wrote (kept for encoding); `profile` is it merged over the base. */
  readonly given: PartialRules;
  readonly profile: Profile;
}

export interface RuleSet {
  readonly version: number;
  readonly cooldownS: number;
  readonly base: Profile;
  readonly overrides: ReadonlyArray<Override>;
}

const defaultParams = (spec: KindSpec): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const name of Object.keys(spec.params).sort()) out[name] = spec.params[name]!.default;
  return out;
};

/** `base` with `given` laid over it; ids of the kinds it touches get `suffix`. */
export const mergeProfile = (base: Profile | undefined, given: PartialRules, suffix: string): Profile => {
  const out = {} as Record<RuleKind, RuleConfig>;
  for (const kind of RULE_KINDS) {
    const spec = KIND_SPECS[kind];
    const from: RuleConfig = base?.[kind] ?? {
      id: kind,
      kind,
      enabled: spec.enabled,
      severity: spec.severity,
      params: defaultParams(spec),
    };
    const g = given[kind];
    out[kind] =
      g === undefined
        ? from
        : {
            id: `${kind}${suffix}`,
            kind,
            enabled: g.enabled ?? from.enabled,
            severity: g.severity ?? from.severity,
            params: { ...from.params, ...g.params },
          };
  }
  return out;
};

export const defaultRules: RuleSet = {
  version: 0,
  cooldownS: COOLDOWN_SPEC.default,
  base: mergeProfile(undefined, {}, ""),
  overrides: [],
};

/** The same rule set under another version (what a publisher stamps). */
export const withVersion = (rules: RuleSet, version: number): RuleSet => ({ ...rules, version });
