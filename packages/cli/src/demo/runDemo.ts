// `netpulse start` top to bottom: check what it needs, remove an earlier run's leftovers, start
// the servers, build the cluster in the kernel, start the four services as deployed and the
// traffic, show what happens until the duration ends or Ctrl-C, then the cookbook queries and the
// summary. Every step that makes something registers its undoing in the scope, so whatever ends
// the run (the duration, a signal, a crashed service, a failure) tears everything down in reverse.
import { mkdirSync, writeFileSync } from "node:fs";
import * as Effect from "effect/Effect";
import { ClickHouse, clickHouseConfig } from "@netpulse/clickhouse";
import { UsageError } from "../UsageError.js";
import { busHint, demoBroker, type BusKind } from "./busServer.js";
import { CIDR } from "./cluster.js";
import { DemoError } from "./DemoError.js";
import { startServices, stopAll } from "./demoServices.js";
import { showLive } from "./live.js";
import { demoManifests } from "./manifests.js";
import { DEMO_DATABASE, demoDir, manifestFile } from "./paths.js";
import { missing } from "./preflight.js";
import type { DemoProcess } from "./processes.js";
import { resetDatabase, sharedClickHouse } from "./sharedClickHouse.js";
import { cleanLeftovers, emptyState, removeState, runningDemo, writeState, type DemoState } from "./state.js";
import { cookbook, nextSteps, summarize } from "./summary.js";
import { buildTopology, teardownTopology } from "./topology.js";
import { startTraffic } from "./traffic.js";

export interface DemoOptions {
  readonly bus: BusKind;
  readonly durationS: number | undefined;
  readonly json: boolean;
}

/** After the traffic stops: at most this long for the last windows to get through to ClickHouse. */
const DRAIN_MAX_MS = 15_000;
/** ... and done once the flow rows there stayed the same this many seconds (the sink's own counter
 * also counts the heartbeats, which go on). */
const DRAIN_STILL_S = 3;
/** Episodes close after 20 s without a repeat (deployed: 60), so the demo shows resolutions too. */
const RULES = "rules:\n  cooldown_s: 20\n";

const say = (text: string) => Effect.sync(() => void process.stderr.write(`start: ${text}\n`));

export const runDemo = (o: DemoOptions, stopRequested: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const problems = missing();
    if (problems.length > 0) return yield* new UsageError({ message: `start: missing ${problems.join("; ")}` });
    const other = runningDemo();
    if (other !== undefined)
      return yield* new DemoError({ message: `another netpulse start is running (pid ${other}); stop it first` });
    mkdirSync(demoDir, { recursive: true });
    const leftovers = yield* Effect.promise(cleanLeftovers);
    if (leftovers.length > 0) yield* say(`removed what an earlier run left: ${leftovers.join("; ")}`);

    let state: DemoState = emptyState();
    const record = (patch: (s: DemoState) => DemoState) => {
      state = patch(state);
      writeState(state);
    };
    const recordProcesses = (ps: ReadonlyArray<DemoProcess>) =>
      record((s) => ({ ...s, processGroups: [...s.processGroups, ...ps.flatMap((p) => p.child.pid ?? [])] }));
    record((s) => s);
    yield* Effect.addFinalizer(() =>
      Effect.sync(removeState).pipe(Effect.zipRight(say("stopped; everything the demo made is removed"))),
    );

    yield* say(`ClickHouse (shared) and the demo's own ${o.bus}`);
    yield* sharedClickHouse;
    yield* demoBroker(o.bus);
    const settings = yield* clickHouseConfig;
    yield* resetDatabase(settings);

    yield* say(`the cluster in network namespaces npdemo-* (${CIDR})`);
    const built = yield* Effect.acquireRelease(
      Effect.try({
        try: () => buildTopology((ns) => record((s) => ({ ...s, netns: [...s.netns, ns] }))),
        catch: (cause) => new DemoError({ message: `building the cluster: ${(cause as Error).message}`, cause }),
      }),
      () => Effect.sync(teardownTopology),
    );
    record((s) => ({ ...s, nftTables: [...built.nftTables], qdiscs: [...built.qdiscs] }));
    writeFileSync(manifestFile, demoManifests());
    const rulesFile = `${demoDir}/rules.yaml`;
    writeFileSync(rulesFile, RULES);

    yield* say("capture, enricher, detector and sink (logs in .netpulse/demo/)");
    const { services, ports } = yield* startServices(o.bus, rulesFile, recordProcesses);

    yield* say("traffic between the pods");
    const startedMs = Date.now();
    const traffic = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const started = startTraffic();
        recordProcesses(started);
        return started;
      }),
      stopAll,
    );
    yield* showLive({ bus: o.bus, durationS: o.durationS, services, ports, startedMs, stopRequested });

    yield* say("stopping the traffic; waiting for the last flows to reach ClickHouse");
    yield* stopAll(traffic);
    const stored = yield* Effect.gen(function* () {
      const ch = yield* ClickHouse;
      return ch.queryRows(`SELECT count() AS n FROM ${DEMO_DATABASE}.flows`).pipe(
        Effect.map((rows) => Number(rows[0]?.["n"] ?? 0)),
        Effect.orElseSucceed(() => -1),
      );
    }).pipe(Effect.provide(ClickHouse.layerWith(settings)), Effect.scoped);
    const drainEnd = Date.now() + DRAIN_MAX_MS;
    let rows = yield* stored;
    for (let still = 0; still < DRAIN_STILL_S && Date.now() < drainEnd;) {
      yield* Effect.sleep("1 second");
      const now = yield* stored;
      still = now === rows ? still + 1 : 0;
      rows = now;
    }

    const { queries, summary } = yield* Effect.all({ queries: cookbook, summary: summarize }).pipe(
      Effect.provide(ClickHouse.layerWith({ ...settings, database: DEMO_DATABASE })),
      Effect.scoped,
    );
    process.stdout.write(`${queries}\n${nextSteps(busHint(o.bus))}\n`);
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `\nstart: ${summary.flows} flows stored (${summary.clickhouse_flow_rows} rows: a row per side and window); anomalies ${JSON.stringify(summary.anomalies_by_kind)}\n`,
      );
    yield* say("removing everything the demo made");
  }).pipe(Effect.scoped);
