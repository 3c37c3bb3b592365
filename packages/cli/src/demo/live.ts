// The demo while it runs: every second each service's /metrics is read and the screen redrawn (a
// terminal) or, every few seconds, a progress line printed (pipes, CI); anomalies from the topic
// are added as they arrive. Ends at the duration, on the first Ctrl-C, or when a service exits.
import * as Effect from "effect/Effect";
import * as Fiber from "effect/Fiber";
import * as LogLevel from "effect/LogLevel";
import { pinoLogger } from "@netpulse/runtime/observability/Logging";
import type { Anomaly } from "@netpulse/runtime/records";
import { followAnomalies } from "./anomalyFeed.js";
import { demoBusLayer, type BusKind } from "./busServer.js";
import { DemoError } from "./DemoError.js";
import { endedMessage, type Ports } from "./demoServices.js";
import { merge, scrape, type Sample } from "./metrics.js";
import type { DemoProcess } from "./processes.js";
import { anomalyLine, progressLine, renderScreen, STAGES, type View } from "./screen.js";
import { faultDrops } from "./topology.js";

const TICK_MS = 1_000;
const PROGRESS_EVERY_S = 5;
/** The feed starts this much before the traffic, for the broker's clock against ours. */
const FEED_SLACK_MS = 5_000;

/** The alternate screen without a cursor, as top uses; the last frame is printed again on the normal one. */
const ENTER_SCREEN = "\x1b[?1049h\x1b[?25l";
const LEAVE_SCREEN = "\x1b[?1049l\x1b[?25h";
/** Redraws in place: home, each line cleared to its end, the rest of the screen cleared (no flicker). */
const frame = (screen: string): string => `\x1b[H${screen.split("\n").join("\x1b[K\n")}\x1b[K\x1b[J`;

export interface LiveOptions {
  readonly bus: BusKind;
  readonly durationS: number | undefined;
  readonly services: ReadonlyArray<DemoProcess>;
  readonly ports: Ports;
  readonly startedMs: number;
  readonly stopRequested: Effect.Effect<void>;
}

/** Records in and out of every stage, all services' samples merged. */
export const scrapeAll = (ports: Ports) =>
  Effect.all(
    STAGES.map((s) => scrape(ports[s])),
    { concurrency: "unbounded" },
  ).pipe(Effect.map(merge));

/** Shows the run until it should end; fails with the message of a service that exited. */
export const showLive = (o: LiveOptions) =>
  Effect.gen(function* () {
    const tty = process.stdout.isTTY === true;
    const anomalies: Anomaly[] = [];
    yield* Effect.forkScoped(
      followAnomalies(o.startedMs - FEED_SLACK_MS, (a) => {
        anomalies.push(a);
        if (!tty) process.stdout.write(`${anomalyLine(a)}\n`);
      }).pipe(
        Effect.provide(demoBusLayer(o.bus)),
        Effect.provide(pinoLogger("cli", LogLevel.Warning)),
        Effect.orElse(() => Effect.void),
      ),
    );
    let last: { at: number; sample: Sample } = { at: Date.now(), sample: yield* scrapeAll(o.ports) };
    const view = (sample: Sample, at: number): View => {
      const dt = Math.max((at - last.at) / 1000, 0.001);
      const rates: Record<string, number> = {};
      for (const [k, v] of Object.entries(sample.records))
        rates[k] = Math.max(0, (v - (last.sample.records[k] ?? 0)) / dt);
      return {
        elapsedS: (at - o.startedMs) / 1000,
        durationS: o.durationS,
        bus: o.bus,
        rates,
        sample,
        nftDrops: faultDrops(),
        services: o.services.map((p) => ({
          name: p.name,
          state: p.ended() === undefined ? "up" : `exited (${p.ended()})`,
        })),
        anomalies,
      };
    };
    const width = () => process.stdout.columns ?? 120;
    let inScreen = false;
    if (tty) {
      process.stdout.write(ENTER_SCREEN);
      inScreen = true;
      // also when a second Ctrl-C interrupts: the terminal gets its normal screen and cursor back
      yield* Effect.addFinalizer(() => Effect.sync(() => void (inScreen && process.stdout.write(LEAVE_SCREEN))));
    }
    const stop = yield* Effect.fork(o.stopRequested);
    let lastView: View | undefined;
    let lastProgress = 0;
    let dead: DemoProcess | undefined;
    for (;;) {
      yield* Effect.sleep(`${TICK_MS} millis`);
      const at = Date.now();
      const sample = yield* scrapeAll(o.ports);
      lastView = view(sample, at);
      last = { at, sample };
      if (tty) process.stdout.write(frame(renderScreen(lastView, width(), process.stdout.rows ?? 40)));
      else if (lastView.elapsedS - lastProgress >= PROGRESS_EVERY_S) {
        lastProgress = lastView.elapsedS;
        process.stdout.write(`${progressLine(lastView)}\n`);
      }
      dead = o.services.find((p) => p.ended() !== undefined);
      if (dead !== undefined) break;
      if (o.durationS !== undefined && lastView.elapsedS >= o.durationS) break;
      if ((yield* Fiber.poll(stop))._tag === "Some") break;
    }
    if (tty) {
      process.stdout.write(LEAVE_SCREEN);
      inScreen = false;
      if (lastView !== undefined) process.stdout.write(`${renderScreen(lastView, width(), 1000)}\n\n`);
    }
    if (dead !== undefined) return yield* new DemoError({ message: yield* endedMessage(dead) });
  });
