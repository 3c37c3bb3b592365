// How bus topics and groups map onto JetStream names: one stream per topic (dots are not allowed
// in stream names), subjects `<topic>.<shard>`, one durable consumer per (topic, group).
export const streamName = (topic: string): string => topic.replace(/[^A-Za-z0-9_-]/g, "_");

export const shardSubject = (topic: string, shard: number): string => `${topic}.${shard}`;

export const allShards = (topic: string): string => `${topic}.>`;

/** The shard number of a `<topic>.<shard>` subject. */
export const shardFromSubject = (topic: string, subject: string): number => Number(subject.slice(topic.length + 1));

export const durableName = (group: string): string => group.replace(/[^A-Za-z0-9_-]/g, "_");

/** Header carrying the message key (JetStream has no key of its own). */
export const KEY_HEADER = "Netpulse-Key";

/** Stream description that records the shard count, read back by publishers (servers < 2.10 have no metadata). */
export const describeStream = (topic: string, partitions: number): string =>
  `netpulse topic ${topic} partitions=${partitions}`;

export const partitionsFromDescription = (description: string | undefined): number | undefined => {
  const m = /partitions=(\d+)/.exec(description ?? "");
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
};
