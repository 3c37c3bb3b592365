// ClickHouse for the demo: the shared local server of `netpulse services`, joined through
// servers.sh (the bookkeeping `npm test` uses too, so neither stops it under the other), and the
// demo's database emptied for this run.
import { execFile } from "node:child_process";
import * as Effect from "effect/Effect";
import { ClickHouse, type ClickHouseSettings } from "@netpulse/clickhouse";
import { DemoError } from "./DemoError.js";
import { DEMO_DATABASE, demoSource, repoRoot } from "./paths.js";

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

/** Starts ClickHouse unless it runs; when the scope closes, stops it if this run started it and no one else uses it. */
export const sharedClickHouse = Effect.acquireRelease(servers("join", ["clickhouse"]), () =>
  servers("leave", []).pipe(Effect.orElse(() => Effect.void)),
);

export const resetDatabase = (settings: ClickHouseSettings) =>
  Effect.gen(function* () {
    const ch = yield* ClickHouse;
    yield* ch.command(`DROP DATABASE IF EXISTS ${DEMO_DATABASE}`);
  }).pipe(
    Effect.provide(ClickHouse.layerWith({ ...settings, database: "default" })),
    Effect.scoped,
    Effect.mapError((e) => new DemoError({ message: `ClickHouse: ${e.message}`, cause: e })),
  );
