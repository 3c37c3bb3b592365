// Kubernetes informers feeding the index. client-node's ListWatch lists, then watches from the
// list's resourceVersion; it resumes after a clean end of the stream and relists on 410, but on
// any other error (list failure, cut connection) it only emits `error` and stays dead, so each
// informer is restarted here with exponential backoff. Synced once every resource listed once.
import { KubeConfig, ListWatch, type KubernetesObject } from "@kubernetes/client-node";
import * as Data from "effect/Data";
import * as Deferred from "effect/Deferred";
import * as Duration from "effect/Duration";
import * as Effect from "effect/Effect";
import * as FiberSet from "effect/FiberSet";
import * as Layer from "effect/Layer";
import * as Option from "effect/Option";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { slim, type MetaEvent, type SlimKind } from "../model/slim.js";
import { listAll, WATCHED, type WatchedResource } from "./resources.js";
import { SlimmingWatch } from "./SlimmingWatch.js";
import { MetadataSource } from "../MetadataSource.js";
import { reuse } from "../EnricherMetrics.js";
import { Index } from "../IndexService.js";
import { EnricherConfig } from "../config.js";

export class KubeConfigError extends Data.TaggedError("KubeConfigError")<{
  readonly message: string;
  readonly cause?: unknown;
}> {}

/** Kubeconfig from a file when given, else the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
export const loadKubeConfig = (file: Option.Option<string>) =>
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
        message: `cannot load kubeconfig${Option.isSome(file) ? ` ${file.value} (NETPULSE_KUBECONFIG)` : ""}: ${cause instanceof Error ? cause.message : String(cause)}`,
        cause,
      }),
  });

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

export interface InformerOptions {
  readonly labelKeys: ReadonlyArray<string>;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

/** Start one informer per watched resource, applying their events; stops them with the scope. */
export const runInformers = (kc: KubeConfig, options: InformerOptions, apply: (event: MetaEvent) => void) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics;
    const restarts = reuse(metrics.registry, "netpulse_enricher_informer_restarts_total", () =>
      metrics.counter("netpulse_enricher_informer_restarts_total", "Informer restarts after an error", ["resource"]),
    );
    const run = yield* FiberSet.makeRuntime<never>();
    const synced = yield* Deferred.make<void>();
    const pending = new Set<SlimKind>(WATCHED.map((r) => r.kind));
    let stopping = false;

    // ListWatch.start reports failures through `error`; a rejection here would be a library bug.
    const kick = (r: WatchedResource, informer: ListWatch<KubernetesObject>) =>
      informer.start().catch((err: unknown) => run(Effect.logError(`informer ${r.kind} start threw: ${String(err)}`)));

    const start = (r: WatchedResource) => {
      const page = r.page(kc);
      let attempt = 0;
      let restartPending = false;
      const slimOne = (o: unknown) => slim(o, options.labelKeys, r.kind);
      const listFn = async () => {
        const list = await listAll(page);
        attempt = 0;
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
        attempt = 0;
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
      informer.on("error", (err: unknown) => {
        if (stopping || restartPending) return;
        restartPending = true;
        attempt++;
        const delay =
          Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 4);
        restarts.inc({ resource: r.kind });
        run(
          Effect.logWarning(`informer ${r.kind} failed, restarting in ${Math.round(delay)} ms: ${firstLine(err)}`).pipe(
            Effect.annotateLogs({ resource: r.kind, attempt }),
            Effect.zipRight(Effect.sleep(Duration.millis(delay))),
            Effect.zipRight(
              Effect.sync(() => {
                restartPending = false;
                if (!stopping) void kick(r, informer);
              }),
            ),
          ),
        );
      });
      return Effect.acquireRelease(
        Effect.sync(() => void kick(r, informer)),
        () =>
          Effect.sync(() => {
            stopping = true;
            void informer.stop();
          }),
      );
    };

    for (const r of WATCHED) yield* start(r);
    return { synced: Deferred.await(synced) };
  });

/** MetadataSource from the cluster: config from EnricherConfig, events into the Index. */
export const KubeSourceLive = Layer.scoped(
  MetadataSource,
  Effect.gen(function* () {
    const config = yield* EnricherConfig;
    const index = yield* Index;
    const kc = yield* loadKubeConfig(config.kubeconfig);
    const { synced } = yield* runInformers(kc, config, (event) => index.apply(event, Date.now()));
    return { name: "kubernetes", synced };
  }),
);
