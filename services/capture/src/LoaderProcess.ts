// The BPF loader as a service: spawns bpf/.output/netpulse-loader and streams whole records
// (Buffers holding a multiple of 192 bytes). The pipe is read as fast as it arrives and never
// pauses the loader; chunks beyond `maxQueuedChunks` waiting for the consumer are dropped and
// reported through `onDrop` (the caller counts them in netpulse_dropped_total).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as Context from "effect/Context";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as Layer from "effect/Layer";
import * as Stream from "effect/Stream";
import { RecordFramer } from "./FlowRecordDecoder.js";
import { RECORD_SIZE } from "./FlowRecordLayout.js";

export class LoaderError extends Data.TaggedError("LoaderError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

export interface LoaderOptions {
  readonly binary: string;
  readonly ports: ReadonlyArray<number>;
  readonly cidrs: ReadonlyArray<string>;
  readonly sampling: number;
  readonly mapSize: number;
  readonly intervalMs: number;
  readonly statsMs: number;
  /** Chunks (each up to ~64 KiB of records) allowed to wait for the consumer. */
  readonly maxQueuedChunks: number;
  /**
   * The loader stops by itself this long after its programs are attached (CLI --duration), so a
   * slow start-up (node, the BPF verifier) never eats the capture's time; the stream then ends.
   */
  readonly durationMs?: number;
  /** When this completes the loader is asked to stop; it drains the ring buffer, then the stream ends. */
  readonly stop?: Effect.Effect<void>;
}

/** Where `npm run build` puts the loader, relative to this module (src/ or dist/). */
export const defaultLoaderPath = (): string =>
  fileURLToPath(new URL("../../../bpf/.output/netpulse-loader", import.meta.url));

export const loaderArgs = (o: LoaderOptions): string[] => [
  ...o.ports.flatMap((p) => ["--port", String(p)]),
  ...o.cidrs.flatMap((c) => ["--cidr", c]),
  "--sampling",
  String(o.sampling),
  "--map-size",
  String(o.mapSize),
  "--interval-ms",
  String(o.intervalMs),
  "--stats-ms",
  String(o.statsMs),
  ...(o.durationMs !== undefined ? ["--duration-ms", String(o.durationMs)] : []),
];

export interface LoaderShape {
  readonly records: (options: LoaderOptions, onDrop: (records: number) => void) => Stream.Stream<Buffer, LoaderError>;
}

const STOP_GRACE_MS = 3_000;

const run = (o: LoaderOptions, onDrop: (records: number) => void): Stream.Stream<Buffer, LoaderError> =>
  Stream.suspend(() => {
    if (!existsSync(o.binary))
      return Stream.fail(
        new LoaderError({ message: `BPF loader not found at ${o.binary}: run \`npm run build\` (make -C bpf)` }),
      );
    let queued = 0;
    return Stream.async<Buffer, LoaderError>((emit) => {
      const child = spawn(o.binary, loaderArgs(o), { stdio: ["ignore", "pipe", "pipe"] });
      const framer = new RecordFramer();
      let stopping = false;
      let stderrTail = "";
      child.on("error", (cause) => {
        void emit.fail(new LoaderError({ message: `cannot start ${o.binary}: ${cause.message}`, cause }));
      });
      child.stderr.on("data", (d: Buffer) => {
        stderrTail = (stderrTail + d.toString("utf8")).slice(-4096);
      });
      child.stderr.on("error", () => undefined);
      child.stdout.on("error", () => undefined);
      child.stdout.on("data", (chunk: Buffer) => {
        const whole = framer.push(chunk);
        if (whole.length === 0) return;
        if (queued >= o.maxQueuedChunks) {
          onDrop(whole.length / RECORD_SIZE);
          return;
        }
        queued++;
        void emit.single(whole);
      });
      child.on("close", (code, signal) => {
        const reason = stderrTail.trim().split("\n").pop() ?? "";
        if (stopping || code === 0) void emit.end();
        else
          void emit.fail(
            new LoaderError({
              message: reason !== "" ? reason : `netpulse-loader exited with ${code ?? signal ?? "unknown status"}`,
            }),
          );
      });
      const stopper =
        o.stop === undefined ? undefined : Effect.runFork(Effect.andThen(o.stop, () => void child.kill("SIGTERM")));
      return Effect.async<void>((resume) => {
        if (stopper !== undefined) Effect.runFork(Fiber.interrupt(stopper));
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void);
        stopping = true;
        const killer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        child.once("close", () => {
          clearTimeout(killer);
          resume(Effect.void);
        });
        child.kill("SIGTERM");
      });
    }, "unbounded").pipe(Stream.tap(() => Effect.sync(() => void queued--)));
  });

export class Loader extends Context.Tag("netpulse/capture/Loader")<Loader, LoaderShape>() {
  static readonly layer = Layer.succeed(Loader, { records: run });
  /** Replays bytes as if a loader wrote them, split as given (unit tests). */
  static readonly layerTest = (chunks: ReadonlyArray<Buffer>) =>
    Layer.succeed(Loader, {
      records: () =>
        Stream.suspend(() => {
          const framer = new RecordFramer();
          return Stream.fromIterable(chunks).pipe(
            Stream.map((c) => framer.push(c)),
            Stream.filter((b) => b.length > 0),
          );
        }),
    });
}
