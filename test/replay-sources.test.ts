// `netpulse replay`'s sources as a user runs them (the CLI entry point through tsx), on the real
// ClickHouse and NATS: flows the sink wrote come back from netpulse.flows exactly as written, and
// replaying them from ClickHouse gives the anomalies (ids and all) a replay of the same flows from
// a file gives; `--where` narrows; `--rules live` switches versions at their publish times;
// `--skip-bad` counts bad lines; an empty window says so; and a replay from the topic publishes
// nothing to any topic. The NATS tests run on a server of their own (isolatedServices), so the
// rules history and the topics' message counts are this file's alone.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Chunk from "effect/Chunk";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClickHouse } from "@netpulse/clickhouse";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { NatsBus } from "@netpulse/runtime/bus/NatsBus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { Topics, TopicSpecs } from "@netpulse/runtime/topics";
import { parseRules, publishRules } from "@netpulse/detector";
import { clickhouseFlows } from "@netpulse/cli/source/clickhouseSource";
import { progressText } from "@netpulse/cli/source/progress";
import { makeRowEncoder } from "../services/sink/src/rows/RowEncoder.js";
import { migrate } from "../services/sink/src/schema/Migrator.js";
import { flows as flowsTable } from "../services/sink/src/schema/tables.js";
import { writeBatch } from "../services/sink/src/write/TableWriter.js";
import { BASE_NS, clickhouseUrl, dropDb, makeFlows, run, uniqueDb } from "../services/sink/test/fixtures.js";
import { isolatedServices, type Isolated } from "../services/sink/test/harness.js";
import { CLI_ARGS, netpulseCli } from "./support/cli.js";

const db = uniqueDb("np_replay_src");
const dir = mkdtempSync(join(tmpdir(), "netpulse-replay-sources-"));
let nats: Isolated | undefined;

const file = (name: string, lines: ReadonlyArray<string>): string => {
  const path = join(dir, name);
  writeFileSync(path, lines.map((l) => `${l}\n`).join(""));
  return path;
};
const jsonl = (name: string, records: ReadonlyArray<object>) =>
  file(
    name,
    records.map((r) => toJsonLine(r)),
  );

const cliEnv = () => ({
  ...process.env,
  NETPULSE_CLICKHOUSE_URL: clickhouseUrl,
  NETPULSE_CLICKHOUSE_DATABASE: db,
  NETPULSE_BUS: "nats",
  ...(nats === undefined ? {} : { NETPULSE_NATS_URL: nats.natsUrl }),
});
const netpulse = netpulseCli({ timeoutMs: 180_000, env: cliEnv });

const lines = (text: string) => text.split("\n").filter((l) => l !== "");
const parsed = (text: string) => lines(text).map((l) => JSON.parse(l) as Record<string, unknown>);
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

/** Through the sink's own row encoder and writer, as the sink service stores them. */
const sinkWrite = (rows: ReadonlyArray<EnrichedFlow>) =>
  run(
    db,
    Effect.gen(function* () {
      const state = yield* migrate();
      const enc = makeRowEncoder(flowsTable, state.server.dialect, (yield* ClickHouse).database);
      return yield* writeBatch(enc, [...rows]);
    }),
  );

const HOUR_NS = 3_600_000_000_000n;

