// `netpulse capture --stdout`: the eBPF capture alone, like tcplife: one JSON line per RawFlow
// window on stdout (schema field names). Same pipeline as the capture service, only the sink
// differs. Bad flags → UsageError (exit 2); a loader that cannot start → its one-line reason.
// Ctrl-C/SIGTERM stop it as the service stops: the loader drains the ring buffer, still-open
// connections print their last window, then a summary line goes to stderr (exit 130/143).
import { hostname } from "node:os";
import type { Command } from "commander";
import * as Chunk from "effect/Chunk";
import * as Config from "effect/Config";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Either from "effect/Either";
import * as Stream from "effect/Stream";
import { toJsonLine } from "@netpulse/runtime/codec/json";
import {
  CaptureStats,
  capturePipeline,
  captureDefaults as defaults,
  pipelineSettings,
  parseCidrList,
  parsePortList,
  defaultLoaderPath,
  Loader,
} from "@netpulse/capture";
import { runDraining } from "../run.js";
import { UsageError } from "../UsageError.js";

interface CaptureOptions {
  readonly stdout?: boolean;
  readonly duration?: string;
  readonly port: string[];
  readonly cidr: string[];
  readonly sampling?: string;
  readonly activeTimeout?: string;
}

/** Lines written per stdout write; JSON building dominates, not the syscalls. */
const OUTPUT_BATCH = 512;
const OUTPUT_LINGER = "200 millis";

const usage = (message: string) => new UsageError({ message });

const positive = (
  flag: string,
  raw: string | undefined,
  scale: number,
  max: number,
): Either.Either<number | undefined, UsageError> => {
  if (raw === undefined) return Either.right(undefined);
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(n > 0) || n * scale > max)
    return Either.left(usage(`${flag}: expected a positive number, got "${raw}"`));
  return Either.right(Math.round(n * scale));
};

const settingsFrom = (o: CaptureOptions) =>
  Effect.gen(function* () {
    if (o.stdout !== true) return yield* usage("capture: give --stdout (the bus path is the capture service)");
    const durationMs = yield* positive("--duration", o.duration, 1000, 0xffffffff);
    const sampling = yield* positive("--sampling", o.sampling, 1, 1 << 20);
    const activeTimeoutMs = yield* positive("--active-timeout", o.activeTimeout, 1000, 3_600_000);
    const ports = yield* Either.mapLeft(parsePortList(o.port), (m) => usage(`--port: ${m}`));
    const cidrs = yield* Either.mapLeft(parseCidrList(o.cidr), (m) => usage(`--cidr: ${m}`));
    const env = yield* Config.all({
      node: Config.string("NETPULSE_NODE_NAME").pipe(Config.withDefault(hostname())),
      binary: Config.string("NETPULSE_LOADER_PATH").pipe(Config.withDefault(defaultLoaderPath())),
    }).pipe(Effect.mapError(() => usage("invalid NETPULSE_NODE_NAME or NETPULSE_LOADER_PATH")));
    return pipelineSettings({
      ...env,
      ports,
      cidrs,
      sampling: sampling ?? 1,
      activeTimeoutMs: activeTimeoutMs ?? defaults.activeTimeoutMs,
      maxFlows: defaults.maxFlows,
      ...(durationMs !== undefined ? { durationMs } : {}),
    });
  });

class OutputError extends Data.TaggedError("OutputError")<{ readonly message: string; readonly cause?: unknown }> {}

/** Succeeds with false once stdout is closed (`| head`): the capture then ends quietly. */
const writeOut = (text: string) =>
  Effect.async<boolean, OutputError>((resume) => {
    process.stdout.write(text, (err) => {
      if (!err) resume(Effect.succeed(true));
      else if ((err as NodeJS.ErrnoException).code === "EPIPE") resume(Effect.succeed(false));
      else resume(Effect.fail(new OutputError({ message: `writing stdout: ${err.message}`, cause: err })));
    });
  });

/** One line on stderr when the capture ends, like tcpdump's: what came out and what was lost. */
const summary = (stats: CaptureStats): string =>
  `netpulse: capture: ${stats.flowsOut} flow windows, dropped ${stats.ringbufDrops} kernel and ` +
  `${stats.queueDrops} user-space records\n`;

/** Runs until --duration ends or `stop` completes; either way the open flows' last windows are printed. */
export const captureToStdout = (o: CaptureOptions, stop?: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const parsed = yield* settingsFrom(o);
    const settings = stop === undefined ? parsed : { ...parsed, loader: { ...parsed.loader, stop } };
    const stats = new CaptureStats();
    process.stdout.on("error", () => undefined); // EPIPE arrives via the write callback too
    yield* capturePipeline(settings, stats).pipe(
      Stream.groupedWithin(OUTPUT_BATCH, OUTPUT_LINGER),
      Stream.mapEffect((flows) =>
        writeOut(
          Chunk.join(
            Chunk.map(flows, (f) => toJsonLine(f) + "\n"),
            "",
          ),
        ),
      ),
      Stream.takeWhile((open) => open),
      Stream.runDrain,
    );
    process.stderr.write(summary(stats));
  }).pipe(Effect.provide(Loader.layer));

export const register = (program: Command): void => {
  const collect = (v: string, prev: string[]) => [...prev, v];
  program
    .command("capture")
    .description("eBPF TCP capture alone: one JSON line per flow window on stdout")
    .option("--stdout", "write flows to stdout as JSON lines")
    .option(
      "--duration <seconds>",
      "stop this many seconds after the BPF programs are attached (default: until Ctrl-C)",
    )
    .option("--port <port>", "only flows with this local or remote port (repeatable, up to 8)", collect, [])
    .option(
      "--cidr <cidr>",
      "only flows with a local or remote address in this CIDR (repeatable, up to 8)",
      collect,
      [],
    )
    .option("--sampling <n>", "keep 1 flow in N (both directions agree)")
    .option("--active-timeout <seconds>", "emit long flows' windows this often (default 5)")
    .action((opts: CaptureOptions) => runDraining((stop) => captureToStdout(opts, stop)));
};
