// Rules files: defaults for what is omitted, ids of base and override rules, one-line errors
// naming file, path and reason, and the canonical JSON that travels on the rules topic.
import * as Either from "effect/Either";
import { describe, expect, it } from "vitest";
import { decodeRules, encodeRules } from "../src/rules/encodeRules.js";
import { parseRules } from "../src/rules/parseRules.js";
import { defaultRules, withVersion, type RuleSet } from "../src/rules/RuleSet.js";

const ok = (text: string): RuleSet => {
  const r = parseRules(text, "rules.yaml");
  if (Either.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

const err = (text: string): string => {
  const r = parseRules(text, "rules.yaml");
  if (Either.isRight(r)) throw new Error("expected an error");
  return r.left.message;
};

const ISSUE_EXAMPLE = `
rules:
  rtt_high:           { enabled: true, threshold_ms: 100 }
  retransmits_high:   { enabled: true, threshold: 3 }
  syn_retransmits:    { enabled: true }
  baseline_deviation: { enabled: true }
  policy_denied:      { enabled: true }
  policy_unprotected: { enabled: false }
  capture_silent:     { enabled: true, after_s: 15 }
  conntrack_pressure: { enabled: true, ratio: 0.9 }
  cooldown_s: 60
overrides:
  - match: { namespace: batch }
    rules: { rtt_high: { threshold_ms: 250 } }
`;

describe("parseRules", () => {
  it("reads the documented shape; omitted kinds and parameters take their defaults", () => {
    const r = ok(ISSUE_EXAMPLE);
    expect(r.version).toBe(0);
    expect(r.cooldownS).toBe(60);
    expect(r.base.rtt_high).toEqual({
      id: "rtt_high",
      kind: "rtt_high",
      enabled: true,
      severity: "warning",
      params: { threshold_ms: 100 },
    });
    expect(r.base.policy_unprotected.enabled).toBe(false);
    expect(r.overrides[0]!.profile.rtt_high).toMatchObject({
      id: "rtt_high@override[0]",
      params: { threshold_ms: 250 },
    });
    // kinds the override leaves alone keep the base rule and its id
    expect(r.overrides[0]!.profile.retransmits_high).toBe(r.base.retransmits_high);
    expect(ok("")).toEqual(defaultRules);
    expect(ok("rules: {}\n")).toEqual(defaultRules);
    expect(ok("rules:\noverrides:\n")).toEqual(defaultRules);
    expect(ok("rules:\n  syn_retransmits:\n")).toEqual(defaultRules); // a kind named with nothing: its defaults
    expect(ok("rules:\n  rtt_high: { threshold_ms: 80 }\n").base.rtt_high.params).toEqual({ threshold_ms: 80 });
    expect(ok("rules:\n  baseline_deviation: { sensitivity: 5 }\n").base.baseline_deviation.params["sensitivity"]).toBe(
      5,
    );
  });

  it.each([
    ["rules:\n  rtt_hi: {}\n", "rules.yaml: rules.rtt_hi: unknown rule kind"],
    ["rules:\n  rtt_high: { treshold_ms: 5 }\n", "rules.yaml: rules.rtt_high.treshold_ms: unknown key"],
    [
      "rules:\n  rtt_high: { threshold_ms: fast }\n",
      "rules.yaml: rules.rtt_high.threshold_ms: expected a number, got a string",
    ],
    [
      "rules:\n  rtt_high: { threshold_ms: -1 }\n",
      "rules.yaml: rules.rtt_high.threshold_ms: must not be negative (-1)",
    ],
    [
      "rules:\n  retransmits_high: { threshold: 2.5 }\n",
      "rules.yaml: rules.retransmits_high.threshold: expected a whole number",
    ],
    ["rules:\n  conntrack_pressure: { ratio: 1.5 }\n", "rules.yaml: rules.conntrack_pressure.ratio: must be ≤ 1 (1.5)"],
    [
      "rules:\n  capture_silent: { enabled: yes please }\n",
      "rules.yaml: rules.capture_silent.enabled: expected true or false",
    ],
    [
      "rules:\n  rtt_high: { severity: loud }\n",
      "rules.yaml: rules.rtt_high.severity: expected one of info, warning, critical",
    ],
    ["rules:\n  cooldown_s: -5\n", "rules.yaml: rules.cooldown_s: must not be negative (-5)"],
    [
      "rules:\n  baseline_deviation: { sensitivity: 0 }\n",
      "rules.yaml: rules.baseline_deviation.sensitivity: must be ≥",
    ],
    ["rules:\n  baseline_deviation: { nope: 1 }\n", "rules.yaml: rules.baseline_deviation.nope: unknown key"],
    ["rulez: {}\n", "rules.yaml: rulez: unknown key"],
    ["rules: [1, 2]\n", "rules.yaml: rules: expected a mapping, got a list"],
    ["overrides: { match: {} }\n", "rules.yaml: overrides: expected a list"],
    ["overrides:\n  - rules: {}\n", "rules.yaml: overrides[0].match: missing"],
    ["overrides:\n  - match: {}\n", "rules.yaml: overrides[0].match: needs namespace and/or workload"],
    ["overrides:\n  - match: { pod: x }\n", "rules.yaml: overrides[0].match.pod: unknown key"],
    [
      "overrides:\n  - match: { namespace: 3 }\n",
      "rules.yaml: overrides[0].match.namespace: expected a non-empty string",
    ],
    [
      "overrides:\n  - match: { namespace: a }\n    rules: { rtt_high: { threshold_ms: -3 } }\n",
      "rules.yaml: overrides[0].rules.rtt_high.threshold_ms: must not be negative (-3)",
    ],
    [
      "overrides:\n  - match: { namespace: a }\n    rules: { cooldown_s: 3 }\n",
      "rules.yaml: overrides[0].rules.cooldown_s: unknown rule kind",
    ],
    [
      "overrides:\n  - match: { namespace: a }\n    rules: { baseline_deviation: { sensitivity: 3 } }\n",
      "rules.yaml: overrides[0].rules.baseline_deviation.sensitivity: baseline parameters apply to every pair",
    ],
    ["rules: { rtt_high: { threshold_ms: 1 }\n", "rules.yaml: line "],
    ["rules:\n  rtt_high: {}\n  rtt_high: {}\n", "rules.yaml: line 3: "],
  ])("refuses %j with one line naming file, path and reason", (text, expected) => {
    const message = err(text);
    expect(message.startsWith(expected)).toBe(true);
    expect(message).not.toContain("\n");
  });

  it("carries file, path and reason apart for callers that count or log them", () => {
    const r = parseRules("rules:\n  rtt_high: { threshold_ms: -1 }\n", "/etc/netpulse/rules.yaml");
    expect(Either.isLeft(r) && { file: r.left.file, path: r.left.path, reason: r.left.reason }).toEqual({
      file: "/etc/netpulse/rules.yaml",
      path: "rules.rtt_high.threshold_ms",
      reason: "must not be negative (-1)",
    });
  });
});

describe("encodeRules / decodeRules", () => {
  it("round-trips a rule set exactly, version included, and re-encodes to the same text", () => {
    const r = withVersion(
      ok(ISSUE_EXAMPLE + "  - match: { workload: etl }\n    rules: { rtt_high: { enabled: false, severity: info } }\n"),
      7,
    );
    const text = encodeRules(r);
    const back = decodeRules(text, "netpulse.rules@3");
    expect(Either.isRight(back) && back.right).toEqual(r);
    expect(Either.isRight(back) && encodeRules(back.right)).toBe(text);
    expect(JSON.parse(text)).toMatchObject({ version: 7, rules: { cooldown_s: 60, rtt_high: { threshold_ms: 100 } } });
  });

  it("does not depend on key order in the source", () => {
    const a = ok("rules:\n  rtt_high: { threshold_ms: 80, enabled: true }\n  cooldown_s: 30\n");
    const b = ok("rules:\n  cooldown_s: 30\n  rtt_high: { enabled: true, threshold_ms: 80 }\n");
    expect(encodeRules(a)).toBe(encodeRules(b));
  });

  it("refuses a message that is not JSON or not valid rules, naming the source", () => {
    const bad = decodeRules("{", "netpulse.rules@9");
    expect(Either.isLeft(bad) && bad.left.message).toMatch(/^netpulse\.rules@9: not JSON: /);
    const invalid = decodeRules('{"version":1,"rules":{"rtt_high":{"threshold_ms":-1}}}', "netpulse.rules@9");
    expect(Either.isLeft(invalid) && invalid.left.message).toBe(
      "netpulse.rules@9: rules.rtt_high.threshold_ms: must not be negative (-1)",
    );
  });
});
