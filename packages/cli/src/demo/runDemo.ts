// `netpulse start` top to bottom: check what it needs, remove an earlier run's leftovers, start
// the local servers, build the cluster in the kernel, start the four services as deployed and the
// traffic, show what happens until the duration ends or Ctrl-C, then the cookbook queries and the
// summary. Every step that makes something registers its undoing in the scope, so whatever ends
// the run (the duration, a signal, a crashed service, a failure) tears everything down in reverse.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as LogLevel from "effect/LogLevel";
import { ClickHouse, clickHouseConfig } from "@netpulse/clickhouse";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import type { Anomaly } from "@netpulse/runtime/records";
import { UsageError } from "../UsageError.js";
import { CIDR, NODE } from "./cluster.js";
import { followAnomalies } from "./anomalyFeed.js";
import { busHint, demoBroker, demoBusLayer, busEnv, type BusKind } from "./busServer.js";
import { DemoError } from "./DemoError.js";
import { demoManifests } from "./manifests.js";
import { merge, scrape, type Sample } from "./metrics.js";
import { DEMO_DATABASE, demoDir, demoSource, logFile, manifestFile, repoRoot } from "./paths.js";
import { missing } from "./preflight.js";
import { freePort, startService, stopGroup, type DemoProcess, type ServiceName } from "./processes.js";
import { anomalyLine, progressLine, renderScreen, STAGES, type View } from "./screen.js";
import { cleanLeftovers, emptyState, removeState, runningDemo, writeState, type DemoState } from "./state.js";
import { cookbook, nextSteps, summarize } from "./summary.js";
import { buildTopology, faultDrops, teardownTopology } from "./topology.js";
import { startTraffic } from "./traffic.js";

export interface DemoOptions {
  readonly bus: BusKind;
  readonly durationS: number | undefined;
  readonly json: boolean;
}

const TICK_MS = 1_000;
const PROGRESS_EVERY_S = 5;
const READY_TIMEOUT_MS = 120_000;
/** After the traffic stops: how long the last windows may take through capture → sink. */
const DRAIN_MAX_MS = 15_000;
/** Shorter windows and heartbeats than deployed, so a short demo shows results quickly. */
const CAPTURE_WINDOW_MS = "2000";
/** Episodes close after 20 s without a repeat (deployed: 60), so the demo shows resolutions too. */
const RULES = "rules:\n  cooldown_s: 20\n";

const err = (text: string) => Effect.sync(() => void process.stderr.write(`${text}\n`));

const servers = (action: "join" | "leave", names: ReadonlyArray<string>) =>
  Effect.async<void, DemoError>((resume) => {
    execFile(
      "bash",
      [demoSource("servers.sh"), action, String(process.pid), ...names],
      { cwd: repoRoot },
      (e, _stdout, stderr) => {
        if (stderr.trim() !== "") process.stderr.write(stderr);
        resume(
          e === null ? Effect.void : Effect.fail(new DemoError({ message: `local servers: ${e.message}`, cause: e })),
        );
      },
    );
  });

const ready = (port: number) =>
  Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) })).pipe(
    Effect.map((r) => r.ok),
    Effect.orElseSucceed(() => false),
  );

const tail = (name: string) =>
  Effect.promise(async () => {
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(logFile(name), "utf8").catch(() => "");
    return text.split("\n").slice(-15).join("\n");
  });

