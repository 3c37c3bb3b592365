// One connection, two records: the client's node and the server's node each report it (same
// 5-tuple, src = the connecting side in both, the other direction). Only flows that fired a rule
// are remembered, with the kinds they fired: a finding of a kind the other side's record of an
// overlapping window already gave is the same finding, so it must not count twice. Per connection
// the latest fired window of each side is kept (both nodes report a window at about the same
// time), keyed by the flow's own strings and numbers: no key string per finding. Bounded: two
// generations of at most `limit` connections each, the older one dropped when the newer fills.

interface Side {
  startNs: bigint;
  endNs: bigint;
  kinds: number;
}

interface Conn {
  readonly dstIp: string;
  client: Side | undefined;
  server: Side | undefined;
}

/** src IP → (src port, dst port) → connection. */
type Generation = Map<string, Map<number, Conn>>;

const overlaps = (s: Side, startNs: bigint, endNs: bigint): boolean => s.startNs < endNs && startNs < s.endNs;

export class MirrorFilter {
  #current: Generation = new Map();
  #previous: Generation = new Map();
  #size = 0;

  constructor(readonly limit = 1 << 16) {}

  /**
   * Records that a window of this connection, seen from `direction` (client | server), fired
   * `kindBit`; returns true when the other side's record of an overlapping window (or this very
   * window again) already fired it: a duplicate.
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
    let conn = this.#current.get(srcIp)?.get(ports);
    if (conn === undefined || conn.dstIp !== dstIp) {
      const old = this.#previous.get(srcIp)?.get(ports);
      if (this.#size >= this.limit) {
        this.#previous = this.#current;
        this.#current = new Map();
        this.#size = 0;
      }
      let byPorts = this.#current.get(srcIp);
      if (byPorts === undefined) this.#current.set(srcIp, (byPorts = new Map<number, Conn>()));
      conn = old !== undefined && old.dstIp === dstIp ? old : { dstIp, client: undefined, server: undefined };
      byPorts.set(ports, conn);
      this.#size++;
    }
    const client = direction !== "server";
    const mine = client ? conn.client : conn.server;
    const other = client ? conn.server : conn.client;
    let dup = other !== undefined && (other.kinds & kindBit) !== 0 && overlaps(other, startNs, endNs);
    if (mine !== undefined && mine.startNs === startNs && mine.endNs === endNs) {
      // The very record again (a redelivery fed twice) is a duplicate too.
      if ((mine.kinds & kindBit) !== 0) dup = true;
      mine.kinds |= kindBit;
    } else if (mine !== undefined) {
      mine.startNs = startNs;
      mine.endNs = endNs;
      mine.kinds = kindBit;
    } else if (client) conn.client = { startNs, endNs, kinds: kindBit };
    else conn.server = { startNs, endNs, kinds: kindBit };
    return dup;
  }
}
