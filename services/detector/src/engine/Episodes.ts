// Episodes, not storms: the open episode of each (kind, subject), what folded into it, and when it
// resolves. A finding opens an episode (the caller publishes the opening record); repeats within
// the cooldown of the last one fold into it (count, last seen, a few sample flow ids); once event
// time has passed last seen + cooldown with no repeat, the episode resolves: a second record with
// the same id, status "resolved", detected at last seen + cooldown (not at whatever watermark
// noticed it, so batching does not change it).
import type { Anomaly } from "@netpulse/runtime/records";

/** Anomaly with every v2 field present and writable while the engine still owns it. */
export type AnomalyDraft = { -readonly [K in keyof Anomaly]-?: Exclude<Anomaly[K], undefined> };

const MAX_SAMPLES = 5;

export interface Episode {
  readonly kind: string;
  readonly subject: string;
  readonly opening: AnomalyDraft;
  count: number;
  lastSeenNs: bigint;
  cooldownNs: bigint;
  readonly samples: bigint[];
}

const byDeadline = (a: Episode, b: Episode): number => {
  const da = a.lastSeenNs + a.cooldownNs;
  const db = b.lastSeenNs + b.cooldownNs;
  if (da !== db) return da < db ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0;
};

export class Episodes {
  /** kind → subject → episode (two lookups instead of a concatenated key per finding). */
  readonly #open = new Map<string, Map<string, Episode>>();
  #size = 0;
  /** No episode resolves before this (a lower bound; exact after each sweep). */
  #nextDeadline: bigint | undefined;

  get size(): number {
    return this.#size;
  }

  get(kind: string, subject: string): Episode | undefined {
    return this.#open.get(kind)?.get(subject);
  }

  /** Registers an opening; the caller publishes `opening` (it may still annotate it this step). */
  open(kind: string, subject: string, opening: AnomalyDraft, lastSeenNs: bigint, cooldownNs: bigint): Episode {
    const samples = [...opening.sample_flow_ids];
    const ep: Episode = { kind, subject, opening, count: 1, lastSeenNs, cooldownNs, samples };
    let bySubject = this.#open.get(kind);
    if (bySubject === undefined) this.#open.set(kind, (bySubject = new Map<string, Episode>()));
    if (!bySubject.has(subject)) this.#size++;
    bySubject.set(subject, ep);
    const deadline = lastSeenNs + cooldownNs;
    if (this.#nextDeadline === undefined || deadline < this.#nextDeadline) this.#nextDeadline = deadline;
    return ep;
  }

  /** Whether a finding starting at `startNs` still belongs to `ep` (within the cooldown of its last one). */
  static continues(ep: Episode, startNs: bigint): boolean {
    return startNs <= ep.lastSeenNs + ep.cooldownNs;
  }

  fold(ep: Episode, endNs: bigint, flowId: bigint | undefined, counted: boolean): void {
    if (counted) ep.count++;
    if (endNs > ep.lastSeenNs) ep.lastSeenNs = endNs;
    if (flowId !== undefined && ep.samples.length < MAX_SAMPLES && !ep.samples.includes(flowId))
      ep.samples.push(flowId);
  }

  /**
   * A finding of (kind, subject) over [startNs, endNs]: folds into the open episode (counted unless it is
   * the other side's record of a finding already counted), or, after resolving a stale one, opens
   * a new episode with `build()` and pushes its opening onto `out`. Returns the opening, if any.
   */
  report(
    kind: string,
    subject: string,
    startNs: bigint,
    endNs: bigint,
    flowId: bigint | undefined,
    counted: boolean,
    cooldownNs: bigint,
    out: Anomaly[],
    build: () => AnomalyDraft,
  ): AnomalyDraft | undefined {
    let ep = this.#open.get(kind)?.get(subject);
    if (ep !== undefined && !Episodes.continues(ep, startNs)) {
      out.push(this.close(ep));
      ep = undefined;
    }
    if (ep !== undefined) {
      this.fold(ep, endNs, flowId, counted);
      return undefined;
    }
    const opening = build();
    this.open(kind, subject, opening, endNs, cooldownNs);
    out.push(opening);
    return opening;
  }

  /** Closes `ep` now (its successor is about to open) and returns its resolution. */
  close(ep: Episode): Anomaly {
    this.#delete(ep);
    return resolution(ep);
  }

  #delete(ep: Episode): void {
    if (this.#open.get(ep.kind)?.delete(ep.subject) === true) this.#size--;
  }

  /** Resolutions of every episode whose cooldown ended before `watermarkNs`, oldest first. */
  sweep(watermarkNs: bigint): Anomaly[] {
    if (this.#nextDeadline === undefined || watermarkNs < this.#nextDeadline) return [];
    const done: Episode[] = [];
    let next: bigint | undefined;
    for (const bySubject of this.#open.values())
      for (const ep of bySubject.values()) {
        const deadline = ep.lastSeenNs + ep.cooldownNs;
        if (deadline < watermarkNs) done.push(ep);
        else if (next === undefined || deadline < next) next = deadline;
      }
    this.#nextDeadline = next;
    done.sort(byDeadline);
    for (const ep of done) this.#delete(ep);
    return done.map(resolution);
  }
}

const resolution = (ep: Episode): Anomaly => ({
  ...ep.opening,
  status: "resolved",
  count: ep.count,
  last_seen_ns: ep.lastSeenNs,
  detected_ns: ep.lastSeenNs + ep.cooldownNs,
  sample_flow_ids: [...ep.samples],
});
