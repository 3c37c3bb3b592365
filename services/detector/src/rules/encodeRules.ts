// A RuleSet as canonical JSON, for the retained rules topic and `rules show`: keys in a fixed
// order, every base parameter spelled out (so a reader with other defaults still sees the rules
// that were in force), overrides as they were written. decodeRules(encodeRules(r)) equals r and
// re-encodes to the same bytes.
import * as Either from "effect/Either";
import { validateRules } from "./parseRules.js";
import { rulesError, type RulesError } from "./RulesError.js";
import { RULE_KINDS, type KindSettings, type PartialRules, type Profile, type RuleSet } from "./RuleSet.js";

const sortedParams = (params: Readonly<Record<string, number>>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const k of Object.keys(params).sort()) out[k] = params[k]!;
  return out;
};

const settingsJson = (s: KindSettings): Record<string, unknown> => ({
  ...(s.enabled === undefined ? {} : { enabled: s.enabled }),
  ...(s.severity === undefined ? {} : { severity: s.severity }),
  ...sortedParams(s.params),
});

const profileJson = (p: Profile): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const kind of RULE_KINDS) {
    const r = p[kind];
    out[kind] = { enabled: r.enabled, severity: r.severity, ...sortedParams(r.params) };
  }
  return out;
};

const partialJson = (given: PartialRules): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const kind of RULE_KINDS) {
    const s = given[kind];
    if (s !== undefined) out[kind] = settingsJson(s);
  }
  return out;
};

/** The document `validateRules` reads back, as a plain object. */
export const rulesDocument = (rules: RuleSet): Record<string, unknown> => ({
  version: rules.version,
  rules: { ...profileJson(rules.base), cooldown_s: rules.cooldownS },
  overrides: rules.overrides.map((o) => ({
    match: {
      ...(o.match.namespace === undefined ? {} : { namespace: o.match.namespace }),
      ...(o.match.workload === undefined ? {} : { workload: o.match.workload }),
    },
    rules: partialJson(o.given),
  })),
});

export const encodeRules = (rules: RuleSet): string => JSON.stringify(rulesDocument(rules));

/** `source` names the message in errors (e.g. `netpulse.rules@42`). */
export const decodeRules = (text: string, source: string): Either.Either<RuleSet, RulesError> =>
  Either.flatMap(
    Either.try({
      try: (): unknown => JSON.parse(text),
      catch: (e) => rulesError(source, "", `not JSON: ${e instanceof Error ? e.message : String(e)}`),
    }),
    (doc) => validateRules(doc, source),
  );
