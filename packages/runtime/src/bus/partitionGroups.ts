// Splits a batch of records into one group per partition, so a producer sends few large
// messages (never one per key) while every key still lands on one partition and stays ordered.
import { shardOf } from "./shard.js";

export const groupByPartition = <T>(
  records: ReadonlyArray<T>,
  keyOf: (record: T) => string,
  partitions: number,
): Map<number, T[]> => {
  const groups = new Map<number, T[]>();
  for (const r of records) {
    const p = shardOf(keyOf(r), partitions);
    const group = groups.get(p);
    if (group === undefined) groups.set(p, [r]);
    else group.push(r);
  }
  return groups;
};
