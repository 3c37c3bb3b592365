// One connection, two records: the client's node and the server's node each report it (same
// 5-tuple, src = the connecting side in both, the other direction). Only flows that fired a rule
// are remembered, with the kinds they fired: a finding of a kind the other side's record of an
// overlapping window already gave is the same finding, so it must not count twice. Keyed by the
// flow's own strings and numbers (no key string per finding). Bounded: two generations of at most
// `limit` connections each, the older one dropped when the newer fills.

interface Seen {
  readonly dstIp: string;
  readonly direction: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  kinds: number;
}

/** src IP → (src port, dst port) → the latest windows of connections from there. */
type Generation = Map<string, Map<number, Seen[]>>;

const KEEP = 8;

export class MirrorFilter {
  #current: Generation = new Map();
  #previous: Generation = new Map();
  #size = 0;

  constructor(readonly limit = 1 << 16) {}

  /**
   * Records that a window of this connection, seen from `direction`, fired `kindBit`; returns
   * true when the other side's record of an overlapping window (or this very window again)
   * already fired it: a duplicate.
   */
  duplicate(
    srcIp: string,
    srcPort: number,
    dstIp: string,
    dstPort: number,
    direction: string,
    startNs: bigint,
    endNs: bigint,
    kindBit: number,
  ): boolean {
    const ports = srcPort * 65536 + dstPort;
    let list = this.#current.get(srcIp)?.get(ports);
    if (list === undefined) {
      const old = this.#previous.get(srcIp)?.get(ports);
      if (this.#size >= this.limit) {
        this.#previous = this.#current;
        this.#current = new Map();
        this.#size = 0;
      }
      let byPorts = this.#current.get(srcIp);
      if (byPorts === undefined) this.#current.set(srcIp, (byPorts = new Map<number, Seen[]>()));
      list = old ?? [];
      byPorts.set(ports, list);
      this.#size++;
    }
    let dup = false;
    let mine: Seen | undefined;
    for (const s of list) {
      if (s.dstIp !== dstIp) continue;
      if (s.direction !== direction) {
        if (s.startNs < endNs && startNs < s.endNs && (s.kinds & kindBit) !== 0) dup = true;
      } else if (s.startNs === startNs && s.endNs === endNs) mine = s;
    }
    // The very record again (a redelivery fed twice) is a duplicate too.
    if (mine !== undefined && (mine.kinds & kindBit) !== 0) dup = true;
    if (mine === undefined) {
      // Keep the latest few windows per connection only.
      if (list.length >= KEEP) list.shift();
      list.push((mine = { dstIp, direction, startNs, endNs, kinds: 0 }));
    }
    mine.kinds |= kindBit;
    return dup;
  }
}
