// The metadata index: applies add/update/delete events of slim objects (from informers or static
// manifests alike) and answers "who is this IP for a flow that started at t". Owners are resolved
// through ReplicaSets/Jobs (Pod → ReplicaSet → Deployment, Pod → Job → CronJob); pods backing a
// Service (EndpointSlice targetRef or address) carry its name. Pure and synchronous: the hot path.

import { emptyEndpoint, type Endpoint } from "@netpulse/runtime/records";
import type { MetaEvent, SlimNamespace, SlimNode, SlimPod, SlimService } from "@netpulse/kube";
import type { EnricherKind as SlimKind } from "../MetadataSource.js";
import { CidrNames, type NamedCidr } from "./CidrNames.js";
import { IpTable } from "./IpTable.js";
import { ServiceMembership } from "./ServiceMembership.js";
import { Workloads } from "./Workloads.js";
import { Target, type EndpointEncoder } from "./Target.js";

export interface IndexOptions {
  readonly graceMs: number;
  readonly cidrs: ReadonlyArray<NamedCidr>;
  readonly encoder: EndpointEncoder;
  readonly maxExternal?: number;
}

interface PodEntry {
  slim: SlimPod;
  readonly target: Target;
  held: ReadonlyArray<string>;
  claimed: ReadonlyArray<string>;
  ownerKey: string;
}

const PRIORITY = { node: 3, service: 2, hostPod: 1 } as const;

const key = (o: { readonly metadata: { readonly name: string; readonly namespace?: string } }) =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const minus = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.filter((x) => !b.includes(x));

export class MetadataIndex {
  readonly ips: IpTable;
  private readonly pods = new Map<string, PodEntry>();
  private readonly workloads = new Workloads<PodEntry>((e) => e.target.invalidate());
  private readonly counts: Record<SlimKind, number> = {
    Pod: 0,
    Node: 0,
    Namespace: 0,
    Service: 0,
    EndpointSlice: 0,
    ReplicaSet: 0,
    Job: 0,
  };
  private readonly nodes = new Map<string, SlimNode>();
  private readonly services = new Map<string, { slim: SlimService; target: Target }>();
  private readonly namespaces = new Map<string, SlimNamespace>();
  private readonly membership = new ServiceMembership(
    (ip) => this.ips.holder(ip)?.ref ?? null,
    (podKey) => this.pods.get(podKey)?.target.invalidate(),
  );
  private readonly nodeTargets = new Map<string, Target>();
  private readonly externalTargets = new Map<string, Target>();
  private readonly cidrNames: CidrNames;
  private readonly unknown: Target;

  constructor(private readonly options: IndexOptions) {
    this.cidrNames = new CidrNames(options.cidrs);
    this.unknown = this.target("unknown", "", () => emptyEndpoint);
    this.ips = new IpTable(options.graceMs, (ip) => this.external(ip), options.maxExternal);
  }

  /** The endpoint of `ip` for a flow that started at `tMs` (ms since the epoch). */
  resolve(ip: string, tMs: number): Target {
    return this.ips.lookup(ip, tMs);
  }

  apply(event: MetaEvent, nowMs: number): void {
    const o = event.obj;
    const del = event.type === "delete";
    switch (o.kind) {
      case "Pod":
        return del ? this.deletePod(key(o), nowMs) : this.upsertPod(o, nowMs);
      case "Node":
        return this.applyNode(o, del);
      case "Namespace":
        if (del) this.namespaces.delete(o.metadata.name);
        else this.namespaces.set(o.metadata.name, o);
        this.counts.Namespace = this.namespaces.size;
        return;
      case "Service":
        return this.applyService(o, del);
      case "EndpointSlice":
        this.membership.apply(o, del);
        this.counts.EndpointSlice = this.membership.size;
        return;
      case "ReplicaSet":
      case "Job":
        this.workloads.apply(o, del);
        this.counts[o.kind] = this.workloads.count(o.kind);
        return;
    }
  }

  sweep(nowMs: number): void {
    this.ips.sweep(nowMs);
  }

