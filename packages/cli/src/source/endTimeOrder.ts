// Flows read in start-time order (how netpulse.flows is keyed) handed on in end-time order (how
// the capture emits them, and the detector's event time: its watermark is the newest window end).
// Exact, with a heap of the flows still open at the current start time: every flow read later
// starts, so ends, at or after that start, so a flow ending by then can go. The heap holds only
// the windows spanning the current moment.
import * as Stream from "effect/Stream";
import type { EnrichedFlow } from "@netpulse/runtime/records";

const before = (a: EnrichedFlow, b: EnrichedFlow): boolean =>
  a.end_ns === b.end_ns ? a.flow_id < b.flow_id : a.end_ns < b.end_ns;

/** A binary min-heap on (end_ns, flow_id). */
class EndHeap {
  readonly #items: EnrichedFlow[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): EnrichedFlow | undefined {
    return this.#items[0];
  }

  push(f: EnrichedFlow): void {
    const a = this.#items;
    a.push(f);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(a[i] as EnrichedFlow, a[parent] as EnrichedFlow)) break;
      [a[i], a[parent]] = [a[parent] as EnrichedFlow, a[i] as EnrichedFlow];
      i = parent;
    }
  }

  pop(): EnrichedFlow | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l] as EnrichedFlow, a[m] as EnrichedFlow)) m = l;
      if (r < a.length && before(a[r] as EnrichedFlow, a[m] as EnrichedFlow)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m] as EnrichedFlow, a[i] as EnrichedFlow];
      i = m;
    }
    return top;
  }
}

/** Flows sorted by start_ns in, the same flows sorted by (end_ns, flow_id) out. */
export const inEndTimeOrder = <E, R>(byStart: Stream.Stream<EnrichedFlow, E, R>): Stream.Stream<EnrichedFlow, E, R> =>
  Stream.suspend(() => {
    const open = new EndHeap();
    const ended = Stream.mapConcat(byStart, (f) => {
      const out: EnrichedFlow[] = [];
      for (let top = open.peek(); top !== undefined && top.end_ns <= f.start_ns; top = open.peek())
        out.push(open.pop() as EnrichedFlow);
      open.push(f);
      return out;
    });
    const rest = Stream.suspend(() => {
      const out: EnrichedFlow[] = [];
      while (open.size > 0) out.push(open.pop() as EnrichedFlow);
      return Stream.fromIterable(out);
    });
    return Stream.concat(ended, rest);
  });
