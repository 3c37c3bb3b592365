// Topic names are part of the contract with users (they subscribe to anomalies directly).
export const Topics = {
  flowsRaw: "netpulse.flows.raw",
  flowsEnriched: "netpulse.flows.enriched",
  anomalies: "netpulse.anomalies",
  heartbeats: "netpulse.heartbeats",
  dlq: "netpulse.dlq",
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];