export const runDemo = (o: DemoOptions, stopRequested: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const problems = missing();
    if (problems.length > 0) return yield* new UsageError({ message: `start: missing ${problems.join("; ")}` });
    const other = runningDemo();
    if (other !== undefined)
      return yield* new DemoError({ message: `another netpulse start is running (pid ${other}); stop it first` });
    mkdirSync(demoDir, { recursive: true });
    const leftovers = yield* Effect.promise(cleanLeftovers);
    if (leftovers.length > 0) yield* err(`start: removed what an earlier run left: ${leftovers.join("; ")}`);

    let state: DemoState = emptyState();
    const record = (patch: (s: DemoState) => DemoState) => {
      state = patch(state);
      writeState(state);
    };
    record((s) => s);
    yield* Effect.addFinalizer(() =>
      Effect.sync(removeState).pipe(Effect.zipRight(err("start: stopped; everything the demo made is removed"))),
    );

    yield* err(`start: ClickHouse (shared) and the demo's own ${o.bus}`);
    yield* Effect.acquireRelease(servers("join", ["clickhouse"]), () =>
      servers("leave", []).pipe(Effect.orElse(() => Effect.void)),
    );
    yield* demoBroker(o.bus);

    const settings = yield* clickHouseConfig;
    yield* Effect.gen(function* () {
      const ch = yield* ClickHouse;
      yield* ch.command(`DROP DATABASE IF EXISTS ${DEMO_DATABASE}`);
    }).pipe(Effect.provide(ClickHouse.layerWith({ ...settings, database: "default" })), Effect.scoped);

    yield* err(`start: the cluster in network namespaces npdemo-* (${CIDR})`);
    yield* Effect.acquireRelease(
      Effect.try({
        try: () => buildTopology((ns) => record((s) => ({ ...s, netns: [...s.netns, ns] }))),
        catch: (cause) =>
          new DemoError({ message: `building the cluster: ${String((cause as Error).message)}`, cause }),
      }),
      () => Effect.sync(teardownTopology),
    ).pipe(
      Effect.tap((b) =>
        Effect.sync(() => record((s) => ({ ...s, nftTables: [...b.nftTables], qdiscs: [...b.qdiscs] }))),
      ),
    );
    writeFileSync(manifestFile, demoManifests());
    const rulesFile = `${demoDir}/rules.yaml`;
    writeFileSync(rulesFile, RULES);

    const ports = {
      capture: yield* Effect.promise(freePort),
      enricher: yield* Effect.promise(freePort),
      detector: yield* Effect.promise(freePort),
      sink: yield* Effect.promise(freePort),
    } satisfies Record<ServiceName, number>;
    const env: Record<ServiceName, Record<string, string>> = {
      sink: {
        NETPULSE_CLICKHOUSE_DATABASE: DEMO_DATABASE,
        NETPULSE_SINK_HTTP_PORT: String(ports.sink),
        NETPULSE_SINK_LINGER_MS: "500",
      },
      detector: {
        NETPULSE_DETECTOR_MANIFESTS: manifestFile,
        NETPULSE_DETECTOR_RULES: rulesFile,
        NETPULSE_METRICS_PORT: String(ports.detector),
      },
      enricher: { NETPULSE_MANIFESTS: manifestFile, NETPULSE_METRICS_PORT: String(ports.enricher) },
      capture: {
        NETPULSE_NODE_NAME: NODE,
        NETPULSE_CAPTURE_CIDRS: CIDR,
        NETPULSE_CAPTURE_ACTIVE_TIMEOUT_MS: CAPTURE_WINDOW_MS,
        NETPULSE_CAPTURE_HEARTBEAT_MS: CAPTURE_WINDOW_MS,
        // the demo's own traffic keeps this machine busy; SCHED_IDLE would make the capture drop
        NETPULSE_CAPTURE_SCHED: "normal",
        NETPULSE_METRICS_PORT: String(ports.capture),
      },
    };
    yield* err(`start: capture, enricher, detector and sink (logs in .netpulse/demo/)`);
    const services = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const started = (["sink", "detector", "enricher", "capture"] as const).map((name) =>
          startService(name, { ...busEnv(o.bus), ...env[name] }),
        );
        record((s) => ({ ...s, processGroups: [...s.processGroups, ...started.flatMap((p) => p.child.pid ?? [])] }));
        return started;
      }),
      (started) => stopAll(started),
    );
    const crashed = () => services.find((p) => p.ended() !== undefined);
    const readySince = Date.now();
    for (const p of services) {
      while (!(yield* ready(ports[p.name as ServiceName]))) {
        const dead = crashed();
        if (dead !== undefined || Date.now() - readySince > READY_TIMEOUT_MS) {
          const who = dead ?? p;
          return yield* new DemoError({
            message: `${who.name} ${dead !== undefined ? `exited (${dead.ended()})` : "is not ready"}; the end of ${logFile(who.name)}:\n${yield* tail(who.name)}`,
          });
        }
        yield* Effect.sleep("250 millis");
      }
    }

    yield* err("start: traffic between the pods");
    const startedMs = Date.now();
    const traffic = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const started = startTraffic();
        record((s) => ({ ...s, processGroups: [...s.processGroups, ...started.flatMap((p) => p.child.pid ?? [])] }));
        return started;
      }),
      (started) => stopAll(started),
    );

    const tty = process.stdout.isTTY === true;
    const anomalies: Anomaly[] = [];
    yield* Effect.forkScoped(
      followAnomalies(startedMs - 5_000, (a) => {
        anomalies.push(a);
        if (!tty) process.stdout.write(`${anomalyLine(a)}\n`);
      }).pipe(
        Effect.provide(demoBusLayer(o.bus)),
        Effect.provide(pinoLogger("cli", LogLevel.Warning)),
        Effect.orElse(() => Effect.void),
      ),
    );

    const scrapeAll = Effect.all(
      STAGES.map((s) => scrape(ports[s])),
      { concurrency: "unbounded" },
    ).pipe(Effect.map(merge));
    let last: { at: number; sample: Sample } = { at: Date.now(), sample: yield* scrapeAll };
    const view = (sample: Sample, at: number): View => {
      const dt = Math.max((at - last.at) / 1000, 0.001);
      const rates: Record<string, number> = {};
      for (const [k, v] of Object.entries(sample.records))
        rates[k] = Math.max(0, (v - (last.sample.records[k] ?? 0)) / dt);
      return {
        elapsedS: (at - startedMs) / 1000,
        durationS: o.durationS,
        bus: o.bus,
        rates,
        sample,
        nftDrops: faultDrops(),
        services: services.map((p) => ({
          name: p.name,
          state: p.ended() === undefined ? "up" : `exited (${p.ended()})`,
        })),
        anomalies,
      };
    };
    if (tty) {
      process.stdout.write("\x1b[?1049h\x1b[?25l");
      yield* Effect.addFinalizer(() => Effect.sync(() => void process.stdout.write("\x1b[?25h")));
    }
    const stop = yield* Effect.fork(stopRequested);
    let lastView: View | undefined;
    let lastProgress = 0;
    let ended: string | undefined;
    for (;;) {
      yield* Effect.sleep(`${TICK_MS} millis`);
      const at = Date.now();
      const sample = yield* scrapeAll;
      lastView = view(sample, at);
      last = { at, sample };
      if (tty) {
        const screen = renderScreen(lastView, process.stdout.columns ?? 120, process.stdout.rows ?? 40);
        process.stdout.write(`\x1b[H\x1b[2J${screen}`);
      } else if (lastView.elapsedS - lastProgress >= PROGRESS_EVERY_S) {
        lastProgress = lastView.elapsedS;
        process.stdout.write(`${progressLine(lastView)}\n`);
      }
      const dead = crashed();
      if (dead !== undefined) {
        ended = `${dead.name} exited (${dead.ended()}); the end of ${logFile(dead.name)}:\n${yield* tail(dead.name)}`;
        break;
      }
      if (o.durationS !== undefined && lastView.elapsedS >= o.durationS) break;
      if ((yield* Fiber.poll(stop))._tag === "Some") break;
    }
    if (tty) {
      process.stdout.write("\x1b[?1049l");
      if (lastView !== undefined)
        process.stdout.write(`${renderScreen(lastView, process.stdout.columns ?? 120, 1000)}\n\n`);
    }
    if (ended !== undefined) return yield* new DemoError({ message: ended });

    yield* err("start: stopping the traffic; waiting for the last flows to reach ClickHouse");
    yield* stopAll(traffic);
    let flushed = (yield* scrapeAll).records["sink.out"] ?? 0;
    const drainEnd = Date.now() + DRAIN_MAX_MS;
    let still = 0;
    while (Date.now() < drainEnd && still < 3) {
      yield* Effect.sleep("1 second");
      const now = (yield* scrapeAll).records["sink.out"] ?? 0;
      still = now === flushed ? still + 1 : 0;
      flushed = now;
    }

    const { queries, summary } = yield* Effect.gen(function* () {
      return { queries: yield* cookbook, summary: yield* summarize };
    }).pipe(Effect.provide(ClickHouse.layerWith({ ...settings, database: DEMO_DATABASE })), Effect.scoped);
    process.stdout.write(`${queries}\n${nextSteps(busHint(o.bus))}\n`);
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `\nstart: ${summary.flows} flows (${summary.clickhouse_flow_rows} rows) stored; anomalies ${JSON.stringify(summary.anomalies_by_kind)}\n`,
      );
  }).pipe(Effect.scoped);

const stopAll = (ps: ReadonlyArray<DemoProcess>) =>
  Effect.promise(() =>
    Promise.all(ps.flatMap((p) => (p.child.pid === undefined ? [] : [stopGroup(p.child.pid)]))),
  ).pipe(Effect.asVoid);
