// Sampling a running chain: every `everyMs`, each watched counter (a service's /metrics, a
// ClickHouse count) and each process's CPU seconds, with progress lines while it runs; and the
// steady window of one counter (from 10 % to 90 % of its total: start-up and the tail left out),
// its rate and what each process spent in it.
import { cpuSeconds, machineBusySeconds } from "./procStats.js";

export interface Sample {
  /** ms since the watch started */
  readonly t: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly cpu: Readonly<Record<string, number>>;
  /** CPU seconds the whole machine has been busy (every process, steal included) */
  readonly machine: number;
}

export interface WatchOptions {
  readonly label: string;
  /** Counters by name; a counter that fails to read keeps its last value. */
  readonly counters: Readonly<Record<string, () => Promise<number>>>;
  /** Processes whose CPU is sampled, by name. */
  readonly pids: Readonly<Record<string, number>>;
  /** Counters computed from the others' values at each sample (e.g. the slower of two branches). */
  readonly derived?: Readonly<Record<string, (counts: Readonly<Record<string, number>>) => number>>;
  /** The watch ends once this counter reaches `target`, or nothing moved for `stallMs`. */
  readonly until: string;
  readonly target: number;
  readonly stallMs?: number;
  readonly timeoutMs?: number;
  readonly everyMs?: number;
}

export interface Watched {
  readonly samples: ReadonlyArray<Sample>;
  /** Why it ended: the target was reached, or it stalled / timed out short of it. */
  readonly ended: "done" | "stalled" | "timeout";
}

const k = (n: number) => `${(n / 1000).toFixed(0)} k`;

export const watch = async (o: WatchOptions): Promise<Watched> => {
  const every = o.everyMs ?? 250;
  const t0 = performance.now();
  const samples: Sample[] = [];
  const last: Record<string, number> = Object.fromEntries(Object.keys(o.counters).map((c) => [c, 0]));
  let moved = t0;
  let printed = t0;
  for (;;) {
    const counts: Record<string, number> = {};
    await Promise.all(
      Object.entries(o.counters).map(async ([name, read]) => {
        const v = await read().catch(() => last[name]!);
        counts[name] = Number.isFinite(v) ? v : last[name]!;
      }),
    );
    for (const [name, f] of Object.entries(o.derived ?? {})) counts[name] = f(counts);
    const cpu = Object.fromEntries(Object.entries(o.pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
    const now = performance.now();
    if (Object.keys(counts).some((c) => counts[c] !== last[c])) moved = now;
    Object.assign(last, counts);
    samples.push({ t: now - t0, counts, cpu, machine: machineBusySeconds() });
    const doneNow = counts[o.until]! >= o.target;
    if (now - printed >= 5000 || doneNow) {
      printed = now;
      const shown = Object.entries(counts)
        .map(([c, v]) => `${c} ${k(v)}`)
        .join(", ");
      console.log(`  [${o.label}] ${((now - t0) / 1000).toFixed(0)} s: ${shown} (of ${k(o.target)})`);
    }
    if (doneNow) return { samples, ended: "done" };
    if (now - moved > (o.stallMs ?? 30_000)) return { samples, ended: "stalled" };
    if (now - t0 > (o.timeoutMs ?? 600_000)) return { samples, ended: "timeout" };
    await new Promise((r) => setTimeout(r, every));
  }
};

export interface Window {
  readonly flows: number;
  readonly seconds: number;
  readonly flowsPerS: number;
  /** CPU seconds each process used in the window. */
  readonly cpuS: Readonly<Record<string, number>>;
  /** Cores the whole machine was busy with on average (ours and everyone else's). */
  readonly machineCores: number;
}

/** The window from the first sample at ≥ lo × target to the first at ≥ hi × target of `counter`. */
export const steadyWindow = (
  samples: ReadonlyArray<Sample>,
  counter: string,
  target: number,
  lo = 0.1,
  hi = 0.9,
): Window | undefined => {
  const a = samples.find((s) => s.counts[counter]! >= lo * target);
  const b = samples.find((s) => s.counts[counter]! >= hi * target);
  if (a === undefined || b === undefined || b.t <= a.t) return undefined;
  const flows = b.counts[counter]! - a.counts[counter]!;
  const seconds = (b.t - a.t) / 1000;
  const cpuS = Object.fromEntries(Object.keys(b.cpu).map((p) => [p, b.cpu[p]! - (a.cpu[p] ?? 0)]));
  return { flows, seconds, flowsPerS: flows / seconds, cpuS, machineCores: (b.machine - a.machine) / seconds };
};

/** Sum of a Prometheus counter's series whose labels include all of `labels`. */
export const metricSum = (text: string, name: string, labels: Readonly<Record<string, string>> = {}): number => {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_:]+)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[3] ?? "";
    if (Object.entries(labels).every(([l, v]) => have.includes(`${l}="${v}"`))) total += Number(m[4]);
  }
  return total;
};

/** A counter read from a service's /metrics. */
export const metricCounter =
  (port: number, name: string, labels: Readonly<Record<string, string>> = {}) =>
  async (): Promise<number> =>
    metricSum(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), name, labels);