describe("replay --clickhouse", () => {
  beforeAll(() => dropDb(db));
  afterAll(() => dropDb(db));

  it("reads back exactly the flows the sink wrote, in end-time order, over many pages and slices", async () => {
    const base = BASE_NS + 5n * HOUR_NS;
    const plain = makeFlows(900, { idBase: 50_000_000n, baseNs: base });
    // edge values of every column kind, and a sparse tail an hour later (the slices widen over it)
    const odd: EnrichedFlow[] = [
      {
        ...plain[0]!,
        flow_id: 9_007_199_254_740_993n, // beyond 2^53
        start_ns: base + 20n * 1_000_000_000n,
        end_ns: base + 21n * 1_000_000_000n,
        src_ip: "fd00:10::7",
        dst_ip: "2001:db8::1",
        bytes_sent: 2n ** 63n - 1n,
        netns: 0n,
        src: { ...plain[0]!.src, labels: {}, host_network: true, kind: "node", pod: "" },
        dst: {
          ...plain[0]!.dst,
          kind: "external",
          external_name: "api.example.test",
          labels: { "app.kubernetes.io/name": "bäckend", empty: "" },
        },
      },
      // a long window read first (by start) and handed on last (by end)
      { ...plain[1]!, flow_id: 42n, start_ns: base + 1_000_000n, end_ns: base + 600_000_000_000n },
      ...makeFlows(30, { idBase: 60_000_000n, baseNs: base + HOUR_NS }),
    ];
    const written = [...plain, ...odd];
    expect(await sinkWrite(written)).toMatchObject({ inserted: written.length, rejected: [] });

    const read = await run(
      db,
      Effect.gen(function* () {
        const ch = yield* ClickHouse;
        const messages = yield* Stream.runCollect(
          clickhouseFlows(ch, {
            fromMs: Number(base / 1_000_000n),
            toMs: Number((base + 2n * HOUR_NS) / 1_000_000n),
            pageRows: 64,
            batchRecords: 100,
          }),
        );
        return Chunk.toReadonlyArray(messages).flatMap(
          (m) => Either.getOrThrow(EnrichedFlowCodec.decodeBatch(m.value)).records,
        );
      }),
    );
    // in the detector's event-time order: by window end, as the capture emits them
    const byTime = [...written].sort((a, b) =>
      a.end_ns === b.end_ns ? Number(a.flow_id - b.flow_id) : a.end_ns < b.end_ns ? -1 : 1,
    );
    expect(read).toHaveLength(written.length);
    expect(read).toEqual(byTime);
  });

  const base = BASE_NS + HOUR_NS;
  const traffic = makeFlows(2500, { idBase: 10_000_000n, baseNs: base });
  const window = ["--from", iso(base), "--to", iso(base + HOUR_NS)];

  it("gives the same anomalies, ids and all, as the same flows from a file; --where narrows", async () => {
    expect(await sinkWrite(traffic)).toMatchObject({ inserted: traffic.length });
    const fromFile = netpulse("replay", "--input", jsonl("traffic.jsonl", traffic));
    expect(fromFile.status, fromFile.stderr).toBe(0);
    expect(lines(fromFile.stdout).length).toBeGreaterThan(3);
    const fromClickHouse = netpulse("replay", "--clickhouse", ...window);
    expect(fromClickHouse.status, fromClickHouse.stderr).toBe(0);
    expect(parsed(fromClickHouse.stdout).map((a) => a["id"])).toEqual(parsed(fromFile.stdout).map((a) => a["id"]));
    expect(fromClickHouse.stdout).toBe(fromFile.stdout);
    expect(fromClickHouse.stderr).toContain(`${traffic.length} flows`);

    const postgres = traffic.filter((f) => f.dst_port === 5432);
    const narrowFile = netpulse("replay", "--input", jsonl("postgres.jsonl", postgres));
    const narrow = netpulse("replay", "--clickhouse", ...window, "--where", "dst_port = 5432");
    expect(narrow.status, narrow.stderr).toBe(0);
    expect(narrow.stdout).toBe(narrowFile.stdout);
    expect(narrow.stdout).not.toBe(fromClickHouse.stdout);
    const badSql = netpulse("replay", "--clickhouse", ...window, "--where", "no_such_column = 1");
    expect(badSql.status).toBe(1);
    expect(badSql.stderr).toMatch(/no_such_column/);
  });

  it("an empty window says so on stderr", () => {
    const r = netpulse("replay", "--clickhouse", "--from", "2001-01-01T00:00:00Z", "--to", "2001-01-02T00:00:00Z");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`no flows between 2001-01-01T00:00:00.000Z and 2001-01-02T00:00:00.000Z in ${db}.flows`);
  });

  it("a row that is no flow stops the read naming it (exit 2), or is counted with --skip-bad", async () => {
    const at = BASE_NS + 3n * HOUR_NS;
    const rows = makeFlows(50, { idBase: 30_000_000n, baseNs: at });
    // the sink stores any text in direction; the codec's check refuses it
    const odd = rows.map((f, i) => (i === 20 ? { ...f, direction: "sideways" } : f));
    expect(await sinkWrite(odd)).toMatchObject({ inserted: 50 });
    const w = ["--from", iso(at), "--to", iso(at + HOUR_NS)];
    const stopped = netpulse("replay", "--clickhouse", ...w);
    expect(stopped.status).toBe(2);
    expect(stopped.stderr).toMatch(new RegExp(`${db}\\.flows row flow_id=30000020 .*sideways`));
    const skipped = netpulse("replay", "--clickhouse", ...w, "--skip-bad");
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/ 49 flows, .*, 1 bad rows skipped \(first: .*flow_id=30000020/);
  });

  it("--skip-bad counts malformed lines in the summary instead of stopping with exit 2", () => {
    const good = traffic.slice(0, 400).map((f) => toJsonLine(f));
    const bad = file("bad.jsonl", [...good.slice(0, 10), '{"flow_id": "x"}', "not json", ...good.slice(10)]);
    const stopped = netpulse("replay", "--input", bad);
    expect(stopped.status).toBe(2);
    expect(stopped.stderr).toMatch(/bad\.jsonl:11/);
    const skipped = netpulse("replay", "--input", bad, "--skip-bad");
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/400 flows.*, 2 bad lines skipped \(first: .*bad\.jsonl:11/);
    expect(skipped.stdout).toBe(netpulse("replay", "--input", file("good.jsonl", good)).stdout);
  });
});

