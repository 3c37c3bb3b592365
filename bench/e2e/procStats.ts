// CPU and peak memory of a running process from /proc: utime + stime of the process and its
// descendants (clock ticks of 1/100 s; a process's own stat already sums all its threads), and
// VmHWM, the peak resident set since it started.
import { readdirSync, readFileSync } from "node:fs";

const HZ = 100;

/** CPU ticks (user + system, 1/100 s) of one process; 0 once it is gone. */
export const cpuTicks = (pid: number | undefined): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0; // gone
  }
};

/** The process and all its descendants (none for no pid). */
export const processTree = (pid: number | undefined): number[] => {
  if (pid === undefined) return [];
  const out = [pid];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`))
      for (const kid of readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" "))
        if (kid !== "") out.push(...processTree(Number(kid)));
  } catch {
    // gone
  }
  return out;
};

/** CPU seconds (user + system) the process and its descendants have used so far. */
export const cpuSeconds = (pid: number): number => processTree(pid).reduce((t, p) => t + cpuTicks(p), 0) / HZ;

/** Peak resident set (VmHWM) of the process and its descendants, in bytes; NaN when it is gone. */
export const peakRssBytes = (pid: number): number => {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      total += Number(m?.[1] ?? 0) * 1024;
    } catch {
      if (p === pid) return NaN;
    }
  }
  return total;
};

/** CPU seconds the whole machine has been busy since boot: all but idle and iowait, steal included. */
export const machineBusySeconds = (): number => {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1, 9).map(Number);
  return (f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0)) / HZ;
};
