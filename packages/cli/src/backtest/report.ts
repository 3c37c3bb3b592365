// The backtest report as one JSON-ready document, built from the two sides' episodes. Everything
// is sorted and every object is built in a fixed key order, so the same input gives the same
// bytes. Definitions (docs/detector.md, "Backtest"):
// - matched: the same (kind, subject, episode start) on both sides; `added` = candidate only,
//   `removed` = baseline only, each the episode's newest record as `toJsonLine` prints it.
// - alert-minutes of an episode: last seen − first seen, at least its opening window; one still
//   open when the input ends counts up to the end of the input (`window.to_ns`).
// - flapping: a (kind, subject) with at least FLAP_EPISODES episodes on one side.
import { toJsonLine } from "@netpulse/runtime/codec/json";
import { byStart, type Episode } from "./EpisodeLog.js";

export const FLAP_EPISODES = 3;
/** Timeline bucket widths tried in turn until the window fits in MAX_BUCKETS. */
const BUCKET_WIDTHS_S = [60, 300, 600, 1_800, 3_600, 21_600, 86_400] as const;
const MAX_BUCKETS = 24;
const NS_PER_S = 1_000_000_000n;

export interface SideInput {
  /** Where the side's anomalies come from: a rules file, "built-in defaults", or "recorded". */
  readonly rules: string;
  readonly rulesVersion: number | null;
  readonly episodes: ReadonlyArray<Episode>;
}

export interface ReportInput {
  readonly fromNs: bigint;
  readonly toNs: bigint;
  readonly messages: number;
  readonly records: number;
  /** Input messages the detector could not decode. */
  readonly skippedMessages: number;
  /** Malformed lines or rows skipped with --skip-bad. */
  readonly skippedLines: number;
  readonly baseline: SideInput;
  readonly candidate: SideInput;
}

export interface Load {
  readonly episodes: number;
  readonly alert_minutes: number;
}

export interface Side extends Load {
  readonly rules: string;
  readonly rules_version: number | null;
  readonly open_at_end: number;
  readonly anomalies_by_kind: Readonly<Record<string, number>>;
}

export interface Report {
  readonly window: { readonly from_ns: string; readonly to_ns: string };
  readonly input: {
    readonly messages: number;
    readonly records: number;
    readonly skipped_messages: number;
    readonly skipped_lines: number;
  };
  readonly baseline: Side;
  readonly candidate: Side;
  readonly matched: number;
  readonly added: ReadonlyArray<unknown>;
  readonly removed: ReadonlyArray<unknown>;
  readonly pairs: ReadonlyArray<{ readonly pair: string; readonly baseline: Load; readonly candidate: Load }>;
  readonly flapping: ReadonlyArray<{
    readonly kind: string;
    readonly pair: string;
    readonly baseline_episodes: number;
    readonly candidate_episodes: number;
  }>;
  readonly timeline: {
    readonly bucket_s: number;
    readonly buckets: ReadonlyArray<{
      readonly start_ns: string;
      readonly baseline: number;
      readonly candidate: number;
    }>;
  };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Alert time of one episode in ns (see the header). */
export const alertNs = (e: Episode, endNs: bigint): bigint => {
  const a = e.latest;
  const last = e.resolved && a.last_seen_ns !== undefined ? a.last_seen_ns : endNs;
  const window = a.window_end_ns - a.window_start_ns;
  const span = last - e.startNs;
  const ns = span > window ? span : window;
  return ns > 0n ? ns : 0n;
};

const minutes = (ns: bigint): number => Math.round(Number(ns) / 600_000_000) / 100;

const load = (episodes: ReadonlyArray<Episode>, endNs: bigint): Load => {
  let ns = 0n;
  for (const e of episodes) ns += alertNs(e, endNs);
  return { episodes: episodes.length, alert_minutes: minutes(ns) };
};

const groupBy = <K extends string>(episodes: ReadonlyArray<Episode>, key: (e: Episode) => K) => {
  const groups = new Map<K, Episode[]>();
  for (const e of episodes) {
    const k = key(e);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [e]);
    else g.push(e);
  }
  return groups;
};

const side = (s: SideInput, kinds: ReadonlyArray<string>, endNs: bigint): Side => {
  const byKind = groupBy(s.episodes, (e) => e.kind);
  const counts: Record<string, number> = {};
  for (const k of kinds) counts[k] = byKind.get(k)?.length ?? 0;
  return {
    rules: s.rules,
    rules_version: s.rulesVersion,
    ...load(s.episodes, endNs),
    open_at_end: s.episodes.filter((e) => !e.resolved).length,
    anomalies_by_kind: counts,
  };
};

