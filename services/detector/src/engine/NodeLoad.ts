// "Most pairs of one node slow at once": per capturing node, the workload pairs it reported in
// the current event-time bucket and those of them that were slow. When at least `minPairs` pairs
// were seen and `ratio` of them were slow, a slow pair's anomaly names the node as the probable
// cause instead of the pair. Memory is the pairs of the current and previous bucket per node.

export interface NodeLoadOptions {
  readonly bucketNs: bigint;
  readonly minPairs: number;
  readonly ratio: number;
}

export const NODE_LOAD_DEFAULTS: NodeLoadOptions = { bucketNs: 10_000_000_000n, minPairs: 5, ratio: 0.8 };

interface Bucket {
  id: bigint;
  /** [startNs, endNs): the bucket's time range, so most flows skip the division. */
  startNs: bigint;
  endNs: bigint;
  seen: Set<string>;
  slow: Set<string>;
}

interface NodeBuckets {
  current: Bucket;
  previous: Bucket | undefined;
}

export class NodeLoad {
  readonly #nodes = new Map<string, NodeBuckets>();

  constructor(readonly options: NodeLoadOptions = NODE_LOAD_DEFAULTS) {}

  /** A flow window of `pair` reported by `node`, ending at `endNs`. */
  see(node: string, pair: string, endNs: bigint, slow: boolean): void {
    let n = this.#nodes.get(node);
    let b = n?.current;
    if (n === undefined || b === undefined || endNs < b.startNs || endNs >= b.endNs) {
      const id = endNs / this.options.bucketNs;
      if (n === undefined) {
        n = { current: this.#bucket(id), previous: undefined };
        this.#nodes.set(node, n);
      }
      b = n.current;
      if (id > b.id) {
        n.previous = id === b.id + 1n ? b : undefined;
        b = n.current = this.#bucket(id);
      } else if (id < b.id) {
        // A late window: count it in the bucket it belongs to if we still hold it, else drop it.
        if (n.previous === undefined || n.previous.id !== id) return;
        b = n.previous;
      }
    }
    b.seen.add(pair);
    if (slow) b.slow.add(pair);
  }

  #bucket(id: bigint): Bucket {
    const w = this.options.bucketNs;
    return { id, startNs: id * w, endNs: (id + 1n) * w, seen: new Set(), slow: new Set() };
  }

  /** The node-wide hint for `node`, judged on its current bucket or the one before, or undefined. */
  hint(node: string): string | undefined {
    const n = this.#nodes.get(node);
    if (n === undefined) return undefined;
    return this.#judge(node, n.current) ?? (n.previous === undefined ? undefined : this.#judge(node, n.previous));
  }

  #judge(node: string, b: Bucket): string | undefined {
    const seen = b.seen.size;
    const slow = b.slow.size;
    if (seen < this.options.minPairs || slow < this.options.ratio * seen) return undefined;
    return `node ${node}: ${slow} of ${seen} pairs it reports are slow in the same window; suspect the node, not the pairs`;
  }
}
