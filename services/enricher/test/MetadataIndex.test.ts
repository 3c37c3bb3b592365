import { describe, expect, it } from "vitest";
import { encodeEndpoint } from "../src/enrich/endpointType.js";
import { MetadataIndex } from "../src/index/MetadataIndex.js";
import { slim, type MetaEvent } from "@netpulse/kube";
import * as k from "../../../test/support/kubeObjects.js";

const LABELS = ["app", "version"];
const T0 = Date.parse("2026-01-01T00:00:00Z");

const makeIndex = (graceMs = 60_000) =>
  new MetadataIndex({
    graceMs,
    encoder: encodeEndpoint,
    cidrs: [
      { name: "internet", cidr: "0.0.0.0/0" },
      { name: "vpc", cidr: "10.0.0.0/8" },
      { name: "corp", cidr: "10.20.0.0/16" },
      { name: "v6net", cidr: "2001:db8::/32" },
    ],
  });

const ev = (type: MetaEvent["type"], raw: unknown): MetaEvent => {
  const obj = slim(raw, LABELS);
  if (obj === null) throw new Error("unsupported object");
  return { type, obj };
};

const upsert = (idx: MetadataIndex, now: number, ...objs: unknown[]) =>
  objs.forEach((o) => idx.apply(ev("upsert", o), now));
const ep = (idx: MetadataIndex, ip: string, t = T0 + 10_000) => idx.resolve(ip, t).endpoint();

describe("owner resolution", () => {
  it("resolves every workload kind through ReplicaSets and Jobs", () => {
    const idx = makeIndex();
    upsert(
      idx,
      T0,
      k.replicaSet("shop", "web-7d9f", "web"),
      k.replicaSet("shop", "bare-rs"),
      k.job("batch", "report-2901", "report"),
      k.job("batch", "oneoff"),
      k.pod("shop", "web-7d9f-x1", { ip: "10.1.0.1", owner: { kind: "ReplicaSet", name: "web-7d9f" } }),
      k.pod("shop", "bare-rs-x2", { ip: "10.1.0.2", owner: { kind: "ReplicaSet", name: "bare-rs" } }),
      k.pod("batch", "report-2901-abc", { ip: "10.1.0.3", owner: { kind: "Job", name: "report-2901" } }),
      k.pod("batch", "oneoff-q", { ip: "10.1.0.4", owner: { kind: "Job", name: "oneoff" } }),
      k.pod("db", "pg-0", { ip: "10.1.0.5", owner: { kind: "StatefulSet", name: "pg" } }),
      k.pod("kube-system", "agent-zz", { ip: "10.1.0.6", owner: { kind: "DaemonSet", name: "agent" } }),
      k.pod("default", "lonely", { ip: "10.1.0.7" }),
    );
    const w = (ip: string) => [ep(idx, ip).workload_kind, ep(idx, ip).workload_name];
    expect(w("10.1.0.1")).toEqual(["Deployment", "web"]);
    expect(w("10.1.0.2")).toEqual(["ReplicaSet", "bare-rs"]);
    expect(w("10.1.0.3")).toEqual(["CronJob", "report"]);
    expect(w("10.1.0.4")).toEqual(["Job", "oneoff"]);
    expect(w("10.1.0.5")).toEqual(["StatefulSet", "pg"]);
    expect(w("10.1.0.6")).toEqual(["DaemonSet", "agent"]);
    expect(w("10.1.0.7")).toEqual(["Pod", "lonely"]);
  });

  it("updates a pod's workload when its ReplicaSet arrives after the pod", () => {
    const idx = makeIndex();
    upsert(idx, T0, k.pod("shop", "api-5c-x", { ip: "10.1.1.1", owner: { kind: "ReplicaSet", name: "api-5c" } }));
    expect(ep(idx, "10.1.1.1").workload_kind).toBe("ReplicaSet");
    const bytesBefore = idx.resolve("10.1.1.1", T0).encoded();
    upsert(idx, T0, k.replicaSet("shop", "api-5c", "api"));
    expect(ep(idx, "10.1.1.1")).toMatchObject({ workload_kind: "Deployment", workload_name: "api" });
    expect(idx.resolve("10.1.1.1", T0).encoded().equals(bytesBefore)).toBe(false);
  });
});

