// The enricher's informers, driven by the real @kubernetes/client-node against a local server
// that speaks the list/watch protocol (test/support/fakeKubeApi.ts).
import * as Effect from "effect/Effect";
import * as Exit from "effect/Exit";
import * as Scope from "effect/Scope";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Metrics } from "@netpulse/runtime/observability/Metrics";
import { encodeEndpoint } from "../services/enricher/src/enrich/endpointType.js";
import { MetadataIndex } from "../services/enricher/src/index/MetadataIndex.js";
import { ENRICHER_KINDS as WATCHED, runInformers } from "../services/enricher/src/k8s/KubeSource.js";
import { FakeKubeApi } from "./support/fakeKubeApi.js";
import * as k from "./support/kubeObjects.js";
import { until } from "./support/processes.js";

const KINDS = WATCHED.length;

const waitFor = (what: string, cond: () => boolean, timeoutMs = 10_000) => until(what, cond, timeoutMs);

describe("enricher informers against a list/watch server", () => {
  let api: FakeKubeApi;
  let scope: Scope.CloseableScope;
  let index: MetadataIndex;
  let events = 0;
  let metrics: ReturnType<typeof import("@netpulse/runtime/observability/Metrics").makeMetrics>;

  const start = async () => {
    scope = Effect.runSync(Scope.make());
    const program = Effect.gen(function* () {
      metrics = yield* Metrics;
      return yield* runInformers(
        api.kubeConfig(),
        { labelKeys: ["app"], backoffBaseMs: 50, backoffMaxMs: 200 },
        (ev) => {
          events++;
          index.apply(ev, Date.now());
        },
      );
    });
    return Effect.runPromise(program.pipe(Scope.extend(scope), Effect.provide(Metrics.layerTest)));
  };
  const resolve = (ip: string, t = Date.now()) => index.resolve(ip, t).endpoint();
  const lists = (kind: string) => api.requests.filter((r) => r.kind === kind && !r.watch).length;

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    index = new MetadataIndex({
      graceMs: 60_000,
      cidrs: [{ name: "vpc", cidr: "10.0.0.0/8" }],
      encoder: encodeEndpoint,
    });
    events = 0;
  });

  afterEach(async () => {
    await Effect.runPromise(Scope.close(scope, Exit.void));
    await api.close();
  });

  it("lists every resource, resolves owners, and is synced only after every first list", async () => {
    api.apply(k.namespace("shop"));
    api.apply(k.node("node-a", "192.168.0.10"));
    api.apply(k.replicaSet("shop", "web-5d", "web"));
    api.apply(k.job("shop", "nightly-1", "nightly"));
    api.apply(k.service("shop", "web", "10.96.0.1"));
    for (let i = 0; i < 1200; i++)
      api.apply(
        k.pod("shop", `web-5d-${i}`, {
          ip: `10.2.${i >> 8}.${i & 255}`,
          owner: { kind: "ReplicaSet", name: "web-5d" },
          labels: { app: "web" },
        }),
      );
    api.apply(k.pod("shop", "nightly-1-x", { ip: "10.3.0.1", owner: { kind: "Job", name: "nightly-1" } }));
    api.apply(k.endpointSlice("shop", "web-abc", "web", [{ ip: "10.2.0.1", pod: "web-5d-1" }]));
    api.failNext("EndpointSlice", 500, 1000);

    const { synced } = await start();
    let isSynced = false;
    void Effect.runPromise(synced).then(() => (isSynced = true));
    await waitFor("EndpointSlice list retried", () => lists("EndpointSlice") >= 3);
    await waitFor("pods listed", () => index.sizes().Pod === 1201);
    expect(isSynced).toBe(false);
    expect(await metrics.registry.getSingleMetricAsString("netpulse_enricher_informer_restarts_total")).toMatch(
      /resource="EndpointSlice"} [3-9]|resource="EndpointSlice"} \d\d/,
    );

    api.clearFailures();
    await Effect.runPromise(synced);
    // Pods were read in pages of 500.
    expect(api.requests.filter((r) => r.kind === "Pod" && !r.watch).map((r) => r.query["limit"])).toEqual([
      "500",
      "500",
      "500",
    ]);
    expect(resolve("10.2.0.1")).toMatchObject({
      kind: "pod",
      pod: "web-5d-1",
      workload_kind: "Deployment",
      workload_name: "web",
      service: "web",
      labels: { app: "web" },
    });
    expect(resolve("10.3.0.1")).toMatchObject({ workload_kind: "CronJob", workload_name: "nightly" });
    expect(resolve("10.96.0.1")).toMatchObject({ kind: "service", service: "web" });
    expect(resolve("192.168.0.10")).toMatchObject({ kind: "node", node: "node-a" });
    await waitFor("all watches open", () => api.openWatches() === KINDS);
    expect(api.requests.filter((r) => r.watch).every((r) => r.query["allowWatchBookmarks"] === "true")).toBe(true);
  });

  it("follows pod churn: a reused IP answers late flows with the old pod, new flows with the new one", async () => {
    const old = api.apply(k.pod("shop", "api-old", { ip: "10.4.0.7" }));
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches", () => api.openWatches() === KINDS);
    expect(resolve("10.4.0.7").pod).toBe("api-old");

    const beforeDelete = Date.now() - 1;
    api.delete(old);
    await waitFor("delete seen", () => resolve("10.4.0.7", Date.now() + 1).kind === "external");
    await new Promise((r) => setTimeout(r, 5));
    api.apply(k.pod("shop", "api-new", { ip: "10.4.0.7", created: new Date().toISOString() }));
    await waitFor("new pod seen", () => resolve("10.4.0.7", Date.now() + 1_000).pod === "api-new");
    expect(resolve("10.4.0.7", beforeDelete).pod).toBe("api-old");
    expect(resolve("10.4.0.7", Date.now() + 1_000).pod).toBe("api-new");
  });

  it("resumes from the last bookmark after the server ends a watch", async () => {
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches", () => api.openWatches() === KINDS);
    api.apply(k.namespace("other")); // moves the resourceVersion past the pods' list
    api.bookmark();
    const bookmarkRv = api.resourceVersion;
    await new Promise((r) => setTimeout(r, 50));
    const watchesBefore = api.requests.filter((r) => r.kind === "Pod" && r.watch).length;
    api.dropWatches("end");
    await waitFor(
      "pod watch resumed",
      () => api.requests.filter((r) => r.kind === "Pod" && r.watch).length > watchesBefore,
    );
    const resumed = api.requests.filter((r) => r.kind === "Pod" && r.watch).at(-1);
    expect(resumed?.query["resourceVersion"]).toBe(bookmarkRv);
    expect(lists("Pod")).toBe(1);
    api.apply(k.pod("shop", "after-resume", { ip: "10.4.1.1" }));
    await waitFor("event after resume", () => resolve("10.4.1.1").pod === "after-resume");
  });

  it("relists after 410 Gone and drops objects deleted while the watch was gone", async () => {
    const gone = api.apply(k.pod("shop", "vanishes", { ip: "10.5.0.1" }));
    api.apply(k.pod("shop", "stays", { ip: "10.5.0.2" }));
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches", () => api.openWatches() === KINDS);

    api.deleteSilently(gone);
    api.applySilently(k.pod("shop", "appears", { ip: "10.5.0.3" }));
    api.expireWatches();
    await waitFor("relist", () => lists("Pod") === 2);
    await waitFor("index caught up", () => resolve("10.5.0.3").pod === "appears" && index.sizes().Pod === 2);
    expect(resolve("10.5.0.2").pod).toBe("stays");
    expect(resolve("10.5.0.1", Date.now() + 1).kind).toBe("external");
  });

  it("relists after 410 Gone even when the server keeps the stream open", async () => {
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches", () => api.openWatches() === KINDS);
    api.applySilently(k.pod("shop", "late", { ip: "10.5.1.1" }));
    api.expireWatches({ keepOpen: true });
    await waitFor("relist", () => lists("Pod") === 2);
    await waitFor("index caught up", () => resolve("10.5.1.1").pod === "late");
  });

  it("reconnects after the server cuts the watch connections", async () => {
    const { synced } = await start();
    await Effect.runPromise(synced);
    await waitFor("watches", () => api.openWatches() === KINDS);
    const watches = api.requests.filter((r) => r.watch).length;
    api.dropWatches("abrupt");
    await waitFor(
      "reconnected",
      () => api.requests.filter((r) => r.watch).length >= watches + KINDS && api.openWatches() === KINDS,
    );
    const before = events;
    api.apply(k.pod("shop", "after-cut", { ip: "10.6.0.1" }));
    await waitFor("event after reconnect", () => resolve("10.6.0.1").pod === "after-cut");
    expect(events).toBeGreaterThan(before);
  });
});
