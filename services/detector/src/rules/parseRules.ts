// Rules documents into a RuleSet: YAML files (`parseRules`) and the plain object both YAML and the
// canonical JSON on the rules topic turn into (`validateRules`). Strict: an unknown kind or key, a
// wrong type or an out-of-range value is refused with the file, the dotted path and the reason.
import * as Either from "effect/Either";
import { parseDocument } from "yaml";
import { rulesError, type RulesError } from "./RulesError.js";
import {
  COOLDOWN_SPEC,
  KIND_SPECS,
  mergeProfile,
  RULE_KINDS,
  SEVERITIES,
  type KindSettings,
  type Override,
  type OverrideMatch,
  type ParamSpec,
  type PartialRules,
  type RuleKind,
  type RuleSet,
  type RuleSeverity,
} from "./RuleSet.js";

const KIND_SET: ReadonlySet<string> = new Set(RULE_KINDS);
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);

type Obj = Readonly<Record<string, unknown>>;

const typeName = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "a list" : `a ${typeof v}`);

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A failure short-circuits out of the walk (no exceptions, no effects: just a value to return). */
class Walk {
  error: RulesError | undefined;
  constructor(readonly file: string) {}
  fail(path: string, reason: string): undefined {
    this.error ??= rulesError(this.file, path, reason);
    return undefined;
  }
  object(v: unknown, path: string): Obj | undefined {
    return isObj(v) ? v : this.fail(path, `expected a mapping, got ${typeName(v)}`);
  }
  number(v: unknown, path: string, spec: ParamSpec): number | undefined {
    if (typeof v !== "number" || !Number.isFinite(v)) return this.fail(path, `expected a number, got ${typeName(v)}`);
    if (v < spec.min)
      return this.fail(path, v < 0 && spec.min >= 0 ? `must not be negative (${v})` : `must be ≥ ${spec.min} (${v})`);
    if (v > spec.max) return this.fail(path, `must be ≤ ${spec.max} (${v})`);
    if (spec.integer === true && !Number.isInteger(v)) return this.fail(path, `expected a whole number, got ${v}`);
    return v;
  }
  unknownKey(path: string, key: string, allowed: Iterable<string>): undefined {
    return this.fail(`${path}.${key}`, `unknown key (expected one of: ${[...allowed].join(", ")})`);
  }
}

const kindSettings = (
  w: Walk,
  kind: RuleKind,
  v: unknown,
  path: string,
  inOverride: boolean,
): KindSettings | undefined => {
  if (v === null) return { params: {} }; // `syn_retransmits:` with nothing after it: the defaults
  const o = w.object(v, path);
  if (o === undefined) return undefined;
  const spec = KIND_SPECS[kind];
  const params: Record<string, number> = {};
  let enabled: boolean | undefined;
  let severity: RuleSeverity | undefined;
  for (const key of Object.keys(o).sort()) {
    const value = o[key];
    const at = `${path}.${key}`;
    if (key === "enabled") {
      if (typeof value !== "boolean") return w.fail(at, `expected true or false, got ${typeName(value)}`);
      enabled = value;
    } else if (key === "severity") {
      if (typeof value !== "string" || !SEVERITY_SET.has(value))
        return w.fail(at, `expected one of ${SEVERITIES.join(", ")}, got ${JSON.stringify(value)}`);
      severity = value as RuleSeverity;
    } else {
      const p = spec.params[key];
      if (p !== undefined && inOverride && kind === "baseline_deviation")
        return w.fail(at, "baseline parameters apply to every pair: set them under rules.baseline_deviation");
      if (p === undefined) return w.unknownKey(path, key, ["enabled", "severity", ...Object.keys(spec.params).sort()]);
      const n = w.number(value, at, p);
      if (n === undefined) return undefined;
      params[key] = n;
    }
  }
  return {
    ...(enabled === undefined ? {} : { enabled }),
    ...(severity === undefined ? {} : { severity }),
    params,
  };
};

