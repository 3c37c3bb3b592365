// The demo's own broker: NATS (or Kafka) started by scripts/services.sh as its second, isolated
// set (NETPULSE_SERVICES_DIR and ports of its own), fresh on every run. Topics and consumer groups
// are fixed names, so on the shared broker the demo's services would take messages meant for the
// services and tests of a developer's `npm test` (and the other way round); on its own broker
// neither sees the other. ClickHouse is shared (the demo writes to its own database).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { rmSync } from "node:fs";
import * as ConfigProvider from "effect/ConfigProvider";
import * as Effect from "effect/Effect";
import * as Layer from "effect/Layer";
import { BusLive } from "@netpulse/runtime/bus/BusLayer";
import { demoDir, repoRoot } from "./paths.js";
import { DemoError } from "./DemoError.js";

export type BusKind = "nats" | "kafka";

const dir = join(demoDir, "servers");

/** Ports apart from the shared set's (NATS 4222/8222, Kafka 9092/9093). */
const PORTS = { nats: { client: 4223, monitor: 8223 }, kafka: { broker: 9094, controller: 9095 } } as const;

/** What the services and the CLI's own bus client need to reach the demo's broker. */
export const busEnv = (bus: BusKind): Record<string, string> => ({
  NETPULSE_BUS: bus,
  NETPULSE_NATS_URL: `nats://127.0.0.1:${PORTS.nats.client}`,
  NETPULSE_KAFKA_BROKERS: `127.0.0.1:${PORTS.kafka.broker}`,
});

const scriptEnv = {
  NETPULSE_SERVICES_DIR: dir,
  NETPULSE_NATS_PORT: String(PORTS.nats.client),
  NETPULSE_NATS_MONITOR_PORT: String(PORTS.nats.monitor),
  NETPULSE_KAFKA_PORT: String(PORTS.kafka.broker),
  NETPULSE_KAFKA_CONTROLLER_PORT: String(PORTS.kafka.controller),
};

const services = (action: "up" | "down", bus: BusKind) =>
  Effect.async<void, DemoError>((resume) => {
    execFile(
      "bash",
      [join(repoRoot, "scripts", "services.sh"), action, bus],
      { cwd: repoRoot, env: { ...process.env, ...scriptEnv } },
      (e, _stdout, stderr) => {
        if (stderr.trim() !== "") process.stderr.write(stderr);
        resume(
          e === null
            ? Effect.void
            : Effect.fail(new DemoError({ message: `the demo's ${bus}: ${e.message}`, cause: e })),
        );
      },
    );
  });

/** Stops a broker an earlier run left, starts a fresh one; stops it when the scope closes. */
export const demoBroker = (bus: BusKind) =>
  Effect.acquireRelease(
    services("down", bus).pipe(
      Effect.zipRight(Effect.sync(() => rmSync(join(dir, bus), { recursive: true, force: true }))),
      Effect.zipRight(services("up", bus)),
    ),
    () => services("down", bus).pipe(Effect.orElse(() => Effect.void)),
  );

/** The CLI's bus client on the demo's broker. */
export const demoBusLayer = (bus: BusKind) =>
  BusLive.pipe(
    Layer.provide(
      Layer.setConfigProvider(
        ConfigProvider.fromMap(new Map(Object.entries(busEnv(bus)))).pipe(
          ConfigProvider.orElse(() => ConfigProvider.fromEnv()),
        ),
      ),
    ),
  );

/** For people: how to reach the demo's broker from another terminal. */
export const busHint = (bus: BusKind): string =>
  bus === "nats"
    ? `NETPULSE_NATS_URL=${busEnv(bus)["NETPULSE_NATS_URL"]}`
    : `NETPULSE_KAFKA_BROKERS=${busEnv(bus)["NETPULSE_KAFKA_BROKERS"]}`;
