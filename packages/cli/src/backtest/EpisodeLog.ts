// One side of a backtest: the episodes a rule set gave (or the detector recorded), folded from
// anomaly records. An episode is one id: its opening and, once its cooldown passed, its
// resolution (the same id, status "resolved", final count and last seen). Ids include the rule
// id and version, so two rule sets never share them; across sides an episode is matched by
// `matchKey`: (kind, subject, episode start).
import type { Anomaly } from "@netpulse/runtime/records";

export interface Episode {
  readonly key: string;
  readonly kind: string;
  readonly subject: string;
  readonly startNs: bigint;
  /** The episode's newest record: the resolution when there is one, else the opening. */
  readonly latest: Anomaly;
  readonly resolved: boolean;
}

/** Episode subject: the record's `pair`; a v1 record (no pair) falls back to its endpoints or node. */
export const subjectOf = (a: Anomaly): string => {
  if (a.pair !== undefined && a.pair !== "") return a.pair;
  if (a.src_ip === "" && a.dst_ip === "") return `node:${a.node}`;
  return `${a.src_ip}>${a.dst_ip}#${a.dst_port}`;
};

/** Episode start: the start of the window that opened it (`window_start_ns` on a v1 record). */
export const startOf = (a: Anomaly): bigint =>
  a.first_seen_ns !== undefined && a.first_seen_ns > 0n ? a.first_seen_ns : a.window_start_ns;

/** The same episode under two rule sets: same kind, same subject, same start in event time. */
export const matchKey = (a: Anomaly): string => `${a.kind}\u0000${subjectOf(a)}\u0000${startOf(a)}`;

/** Report order: start, then kind, then subject, then id. */
export const byStart = (a: Episode, b: Episode): number => {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.subject !== b.subject) return a.subject < b.subject ? -1 : 1;
  return a.latest.id < b.latest.id ? -1 : a.latest.id > b.latest.id ? 1 : 0;
};

export class EpisodeLog {
  readonly #byId = new Map<string, Episode>();

  add(records: ReadonlyArray<Anomaly>): void {
    for (const a of records) {
      const known = this.#byId.get(a.id);
      const resolved = a.status === "resolved";
      // a redelivered opening after the resolution changes nothing
      if (known !== undefined && known.resolved && !resolved) continue;
      this.#byId.set(a.id, {
        key: matchKey(a),
        kind: a.kind,
        subject: subjectOf(a),
        startNs: startOf(a),
        latest: a,
        resolved,
      });
    }
  }

  /** Every episode, in report order. */
  episodes(): Episode[] {
    return [...this.#byId.values()].sort(byStart);
  }
}
