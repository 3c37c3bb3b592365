// Progress of a long run on stderr, only when stderr is a terminal: records so far, the position
// in the window as event time, the rate and (when the window's end is known) the time left.
// Redrawn in place at most ~4 times a second; `clear` wipes the line before anything else prints.
import { wallClockMs } from "@netpulse/runtime/clock";
import type { SourceWindow } from "../flowSource.js";

const REDRAW_MS = 250;

const count = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${Math.round(n / 1e3)}k` : String(n);

const duration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
};

export interface ProgressLine {
  readonly startedMs: number;
  readonly nowMs: number;
  readonly records: number;
  readonly eventNs: bigint;
  readonly window: SourceWindow | undefined;
}

/** The line itself (pure, for tests). */
export const progressText = (p: ProgressLine): string => {
  const elapsed = Math.max(1, p.nowMs - p.startedMs);
  const parts = [`${count(p.records)} flows`];
  const eventMs = Number(p.eventNs / 1_000_000n);
  if (p.eventNs > 0n) parts.push(`at ${new Date(eventMs).toISOString().replace(/\.\d+Z$/, "Z")}`);
  if (p.window !== undefined && p.eventNs > 0n) {
    const span = p.window.toMs - p.window.fromMs;
    const done = Math.min(1, Math.max(0, (eventMs - p.window.fromMs) / span));
    parts.push(`${Math.floor(done * 100)}%`);
    if (done > 0 && done < 1) parts.push(`ETA ${duration((elapsed * (1 - done)) / done)}`);
  }
  parts.push(`${count(Math.round((p.records * 1000) / elapsed))} flows/s`);
  return parts.join(" · ");
};

export interface Progress {
  readonly update: (records: number, eventNs: bigint) => void;
  readonly clear: () => void;
}

const silent: Progress = { update: () => undefined, clear: () => undefined };

export const progressOnStderr = (label: string, window: SourceWindow | undefined): Progress => {
  if (process.stderr.isTTY !== true) return silent;
  const startedMs = wallClockMs();
  let lastDraw = 0;
  let drawn = false;
  return {
    update: (records, eventNs) => {
      const nowMs = wallClockMs();
      if (nowMs - lastDraw < REDRAW_MS) return;
      lastDraw = nowMs;
      drawn = true;
      process.stderr.write(`\r\x1b[K${label}: ${progressText({ startedMs, nowMs, records, eventNs, window })}`);
    },
    clear: () => {
      if (drawn) process.stderr.write("\r\x1b[K");
      drawn = false;
    },
  };
};