describe("endpoint fields", () => {
  it("fills pod, namespace, node, selected labels only", () => {
    const idx = makeIndex();
    upsert(
      idx,
      T0,
      k.pod("shop", "p", { ip: "10.1.2.1", node: "node-b", labels: { app: "web", version: "3", team: "x" } }),
    );
    expect(ep(idx, "10.1.2.1")).toEqual({
      kind: "pod",
      pod: "p",
      namespace: "shop",
      node: "node-b",
      workload_kind: "Pod",
      workload_name: "p",
      service: "",
      labels: { app: "web", version: "3" },
      host_network: false,
      external_name: "",
    });
  });

  it("resolves hostNetwork pods and node addresses to the node", () => {
    const idx = makeIndex();
    upsert(
      idx,
      T0,
      k.node("node-a", "192.168.1.10", "203.0.113.10"),
      k.pod("kube-system", "kube-proxy-a", { ip: "192.168.1.10", node: "node-a", hostNetwork: true }),
      k.pod("kube-system", "hostnet-b", { ip: "192.168.1.11", node: "node-b", hostNetwork: true }),
    );
    expect(ep(idx, "192.168.1.10")).toMatchObject({ kind: "node", node: "node-a", host_network: true, pod: "" });
    expect(ep(idx, "203.0.113.10")).toMatchObject({ kind: "node", node: "node-a" });
    // node-b's Node object is unknown: the hostNetwork pod still tells us the IP is node-b's.
    expect(ep(idx, "192.168.1.11")).toMatchObject({ kind: "node", node: "node-b" });
    idx.apply(ev("delete", k.node("node-a", "192.168.1.10", "203.0.113.10")), T0);
    expect(ep(idx, "203.0.113.10").kind).toBe("external");
    expect(ep(idx, "192.168.1.10")).toMatchObject({ kind: "node", node: "node-a" });
  });

  it("resolves Service ClusterIPs and marks pods backing a Service", () => {
    const idx = makeIndex();
    upsert(
      idx,
      T0,
      k.service("shop", "web", "10.96.0.10"),
      k.pod("shop", "web-1", { ip: "10.1.3.1" }),
      k.pod("shop", "web-2", { ip: "10.1.3.2" }),
      k.endpointSlice("shop", "web-abc", "web", [{ ip: "10.1.3.1", pod: "web-1" }, { ip: "10.1.3.2" }]),
      k.endpointSlice("shop", "web-admin-x", "web-admin", [{ ip: "10.1.3.1", pod: "web-1" }]),
    );
    expect(ep(idx, "10.96.0.10")).toMatchObject({ kind: "service", service: "web", namespace: "shop", pod: "" });
    expect(ep(idx, "10.1.3.1").service).toBe("web,web-admin");
    expect(ep(idx, "10.1.3.2").service).toBe("web");
    idx.apply(ev("delete", k.endpointSlice("shop", "web-admin-x", "web-admin", [])), T0);
    expect(ep(idx, "10.1.3.1").service).toBe("web");
    idx.apply(ev("delete", k.service("shop", "web", "10.96.0.10")), T0);
    expect(ep(idx, "10.96.0.10")).toMatchObject({ kind: "external", external_name: "vpc" });
  });

  it("names external IPs by the most specific configured CIDR", () => {
    const idx = makeIndex();
    expect(ep(idx, "10.20.3.4")).toMatchObject({ kind: "external", external_name: "corp" });
    expect(ep(idx, "10.9.3.4")).toMatchObject({ kind: "external", external_name: "vpc" });
    expect(ep(idx, "8.8.8.8")).toMatchObject({ kind: "external", external_name: "internet" });
    expect(ep(idx, "::ffff:10.20.0.1")).toMatchObject({ kind: "external", external_name: "corp" });
    expect(ep(idx, "2001:db8::1")).toMatchObject({ kind: "external", external_name: "v6net" });
    expect(ep(idx, "fe80::1")).toMatchObject({ kind: "external", external_name: "" });
    expect(ep(idx, "not-an-ip").kind).toBe("unknown");
  });
});

describe("IP reuse", () => {
  it("keeps a deleted pod for late flows during the grace period, the new holder for newer flows", () => {
    const idx = makeIndex(60_000);
    const old = k.pod("shop", "old", { ip: "10.1.4.1", created: "2026-01-01T00:00:00Z" });
    upsert(idx, T0, old);
    const deletedAt = T0 + 100_000;
    idx.apply(ev("delete", old), deletedAt);
    // After deletion and before a new holder: late flows still find the old pod, new ones don't.
    expect(ep(idx, "10.1.4.1", deletedAt - 5_000).pod).toBe("old");
    expect(ep(idx, "10.1.4.1", deletedAt + 1_000).kind).toBe("external");

    const created = new Date(deletedAt + 2_000).toISOString();
    upsert(idx, deletedAt + 3_000, k.pod("shop", "new", { ip: "10.1.4.1", created }));
    expect(ep(idx, "10.1.4.1", deletedAt - 5_000).pod).toBe("old");
    expect(ep(idx, "10.1.4.1", deletedAt + 2_500).pod).toBe("new");

    idx.sweep(deletedAt + 59_000);
    expect(ep(idx, "10.1.4.1", deletedAt - 5_000).pod).toBe("old");
    idx.sweep(deletedAt + 60_001);
    expect(ep(idx, "10.1.4.1", deletedAt - 5_000).pod).toBe("new");
  });

  it("lets a new holder win when the old pod's delete has not arrived yet", () => {
    const idx = makeIndex();
    upsert(idx, T0, k.pod("shop", "old", { ip: "10.1.5.1" }));
    const t1 = T0 + 50_000;
    upsert(idx, t1, k.pod("shop", "new", { ip: "10.1.5.1", created: new Date(t1).toISOString() }));
    expect(ep(idx, "10.1.5.1", t1 - 1_000).pod).toBe("old");
    expect(ep(idx, "10.1.5.1", t1 + 1_000).pod).toBe("new");
  });

  it("frees the IP of a completed pod", () => {
    const idx = makeIndex(1_000);
    upsert(idx, T0, k.pod("batch", "done", { ip: "10.1.6.1" }));
    upsert(idx, T0 + 5_000, k.pod("batch", "done", { ip: "10.1.6.1", phase: "Succeeded" }));
    idx.sweep(T0 + 10_000);
    expect(ep(idx, "10.1.6.1", T0 + 1_000).kind).toBe("external");
    expect(idx.sizes().Pod).toBe(1);
  });
});