  /** Objects per kind plus known IPs, for the size gauges. */
  sizes(): Readonly<Record<SlimKind | "IP", number>> {
    return { ...this.counts, IP: this.ips.size };
  }

  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(name)?.labels;
  }

  private target(kind: string, ref: string, build: () => Endpoint): Target {
    return new Target(kind, ref, build, this.options.encoder);
  }

  private external(ip: string): Target {
    const name = this.cidrNames.name(ip);
    if (name === null) return this.unknown;
    let t = this.externalTargets.get(name);
    if (t === undefined) {
      t = this.target("external", "", () => ({ ...emptyEndpoint, kind: "external", external_name: name }));
      this.externalTargets.set(name, t);
    }
    return t;
  }

  private nodeTarget(name: string): Target {
    let t = this.nodeTargets.get(name);
    if (t === undefined) {
      t = this.target("node", "", () => ({ ...emptyEndpoint, kind: "node", node: name, host_network: true }));
      this.nodeTargets.set(name, t);
    }
    return t;
  }

  private podEndpoint(entry: PodEntry, podKey: string): Endpoint {
    const p = entry.slim;
    const w = this.workloads.of(p);
    return {
      kind: "pod",
      pod: p.metadata.name,
      namespace: p.metadata.namespace ?? "",
      node: p.nodeName,
      workload_kind: w.kind,
      workload_name: w.name,
      service: this.membership.servicesOf(podKey),
      labels: p.labels,
      host_network: false,
      external_name: "",
    };
  }

  private upsertPod(p: SlimPod, nowMs: number): void {
    const podKey = key(p);
    let entry = this.pods.get(podKey);
    if (entry !== undefined && entry.slim.metadata.uid !== p.metadata.uid) {
      // Same name, new pod (StatefulSet replacement seen only through a relist).
      this.deletePod(podKey, nowMs);
      entry = undefined;
    }
    if (entry === undefined) {
      const e: PodEntry = {
        slim: p,
        target: this.target("pod", podKey, () => this.podEndpoint(e, podKey)),
        held: [],
        claimed: [],
        ownerKey: "",
      };
      entry = e;
      this.pods.set(podKey, e);
      this.counts.Pod = this.pods.size;
    }
    entry.slim = p;
    entry.target.invalidate();
    entry.ownerKey = this.workloads.track(entry, entry.ownerKey, p);

    const held = p.terminal || p.hostNetwork ? [] : p.ips;
    for (const ip of minus(entry.held, held)) this.ips.release(ip, entry.target, nowMs);
    const from = Number.isFinite(p.createdMs) ? Math.min(p.createdMs, nowMs) : nowMs;
    for (const ip of minus(held, entry.held)) this.ips.hold(ip, entry.target, from);
    entry.held = held;

    const claimed = p.hostNetwork && !p.terminal && p.nodeName !== "" ? p.ips : [];
    for (const ip of minus(entry.claimed, claimed)) this.ips.unclaim(ip, `hostpod/${podKey}`);
    for (const ip of claimed) this.ips.claim(ip, `hostpod/${podKey}`, PRIORITY.hostPod, this.nodeTarget(p.nodeName));
    entry.claimed = claimed;
  }

  private deletePod(podKey: string, nowMs: number): void {
    const entry = this.pods.get(podKey);
    if (entry === undefined) return;
    for (const ip of entry.held) this.ips.release(ip, entry.target, nowMs);
    for (const ip of entry.claimed) this.ips.unclaim(ip, `hostpod/${podKey}`);
    entry.ownerKey = this.workloads.track(entry, entry.ownerKey, null);
    this.pods.delete(podKey);
    this.counts.Pod = this.pods.size;
  }

  private applyNode(n: SlimNode, del: boolean): void {
    const name = n.metadata.name;
    const old = this.nodes.get(name)?.ips ?? [];
    const now = del ? [] : n.ips;
    for (const ip of minus(old, now)) this.ips.unclaim(ip, `node/${name}`);
    for (const ip of now) this.ips.claim(ip, `node/${name}`, PRIORITY.node, this.nodeTarget(name));
    if (del) this.nodes.delete(name);
    else this.nodes.set(name, n);
    this.counts.Node = this.nodes.size;
  }

  private applyService(s: SlimService, del: boolean): void {
    const k = key(s);
    const prev = this.services.get(k);
    const source = `svc/${k}`;
    for (const ip of minus(prev?.slim.clusterIPs ?? [], del ? [] : s.clusterIPs)) this.ips.unclaim(ip, source);
    if (del) {
      this.services.delete(k);
    } else {
      const name = s.metadata.name;
      const namespace = s.metadata.namespace ?? "";
      const target =
        prev?.target ??
        this.target("service", "", () => ({ ...emptyEndpoint, kind: "service", service: name, namespace }));
      this.services.set(k, { slim: s, target });
      for (const ip of s.clusterIPs) this.ips.claim(ip, source, PRIORITY.service, target);
    }
    this.counts.Service = this.services.size;
  }
}