describe("replay's run", () => {
  it("Ctrl-C ends it with the summary of what was found so far (exit 130)", async () => {
    // stdin stays open after 1000 flows: one whole batch is judged, then the replay waits for more
    const child = spawn("node_modules/.bin/tsx", [...CLI_ARGS, "replay", "--input", "-"], { env: cliEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
    child.stdin.on("error", () => undefined); // the replay may end before reading all of it
    child.stdin.write(
      makeFlows(1000, { idBase: 90_000_000n })
        .map((f) => `${toJsonLine(f)}\n`)
        .join(""),
    );
    for (let i = 0; i < 600 && lines(stdout).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(lines(stdout).length).toBeGreaterThan(0);
    child.kill("SIGINT");
    expect(await closed).toBe(130);
    expect(stderr).toMatch(new RegExp(`^replay interrupted: ${lines(stdout).length} anomalies, 1000 flows, `));
  });

  it("progress: records, event time, position in the window, time left, rate", () => {
    const fromMs = Date.parse("2026-01-01T00:00:00Z");
    const line = progressText({
      startedMs: 0,
      nowMs: 10_000,
      records: 250_000,
      eventNs: BigInt(fromMs + 900_000) * 1_000_000n,
      window: { fromMs, toMs: fromMs + 3_600_000 },
    });
    expect(line).toBe("250k flows · at 2026-01-01T00:15:00Z · 25% · ETA 30s · 25k flows/s");
    expect(progressText({ startedMs: 0, nowMs: 2_000, records: 1_500_000, eventNs: 0n, window: undefined })).toBe(
      "1.5M flows · 750k flows/s",
    );
  });
});

describe("replay on NATS: --rules live, windows, nothing published", () => {
  beforeAll(async () => {
    nats = await isolatedServices();
    nats.up("nats");
  }, 120_000);
  afterAll(() => {
    nats?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const onNats = <A, E>(effect: Effect.Effect<A, E, Bus>) =>
    Effect.runPromise(
      effect.pipe(
        Effect.provide(NatsBus.layer({ _tag: "nats", url: nats!.natsUrl, name: "netpulse-test" })),
        Effect.scoped,
      ),
    );

  it("--rules live: each flow under the version in force at its event time, the defaults before the first", async () => {
    const v1 = Either.getOrThrow(parseRules("rules:\n  rtt_high: { threshold_ms: 200 }\n", "v1.yaml"));
    const v2 = Either.getOrThrow(parseRules("rules:\n  rtt_high: { threshold_ms: 300 }\n", "v2.yaml"));
    const published = await onNats(
      Effect.gen(function* () {
        const bus = yield* Bus;
        yield* bus.provision(TopicSpecs.rules);
        const a = yield* publishRules(v1);
        yield* Effect.sleep("50 millis");
        const b = yield* publishRules(v2);
        const times = yield* bus.replay(Topics.rules, { _tag: "Time", fromMs: 0 }).pipe(Stream.runCollect);
        return { a, b, times: Chunk.toReadonlyArray(times).map((m) => m.timestampMs) };
      }),
    );
    expect(published.times).toHaveLength(2);
    const [p1, p2] = published.times.map((ms) => BigInt(ms) * 1_000_000n) as [bigint, bigint];
    const ms = 1_000_000n;
    // one flow per moment, each its own workload pair, all slow enough for every version
    const moments = [1_609_459_200_000_000_000n, p1 - ms, p1, p2 - ms, p2, p2 + 1_000n * ms];
    const template = makeFlows(1)[0]!;
    const flows = moments.map((end, i): EnrichedFlow => ({
      ...template,
      flow_id: BigInt(700 + i),
      start_ns: end - 1_000n * ms,
      end_ns: end,
      srtt_us: 500_000,
      retransmits: 0n,
      syn_retransmits: 0n,
      src: { ...template.src, workload_name: `client-${i}` },
    }));
    const r = netpulse("replay", "--input", jsonl("live.jsonl", flows), "--rules", "live");
    expect(r.status, r.stderr).toBe(0);
    const opened = parsed(r.stdout).filter((a) => a["kind"] === "rtt_high" && a["status"] === "open");
    const versionOf = (id: number) =>
      opened.find((a) => (a["sample_flow_ids"] as number[]).includes(id))?.["rule_version"];
    expect(moments.map((_, i) => versionOf(700 + i))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(published.a.version).toBe(1);
    expect(published.b.version).toBe(2);
    expect(opened.find((a) => a["rule_version"] === 2)?.["threshold"]).toBe(300_000);
    expect(r.stderr).toMatch(/rules versions 0, 1, 2/);
  });

  it("reads the topic's window, says what the topic holds, and publishes nothing to any topic", async () => {
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const recent = makeFlows(600, { idBase: 80_000_000n, baseNs: nowNs - 120_000_000_000n });
    await onNats(
      Effect.gen(function* () {
        const bus = yield* Bus;
        for (const spec of Object.values(TopicSpecs)) yield* bus.provision(spec);
        const batches = [recent.slice(0, 300), recent.slice(300)].map((b, i) => ({
          key: "",
          value: EnrichedFlowCodec.encodeBatch(b, { producer: "test", sequence: BigInt(i) }),
        }));
        // and one message the detector refuses: live it would go to the DLQ
        yield* bus.publish(Topics.flowsEnriched, [...batches, { key: "", value: Buffer.from("not avro") }]);
      }),
    );
    const counts = () =>
      onNats(
        Effect.gen(function* () {
          const bus = yield* Bus;
          const out: Record<string, number> = {};
          for (const spec of Object.values(TopicSpecs))
            out[spec.topic] = yield* bus.replay(spec.topic, { _tag: "Time", fromMs: 0 }).pipe(
              Stream.runCount,
              Effect.orElseSucceed(() => -1),
            );
          return out;
        }),
      );
    const before = await counts();
    expect(before[Topics.flowsEnriched]).toBe(3);
    const held = await onNats(
      Effect.map(
        Effect.flatMap(Bus, (bus) => Stream.runCollect(bus.replay(Topics.flowsEnriched, { _tag: "Time", fromMs: 0 }))),
        (ms) => Chunk.toReadonlyArray(ms).map((m) => new Date(m.timestampMs).toISOString()),
      ),
    );
    const holds = `netpulse.flows.enriched holds ${held[0]} .. ${held[held.length - 1]}`;

    const r = netpulse("replay", "--from", "-10m");
    expect(r.status, r.stderr).toBe(0);
    expect(lines(r.stdout).length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/600 flows.*1 messages skipped/);
    expect(r.stderr).toMatch(/--from .* is before the oldest message: /);
    expect(r.stderr).toContain(`is before the oldest message: ${holds}\n`);
    expect(await counts()).toEqual(before);

    const empty = netpulse("replay", "--from", "2001-01-01T00:00:00Z", "--to", "2001-01-01T01:00:00Z");
    expect(empty.status).toBe(0);
    expect(empty.stderr).toContain(
      `no flows between 2001-01-01T00:00:00.000Z and 2001-01-01T01:00:00.000Z in netpulse.flows.enriched (${holds})\n`,
    );
    expect(await counts()).toEqual(before);
  });
});
