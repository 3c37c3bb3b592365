// Which Services each pod backs, from EndpointSlices: an endpoint names its pod by targetRef, or
// only by address (then the pod holding that IP now). Counted per slice, so a pod in two slices
// of one Service stays a member until both drop it.
import type { SlimEndpointSlice } from "@netpulse/kube";

interface SliceEntry {
  readonly service: string;
  readonly pods: ReadonlyArray<string>;
}

export class ServiceMembership {
  private readonly slices = new Map<string, SliceEntry>();
  private readonly podServices = new Map<string, Map<string, number>>();

  constructor(
    /** Pod key ("ns/name") of the pod holding `ip` now, or null. */
    private readonly holderOf: (ip: string) => string | null,
    /** Called with every pod key whose membership may have changed. */
    private readonly changed: (podKey: string) => void,
  ) {}

  get size(): number {
    return this.slices.size;
  }

  /** Services backed by the pod, sorted and comma-joined ("" for none). */
  servicesOf(podKey: string): string {
    const m = this.podServices.get(podKey);
    return m === undefined ? "" : [...m.keys()].sort().join(",");
  }

  apply(s: SlimEndpointSlice, del: boolean): void {
    const ns = s.metadata.namespace ?? "";
    const k = `${ns}/${s.metadata.name}`;
    const prev = this.slices.get(k);
    if (prev !== undefined) this.count(prev, -1);
    if (del || s.service === "") {
      this.slices.delete(k);
      return;
    }
    const pods = new Set<string>();
    for (const t of s.targets) {
      if (t.pod !== null) pods.add(`${ns}/${t.pod}`);
      else
        for (const ip of t.ips) {
          const holder = this.holderOf(ip);
          if (holder !== null) pods.add(holder);
        }
    }
    const entry: SliceEntry = { service: s.service, pods: [...pods] };
    this.slices.set(k, entry);
    this.count(entry, 1);
  }

  private count(slice: SliceEntry, delta: 1 | -1): void {
    for (const podKey of slice.pods) {
      let m = this.podServices.get(podKey);
      if (m === undefined) this.podServices.set(podKey, (m = new Map<string, number>()));
      const n = (m.get(slice.service) ?? 0) + delta;
      if (n > 0) m.set(slice.service, n);
      else m.delete(slice.service);
      if (m.size === 0) this.podServices.delete(podKey);
      this.changed(podKey);
    }
  }
}
