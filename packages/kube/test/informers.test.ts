// @netpulse/kube's informers over the kinds the detector asks for (Pods, Namespaces,
// NetworkPolicies, Nodes), driven by the real client against a local list/watch server
// (test/support/fakeKubeApi.ts): only those kinds are listed and watched, pods keep every label
// and their container ports, NetworkPolicies arrive whole and parse with @netpulse/policy, and
// restarts after errors and 410 relists keep the stream going.
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runInformers, type MetaEvent, type SlimKind, type SlimNetworkPolicy, type SlimPod } from "@netpulse/kube";
import { parsePolicy } from "@netpulse/policy";
import { FakeKubeApi } from "../../../test/support/fakeKubeApi.js";
import * as k from "../../../test/support/kubeObjects.js";
import { until } from "../../../test/support/processes.js";

const KINDS: ReadonlyArray<SlimKind> = ["Pod", "Namespace", "NetworkPolicy", "Node"];

const denyAll = (namespace: string, name: string, except?: string) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name,
    namespace,
    uid: `np-${name}`,
    annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" },
    managedFields: [{ manager: "kubectl", operation: "Update" }],
  },
  spec: {
    podSelector: { matchLabels: { app: "db" } },
    policyTypes: ["Ingress"],
    ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8", ...(except === undefined ? {} : { except: [except] }) } }] }],
  },
});

describe("kube informers over chosen kinds", () => {
  let api: FakeKubeApi;
  let scope: Scope.CloseableScope;
  let events: MetaEvent[];
  let restarts: SlimKind[];
  const latest = new Map<string, MetaEvent>();

  const start = () => {
    scope = Effect.runSync(Scope.make());
    const program = runInformers(
      api.kubeConfig(),
      {
        kinds: KINDS,
        labelKeys: "all",
        containerPorts: true,
        backoffBaseMs: 20,
        backoffMaxMs: 100,
        onRestart: (kind) => restarts.push(kind),
      },
      (ev) => {
        events.push(ev);
        latest.set(`${ev.obj.kind}/${ev.obj.metadata.namespace ?? ""}/${ev.obj.metadata.name}`, ev);
      },
    );
    return Effect.runPromise(program.pipe(Scope.extend(scope)));
  };
  const waitFor = (what: string, cond: () => boolean) => until(what, cond, 10_000);
  const policyOf = (ns: string, name: string) => latest.get(`NetworkPolicy/${ns}/${name}`);

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    events = [];
    restarts = [];
    latest.clear();
  });

  afterEach(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void));
    await api.close();
  });

  it("lists and watches only the asked kinds; pods keep every label and their ports", async () => {
    api.apply(k.namespace("shop", { team: "a" }));
    api.apply(k.node("node-a", "192.168.0.10"));
    api.apply(k.service("shop", "web", "10.96.0.1"));
    api.apply(k.replicaSet("shop", "web-5d", "web"));
    const pod = k.pod("shop", "db-0", { ip: "10.1.0.5", labels: { app: "db", tier: "data" } });
    api.apply({
      ...pod,
      spec: { containers: [{ name: "pg", ports: [{ name: "pg", containerPort: 5432, protocol: "TCP" }] }] },
    });
    api.apply(denyAll("shop", "db-ingress"));

    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches open", () => api.openWatches() === KINDS.length);

    expect(new Set(api.requests.map((r) => r.kind))).toEqual(new Set(KINDS));
    expect(new Set(events.map((e) => e.obj.kind))).toEqual(new Set(KINDS));
    const db = latest.get("Pod/shop/db-0")?.obj as SlimPod;
    expect(db.labels).toEqual({ app: "db", tier: "data" });
    expect(db.ports).toEqual([{ name: "pg", containerPort: 5432, protocol: "TCP" }]);
    expect(db.ips).toEqual(["10.1.0.5"]);
  });

  it("hands NetworkPolicies over whole (without managedFields and annotations), parseable by parsePolicy", async () => {
    api.apply(denyAll("shop", "db-ingress"));
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches open", () => api.openWatches() === KINDS.length);

    // From the list (typed client models).
    const listed = policyOf("shop", "db-ingress")?.obj as SlimNetworkPolicy;
    expect(listed).toMatchObject({ kind: "NetworkPolicy", metadata: { name: "db-ingress", namespace: "shop" } });
    expect(listed.metadata).not.toHaveProperty("annotations");
    expect(listed.metadata).not.toHaveProperty("managedFields");
    const parsed = parsePolicy(listed);
    expect(parsed).toMatchObject({ ok: true, value: { key: "shop/db-ingress" } });

    // From the watch (raw JSON), with a field the typed client would also carry.
    api.apply(denyAll("shop", "db-ingress", "10.9.0.0/16"));
    await waitFor("update seen", () => JSON.stringify(policyOf("shop", "db-ingress")?.obj).includes("10.9.0.0/16"));
    const updated = parsePolicy(policyOf("shop", "db-ingress")?.obj);
    expect(updated.ok && updated.value.ingress[0]?.peers[0]).toMatchObject({ ipBlock: { except: [{}] } });

    api.delete(api.apply(denyAll("shop", "db-ingress")));
    await waitFor("delete seen", () => policyOf("shop", "db-ingress")?.type === "delete");
  });

  it("restarts a failing informer with backoff, and relists after 410 Gone", async () => {
    api.failNext("NetworkPolicy", 500, 3);
    const { synced } = await start();
    await Effect.runPromise(synced);
    expect(restarts.filter((r) => r === "NetworkPolicy")).toHaveLength(3);
    await waitFor("watches open", () => api.openWatches() === KINDS.length);

    const lists = () => api.requests.filter((r) => r.kind === "NetworkPolicy" && !r.watch).length;
    const before = lists();
    api.expireWatches();
    api.apply(denyAll("db", "late"));
    await waitFor("relisted", () => lists() > before);
    await waitFor("late policy seen", () => policyOf("db", "late")?.type === "upsert");
  });
});
