// The what-if report for a person: a summary line, then NEWLY DENIED and NEWLY ALLOWED tables
// (pair, port, flows, first/last seen, the deciding policy/rule) and the unused candidate rules.
// The same document as the JSON output, laid out in aligned columns.
import type { NewlyAllowed, NewlyDenied, RuleEntry, WhatIfReportDoc } from "./whatIfReport.js";

const time = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

const table = (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
};

const HEADER = ["PAIR", "PORT", "FLOWS", "FIRST SEEN", "LAST SEEN"];

const common = (g: NewlyDenied | NewlyAllowed): string[] => [
  `${g.src.name} → ${g.dst.name}`,
  `${g.dst_port}/${g.protocol}`,
  String(g.flows),
  time(g.first_seen_ns),
  time(g.last_seen_ns),
];

const rules = (list: readonly RuleEntry[]): string => list.map((r) => `${r.policy} ${r.rule}`).join(", ");

const deniedBy = (g: NewlyDenied): string =>
  `${g.direction} isolated by ${g.policies.join(", ")}${g.nearest_rule === "" ? "" : `; nearest: ${g.nearest_rule}`}`;

const allowedBy = (g: NewlyAllowed): string => {
  const parts: string[] = [];
  if (g.rules.length > 0) parts.push(`${g.direction} allowed by ${rules(g.rules)}`);
  if (g.not_isolated.length > 0) parts.push(`${g.not_isolated.join("+")} no longer isolated`);
  return parts.join("; ");
};

const section = (title: string, header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] =>
  rows.length === 0 ? [title, "  (none)"] : [title, ...table(header, rows).map((l) => `  ${l}`)];

export const whatIfText = (r: WhatIfReportDoc): string => {
  const s = r.summary;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const changes = [
    s.replaced.length > 0 ? `replaces ${s.replaced.join(", ")}` : "",
    s.removed.length > 0 ? `removes ${s.removed.join(", ")}` : "",
  ].filter((x) => x !== "");
  const lines = [
    `what-if (${s.mode}): candidates ${s.candidates.join(", ")}${changes.length > 0 ? ` (${changes.join("; ")})` : ""}`,
    `${plural(s.flows_evaluated, "flow")} in ${plural(s.pairs, "pair")} evaluated` +
      `${s.flows_unjudged > 0 ? ` (${s.flows_unjudged} not judged: protocol or address policies do not cover)` : ""}: ` +
      `${s.pairs_newly_denied} newly denied (${plural(s.flows_newly_denied, "flow")}), ` +
      `${s.pairs_newly_allowed} newly allowed (${plural(s.flows_newly_allowed, "flow")}), ` +
      `${s.pairs_unchanged} unchanged (${plural(s.flows_unchanged, "flow")}, ${s.flows_still_denied} denied either way)`,
    "",
    ...section(
      "NEWLY DENIED",
      [...HEADER, "POLICY / RULE"],
      r.newly_denied.map((g) => [...common(g), deniedBy(g)]),
    ),
    "",
    ...section(
      "NEWLY ALLOWED",
      [...HEADER, "POLICY / RULE"],
      r.newly_allowed.map((g) => [...common(g), allowedBy(g)]),
    ),
    "",
    ...section(
      "UNUSED CANDIDATE RULES",
      ["POLICY", "RULE", "WHY"],
      r.unused_rules.map((u) => [u.policy, u.rule, u.reason]),
    ),
  ];
  return `${lines.join("\n")}\n`;
};
