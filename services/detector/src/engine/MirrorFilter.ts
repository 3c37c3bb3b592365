// One connection, two records: the client's node and the server's node each report it (same
// 5-tuple, src = the connecting side in both, the other direction). Only flows that fired a rule
// are remembered, with the kinds they fired: a finding of a kind the other side's record of an
// overlapping window already gave is the same finding, so it must not count twice. Bounded: two
// generations of at most `limit` connections each, the older one dropped when the newer fills.

interface Seen {
  readonly direction: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  kinds: number;
}

const connKey = (srcIp: string, srcPort: number, dstIp: string, dstPort: number): string =>
  `${srcIp}|${srcPort}|${dstIp}|${dstPort}`;

export class MirrorFilter {
  #current = new Map<string, Seen[]>();
  #previous = new Map<string, Seen[]>();

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
    const key = connKey(srcIp, srcPort, dstIp, dstPort);
    let list = this.#current.get(key);
    if (list === undefined) {
      const old = this.#previous.get(key);
      if (this.#current.size >= this.limit) {
        this.#previous = this.#current;
        this.#current = new Map();
      }
      list = old ?? [];
      this.#current.set(key, list);
    }
    let dup = false;
    let mine: Seen | undefined;
    for (const s of list) {
      if (s.direction !== direction) {
        if (s.startNs < endNs && startNs < s.endNs && (s.kinds & kindBit) !== 0) dup = true;
      } else if (s.startNs === startNs && s.endNs === endNs) mine = s;
    }
    // The very record again (a redelivery fed twice) is a duplicate too.
    if (mine !== undefined && (mine.kinds & kindBit) !== 0) dup = true;
    if (mine === undefined) {
      // Keep the few latest windows per direction only.
      if (list.length >= 4) list.shift();
      list.push((mine = { direction, startNs, endNs, kinds: 0 }));
    }
    mine.kinds |= kindBit;
    return dup;
  }
}
