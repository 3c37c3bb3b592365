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
//
// A time far ahead of when its message reached the bus (a node whose clock runs hours or years
// ahead) would move the watermark there at once: every open episode would resolve, every other
// input would fall behind the bound, and findings would open and resolve at each step until the
// real clock caught up. So when a step's input has an arrival time (the bus message's timestamp:
// the broker's clock on NATS, the publishing enricher's on Kafka; the same in a replay of the
// topic), a time more than `maxAheadNs` past it counts for the clock as the arrival time instead
// (`ahead` counts them). The record itself is still detected on, with its own times. Files and
// ClickHouse have no arrival time of their own (their messages carry the newest record time), so
// there it changes nothing.

export class EventClock {
  readonly #newest = new Map<string, bigint>();
  readonly #maxLagNs: bigint;
  readonly #maxAheadNs: bigint;
  #source = "";
  #arrivalNs: bigint | undefined;
  #ceilingNs: bigint | undefined;
  /** Times more than maxAheadNs past their message's arrival, taken as the arrival time. */
  ahead = 0;
  #current = 0n;
  #others: bigint | undefined;
  #global = 0n;

  constructor(maxLagNs: bigint, maxAheadNs: bigint) {
    this.#maxLagNs = maxLagNs;
    this.#maxAheadNs = maxAheadNs;
  }

  /**
   * The next timestamps come from `source`, in a message that arrived at `arrivalNs` (0 or
   * undefined: unknown); the other inputs' oldest newest time is fixed for the step.
   */
  begin(source: string, arrivalNs?: bigint): void {
    this.#source = source;
    const known = arrivalNs !== undefined && arrivalNs > 0n;
    this.#arrivalNs = known ? arrivalNs : undefined;
    this.#ceilingNs = known ? arrivalNs + this.#maxAheadNs : undefined;
    this.#current = this.#newest.get(source) ?? 0n;
    const floor = this.#global - this.#maxLagNs;
    let others: bigint | undefined;
    for (const [s, t] of this.#newest)
      if (s !== source && t >= floor && (others === undefined || t < others)) others = t;
    this.#others = others;
  }

  /** A timestamp of the current input; returns the watermark it allows (never past `ns`'s input). */
  see(ns: bigint): bigint {
    if (this.#ceilingNs !== undefined && ns > this.#ceilingNs) {
      this.ahead++;
      ns = this.#arrivalNs!;
    }
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
