// Event time over several inputs (bus partitions): the watermark may only pass a time once every
// input that is still keeping up has reached it. A consumer draining a backlog can read one
// partition far ahead of the others (kafkajs fetches up to 32 MiB a partition); with the newest
// time of ANY input as the watermark, the lagging partitions' flows arrived behind it, their
// episodes resolved early and opened again (the e2e bench on Kafka: ~3.8x the records of NATS;
// bench/partitionSkew.ts). Here the watermark is the oldest of the inputs' newest times, leaving
// out an input more than `maxLagNs` behind the newest time seen anywhere (an idle partition, one
// whose traffic stopped, or one taken over by another replica) so that it cannot hold time back
// for longer than that. With one input (a file, ClickHouse, a single partition) this is exactly
// the newest time seen, as before. Heartbeats are one input whatever their partition, so a silent
// node's partition never holds time back (capture_silent is decided by the watermark).

export class EventClock {
  readonly #newest = new Map<string, bigint>();
  readonly #maxLagNs: bigint;
  #source = "";
  #current = 0n;
  #others: bigint | undefined;
  #global = 0n;

  constructor(maxLagNs: bigint) {
    this.#maxLagNs = maxLagNs;
  }

  /** The next timestamps come from `source`; the other inputs' oldest newest time is fixed for the step. */
  begin(source: string): void {
    this.#source = source;
    this.#current = this.#newest.get(source) ?? 0n;
    const floor = this.#global - this.#maxLagNs;
    let others: bigint | undefined;
    for (const [s, t] of this.#newest)
      if (s !== source && t >= floor && (others === undefined || t < others)) others = t;
    this.#others = others;
  }

  /** A timestamp of the current input; returns the watermark it allows (never past `ns`'s input). */
  see(ns: bigint): bigint {
    if (ns > this.#current) {
      this.#current = ns;
      this.#newest.set(this.#source, ns);
      if (ns > this.#global) this.#global = ns;
    }
    const others = this.#others;
    if (others === undefined || this.#current <= others) return this.#current;
    // the others are behind this input: time stops at the oldest of them, unless it lags too far
    const floor = this.#global - this.#maxLagNs;
    return others > floor ? others : floor;
  }
}
