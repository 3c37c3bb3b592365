// What the live screen reads from each service's /metrics: records in and out per stage
// (netpulse_records_total{stage,direction}; the capture's own gauges of kernel records read and
// flows published), records dropped on purpose (netpulse_dropped_total) and the detector's input lag. A service that doesn't answer yet reads as no sample.
import * as Effect from "effect/Effect";

export interface Sample {
  readonly records: Record<string, number>;
  readonly dropped: Record<string, number>;
  readonly lagSeconds: number | undefined;
}

const SCRAPE_TIMEOUT_MS = 1_000;

const LINE =
  /^(netpulse_records_total|netpulse_dropped_total|netpulse_detector_input_lag_seconds|netpulse_capture_kernel_records|netpulse_capture_flows_published)(\{[^}]*\})?\s+(\S+)/;
const CAPTURE: Record<string, string> = {
  netpulse_capture_kernel_records: "capture.in",
  netpulse_capture_flows_published: "capture.out",
};
const label = (labels: string, name: string): string => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? "";

/** Parses the Prometheus text of one service. */
export const parseMetrics = (text: string): Sample => {
  const records: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  let lagSeconds: number | undefined;
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels = m[2] ?? "";
    const v = Number(m[3]);
    if (m[1] === "netpulse_records_total") {
      const key = `${label(labels, "stage")}.${label(labels, "direction")}`;
      records[key] = (records[key] ?? 0) + v;
    } else if (m[1] === "netpulse_dropped_total") {
      const key = `${label(labels, "stage")}.${label(labels, "reason")}`;
      dropped[key] = (dropped[key] ?? 0) + v;
    } else if (m[1] !== undefined && CAPTURE[m[1]] !== undefined) {
      const key = CAPTURE[m[1]] ?? "";
      records[key] = (records[key] ?? 0) + v;
    } else lagSeconds = v;
  }
  return { records, dropped, lagSeconds };
};

export const scrape = (port: number): Effect.Effect<Sample | undefined> =>
  Effect.tryPromise(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    return parseMetrics(await res.text());
  }).pipe(Effect.orElseSucceed(() => undefined));

/** All services' samples merged into one (stage names keep them apart). */
export const merge = (samples: ReadonlyArray<Sample | undefined>): Sample => {
  const records: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  let lagSeconds: number | undefined;
  for (const s of samples) {
    if (s === undefined) continue;
    for (const [k, v] of Object.entries(s.records)) records[k] = (records[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    lagSeconds ??= s.lagSeconds;
  }
  return { records, dropped, lagSeconds };
};
