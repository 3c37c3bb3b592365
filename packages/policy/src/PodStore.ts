// Pods indexed by "namespace/name", by IP (canonical text) and by namespace, kept in step on
// every upsert/delete so lookups for probes and invalidation per namespace stay O(1).
import type { PodInfo } from "./model.js";

export const podKey = (ns: string, name: string): string => `${ns}/${name}`;

export class PodStore {
  readonly #pods = new Map<string, PodInfo>();
  readonly #byIp = new Map<string, PodInfo[]>();
  readonly #byNs = new Map<string, Set<string>>();

  get size(): number {
    return this.#pods.size;
  }

  get(key: string): PodInfo | undefined {
    return this.#pods.get(key);
  }

  /** Several pods share an IP only through hostNetwork (the node's IP); a real pod wins. */
  byIp(ipText: string): PodInfo | undefined {
    const owners = this.#byIp.get(ipText);
    return owners?.find((p) => !p.hostNetwork) ?? owners?.[0];
  }

  keysInNamespace(ns: string): Iterable<string> {
    return this.#byNs.get(ns) ?? [];
  }

  upsert(pod: PodInfo): void {
    const key = podKey(pod.namespace, pod.name);
    this.delete(key);
    this.#pods.set(key, pod);
    for (const ip of pod.ips) {
      const list = this.#byIp.get(ip.text);
      if (list === undefined) this.#byIp.set(ip.text, [pod]);
      else list.push(pod);
    }
    let inNs = this.#byNs.get(pod.namespace);
    if (inNs === undefined) this.#byNs.set(pod.namespace, (inNs = new Set<string>()));
    inNs.add(key);
  }

  /** Returns the removed pod, if there was one. */
  delete(key: string): PodInfo | undefined {
    const old = this.#pods.get(key);
    if (old === undefined) return undefined;
    this.#pods.delete(key);
    for (const ip of old.ips) {
      const list = this.#byIp.get(ip.text)?.filter((p) => p !== old);
      if (list === undefined || list.length === 0) this.#byIp.delete(ip.text);
      else this.#byIp.set(ip.text, list);
    }
    this.#byNs.get(old.namespace)?.delete(key);
    return old;
  }
}
