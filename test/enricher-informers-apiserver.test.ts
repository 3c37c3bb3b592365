// The enricher's informers against a real kube-apiserver and etcd (test/support/kubeApiserver.ts),
// beside the protocol-level fake of enricher-informers.test.ts. The informers run as a user with
// exactly the chart's netpulse-enricher ClusterRole; the server's audit log shows what they asked.
// Objects are written as admin: a Namespace, a Node, a Deployment owning a ReplicaSet owning 520
// pods (more than one list page), a CronJob's Job and its pod, a Service and its EndpointSlice.
// Enrichment follows adds, updates and deletes, and survives a stop and restart of the server by
// relisting.
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubernetesObject } from "@kubernetes/client-node";
import { Metrics, type makeMetrics } from "@netpulse/runtime/observability/Metrics";
import { encodeEndpoint } from "../services/enricher/src/enrich/endpointType.js";
import { MetadataIndex } from "../services/enricher/src/index/MetadataIndex.js";
import { ENRICHER_KINDS, runInformers } from "../services/enricher/src/k8s/KubeSource.js";
import { chartClusterRole, KubeApiserver, ownerRef } from "./support/kubeApiserver.js";
import { until } from "./support/processes.js";

const PODS = 520; // LIST_PAGE_SIZE is 500: the first list takes two pages
const RESOURCES = ["pods", "namespaces", "nodes", "services", "endpointslices", "replicasets", "jobs"];

const waitFor = (what: string, cond: () => boolean, timeoutMs = 30_000) => until(what, cond, timeoutMs);

const template = (labels: Record<string, string>) => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image: "registry.invalid/app" }] },
});

