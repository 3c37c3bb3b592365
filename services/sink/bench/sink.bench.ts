// Sink insert throughput against `clickhouse-client` inserting the same rows, same run, same
// server. Also measures the candidate wire formats (RowBinary / JSONEachRow / TabSeparated) with
// the same HTTP client, which is how RowBinary was picked for records, and the same bodies as
// RowBinary and as Native posted back to back, which is why the legacy wire path sends Native.
// With the server on this machine (pgrep finds it) each variant's server CPU is printed too.
// First, the path for modern servers (modern.ts): its encoder against the RowBinary one, and
// chdb inserting what it makes. Figures go to bench/results/sink.json.
//   node --expose-gc --import tsx services/sink/bench/sink.bench.ts [rows=500000]
//   (ROUNDS=3, MODERN_ROWS=300000, PARTS=modern,legacy; 500 k × 3 rounds keeps `npm run bench`'s
//   sink section at ~5 min on a quiet machine, ~15 min at load 20; docs/sink.md's runs used 1 M × 5)
// The legacy part needs a running ClickHouse (scripts/services.sh up clickhouse); env
// NETPULSE_CLICKHOUSE_URL, NETPULSE_CLICKHOUSE_NATIVE_PORT (9000) for clickhouse-client;
// the modern part NETPULSE_PYTHON (a python with chdb; default .netpulse/py/bin/python).
import { spawnSync } from "node:child_process";
import * as Either from "effect/Either";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import { Bus } from "@netpulse/runtime/bus/Bus";
import { MemoryBus, MemoryBusControl } from "@netpulse/runtime/bus/MemoryBus";
import { EnrichedFlowCodec } from "@netpulse/runtime/codec/codecs";
import type { EnrichedFlow } from "@netpulse/runtime/records";
import { Topics } from "@netpulse/runtime/topics";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { ClickHouse } from "@netpulse/clickhouse/ClickHouse";
import { migrate } from "../src/schema/Migrator.js";
import { flows } from "../src/schema/tables.js";
import { makeRowEncoder } from "../src/rows/RowEncoder.js";
import { transcodeBatch, type WireFlow } from "../src/rows/WireFlow.js";
import { makeWireFlowEncoder } from "../src/rows/WireFlowEncoder.js";
import { SinkWriter } from "../src/write/SinkWriter.js";
import { codecInput, flowsInput, runTopic, type TopicInput } from "../src/SinkPipeline.js";
import { defaults, type Compression } from "../src/SinkConfig.js";
import { makeFlows, testSettings } from "../test/fixtures.js";
import { formatBodies } from "./formats.js";
import { modernFigures, type ModernFigures } from "./modern.js";
import { writeResults } from "../../../bench/results.js";

