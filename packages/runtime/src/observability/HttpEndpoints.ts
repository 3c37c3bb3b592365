// /metrics and /healthz for every service on one small node:http server, opened and closed with
// the service's scope.
import { createServer } from "node:http";
import * as Data from "effect/Data";
import * as Effect from "effect/Effect";
import * as Ref from "effect/Ref";
import { Metrics } from "./Metrics.js";

export class HttpListenError extends Data.TaggedError("HttpListenError")<{
  readonly port: number;
  readonly message: string;
  readonly cause?: unknown;
}> {}

export interface Health {
  /** Flip to true once the service is really serving (first informer list done, bus connected, ...). */
  readonly ready: Ref.Ref<boolean>;
}

export const serveHttpEndpoints = (port: number, host = "0.0.0.0") =>
  Effect.gen(function* () {
    const { registry } = yield* Metrics;
    const ready = yield* Ref.make(false);
    const runtimeReady = () => Effect.runSync(Ref.get(ready));
    const server = createServer((req, res) => {
      if (req.url === "/metrics") {
        registry.metrics().then(
          (body) => res.writeHead(200, { "content-type": registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else if (req.url === "/healthz" || req.url === "/readyz") {
        const ok = req.url === "/healthz" || runtimeReady();
        res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not ready\n");
      } else {
        res.writeHead(404).end();
      }
    });
    yield* Effect.acquireRelease(
      Effect.async<void, HttpListenError>((resume) => {
        server.once("error", (cause) =>
          resume(
            Effect.fail(
              new HttpListenError({ port, message: `cannot listen on ${host}:${port}: ${String(cause)}`, cause }),
            ),
          ),
        );
        server.listen(port, host, () => {
          resume(Effect.void);
        });
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void));
        }),
    );
    server.on("error", () => undefined);
    const health: Health = { ready };
    return health;
  });
