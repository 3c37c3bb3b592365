// Event-level scoring of alerts against labelled events (baseline.bench.ts). An event counts as
// found when an alert falls in [start, end + TOLERANCE]; alerts elsewhere count as false alarms,
// folded like the engine's episodes (alerts less than COOLDOWN windows apart are one false alarm).
// Delay is in windows from the event's first labelled window to its first alert.
import type { LabelledEvent, Series } from "./baselineSeries.js";

const TOLERANCE = 6;
const COOLDOWN = 6;

export interface Score {
  readonly events: number;
  readonly found: number;
  readonly falseAlarms: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly medianDelay: number;
  readonly meanDelay: number;
  /** False alarms per pair and day of event time. */
  readonly falsePerPairDay: number;
}

export const scoreAlerts = (
  series: readonly Series[],
  alerts: readonly Uint8Array[],
  kinds: ReadonlySet<LabelledEvent["kind"]>,
): Score => {
  let events = 0;
  let found = 0;
  let falseAlarms = 0;
  let days = 0;
  const delays: number[] = [];
  series.forEach((s, i) => {
    const a = alerts[i] ?? new Uint8Array(0);
    days += (s.srttUs.length * s.stepS) / 86_400;
    const covered = new Uint8Array(a.length);
    for (const e of s.events) {
      if (!kinds.has(e.kind)) continue;
      events++;
      const last = Math.min(a.length - 1, e.end + TOLERANCE);
      let first = -1;
      for (let j = e.start; j <= last; j++) {
        covered[j] = 1;
        if (first < 0 && a[j] === 1) first = j;
      }
      if (first >= 0) {
        found++;
        delays.push(first - e.start);
      }
    }
    let lastFalse = -Infinity;
    for (let j = 0; j < a.length; j++) {
      if (a[j] !== 1 || covered[j] === 1) continue;
      if (j - lastFalse > COOLDOWN) falseAlarms++;
      lastFalse = j;
    }
  });
  delays.sort((x, y) => x - y);
  const precision = found + falseAlarms === 0 ? 1 : found / (found + falseAlarms);
  const recall = events === 0 ? 1 : found / events;
  return {
    events,
    found,
    falseAlarms,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    medianDelay: delays[delays.length >> 1] ?? NaN,
    meanDelay: delays.length === 0 ? NaN : delays.reduce((x, y) => x + y, 0) / delays.length,
    falsePerPairDay: falseAlarms / days,
  };
};

/** Window-level scoring, for benchmarks that count labelled windows rather than events. */
export const scorePoints = (
  series: readonly Series[],
  alerts: readonly Uint8Array[],
  kinds: ReadonlySet<LabelledEvent["kind"]>,
): { readonly precision: number; readonly recall: number; readonly f1: number } => {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  series.forEach((s, i) => {
    const a = alerts[i] ?? new Uint8Array(0);
    const label = new Uint8Array(a.length);
    for (const e of s.events) if (kinds.has(e.kind)) label.fill(1, e.start, e.end + 1);
    for (let j = 0; j < a.length; j++) {
      pos += label[j] ?? 0;
      if (a[j] === 1) {
        if (label[j] === 1) tp++;
        else fp++;
      }
    }
  });
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = pos === 0 ? 1 : tp / pos;
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
};
