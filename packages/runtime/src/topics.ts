// Topic names are part of the contract with users (they subscribe to anomalies directly), and
// so are their shapes: one table of partitions and retention that every stage provisions from,
// so producers and consumers can never create one topic two different ways.
import type { TopicSpec } from "./bus/Bus.js";

export const Topics = {
  flowsRaw: "netpulse.flows.raw",
  flowsEnriched: "netpulse.flows.enriched",
  anomalies: "netpulse.anomalies",
  heartbeats: "netpulse.heartbeats",
  /** Detector rule versions, retained for years: a replay reads the rules in force at each moment. */
  rules: "netpulse.rules",
  dlq: "netpulse.dlq",
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Partitions and retention of every topic (idempotent to provision; a topic is made by whoever starts first). */
export const TopicSpecs: { readonly [T in keyof typeof Topics]: TopicSpec } = {
  flowsRaw: { topic: Topics.flowsRaw, partitions: 8, retentionMs: DAY_MS },
  flowsEnriched: { topic: Topics.flowsEnriched, partitions: 8, retentionMs: 7 * DAY_MS },
  anomalies: { topic: Topics.anomalies, partitions: 1, retentionMs: 30 * DAY_MS },
  heartbeats: { topic: Topics.heartbeats, partitions: 1, retentionMs: 7 * DAY_MS },
  rules: { topic: Topics.rules, partitions: 1, retentionMs: 10 * 365 * DAY_MS },
  dlq: { topic: Topics.dlq, partitions: 1, retentionMs: 30 * DAY_MS },
};

/** The spec of a topic by name (for provisioning a list of names). */
export const specOf = (topic: Topic): TopicSpec => {
  const spec = Object.values(TopicSpecs).find((s) => s.topic === topic);
  if (spec === undefined) throw new Error(`no spec for topic ${topic}`);
  return spec;
};
