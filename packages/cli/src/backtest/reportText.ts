// The backtest report for a person: what was compared, a table per kind (baseline, candidate,
// delta), the added and removed episodes as anomaly rows, the top pairs by alert-minutes, the
// flapping pairs, and a timeline of episode openings as a text bar chart. Same data as the JSON.
import { anomalyRow, TABLE_HEADER } from "../anomalyText.js";
import type { Episode } from "./EpisodeLog.js";
import { FLAP_EPISODES, type Report, type Side } from "./report.js";

const TOP_PAIRS = 10;
const MAX_ROWS = 20;
const BAR_WIDTH = 40;

const time = (ns: string): string => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));
const fixed = (n: number): string => n.toFixed(1);

/** Columns padded to their widest cell; the first `left` left-aligned, the rest (counts) right-aligned. */
const table = (rows: ReadonlyArray<ReadonlyArray<string>>, left = 1): string[] => {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
};

const sideText = (s: Side): string => `${s.rules}${s.rules_version === null ? "" : ` (version ${s.rules_version})`}`;

const rows = (title: string, episodes: ReadonlyArray<Episode>): string[] => {
  if (episodes.length === 0) return [`${title}: none`];
  const shown = episodes.slice(0, MAX_ROWS).map((e) => anomalyRow(e.latest));
  const more = episodes.length > MAX_ROWS ? [`… ${episodes.length - MAX_ROWS} more (--output json lists all)`] : [];
  return [`${title}: ${episodes.length}`, TABLE_HEADER, ...shown, ...more];
};

const bar = (n: number, max: number): string => "█".repeat(max === 0 ? 0 : Math.ceil((n * BAR_WIDTH) / max));

export const reportText = (r: Report, added: ReadonlyArray<Episode>, removed: ReadonlyArray<Episode>): string => {
  const out: string[] = [
    `baseline:  ${sideText(r.baseline)}`,
    `candidate: ${sideText(r.candidate)}`,
    `input: ${r.input.records} records in ${r.input.messages} messages` +
      `${r.input.skipped_messages > 0 ? `, ${r.input.skipped_messages} messages skipped` : ""}` +
      `${r.input.skipped_lines > 0 ? `, ${r.input.skipped_lines} bad lines skipped` : ""}` +
      `, ${time(r.window.from_ns)} → ${time(r.window.to_ns)}`,
    "",
  ];

  const kinds = Object.keys(r.baseline.anomalies_by_kind);
  out.push(
    ...table([
      ["KIND", "BASELINE", "CANDIDATE", "DELTA"],
      ...kinds.map((k) => {
        const b = r.baseline.anomalies_by_kind[k] ?? 0;
        const c = r.candidate.anomalies_by_kind[k] ?? 0;
        return [k, String(b), String(c), signed(c - b)];
      }),
      [
        "total",
        String(r.baseline.episodes),
        String(r.candidate.episodes),
        signed(r.candidate.episodes - r.baseline.episodes),
      ],
      [
        "alert-minutes",
        fixed(r.baseline.alert_minutes),
        fixed(r.candidate.alert_minutes),
        signed(Math.round((r.candidate.alert_minutes - r.baseline.alert_minutes) * 10) / 10),
      ],
    ]),
    "",
    `episodes matched on kind, subject and start: ${r.matched}`,
    ...rows("added (candidate only)", added),
    ...rows("removed (baseline only)", removed),
    "",
  );

  const top = r.pairs.slice(0, TOP_PAIRS);
  out.push(`top pairs by alert-minutes (${top.length} of ${r.pairs.length}):`);
  out.push(
    ...table([
      ["PAIR", "BASELINE MIN", "EPISODES", "CANDIDATE MIN", "EPISODES"],
      ...top.map((p) => [
        p.pair,
        fixed(p.baseline.alert_minutes),
        String(p.baseline.episodes),
        fixed(p.candidate.alert_minutes),
        String(p.candidate.episodes),
      ]),
    ]),
    "",
  );

  if (r.flapping.length === 0) out.push(`flapping (≥ ${FLAP_EPISODES} episodes of one kind and pair): none`);
  else
    out.push(
      `flapping (≥ ${FLAP_EPISODES} episodes of one kind and pair):`,
      ...table(
        [
          ["KIND", "PAIR", "BASELINE", "CANDIDATE"],
          ...r.flapping.map((f) => [f.kind, f.pair, String(f.baseline_episodes), String(f.candidate_episodes)]),
        ],
        2,
      ),
    );
  out.push("");

  const { bucket_s, buckets } = r.timeline;
  const max = Math.max(0, ...buckets.map((b) => Math.max(b.baseline, b.candidate)));
  out.push(
    `episodes opened per ${bucket_s >= 3_600 ? `${bucket_s / 3_600} h` : `${bucket_s / 60} min`} (b baseline, c candidate):`,
  );
  for (const b of buckets) {
    const at = time(b.start_ns).slice(0, 16).replace("T", " ");
    out.push(`${at}  b ${String(b.baseline).padStart(3)} ${bar(b.baseline, max)}`.trimEnd());
    out.push(`${" ".repeat(at.length)}  c ${String(b.candidate).padStart(3)} ${bar(b.candidate, max)}`.trimEnd());
  }
  return `${out.join("\n")}\n`;
};