describe("enricher informers against a real kube-apiserver", () => {
  let kube: KubeApiserver;
  let scope: Scope.CloseableScope | undefined;
  let metrics: ReturnType<typeof makeMetrics>;
  const index = new MetadataIndex({
    graceMs: 60_000,
    cidrs: [{ name: "vpc", cidr: "10.0.0.0/8" }],
    encoder: encodeEndpoint,
  });
  const resolve = (ip: string, t = Date.now()) => index.resolve(ip, t).endpoint();
  const restarts = async (kind: string) => {
    const text = await metrics.registry.getSingleMetricAsString("netpulse_enricher_informer_restarts_total");
    return Number(new RegExp(`resource="${kind}"} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  beforeAll(async () => {
    kube = await KubeApiserver.start();
    await kube.grant(chartClusterRole("netpulse-enricher"));
  }, 150_000);
  afterAll(async () => {
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void));
    await kube?.close();
  });

  it("lists every kind in pages, resolves owners and follows adds, updates and deletes", async () => {
    await kube.namespace("shop");
    // A Node keeps the status it is created with (that is how a kubelet registers).
    await kube.create({
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-a" },
      status: { addresses: [{ type: "InternalIP", address: "192.168.0.10" }] },
    });
    const web = await kube.create({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) },
    });
    const rs = await kube.create({
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web-5d", namespace: "shop", ownerReferences: [ownerRef(web)] },
      spec: { selector: { matchLabels: { app: "web" } }, template: template({ app: "web" }) },
    });
    const cron = await kube.create({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly", namespace: "shop" },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: { spec: { template: { spec: { ...template({}).spec, restartPolicy: "Never" } } } },
      },
    });
    const job = await kube.create({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "nightly-1", namespace: "shop", ownerReferences: [ownerRef(cron)] },
      spec: { template: { spec: { ...template({}).spec, restartPolicy: "Never" } } },
    });
    await kube.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "shop" },
      spec: { clusterIP: "10.96.0.20", selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const created = Date.now();
    const ipOf = (i: number) => `10.2.${i >> 8}.${i & 255}`;
    // An IP (a second request, to the status subresource) only where the test looks one up.
    const withIp = (i: number) => i === 1 || i === 2 || i === PODS - 1;
    for (let i = 0; i < PODS; i += 40)
      await Promise.all(
        Array.from({ length: Math.min(40, PODS - i) }, (_, j) =>
          kube.pod("shop", `web-5d-${i + j}`, {
            owner: rs,
            labels: { app: "web" },
            ...(withIp(i + j) ? { ip: ipOf(i + j) } : {}),
          }),
        ),
      );
    await kube.pod("shop", "nightly-1-x", { ip: "10.3.0.1", owner: job });
    await kube.create({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "web-abc", namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.2.0.1"], targetRef: { kind: "Pod", name: "web-5d-1", namespace: "shop" } }],
      ports: [{ port: 80 }],
    });
    console.log(`wrote ${PODS + 1} pods and 8 other objects in ${Date.now() - created} ms`);

    scope = Effect.runSync(Scope.make());
    const started = await Effect.runPromise(
      Effect.gen(function* () {
        metrics = yield* Metrics;
        return yield* runInformers(
          kube.kubeConfig("netpulse"),
          { labelKeys: ["app"], backoffBaseMs: 100, backoffMaxMs: 500 },
          (ev) => index.apply(ev, Date.now()),
        );
      }).pipe(Scope.extend(scope), Effect.provide(Metrics.layerTest)),
    );
    await Effect.runPromise(started.synced);

    // The server's record of the informers' requests: pods listed in pages of 500, each kind
    // listed once and watched, nothing refused.
    const podLists = kube.requests().filter((r) => r.verb === "list" && r.resource === "pods");
    expect(podLists.map((r) => /[?&]limit=500/.test(r.uri))).toEqual([true, true]);
    expect(podLists[1]?.uri).toMatch(/[?&]continue=/);
    for (const r of RESOURCES) expect(kube.lists(r), r).toBe(r === "pods" ? 2 : 1);
    await waitFor(
      "a watch per kind",
      () =>
        new Set(
          kube
            .requests()
            .filter((r) => r.verb === "watch")
            .map((r) => r.resource),
        ).size === ENRICHER_KINDS.length,
    );
    expect(kube.requests().filter((r) => r.code >= 400)).toEqual([]);

    expect(index.sizes().Pod).toBe(PODS + 1);
    expect(resolve("10.2.0.1")).toMatchObject({
      kind: "pod",
      namespace: "shop",
      pod: "web-5d-1",
      workload_kind: "Deployment",
      workload_name: "web",
      service: "web",
      labels: { app: "web" },
    });
    expect(resolve(ipOf(PODS - 1))).toMatchObject({ pod: `web-5d-${PODS - 1}`, workload_name: "web" });
    expect(resolve("10.3.0.1")).toMatchObject({ workload_kind: "CronJob", workload_name: "nightly" });
    expect(resolve("10.96.0.20")).toMatchObject({ kind: "service", service: "web" });
    expect(resolve("192.168.0.10")).toMatchObject({ kind: "node", node: "node-a" });

    // add
    await kube.pod("shop", "api-0", { ip: "10.4.0.7", labels: { app: "api" } });
    await waitFor("added pod", () => resolve("10.4.0.7").pod === "api-0");
    expect(resolve("10.4.0.7").labels).toEqual({ app: "api" });
    // update: new labels
    await kube.objects.patch(
      { apiVersion: "v1", kind: "Pod", metadata: { name: "api-0", namespace: "shop", labels: { app: "api-v2" } } },
      undefined,
      undefined,
      undefined,
      undefined,
      "application/merge-patch+json",
    );
    await waitFor("relabelled pod", () => resolve("10.4.0.7").labels["app"] === "api-v2");
    // delete, then the IP reused by a new pod
    const beforeDelete = Date.now() - 1;
    await kube.objects.delete(pod("api-0"), undefined, undefined, 0);
    await waitFor("deleted pod", () => resolve("10.4.0.7", Date.now() + 1).kind === "external");
    await kube.pod("shop", "api-1", { ip: "10.4.0.7" });
    await waitFor("IP reused", () => resolve("10.4.0.7", Date.now() + 1_000).pod === "api-1");
    expect(resolve("10.4.0.7", beforeDelete).pod).toBe("api-0");
    // a deleted Service
    await kube.objects.delete({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "shop" } });
    await waitFor("deleted service", () => resolve("10.96.0.20", Date.now() + 1).kind !== "service");
    console.log(
      `real server: ${PODS + 1} pods listed in ${podLists.length} pages; add, relabel, delete, IP reuse and a ` +
        `service delete followed; ${kube.requests().length} informer requests audited`,
    );
  }, 180_000);

  it("survives a stop and restart of the API server by relisting", async () => {
    const listsBefore = Object.fromEntries(RESOURCES.map((r) => [r, kube.lists(r)]));
    const restartsBefore = await restarts("Pod");
    const t0 = Date.now();
    await kube.stop();
    const stopped = Date.now();
    await until("a Pod informer restart", async () => (await restarts("Pod")) > restartsBefore, 30_000);
    const t1 = Date.now();
    await kube.restart();
    console.log(`server stopped in ${stopped - t0} ms, started again in ${Date.now() - t1} ms`);

    // Written after the restart: seen through the relist or the new watch.
    await kube.pod("shop", "after-restart", { ip: "10.6.0.1", labels: { app: "late" } });
    await kube.objects.delete(pod("web-5d-2"), undefined, undefined, 0);
    await waitFor("pod added after the restart", () => resolve("10.6.0.1").pod === "after-restart");
    await waitFor("pod deleted after the restart", () => resolve("10.2.0.2", Date.now() + 1).kind === "external");
    await waitFor("every kind listed again", () => RESOURCES.every((r) => kube.lists(r) > (listsBefore[r] ?? 0)));
    expect(index.sizes().Pod).toBe(PODS + 2); // web-5d-*, nightly-1-x, api-1, after-restart; not web-5d-2
    console.log(
      `restart: informer restarts Pod ${await restarts("Pod")}, list requests since the stop: ${RESOURCES.map((r) => `${r} ${kube.lists(r) - (listsBefore[r] ?? 0)}`).join(", ")}`,
    );
  }, 180_000);
});

const pod = (name: string): KubernetesObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "shop" },
});
