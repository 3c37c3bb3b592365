// Conntrack pressure of this node for the heartbeat: table fill (nf_conntrack_count/_max) and
// the per-CPU insert_failed/drop counters of /proc/net/stat/nf_conntrack, summed. -1 = absent
// (nf_conntrack not loaded, or a container without the host's /proc/sys). Read synchronously:
// three small procfs files that never block on I/O, without twelve thread-pool round trips
// (open, stat, read, close each) every heartbeat.
import { readFileSync } from "node:fs";
import * as Effect from "effect/Effect";

export interface ConntrackPressure {
  readonly count: bigint;
  readonly max: bigint;
  readonly insertFailed: bigint;
  readonly drop: bigint;
}

export interface ConntrackPaths {
  readonly count: string;
  readonly max: string;
  readonly stat: string;
}

export const hostPaths: ConntrackPaths = {
  count: "/proc/sys/net/netfilter/nf_conntrack_count",
  max: "/proc/sys/net/netfilter/nf_conntrack_max",
  stat: "/proc/net/stat/nf_conntrack",
};

const ABSENT = -1n;

/** Sums the named hex columns over every CPU line; -1 for a column the header lacks. */
export const parseConntrackStat = (text: string): { insertFailed: bigint; drop: bigint } => {
  const lines = text.split("\n").filter((l) => l.trim().length > 0);
  const header = (lines[0] ?? "").trim().split(/\s+/);
  const sum = (name: string): bigint => {
    const col = header.indexOf(name);
    if (col < 0 || lines.length < 2) return ABSENT;
    let total = 0n;
    for (const line of lines.slice(1)) {
      const cell = line.trim().split(/\s+/)[col];
      if (cell !== undefined && /^[0-9a-fA-F]+$/.test(cell)) total += BigInt(`0x${cell}`);
    }
    return total;
  };
  return { insertFailed: sum("insert_failed"), drop: sum("drop") };
};

const readText = (path: string) => Effect.try(() => readFileSync(path, "utf8")).pipe(Effect.option);

const readNumber = (path: string) =>
  readText(path).pipe(
    Effect.map((o) => (o._tag === "Some" && /^\d+\s*$/.test(o.value) ? BigInt(o.value.trim()) : ABSENT)),
  );

export const readConntrack = (paths: ConntrackPaths = hostPaths): Effect.Effect<ConntrackPressure> =>
  Effect.all({
    count: readNumber(paths.count),
    max: readNumber(paths.max),
    stat: readText(paths.stat).pipe(
      Effect.map((o) => (o._tag === "Some" ? parseConntrackStat(o.value) : { insertFailed: ABSENT, drop: ABSENT })),
    ),
  }).pipe(Effect.map(({ count, max, stat }) => ({ count, max, ...stat })));
