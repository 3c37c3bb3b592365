// The state file `.netpulse/demo/state.json`: what a running `netpulse start` made (its pid, the
// process groups of its children, network namespaces, nft tables, qdiscs), rewritten as things
// are made. A run that ended cleanly deletes it; one killed with -9 leaves it, and the next start
// removes those leftovers first. Network namespaces are found by their npdemo- prefix as well, so
// leftovers made between a step and its state write are not missed either.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { demoDir, stateFile } from "./paths.js";
import { stopGroup } from "./processes.js";
import { demoNetns, teardownTopology } from "./topology.js";

export interface DemoState {
  readonly pid: number;
  readonly startedAt: string;
  readonly processGroups: number[];
  readonly netns: string[];
  readonly nftTables: string[];
  readonly qdiscs: string[];
}

export const emptyState = (): DemoState => ({
  pid: process.pid,
  startedAt: new Date().toISOString(),
  processGroups: [],
  netns: [],
  nftTables: [],
  qdiscs: [],
});

export const writeState = (s: DemoState): void => {
  mkdirSync(demoDir, { recursive: true });
  writeFileSync(`${stateFile}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${stateFile}.tmp`, stateFile);
};

export const readState = (): DemoState | undefined => {
  if (!existsSync(stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as DemoState;
  } catch {
    return undefined; // a torn write: the prefix scan still finds its namespaces
  }
};

export const removeState = (): void => rmSync(stateFile, { force: true });

const cmdline = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return undefined;
  }
};

/** The pid of another `netpulse start` still running, if any. */
export const runningDemo = (): number | undefined => {
  const s = readState();
  if (s === undefined || s.pid === process.pid) return undefined;
  const cmd = cmdline(s.pid);
  return cmd !== undefined && / start\b/.test(cmd) && /cli\/dist\/main\.js|netpulse/.test(cmd) ? s.pid : undefined;
};

/**
 * Removes what an earlier run left: its process groups (only while their leader, if it still
 * exists, is one of ours: a pid can't be reused as a group id while the group has members), then
 * every npdemo-* network namespace with whatever runs in it. Returns what it found, for one line.
 */
export const cleanLeftovers = async (): Promise<string[]> => {
  const found: string[] = [];
  const s = readState();
  for (const pgid of s?.processGroups ?? []) {
    const cmd = cmdline(pgid);
    if (cmd !== undefined && !/services\/\w+\/dist\/main\.js|traffic\.py/.test(cmd)) continue;
    try {
      process.kill(-pgid, 0);
    } catch {
      continue;
    }
    found.push(`process group ${pgid}`);
    await stopGroup(pgid, 2_000);
  }
  const netns = demoNetns();
  if (netns.length > 0) found.push(`network namespaces ${netns.join(", ")}`);
  teardownTopology();
  removeState();
  return found;
};
