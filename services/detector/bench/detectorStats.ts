// Small figures helpers for the detector bench: order statistics, a forced collection and the
// heap reading the memory figures use.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gcFn = runInNewContext("gc") as () => void;

export const gc = (): void => {
  gcFn();
  gcFn();
};

/** JS heap plus array buffers (typed arrays live outside the heap), after a full collection. */
export const heapBytes = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** The q-quantile (0..1) by linear interpolation between order statistics. */
export const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
};

export const median = (xs: ReadonlyArray<number>): number => quantile(xs, 0.5);

/** "0.93–1.05": the smallest and largest of a set of ratios. */
export const range = (xs: ReadonlyArray<number>, digits = 2): string =>
  xs.length === 0 ? "-" : `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

export const kps = (perS: number): string => `${(perS / 1000).toFixed(0)} k/s`;
