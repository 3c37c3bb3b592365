// Kubernetes informers over a chosen list of kinds, each object slimmed before it is stored or
// handed on. client-node's ListWatch lists, then watches from the list's resourceVersion; it
// resumes after a clean end of the stream and relists on 410, but on any other error (list
// failure, cut connection) it only emits `error` and stays dead, so each informer is restarted
// here on a jittered exponential schedule that starts over once the informer works again.
// Synced once every resource listed once.
import { KubeConfig, ListWatch, type KubernetesObject } from "@kubernetes/client-node";
import * as Data from "effect/Data";
import * as Deferred from "effect/Deferred";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as FiberSet from "effect/FiberSet";
import * as Option from "effect/Option";
import * as Queue from "effect/Queue";
import * as Schedule from "effect/Schedule";
import { slim, type MetaEvent, type SlimKind, type SlimOptions } from "./slim.js";
import { listAll, resourcesFor, type WatchedResource } from "./resources.js";
import { SlimmingWatch } from "./SlimmingWatch.js";

export class KubeConfigError extends Data.TaggedError("KubeConfigError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

/** Kubeconfig from a file when given, else the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
export const loadKubeConfig = (file: Option.Option<string>, variable = "NETPULSE_KUBECONFIG") =>
  Effect.try({
    try: () => {
      const kc = new KubeConfig();
      if (Option.isSome(file)) kc.loadFromFile(file.value);
      else kc.loadFromDefault();
      if (kc.getCurrentCluster() === null) throw new Error("no current cluster in the kubeconfig");
      return kc;
    },
    catch: (cause) =>
      new KubeConfigError({
        message: `cannot load kubeconfig${Option.isSome(file) ? ` ${file.value} (${variable})` : ""}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      }),
  });

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

export interface InformerOptions extends SlimOptions {
  /** What to watch, e.g. ["Pod", "Namespace", "NetworkPolicy", "Node"]. */
  readonly kinds: ReadonlyArray<SlimKind>;
  /** First restart delay after an error; doubles up to backoffMaxMs, each delay jittered down by up to 25 %. */
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Told of every restart after an error (the caller's counter). */
  readonly onRestart?: (kind: SlimKind) => void;
}

/** Delays between restarts: exponential from base, capped at max, jittered so replicas spread out. */
export const restartSchedule = (baseMs: number, maxMs: number) =>
  Schedule.exponential(Duration.millis(baseMs)).pipe(
    Schedule.union(Schedule.spaced(Duration.millis(maxMs))),
    Schedule.jitteredWith({ min: 0.75, max: 1 }),
  );

/**
 * Start one informer per kind, calling `apply` with each slim object's upsert or delete (also
 * for the initial list); stops them with the scope. `synced` completes once every kind listed once.
 */
export const runInformers = (kc: KubeConfig, options: InformerOptions, apply: (event: MetaEvent) => void) =>
  Effect.gen(function* () {
    const run = yield* FiberSet.makeRuntime<never>();
    const synced = yield* Deferred.make<void>();
    const resources = resourcesFor(options.kinds);
    const pending = new Set<SlimKind>(resources.map((r) => r.kind));
    if (pending.size === 0) yield* Deferred.succeed(synced, undefined);

    const start = (r: WatchedResource) =>
      Effect.gen(function* () {
        const page = r.page(kc);
        const failures = yield* Queue.sliding<unknown>(1);
        // Set by every list and event; a failure after that starts the backoff over.
        let healthy = false;
        let stopping = false;
        const slimOne = (o: unknown) => slim(o, options, r.kind);
        const listFn = async () => {
          const list = await listAll(page);
          healthy = true;
          // ListWatch applies the items synchronously once this promise settles; setImmediate runs after.
          setImmediate(() => {
            if (pending.delete(r.kind) && pending.size === 0) run(Deferred.succeed(synced, undefined));
          });
          return {
            metadata: { resourceVersion: list.resourceVersion },
            items: list.items.map(slimOne) as KubernetesObject[],
          };
        };
        const informer = new ListWatch<KubernetesObject>(r.path, new SlimmingWatch(kc, slimOne), listFn, false);
        const onObject = (type: MetaEvent["type"]) => (o: KubernetesObject) => {
          healthy = true;
          // The library calls this inside its own try/catch on the watch path and drops what throws:
          // log it here so a failing event is never lost silently.
          try {
            apply({ type, obj: o as MetaEvent["obj"] });
          } catch (err) {
            run(
              Effect.logError(
                `informer ${r.kind}: applying ${type} of ${o.metadata?.name ?? "?"} failed: ${String(err)}`,
              ),
            );
          }
        };
        informer.on("add", onObject("upsert"));
        informer.on("update", onObject("upsert"));
        informer.on("delete", onObject("delete"));
        // One restart per failure: errors reported while a restart is pending belong to it.
        let restartPending = false;
        informer.on("error", (err: unknown) => {
          if (stopping || restartPending) return;
          restartPending = true;
          options.onRestart?.(r.kind);
          Queue.unsafeOffer(failures, err);
        });

        // ListWatch.start reports failures through `error`; a rejection here would be a library bug.
        const kick = Effect.sync(() => {
          void informer
            .start()
            .catch((err: unknown) => run(Effect.logError(`informer ${r.kind} start threw: ${String(err)}`)));
        });
        const driver = yield* Schedule.driver(restartSchedule(options.backoffBaseMs, options.backoffMaxMs));
        let attempt = 0;
        const supervise = Effect.gen(function* () {
          for (;;) {
            restartPending = false;
            yield* kick;
            const err = yield* Queue.take(failures);
            if (healthy) {
              healthy = false;
              attempt = 0;
              yield* driver.reset;
            }
            attempt++;
            yield* Effect.logWarning(`informer ${r.kind} failed, restarting after a backoff: ${firstLine(err)}`).pipe(
              Effect.annotateLogs({ resource: r.kind, attempt }),
            );
            // The schedule never ends: exponential, capped.
            yield* Effect.orDie(driver.next(err));
          }
        });
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            stopping = true;
            void informer.stop();
          }),
        );
        // Forked after the finalizer, so it is interrupted before the informer stops.
        yield* Effect.forkScoped(supervise);
      });

    for (const r of resources) yield* start(r);
    return { synced: Deferred.await(synced) };
  });
