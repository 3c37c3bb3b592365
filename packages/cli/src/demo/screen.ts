// What the demo shows while it runs: a full screen redrawn every second on a terminal (like
// `top`: records/s per stage, bus lag, drops, the broken links, anomalies as they arrive), or,
// without a terminal, one plain progress line every few seconds plus one line per anomaly.
import type { Anomaly } from "@netpulse/runtime/records";
import { anomalyRow, TABLE_HEADER } from "../anomalyText.js";
import { FAULTS } from "./cluster.js";
import type { Sample } from "./metrics.js";

export interface View {
  readonly elapsedS: number;
  readonly durationS: number | undefined;
  readonly bus: string;
  /** Records per second over the last interval, by `stage.direction`. */
  readonly rates: Record<string, number>;
  readonly sample: Sample;
  readonly nftDrops: Record<string, number>;
  readonly services: ReadonlyArray<{ readonly name: string; readonly state: string }>;
  readonly anomalies: ReadonlyArray<Anomaly>;
}

export const STAGES = ["capture", "enricher", "detector", "sink"] as const;

const clock = (s: number): string =>
  `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

const num = (n: number | undefined, digits = 0): string => (n === undefined ? "-" : n.toFixed(digits));

export const countByKind = (as: ReadonlyArray<Anomaly>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const a of as) if ((a.status ?? "open") === "open") out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
};

const kindsText = (as: ReadonlyArray<Anomaly>): string => {
  const entries = Object.entries(countByKind(as));
  return entries.length === 0 ? "none yet" : entries.map(([k, n]) => `${k} ${n}`).join(" · ");
};

const dropsText = (v: View): string => {
  const pipeline = Object.entries(v.sample.dropped).filter(([, n]) => n > 0);
  return pipeline.length === 0 ? "none" : pipeline.map(([k, n]) => `${k} ${n}`).join(", ");
};

const faultText = (v: View): string =>
  FAULTS.map((f) => {
    switch (f._tag) {
      case "Slow":
        return `${f.pod} → ${f.to} at ${f.rate} (slow)`;
      case "Lossy":
        return `${f.pod}:${f.port} drops ${f.percent}% (${v.nftDrops[f.pod] ?? 0} pkts)`;
      case "SynDrop":
        return `${f.pod}:${f.port} drops ${f.percent}% of SYNs (${v.nftDrops[f.pod] ?? 0})`;
    }
  }).join(" · ");

/** Aligns tab-separated rows into columns, each line cut to `width`. */
const columns = (rows: ReadonlyArray<string>, width: number): string[] => {
  const cells = rows.map((r) => r.split("\t"));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .slice(0, width),
  );
};

/** The full screen, `height` lines at most. */
export const renderScreen = (v: View, width: number, height: number): string => {
  const head = [
    `netpulse start · live on this kernel · bus ${v.bus} · ${clock(v.elapsedS)}${v.durationS !== undefined ? ` / ${clock(v.durationS)}` : ""} · Ctrl-C stops and cleans up`,
    "",
    ...columns(
      [
        "STAGE\tIN/s\tOUT/s\tIN total\tOUT total",
        ...STAGES.map((s) =>
          [
            s,
            num(v.rates[`${s}.in`], 1),
            num(v.rates[`${s}.out`], 1),
            num(v.sample.records[`${s}.in`]),
            num(v.sample.records[`${s}.out`]),
          ].join("\t"),
        ),
      ],
      width,
    ),
    "",
    `bus lag (detector input): ${v.sample.lagSeconds === undefined ? "-" : `${v.sample.lagSeconds.toFixed(1)} s`}   pipeline drops: ${dropsText(v)}`,
    `links: ${faultText(v)}`.slice(0, width),
    `services: ${v.services.map((s) => `${s.name} ${s.state}`).join(" · ")}`,
    "",
    `ANOMALIES  ${kindsText(v.anomalies)}`,
  ];
  const room = Math.max(height - head.length - 2, 3);
  const rows = columns([TABLE_HEADER, ...v.anomalies.slice(-room).map(anomalyRow)], width);
  return [...head, ...rows].join("\n");
};

/** One progress line for pipes and CI. */
export const progressLine = (v: View): string =>
  `start: ${clock(v.elapsedS)} flows/s ${STAGES.map((s) => `${s} ${num(v.rates[`${s}.${s === "capture" ? "out" : "in"}`], 1)}`).join(" ")}` +
  ` · lag ${v.sample.lagSeconds === undefined ? "-" : `${v.sample.lagSeconds.toFixed(1)}s`}` +
  ` · drops ${dropsText(v)} · anomalies ${kindsText(v.anomalies)}`;

export const anomalyLine = (a: Anomaly): string => `start: anomaly ${anomalyRow(a).replace(/\t/g, "  ")}`;