/** `rules:` of the document or of an override; `cooldown_s` only where `allowCooldown`. */
const partialRules = (
  w: Walk,
  v: unknown,
  path: string,
  allowCooldown: boolean,
): { rules: PartialRules; cooldownS: number | undefined } | undefined => {
  const o = w.object(v, path);
  if (o === undefined) return undefined;
  const rules: { [K in RuleKind]?: KindSettings } = {};
  let cooldownS: number | undefined;
  for (const key of Object.keys(o).sort()) {
    if (allowCooldown && key === "cooldown_s") {
      cooldownS = w.number(o[key], `${path}.${key}`, COOLDOWN_SPEC);
      if (cooldownS === undefined) return undefined;
    } else if (KIND_SET.has(key)) {
      const s = kindSettings(w, key as RuleKind, o[key], `${path}.${key}`, !allowCooldown);
      if (s === undefined) return undefined;
      rules[key as RuleKind] = s;
    } else {
      return w.fail(
        `${path}.${key}`,
        `unknown rule kind (expected one of: ${RULE_KINDS.join(", ")}${allowCooldown ? ", cooldown_s" : ""})`,
      );
    }
  }
  return { rules, cooldownS };
};

const overrideMatch = (w: Walk, v: unknown, path: string): OverrideMatch | undefined => {
  const o = w.object(v, path);
  if (o === undefined) return undefined;
  const out: { namespace?: string; workload?: string } = {};
  for (const key of Object.keys(o).sort()) {
    const value = o[key];
    if (key !== "namespace" && key !== "workload") return w.unknownKey(path, key, ["namespace", "workload"]);
    if (typeof value !== "string" || value === "")
      return w.fail(`${path}.${key}`, `expected a non-empty string, got ${typeName(value)}`);
    out[key] = value;
  }
  if (out.namespace === undefined && out.workload === undefined) return w.fail(path, "needs namespace and/or workload");
  return out;
};

const VERSION_SPEC: ParamSpec = { default: 0, min: 0, max: 2 ** 31 - 1, integer: true, doc: "" };

/**
 * A parsed document (YAML or JSON) into a RuleSet. Top-level keys: `rules`, `overrides`, and
 * `version` (what a publisher stamped; 0 when absent).
 */
export const validateRules = (doc: unknown, file: string): Either.Either<RuleSet, RulesError> => {
  const w = new Walk(file);
  const result = ((): RuleSet | undefined => {
    if (doc === null || doc === undefined) return { ...emptyDoc() };
    const top = w.object(doc, "");
    if (top === undefined) return undefined;
    for (const key of Object.keys(top))
      if (key !== "rules" && key !== "overrides" && key !== "version")
        return w.fail(key, "unknown key (expected one of: rules, overrides, version)");
    const version = top["version"] === undefined ? 0 : w.number(top["version"], "version", VERSION_SPEC);
    if (version === undefined) return undefined;
    const main =
      top["rules"] === undefined || top["rules"] === null
        ? { rules: {}, cooldownS: undefined }
        : partialRules(w, top["rules"], "rules", true);
    if (main === undefined) return undefined;
    const base = mergeProfile(undefined, main.rules, "");
    const overrides: Override[] = [];
    const list = top["overrides"] ?? [];
    if (!Array.isArray(list)) return w.fail("overrides", `expected a list, got ${typeName(list)}`);
    for (let i = 0; i < list.length; i++) {
      const path = `overrides[${i}]`;
      const o = w.object(list[i], path);
      if (o === undefined) return undefined;
      for (const key of Object.keys(o))
        if (key !== "match" && key !== "rules") return w.unknownKey(path, key, ["match", "rules"]);
      if (o["match"] === undefined) return w.fail(`${path}.match`, "missing");
      const match = overrideMatch(w, o["match"], `${path}.match`);
      if (match === undefined) return undefined;
      const given = partialRules(w, o["rules"] ?? {}, `${path}.rules`, false);
      if (given === undefined) return undefined;
      overrides.push({ match, given: given.rules, profile: mergeProfile(base, given.rules, `@override[${i}]`) });
    }
    return { version, cooldownS: main.cooldownS ?? COOLDOWN_SPEC.default, base, overrides };
  })();
  return result === undefined ? Either.left(w.error ?? rulesError(file, "", "invalid rules")) : Either.right(result);
};

const emptyDoc = (): RuleSet => ({
  version: 0,
  cooldownS: COOLDOWN_SPEC.default,
  base: mergeProfile(undefined, {}, ""),
  overrides: [],
});

/** A YAML rules file (JSON is YAML too). `file` names it in errors. */
export const parseRules = (text: string, file: string): Either.Either<RuleSet, RulesError> => {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const bad = doc.errors[0];
  if (bad !== undefined) {
    const line = text.slice(0, bad.pos[0]).split("\n").length;
    return Either.left(rulesError(file, `line ${line}`, bad.message.split("\n")[0] ?? bad.code));
  }
  return validateRules(doc.toJS({ maxAliasCount: 100 }), file);
};
