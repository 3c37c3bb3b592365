// The four services for the demo, as deployed (their entry points, configured by environment),
// on free ports, pointed at the demo's broker, manifests and database; ready once each answers
// /readyz. A service that exits or never gets ready fails the step with the end of its log.
import { readFile } from "node:fs/promises";
import * as Effect from "effect/Effect";
import type * as Scope from "effect/Scope";
import { busEnv, type BusKind } from "./busServer.js";
import { CIDR, NODE } from "./cluster.js";
import { DemoError } from "./DemoError.js";
import { DEMO_DATABASE, logFile, manifestFile } from "./paths.js";
import { freePort, startService, stopGroup, type DemoProcess, type ServiceName } from "./processes.js";

const READY_TIMEOUT_MS = 120_000;
/** Shorter windows and heartbeats than deployed (5 s), so a short demo shows results quickly. */
const CAPTURE_WINDOW_MS = "2000";
/** In start order: each consumer is up before what feeds it. */
const ORDER = ["sink", "detector", "enricher", "capture"] as const;

export type Ports = Record<ServiceName, number>;

const environment = (ports: Ports, rulesFile: string): Record<ServiceName, Record<string, string>> => ({
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
    // the demo's own traffic keeps this machine busy; under SCHED_IDLE the capture would drop
    NETPULSE_CAPTURE_SCHED: "normal",
    NETPULSE_METRICS_PORT: String(ports.capture),
  },
});

const ready = (port: number) =>
  Effect.tryPromise(() => fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) })).pipe(
    Effect.map((r) => r.ok),
    Effect.orElseSucceed(() => false),
  );

/** The last lines of a process's log under .netpulse/demo/. */
export const logTail = (name: string) =>
  Effect.promise(() => readFile(logFile(name), "utf8").catch(() => "")).pipe(
    Effect.map((text) => text.split("\n").slice(-15).join("\n")),
  );

/** "<name> exited (...); the end of <log>: ..." for a process that ended by itself. */
export const endedMessage = (p: DemoProcess) =>
  logTail(p.name).pipe(Effect.map((t) => `${p.name} exited (${p.ended()}); the end of ${logFile(p.name)}:\n${t}`));

export const stopAll = (ps: ReadonlyArray<DemoProcess>) =>
  Effect.promise(() =>
    Promise.all(ps.flatMap((p) => (p.child.pid === undefined ? [] : [stopGroup(p.child.pid)]))),
  ).pipe(Effect.asVoid);

/** Starts the services (stopped when the scope closes) and waits until each is ready. */
export const startServices = (
  bus: BusKind,
  rulesFile: string,
  onStarted: (ps: ReadonlyArray<DemoProcess>) => void,
): Effect.Effect<{ services: ReadonlyArray<DemoProcess>; ports: Ports }, DemoError, Scope.Scope> =>
  Effect.gen(function* () {
    const ports: Ports = {
      sink: yield* Effect.promise(freePort),
      detector: yield* Effect.promise(freePort),
      enricher: yield* Effect.promise(freePort),
      capture: yield* Effect.promise(freePort),
    };
    const env = environment(ports, rulesFile);
    const services = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const started = ORDER.map((name) => startService(name, { ...busEnv(bus), ...env[name] }));
        onStarted(started);
        return started;
      }),
      stopAll,
    );
    const since = Date.now();
    for (const [i, name] of ORDER.entries()) {
      while (!(yield* ready(ports[name]))) {
        const dead = services.find((p) => p.ended() !== undefined);
        if (dead !== undefined) return yield* new DemoError({ message: yield* endedMessage(dead) });
        if (Date.now() - since > READY_TIMEOUT_MS)
          return yield* new DemoError({
            message: `${name} is not ready after ${READY_TIMEOUT_MS / 1000} s; the end of ${logFile(name)}:\n${yield* logTail(services[i]?.name ?? name)}`,
          });
        yield* Effect.sleep("250 millis");
      }
    }
    return { services, ports };
  });
