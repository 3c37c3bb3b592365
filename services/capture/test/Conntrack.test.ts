// Conntrack pressure parsing and the heartbeat built from it, on fixture files (-1 when absent).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { parseConntrackStat, readConntrack } from "../src/Conntrack.js";
import { CaptureStats } from "../src/CaptureStats.js";
import { makeHeartbeat } from "../src/Heartbeat.js";

const STAT = `entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 0000000a 00000003 00000000 00000000  00000000 00000000 00000000 00000000
00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001 000000ff 00000000 00000000  00000000 00000000 00000000 00000000
`;

describe("conntrack pressure", () => {
  it("sums insert_failed and drop over CPUs (hex columns found by header name)", () => {
    expect(parseConntrackStat(STAT)).toEqual({ insertFailed: 11n, drop: 258n });
  });

  it("reports -1 for a missing column", () => {
    expect(parseConntrackStat("entries found\n00000001 00000002\n")).toEqual({ insertFailed: -1n, drop: -1n });
  });

  it("reads the files, and -1 for each one that is absent", async () => {
    const dir = mkdtempSync(join(tmpdir(), "np-ct-"));
    writeFileSync(join(dir, "count"), "1234\n");
    writeFileSync(join(dir, "max"), "262144\n");
    writeFileSync(join(dir, "stat"), STAT);
    const paths = { count: join(dir, "count"), max: join(dir, "max"), stat: join(dir, "stat") };
    expect(await Effect.runPromise(readConntrack(paths))).toEqual({
      count: 1234n,
      max: 262144n,
      insertFailed: 11n,
      drop: 258n,
    });
    const absent = { count: join(dir, "nope"), max: join(dir, "nope"), stat: join(dir, "nope") };
    expect(await Effect.runPromise(readConntrack(absent))).toEqual({
      count: -1n,
      max: -1n,
      insertFailed: -1n,
      drop: -1n,
    });
    const stats = new CaptureStats();
    stats.ringbufDrops = 2;
    stats.queueDrops = 3;
    stats.sinkDroppedRecords = 4;
    stats.flowsTracked = 5;
    const hb = await Effect.runPromise(makeHeartbeat("node-a", stats, paths));
    expect(hb).toMatchObject({
      node: "node-a",
      conntrack_count: 1234n,
      conntrack_drop: 258n,
      dropped_ringbuf: 2n,
      dropped_queue: 7n,
      flows_tracked: 5n,
    });
  });
});
