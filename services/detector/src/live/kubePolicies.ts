// The policy audit's cluster state from the Kubernetes API: informers (list/watch, 410 relist,
// restart with jittered backoff; @netpulse/kube) for Namespaces, Pods and NetworkPolicies feed a
// PolicyEngine through the same watch-event path `policy check` uses. Pods keep every label and
// their container ports (selectors and named ports need them). Ready once every kind listed once.
import * as Effect from "effect/Effect";
import type * as Option from "effect/Option";
import * as Runtime from "effect/Runtime";
import { loadKubeConfig, runInformers, type MetaEvent, type Slim } from "@netpulse/kube";
import { applyWatchEvent, PolicyEngine } from "@netpulse/policy";

/** A slim object back in the API's shape, for the policy package's parsers. */
export const apiObject = (o: Slim): unknown => {
  switch (o.kind) {
    case "Namespace":
      return { kind: "Namespace", metadata: { name: o.metadata.name, labels: o.labels } };
    case "Pod":
      return {
        kind: "Pod",
        metadata: { name: o.metadata.name, namespace: o.metadata.namespace, labels: o.labels },
        spec: {
          hostNetwork: o.hostNetwork,
          containers: [{ name: "c", ports: (o.ports ?? []).map((p) => ({ ...p })) }],
        },
        status: { podIP: o.ips[0], podIPs: o.ips.map((ip) => ({ ip })) },
      };
    case "NetworkPolicy":
      return { kind: "NetworkPolicy", apiVersion: o.apiVersion, metadata: o.metadata, spec: o.spec };
    default:
      return undefined;
  }
};

/** Applies one informer event; returns the problems of an object the policy package refused. */
export const applyMetaEvent = (engine: PolicyEngine, e: MetaEvent): readonly string[] => {
  const object = apiObject(e.obj);
  if (object === undefined) return [];
  const issues = applyWatchEvent(engine, { type: e.type === "delete" ? "DELETED" : "MODIFIED", object }, e.obj.kind);
  return issues.map(
    (i) => `${e.obj.kind} ${e.obj.metadata.namespace ?? ""}/${e.obj.metadata.name}: ${i.path}: ${i.message}`,
  );
};

export interface KubePolicyOptions {
  readonly kubeconfig: Option.Option<string>;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

/** Starts the informers (stopped with the scope) and returns the engine once every kind listed once. */
export const policiesFromKube = (o: KubePolicyOptions) =>
  Effect.gen(function* () {
    const kc = yield* loadKubeConfig(o.kubeconfig);
    const engine = new PolicyEngine();
    const runtime = yield* Effect.runtime<never>();
    const { synced } = yield* runInformers(
      kc,
      {
        kinds: ["Namespace", "Pod", "NetworkPolicy"],
        labelKeys: "all",
        containerPorts: true,
        backoffBaseMs: o.backoffBaseMs ?? 500,
        backoffMaxMs: o.backoffMaxMs ?? 30_000,
      },
      (e) => {
        for (const issue of applyMetaEvent(engine, e))
          Runtime.runSync(runtime)(Effect.logWarning(`object ignored by the policy audit: ${issue}`));
      },
    );
    yield* synced;
    return engine;
  });