/** Episodes of `a` with no counterpart in `b` (a multiset difference on the match key). */
const unmatched = (a: ReadonlyArray<Episode>, b: ReadonlyArray<Episode>): Episode[] => {
  const left = new Map<string, number>();
  for (const e of b) left.set(e.key, (left.get(e.key) ?? 0) + 1);
  const out: Episode[] = [];
  for (const e of a) {
    const n = left.get(e.key) ?? 0;
    if (n > 0) left.set(e.key, n - 1);
    else out.push(e);
  }
  return out.sort(byStart);
};

const record = (e: Episode): unknown => JSON.parse(toJsonLine(e.latest));

const timeline = (r: ReportInput): Report["timeline"] => {
  const spanS = Number((r.toNs - r.fromNs) / NS_PER_S);
  const width = BUCKET_WIDTHS_S.find((w) => Math.ceil(spanS / w) <= MAX_BUCKETS) ?? 86_400;
  const w = BigInt(width) * NS_PER_S;
  const first = (r.fromNs / w) * w;
  const n = Math.max(1, Number((r.toNs - first + w - 1n) / w));
  const count = (episodes: ReadonlyArray<Episode>): number[] => {
    const c = new Array<number>(n).fill(0);
    for (const e of episodes) {
      const i = Math.min(n - 1, Math.max(0, Number((e.startNs - first) / w)));
      c[i] = (c[i] ?? 0) + 1;
    }
    return c;
  };
  const b = count(r.baseline.episodes);
  const c = count(r.candidate.episodes);
  return {
    bucket_s: width,
    buckets: b.map((x, i) => ({ start_ns: String(first + BigInt(i) * w), baseline: x, candidate: c[i] ?? 0 })),
  };
};

/** The report, and the added and removed episodes themselves (the text output prints them as rows). */
export const buildReport = (
  r: ReportInput,
): { readonly report: Report; readonly added: Episode[]; readonly removed: Episode[] } => {
  const base = r.baseline.episodes;
  const cand = r.candidate.episodes;
  const kinds = [...new Set([...base, ...cand].map((e) => e.kind))].sort(cmp);
  const added = unmatched(cand, base);
  const removed = unmatched(base, cand);

  const basePairs = groupBy(base, (e) => e.subject);
  const candPairs = groupBy(cand, (e) => e.subject);
  const pairs = [...new Set([...basePairs.keys(), ...candPairs.keys()])]
    .map((pair) => ({
      pair,
      baseline: load(basePairs.get(pair) ?? [], r.toNs),
      candidate: load(candPairs.get(pair) ?? [], r.toNs),
    }))
    .sort(
      (a, b) =>
        Math.max(b.baseline.alert_minutes, b.candidate.alert_minutes) -
          Math.max(a.baseline.alert_minutes, a.candidate.alert_minutes) || cmp(a.pair, b.pair),
    );

  const flapKey = (e: Episode) => `${e.kind}\u0000${e.subject}`;
  const baseFlaps = groupBy(base, flapKey);
  const candFlaps = groupBy(cand, flapKey);
  const flapping = [...new Set([...baseFlaps.keys(), ...candFlaps.keys()])]
    .sort(cmp)
    .map((k) => {
      const [kind = "", pair = ""] = k.split("\u0000");
      return {
        kind,
        pair,
        baseline_episodes: baseFlaps.get(k)?.length ?? 0,
        candidate_episodes: candFlaps.get(k)?.length ?? 0,
      };
    })
    .filter((f) => f.baseline_episodes >= FLAP_EPISODES || f.candidate_episodes >= FLAP_EPISODES);

  const report: Report = {
    window: { from_ns: String(r.fromNs), to_ns: String(r.toNs) },
    input: {
      messages: r.messages,
      records: r.records,
      skipped_messages: r.skippedMessages,
      skipped_lines: r.skippedLines,
    },
    baseline: side(r.baseline, kinds, r.toNs),
    candidate: side(r.candidate, kinds, r.toNs),
    matched: cand.length - added.length,
    added: added.map(record),
    removed: removed.map(record),
    pairs,
    flapping,
    timeline: timeline(r),
  };
  return { report, added, removed };
};

/** The report as the bytes `--output json` prints (two-space indent, trailing newline). */
export const reportJson = (r: Report): string => `${JSON.stringify(r, null, 2)}\n`;
