// Static manifests as a metadata source: loaded once (bad files fail the start), then reloaded
// when a file changes (directory watch, so editors that replace files by rename are seen too;
// debounced). Each reload is diffed against the previous one and applied as events, the same
// code path as informer events. A reload that fails to parse keeps the previous objects.
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as Stream from "effect/Stream";
import type { MetaEvent, SlimOptions } from "../slim.js";
import { diffObjects, toObjectSet, type ObjectSet } from "./diffObjects.js";
import { loadManifests, ManifestError } from "./loadManifests.js";

export const RELOAD_DEBOUNCE = Duration.millis(200);

/** Bounded: a burst of file events collapses into one pending reload. */
const fileChanges = (files: ReadonlyArray<string>) =>
  Stream.async<void, ManifestError>(
    (emit) => {
      const byDir = new Map<string, Set<string>>();
      for (const f of files.map((x) => resolve(x))) {
        const names = byDir.get(dirname(f)) ?? new Set<string>();
        names.add(basename(f));
        byDir.set(dirname(f), names);
      }
      const watchers: FSWatcher[] = [];
      for (const [dir, names] of byDir) {
        const w = watch(dir, (_event, name) => {
          if (name !== null && names.has(name)) void emit.single(undefined);
        });
        w.on(
          "error",
          (cause) =>
            void emit.fail(
              new ManifestError({ file: dir, message: `watching ${dir} failed: ${String(cause)}`, cause }),
            ),
        );
        watchers.push(w);
      }
      return Effect.sync(() => watchers.forEach((w) => w.close()));
    },
    { bufferSize: 1, strategy: "sliding" },
  );

export interface ManifestSourceOptions extends SlimOptions {
  readonly files: ReadonlyArray<string>;
  /** Reload when files change (the service); off for one-shot tools. */
  readonly watch: boolean;
}

/** Applies every object as an upsert, then (with `watch`) each reload's changes; `synced` is done at once. */
export const runManifestSource = (options: ManifestSourceOptions, apply: (event: MetaEvent) => void) =>
  Effect.gen(function* () {
    let current: ObjectSet = new Map();
    const load = Effect.gen(function* () {
      const next = toObjectSet(yield* loadManifests(options.files, options));
      const events = diffObjects(current, next);
      for (const e of events) apply(e);
      current = next;
      return events.length;
    });
    yield* load;
    if (options.watch) {
      yield* fileChanges(options.files).pipe(
        Stream.debounce(RELOAD_DEBOUNCE),
        Stream.runForEach(() =>
          load.pipe(
            Effect.tap((n) => Effect.logInfo(`manifests reloaded: ${n} changes`)),
            Effect.catchTag("ManifestError", (e) =>
              Effect.logWarning(`manifest reload failed, keeping the previous objects: ${e.message}`),
            ),
          ),
        ),
        Effect.tapError((e) => Effect.logError(`manifest watch stopped: ${e.message}`)),
        Effect.forkScoped,
      );
    }
    return { synced: Effect.void };
  });
