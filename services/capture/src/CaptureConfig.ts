// Capture settings from the environment (NETPULSE_*), read once with Effect Config; every invalid
// value fails at start with a message naming the variable. Filter syntax checks are shared with
// the CLI flags (filters.ts).
import { hostname } from "node:os";
import * as Config from "effect/Config";
import * as ConfigError from "effect/ConfigError";
import * as Either from "effect/Either";
import { parseCidrs, parsePorts } from "./filters.js";
import { defaultLoaderPath, type LoaderOptions } from "./LoaderProcess.js";
import type { PipelineSettings } from "./CapturePipeline.js";
import { SCHED_POLICIES, type SchedPolicy } from "./schedPolicy.js";

export const defaults = {
  activeTimeoutMs: 5_000,
  /** Flows tracked at once, in the kernel map and in user space. */
  maxFlows: 65_536,
  sampling: 1,
  /** Kernel periodic records per flow at most this often (≤ the active timeout). */
  intervalMs: 1_000,
  statsMs: 1_000,
  heartbeatMs: 5_000,
  metricsPort: 9462,
  /** The service's CPU scheduling policy (schedPolicy.ts). */
  sched: "idle" as SchedPolicy,
  /** Loader chunks (≤ 64 KiB each) waiting for the pipeline before they are dropped. */
  maxQueuedChunks: 256,
} as const;

export interface CaptureSettings {
  readonly pipeline: PipelineSettings;
  readonly heartbeatMs: number;
  readonly metricsPort: number;
  readonly sched: SchedPolicy;
}

const invalid = (name: string, message: string) => ConfigError.InvalidData([name], `${name}: ${message}`);

const intIn = (name: string, fallback: number, min: number, max: number) =>
  Config.integer(name).pipe(
    Config.withDefault(fallback),
    Config.mapOrFail((n) =>
      n >= min && n <= max ? Either.right(n) : Either.left(invalid(name, `expected ${min}..${max}, got ${n}`)),
    ),
  );

const list = <A>(name: string, parse: (raw: string) => Either.Either<A, string>) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.mapOrFail((raw) => Either.mapLeft(parse(raw), (m) => invalid(name, m))),
  );

export const captureConfig: Config.Config<CaptureSettings> = Config.all({
  node: Config.string("NETPULSE_NODE_NAME").pipe(Config.withDefault(hostname())),
  ports: list("NETPULSE_CAPTURE_PORTS", parsePorts),
  cidrs: list("NETPULSE_CAPTURE_CIDRS", parseCidrs),
  sampling: intIn("NETPULSE_CAPTURE_SAMPLING", defaults.sampling, 1, 1 << 20),
  activeTimeoutMs: intIn("NETPULSE_CAPTURE_ACTIVE_TIMEOUT_MS", defaults.activeTimeoutMs, 100, 3_600_000),
  maxFlows: intIn("NETPULSE_CAPTURE_MAX_FLOWS", defaults.maxFlows, 64, 1 << 24),
  heartbeatMs: intIn("NETPULSE_CAPTURE_HEARTBEAT_MS", defaults.heartbeatMs, 100, 3_600_000),
  metricsPort: intIn("NETPULSE_METRICS_PORT", defaults.metricsPort, 1, 65_535),
  sched: Config.literal(...SCHED_POLICIES)("NETPULSE_CAPTURE_SCHED").pipe(Config.withDefault(defaults.sched)),
  loaderPath: Config.string("NETPULSE_LOADER_PATH").pipe(Config.withDefault(defaultLoaderPath())),
}).pipe(
  Config.map((c) => ({
    heartbeatMs: c.heartbeatMs,
    metricsPort: c.metricsPort,
    sched: c.sched,
    pipeline: pipelineSettings({ ...c, binary: c.loaderPath }),
  })),
);

export interface FilterSettings {
  readonly node: string;
  readonly binary: string;
  readonly ports: ReadonlyArray<number>;
  readonly cidrs: ReadonlyArray<string>;
  readonly sampling: number;
  readonly activeTimeoutMs: number;
  readonly maxFlows: number;
  readonly durationMs?: number;
}

/** The one place loader and pipeline settings are derived (service and CLI alike). */
export const pipelineSettings = (f: FilterSettings): PipelineSettings => {
  const loader: LoaderOptions = {
    binary: f.binary,
    ports: f.ports,
    cidrs: f.cidrs,
    sampling: f.sampling,
    mapSize: f.maxFlows,
    intervalMs: Math.min(defaults.intervalMs, f.activeTimeoutMs),
    statsMs: defaults.statsMs,
    maxQueuedChunks: defaults.maxQueuedChunks,
    ...(f.durationMs !== undefined ? { durationMs: f.durationMs } : {}),
  };
  return { node: f.node, activeTimeoutMs: f.activeTimeoutMs, maxFlows: f.maxFlows, loader };
};
