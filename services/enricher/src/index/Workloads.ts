// Owner resolution: a pod's workload is its controlling owner, except that a ReplicaSet or Job is
// looked through to its own owner (Deployment, CronJob) when it has one. Pods are tracked by
// their direct owner so a ReplicaSet/Job arriving or changing after its pods re-resolves them.
import type { Owner, SlimPod, SlimWorkload } from "@netpulse/kube";

const ownerKeyOf = (p: SlimPod): string =>
  p.owner === null ? "" : `${p.metadata.namespace ?? ""}/${p.owner.kind}/${p.owner.name}`;

export class Workloads<P> {
  /** "ns/Kind/name" of each ReplicaSet/Job → its controlling owner (null: bare). */
  private readonly owners = new Map<string, Owner | null>();
  /** Direct owner key → pods it owns. */
  private readonly owned = new Map<string, Set<P>>();
  private readonly counts = { ReplicaSet: 0, Job: 0 };

  constructor(private readonly changed: (pod: P) => void) {}

  count(kind: "ReplicaSet" | "Job"): number {
    return this.counts[kind];
  }

  /** The workload `p` belongs to; a pod without owner is its own workload (kind Pod). */
  of(p: SlimPod): Owner {
    const o = p.owner;
    if (o === null) return { kind: "Pod", name: p.metadata.name };
    if (o.kind === "ReplicaSet" || o.kind === "Job") return this.owners.get(ownerKeyOf(p)) ?? o;
    return o;
  }

  /** Track `pod` (now `p`, or gone when null) under its direct owner; returns the key to pass next time. */
  track(pod: P, previousKey: string, p: SlimPod | null): string {
    const key = p === null ? "" : ownerKeyOf(p);
    if (key === previousKey) return key;
    const old = this.owned.get(previousKey);
    old?.delete(pod);
    if (old?.size === 0) this.owned.delete(previousKey);
    if (key !== "") {
      let set = this.owned.get(key);
      if (set === undefined) this.owned.set(key, (set = new Set<P>()));
      set.add(pod);
    }
    return key;
  }

  apply(w: SlimWorkload, del: boolean): void {
    const k = `${w.metadata.namespace ?? ""}/${w.kind}/${w.metadata.name}`;
    const had = this.owners.has(k);
    const before = this.owners.get(k);
    if (del) this.owners.delete(k);
    else this.owners.set(k, w.owner);
    if (had === del) this.counts[w.kind] += del ? -1 : 1;
    const after = this.owners.get(k);
    if (before?.kind !== after?.kind || before?.name !== after?.name) {
      for (const pod of this.owned.get(k) ?? []) this.changed(pod);
    }
  }
}
