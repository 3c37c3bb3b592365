// Opens one NATS connection for the bus's scope: credentials from NatsSettings (unwrapped only
// here), reconnect forever (a broker restart must not kill a service), status events to the log,
// drain on release. A failed first connect becomes one BusError line naming the URL, never a secret.
import { readFileSync } from "node:fs";
import * as Effect from "effect/Effect";
import * as Redacted from "effect/Redacted";
import * as Runtime from "effect/Runtime";
import {
  connect,
  credsAuthenticator,
  DebugEvents,
  Events,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
  type NatsConnection,
} from "nats";
import { BusError } from "../Bus.js";
import { redactUrl, type NatsSettings } from "../BusConfig.js";

const servers = (url: string): string[] =>
  url
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);

const authenticator = (s: NatsSettings): Effect.Effect<Authenticator | undefined, BusError> => {
  if (s.credsFile !== undefined) {
    const file = s.credsFile;
    return Effect.try({
      try: () => credsAuthenticator(readFileSync(file)),
      catch: (cause) =>
        new BusError({ op: "connect", message: `cannot read NATS creds file ${file} (NETPULSE_NATS_CREDS)`, cause }),
    });
  }
  if (s.token !== undefined) return Effect.succeed(tokenAuthenticator(Redacted.value(s.token)));
  if (s.user !== undefined && s.password !== undefined)
    return Effect.succeed(usernamePasswordAuthenticator(s.user, Redacted.value(s.password)));
  return Effect.succeed(undefined);
};

/** What a connect error means, in words an operator acts on. */
const explain = (cause: unknown): string => {
  const code = (cause as { code?: unknown }).code;
  const text = cause instanceof Error ? cause.message : String(cause);
  if (code === "AUTHORIZATION_VIOLATION" || /authorization/i.test(text)) return "authorization failed";
  if (code === "CONNECTION_REFUSED" || /ECONNREFUSED/.test(text)) return "connection refused (is nats-server running?)";
  if (/tls|certificate|ssl/i.test(text)) return `TLS failed: ${text}`;
  return text;
};

export const natsConnect = (settings: NatsSettings) =>
  Effect.gen(function* () {
    const where = redactUrl(settings.url);
    const auth = yield* authenticator(settings);
    const tls = settings.tls;
    const options: ConnectionOptions = {
      servers: servers(settings.url),
      name: settings.name ?? "netpulse",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // Large batches: allow a few in flight before the client itself pushes back.
      pingInterval: 20_000,
      ...(auth !== undefined && { authenticator: auth }),
      ...(tls !== undefined && {
        tls: {
          ...(tls.caFile !== undefined && { caFile: tls.caFile }),
          ...(tls.certFile !== undefined && { certFile: tls.certFile }),
          ...(tls.keyFile !== undefined && { keyFile: tls.keyFile }),
        },
      }),
    };
    const runtime = yield* Effect.runtime<never>();
    const nc = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () => connect(options),
        catch: (cause) => new BusError({ op: "connect", message: `NATS at ${where}: ${explain(cause)}`, cause }),
      }),
      (nc) =>
        Effect.promise(() => (nc.isClosed() ? Promise.resolve() : nc.drain().catch(() => nc.close()))).pipe(
          Effect.timeout("10 seconds"),
          Effect.orElse(() => Effect.promise(() => nc.close())),
        ),
    );
    yield* watchStatus(nc, where, runtime);
    yield* Effect.logDebug("nats connected").pipe(Effect.annotateLogs({ server: where }));
    return nc;
  });

/** The client is no EventEmitter: its status iterator is where disconnects and errors surface. */
const watchStatus = (nc: NatsConnection, where: string, runtime: Runtime.Runtime<never>) =>
  Effect.sync(() => {
    const log = (effect: Effect.Effect<void>) =>
      Runtime.runFork(runtime)(effect.pipe(Effect.annotateLogs({ server: where, bus: "nats" })));
    void (async () => {
      for await (const s of nc.status()) {
        const data = typeof s.data === "string" || typeof s.data === "number" ? String(s.data) : "";
        switch (s.type) {
          case Events.Disconnect:
          case Events.Error:
          case DebugEvents.StaleConnection:
            log(Effect.logWarning(`nats ${s.type} ${redactUrl(data)}`));
            break;
          case Events.Reconnect:
            log(Effect.logInfo(`nats reconnected ${redactUrl(data)}`));
            break;
          default:
            break;
        }
      }
    })().catch((cause: unknown) => log(Effect.logError("nats status watcher stopped", cause)));
    void nc.closed().then((err) => {
      if (err) log(Effect.logError(`nats connection closed: ${explain(err)}`));
    });
  });
