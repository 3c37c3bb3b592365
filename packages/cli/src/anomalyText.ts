// Anomalies for people: one table row per anomaly (time, kind, severity, status, pair, observed
// vs threshold or baseline, cause), shared by `netpulse replay` and `netpulse anomalies`.
import type { Anomaly, Endpoint } from "@netpulse/runtime/records";

const endText = (e: Endpoint, ip: string): string => {
  if (e.namespace !== "") return `${e.namespace}/${e.workload_name !== "" ? e.workload_name : e.pod}`;
  if (e.external_name !== "") return e.external_name;
  if (e.kind === "node" && e.node !== "") return `node/${e.node}`;
  return ip;
};

const value = (v: number, unit: string | undefined): string => {
  switch (unit) {
    case "us":
      return `${(v / 1000).toFixed(1)}ms`;
    case "ratio":
      return `${(v * 100).toFixed(1)}%`;
    case "s":
      return `${v.toFixed(0)}s`;
    default:
      return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }
};

const pairText = (a: Anomaly): string => {
  if (a.src_ip === "" && a.dst_ip === "" && a.node !== "") return `node/${a.node}`;
  const port = a.dst_port > 0 ? `:${a.dst_port}` : "";
  return `${endText(a.src, a.src_ip)} → ${endText(a.dst, a.dst_ip)}${port}`;
};

const against = (a: Anomaly): string =>
  a.threshold !== null
    ? ` > ${value(a.threshold, a.unit)}`
    : a.baseline !== null
      ? ` vs baseline ${value(a.baseline, a.unit)}`
      : "";

export const TABLE_HEADER = ["TIME", "KIND", "SEVERITY", "STATUS", "PAIR", "OBSERVED", "CAUSE"].join("\t");

export const anomalyRow = (a: Anomaly): string =>
  [
    new Date(Number(a.window_start_ns / 1_000_000n)).toISOString(),
    a.kind,
    a.severity,
    `${a.status ?? "open"}${(a.count ?? 1) > 1 ? ` ×${a.count}` : ""}`,
    pairText(a),
    `${value(a.observed, a.unit)}${against(a)}`,
    a.cause_hint !== "" ? a.cause_hint : a.policy_name !== "" ? `${a.policy_verdict} by ${a.policy_name}` : a.message,
  ].join("\t");