const N = Number(process.argv[2] ?? 500_000);
// clickhouse-client's one 1 M-row insert swung 0.21–0.36 M rows/s between runs (server CPU 1.4–2.8 s;
// in a slow one, 45 % of the server's samples were the kernel zeroing fresh pages for its one big
// block), so medians of rounds (ROUNDS=5 for figures to quote; 3 by default to fit `npm run bench`)
const ROUNDS = Number(process.env["ROUNDS"] ?? 3);
const MODERN_ROWS = Number(process.env["MODERN_ROWS"] ?? 300_000);
const PARTS = (process.env["PARTS"] ?? "modern,legacy").split(",");
const PYTHON = process.env["NETPULSE_PYTHON"] ?? new URL("../../../.netpulse/py/bin/python", import.meta.url).pathname;
const SINK_DB = "netpulse_bench_sink";
const CC_DB = "netpulse_bench_client";
const FMT_DB = "netpulse_bench_formats";
const nativePort = process.env["NETPULSE_CLICKHOUSE_NATIVE_PORT"] ?? "9000";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rate = (rows: number, ms: number) => (rows / ms) * 1000;
const fmt = (r: number) => `${(r / 1e6).toFixed(3)} M rows/s`;
const serverPid = Number(
  spawnSync("pgrep", ["-o", "-f", "clickhouse-server|clickhouse server"], { encoding: "utf8" }).stdout.trim() || NaN,
);
/** CPU seconds the local server has used so far (NaN when it is not on this machine). */
const serverCpu = (): number => {
  try {
    const f = readFileSync(`/proc/${serverPid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
};

const layerFor = (db: string, compression: Compression) =>
  SinkWriter.layer({ baseMs: 100, maxMs: 1000, retries: 3 }).pipe(
    Layer.provideMerge(
      Layer.merge(
        ClickHouse.layerWith({ ...testSettings(db), compression, requestTimeoutMs: 120_000 }),
        Metrics.layerTest,
      ),
    ),
  );
const inDb = <A, E>(
  db: string,
  e: Effect.Effect<A, E, SinkWriter | ClickHouse | Metrics>,
  compression: Compression = "gzip",
) => Effect.runPromise(Effect.scoped(Effect.provide(e, layerFor(db, compression))));

const reset = (db: string) =>
  inDb(
    db,
    Effect.gen(function* () {
      const ch = yield* ClickHouse;
      yield* ch.command(`TRUNCATE TABLE ${db}.flows`);
      yield* ch.command(`TRUNCATE TABLE ${db}.flows_pair_minute`);
    }),
  );

/** Wait (up to 60 s) until the server runs no merge. */
const quiet = () =>
  inDb(
    SINK_DB,
    Effect.gen(function* () {
      const ch = yield* ClickHouse;
      for (let i = 0; i < 600; i++) {
        const n = yield* ch.queryText("SELECT count() FROM system.merges FORMAT TabSeparated");
        if (Number(n.trim()) === 0) return;
        yield* Effect.sleep("100 millis");
      }
    }),
  );

const main = async () => {
  let modern: ModernFigures | undefined;
  if (PARTS.includes("modern")) {
    console.log(`== modern servers: ${MODERN_ROWS} flows, ${ROUNDS} rounds`);
    modern = modernFigures(makeFlows(MODERN_ROWS, { idBase: 1n }), ROUNDS, PYTHON, (l) => console.log(l));
    globalThis.gc?.();
  }
  const legacy = PARTS.includes("legacy") ? await legacyPart() : undefined;
  const { raw: modernRaw, ...modernKeys } = modern ?? { raw: undefined };
  const { raw: legacyRaw, ...legacyKeys } = legacy ?? { raw: undefined };
  const file = await writeResults("sink", {
    ...legacyKeys,
    ...modernKeys,
    raw: { legacy: legacyRaw, modern: modernRaw },
  });
  console.log(`figures written to ${file}`);
};

/** The sink on the 18.16 server against clickhouse-client, as before. */
const legacyPart = async () => {
  console.log(`== legacy server: generating ${N} enriched flows…`);
  let rows: EnrichedFlow[] = makeFlows(N, { idBase: 1n });
  for (const db of [SINK_DB, CC_DB, FMT_DB]) {
    await inDb(
      db,
      Effect.flatMap(ClickHouse, (ch) => ch.command(`DROP DATABASE IF EXISTS ${db}`)),
    );
    await inDb(db, migrate());
  }
  const server = await inDb(
    SINK_DB,
    Effect.flatMap(ClickHouse, (ch) => ch.queryText("SELECT version() FORMAT TabSeparated")),
  );
  console.log(`ClickHouse ${server.trim()}, ${N} rows per round, ${ROUNDS} rounds, batch ${defaults.batchRows}`);

  // 1. wire formats, same client, one insert stream, 200 k rows in 50 k batches
  const dialect = (await inDb(FMT_DB, migrate())).server.dialect;
  let sample = rows.slice(0, Math.min(N, 200_000));
  const formats: Record<string, number> = {};
  for (const [name, build] of Object.entries(formatBodies(dialect, FMT_DB))) {
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await reset(FMT_DB);
      const t0 = performance.now();
      await inDb(
        FMT_DB,
        Effect.gen(function* () {
          const ch = yield* ClickHouse;
          for (let i = 0; i < sample.length; i += defaults.batchRows) {
            const { statement, body } = build(sample.slice(i, i + defaults.batchRows));
            yield* ch.insert(statement, yield* ch.compress(body));
          }
        }),
      );
      times.push(performance.now() - t0);
    }
    formats[name] = rate(sample.length, median(times));
    console.log(`format ${name.padEnd(13)} encode+insert  ${fmt(formats[name])}`);
  }
  sample = [];

  // 2. the sink's writer (identity check + RowBinary + insert) vs clickhouse-client with the same RowBinary
  // clickhouse-client's input on tmpfs where there is one: the baseline never waits for the disk
  const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "netpulse-bench-"));
  const file = join(dir, "flows.rowbinary");
  const ccEnc = makeRowEncoder(flows, dialect, CC_DB);
  writeFileSync(file, ccEnc.encode(rows).body);
  // the same rows cut into the sink's batch size, one clickhouse-client run per file
  const parts = Array.from({ length: Math.ceil(rows.length / defaults.batchRows) }, (_, i) => {
    const part = join(dir, `part-${i}.rowbinary`);
    writeFileSync(part, ccEnc.encode(rows.slice(i * defaults.batchRows, (i + 1) * defaults.batchRows)).body);
    return part;
  });
  const ccBatchTimes: number[] = [];
  const nativeTimes: number[] = [];
  const ccQuery = ccEnc.insertStatement;
  const BIG_BATCH = 250_000;
  const sinkTimes: number[] = [];
  const bigTimes: number[] = [];
  const codecTimes: number[] = [];
  const ccTimes: number[] = [];
  const plainTimes: number[] = [];
  const httpTimes: number[] = [];
  // What the transport allows at the sink's batch size: the same RowBinary bodies posted back to
  // back by the sink's HTTP client, with no decoding, no identity check and no compression.
  const partBodies = parts.map((part) => readFileSync(part));
  /** Bodies posted back to back by the sink's HTTP client, uncompressed. */
  const postAll = (statement: string, bodies: ReadonlyArray<Buffer>) => () =>
    Effect.runPromise(
      Effect.scoped(
        Effect.provide(
          Effect.flatMap(ClickHouse, (ch) =>
            Effect.forEach(bodies, (body) => ch.insert(statement, body), { discard: true }),
          ),
          ClickHouse.layerWith({ ...testSettings(CC_DB), compression: "none", requestTimeoutMs: 120_000 }),
        ),
      ),
    );
  const httpAlone = postAll(ccQuery, partBodies);
  // The same rows as Native blocks, as the sink's wire path makes them (legacy servers only).
  const nativeBodies: Buffer[] = [];
  if (dialect === "legacy") {
    const wireEnc = makeWireFlowEncoder(CC_DB);
    for (let i = 0; i < rows.length; i += defaults.batchRows) {
      const wire: WireFlow[] = [];
      for (let j = i; j < Math.min(i + defaults.batchRows, rows.length); j += 1000) {
        const avro = EnrichedFlowCodec.encodeBatch(rows.slice(j, Math.min(j + 1000, i + defaults.batchRows)), {
          producer: "bench",
          sequence: BigInt(j),
        });
        wire.push(...Either.getOrThrow(transcodeBatch(avro)));
      }
      nativeBodies.push(wireEnc.encode(wire).body);
    }
  }
  const httpNative = postAll(makeWireFlowEncoder(CC_DB).insertStatement, nativeBodies);
  // The sink's input as the bus carries it: Avro batches of 1000 records. Decoding them is part
  // of the sink's work. The generated objects are dropped before anything is timed: a sink holds
  // one batch at a time, and a million live records would make every collection slower.
  const messages = Array.from({ length: Math.ceil(rows.length / 1000) }, (_, i) =>
    EnrichedFlowCodec.encodeBatch(rows.slice(i * 1000, (i + 1) * 1000), { producer: "bench", sequence: BigInt(i) }),
  );
  rows = [];
  globalThis.gc?.();
  // The sink as the service runs it (SinkPipeline.runTopic: decode each message, gather batches,
  // write exactly once, ack), fed by an in-memory bus so that no broker shares the two cores.
  const sinkRun = (batchRows: number, path: "service" | "codec" = "service", compression: Compression = "gzip") =>
    inDb(
      SINK_DB,
      Effect.gen(function* () {
        const w = yield* SinkWriter;
        const input =
          path === "service"
            ? flowsInput(w.encoders)
            : (codecInput(EnrichedFlowCodec, w.encoders.flows) as TopicInput<unknown>);
        const options = {
          ...defaults,
          batchRows,
          // as the default: room for the batch being written, the next one, and one filling
          maxInFlight: Math.max(defaults.maxInFlight, Math.ceil((3 * batchRows) / 1000) + 10),
          ackWaitMs: 600_000,
        };
        yield* Effect.gen(function* () {
          const bus = yield* Bus;
          const control = yield* MemoryBusControl;
          yield* bus.provision({ topic: Topics.flowsEnriched, partitions: 1, retentionMs: 3_600_000 });
          yield* bus.publish(
            Topics.flowsEnriched,
            messages.map((value) => ({ key: "k", value })),
          );
          const fiber = yield* Effect.fork(runTopic(Topics.flowsEnriched, input, options));
          while ((yield* control.acked).length < messages.length) yield* Effect.sleep("5 millis");
          yield* Fiber.interrupt(fiber);
        }).pipe(Effect.provide(MemoryBus.layer));
      }),
      compression,
    );
  const clientRun = (files: string[]) => {
    for (const f of files) {
      const r = spawnSync("bash", ["-c", `clickhouse-client --port ${nativePort} --query "${ccQuery}" < ${f}`], {
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`clickhouse-client failed: ${r.stderr}`);
    }
  };
  // Every variant starts on an empty table and a server with no merge running (merges of the
  // previous variant's parts would otherwise bill it), and the order turns round every round.
  const cpu = new Map<number[], number[]>();
  const variants: { times: number[]; db: string; run: () => Promise<unknown> | void }[] = [
    { times: sinkTimes, db: SINK_DB, run: () => sinkRun(defaults.batchRows) },
    { times: bigTimes, db: SINK_DB, run: () => sinkRun(BIG_BATCH) },
    { times: codecTimes, db: SINK_DB, run: () => sinkRun(defaults.batchRows, "codec") },
    { times: plainTimes, db: SINK_DB, run: () => sinkRun(defaults.batchRows, "service", "none") },
    { times: httpTimes, db: CC_DB, run: httpAlone },
    ...(nativeBodies.length > 0 ? [{ times: nativeTimes, db: CC_DB, run: httpNative }] : []),
    { times: ccTimes, db: CC_DB, run: () => clientRun([file]) },
    { times: ccBatchTimes, db: CC_DB, run: () => clientRun(parts) },
  ];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      await reset(v.db);
      await quiet();
      const t0 = performance.now();
      const c0 = serverCpu();
      await v.run();
      v.times.push(performance.now() - t0);
      cpu.set(v.times, [...(cpu.get(v.times) ?? []), serverCpu() - c0]);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const sink = rate(N, median(sinkTimes));
  const big = rate(N, median(bigTimes));
  const codec = rate(N, median(codecTimes));
  const http = rate(N, median(httpTimes));
  const serverOf = (times: number[]) => {
    const c = median(cpu.get(times) ?? [NaN]);
    return Number.isNaN(c) ? "" : `   server CPU ${c.toFixed(2)} s`;
  };
  const plain = rate(N, median(plainTimes));
  const client = rate(N, median(ccTimes));
  const clientBatches = rate(N, median(ccBatchTimes));
  console.log(
    `sink (SinkPipeline: Avro → Native, identity check, gzip, insert, ack), ${defaults.batchRows}-row batches  ${fmt(sink)}${serverOf(sinkTimes)}`,
  );
  console.log(
    `sink, ${BIG_BATCH}-row batches                                                  ${fmt(big)}${serverOf(bigTimes)}`,
  );
  console.log(
    `sink, codec path (decode to records, RowBinary; modern servers' path before)  ${fmt(codec)}${serverOf(codecTimes)}`,
  );
  console.log(
    `sink, uncompressed (NETPULSE_CLICKHOUSE_COMPRESSION=none)               ${fmt(plain)}${serverOf(plainTimes)}`,
  );
  console.log(
    `HTTP insert alone: the same ${defaults.batchRows}-row RowBinary bodies posted back to back, no decode/check/gzip  ${fmt(http)}${serverOf(httpTimes)}`,
  );
  if (nativeTimes.length > 0)
    console.log(
      `HTTP insert alone: the same rows as ${defaults.batchRows}-row Native bodies, back to back                   ${fmt(rate(N, median(nativeTimes)))}${serverOf(nativeTimes)}`,
    );
  console.log(
    `clickhouse-client, the same rows as one RowBinary file                          ${fmt(client)}${serverOf(ccTimes)}`,
  );
  console.log(
    `clickhouse-client, the same rows as ${parts.length} files of ${defaults.batchRows} rows (one run each)   ${fmt(clientBatches)}${serverOf(ccBatchTimes)}`,
  );
  console.log(
    `ratio sink / clickhouse-client = ${(sink / client).toFixed(2)} at ${defaults.batchRows} rows/batch, ${(big / client).toFixed(2)} at ${BIG_BATCH} (goal >= 0.8)`,
  );
  console.log(
    `ratio at equal batch size (${defaults.batchRows}) = ${(sink / clientBatches).toFixed(2)}; codec path / clickhouse-client = ${(codec / client).toFixed(2)}`,
  );
  console.log(
    `ratio sink / HTTP insert alone = ${(sink / http).toFixed(2)}; HTTP insert alone / clickhouse-client = ${(http / client).toFixed(2)} (the transport's own ceiling at this batch size)`,
  );
  for (const db of [SINK_DB, CC_DB, FMT_DB])
    await inDb(
      db,
      Effect.flatMap(ClickHouse, (ch) => ch.command(`DROP DATABASE IF EXISTS ${db}`)),
    );
  const native = nativeTimes.length > 0 ? rate(N, median(nativeTimes)) : null;
  const serverCpuOf = (times: number[]) => median(cpu.get(times) ?? [NaN]);
  return {
    sink_vs_clickhouse_client: sink / client,
    sink_vs_clickhouse_client_batches: sink / clientBatches,
    sink_legacy_rows_per_s: sink,
    clickhouse_client_rows_per_s: client,
    raw: {
      server: server.trim(),
      rows: N,
      rounds: ROUNDS,
      batch_rows: defaults.batchRows,
      rows_per_s: {
        sink,
        sink_big_batches: big,
        sink_codec_path: codec,
        sink_uncompressed: plain,
        http_rowbinary_alone: http,
        http_native_alone: native,
        clickhouse_client_one_file: client,
        clickhouse_client_batch_files: clientBatches,
      },
      server_cpu_s: {
        sink: serverCpuOf(sinkTimes),
        clickhouse_client_one_file: serverCpuOf(ccTimes),
      },
      formats_rows_per_s: formats,
      times_ms: { sink: sinkTimes, clickhouse_client: ccTimes, clickhouse_client_batches: ccBatchTimes },
    },
  };
};

await main();
