// Turns one flow's window (FlowColumns slot) into a RawFlow record: wall-clock window bounds,
// src = the connecting side, schema names for state/close reason, and a stable 63-bit flow_id.
import type { RawFlow } from "@netpulse/runtime/records";
import { FlowColumns, M_CLOSE, M_DIRECTION, M_FAMILY, M_STATE } from "./FlowColumns.js";
import { KernelCloseReason, KernelDirection, TCP_STATES } from "./FlowRecordLayout.js";
import { ipText } from "./ipText.js";

/** CLOCK_MONOTONIC → wall clock: wall = mono + offsetNs, sampled by the loader at start. */
export interface Clock {
  offsetNs: bigint;
  /** Set once from the loader's first stats record and kept, so window bounds never jitter. */
  fromLoader?: boolean;
}

const CLOSE_NAMES: Record<number, string> = {
  [KernelCloseReason.none]: "open",
  [KernelCloseReason.fin]: "fin",
  [KernelCloseReason.rstSent]: "rst_sent",
  [KernelCloseReason.rstReceived]: "rst_received",
  [KernelCloseReason.timeout]: "timeout",
};

const fnv = (h: number, byte: number): number => Math.imul(h ^ byte, 0x01000193);

/** The node's share of every flow_id, computed once per table. */
export interface NodeIdentity {
  readonly node: string;
  readonly seed: readonly [number, number];
}

export const nodeIdentity = (node: string): NodeIdentity => {
  let a = 0x811c9dc5;
  let b = 0x01234567;
  for (const byte of Buffer.from(node, "utf8")) {
    a = fnv(a, byte);
    b = fnv(b, byte ^ 0x5a);
  }
  return { node, seed: [a, b] };
};

/** Two FNV-1a lanes over node, netns, direction, addresses, ports and flow start → 63 bits. */
const flowId = (c: FlowColumns, s: number, id: NodeIdentity): bigint => {
  let [a, b] = id.seed;
  const mix = (byte: number) => {
    a = fnv(a, byte);
    b = fnv(b, byte ^ 0x5a);
  };
  const word = (w: number) => {
    mix(w & 0xff);
    mix((w >>> 8) & 0xff);
    mix((w >>> 16) & 0xff);
    mix(w >>> 24);
  };
  word(c.netns[s] ?? 0);
  mix(c.meta[s * 7 + M_DIRECTION] ?? 0);
  for (let i = s * 32; i < s * 32 + 32; i++) mix(c.addrs[i] ?? 0);
  word(((c.ports[s * 2] ?? 0) << 16) | (c.ports[s * 2 + 1] ?? 0));
  const start = c.startNs[s] ?? 0;
  word(start >>> 0);
  word(Math.floor(start / 0x1_0000_0000) >>> 0);
  return (BigInt((a >>> 0) & 0x7fffffff) << 32n) | BigInt(b >>> 0);
};

const commText = (c: FlowColumns, s: number): string => {
  const at = s * 16;
  let end = at;
  while (end < at + 16 && c.comm[end] !== 0) end++;
  return Buffer.from(c.comm.buffer, c.comm.byteOffset + at, end - at).toString("latin1");
};

export const buildRawFlow = (
  c: FlowColumns,
  s: number,
  id: NodeIdentity,
  clock: Clock,
  fromMonoNs: number,
  toMonoNs: number,
): RawFlow => {
  const m = s * 7;
  const family = c.meta[m + M_FAMILY] ?? 2;
  const local = ipText(family, c.addrs, s * 32);
  const remote = ipText(family, c.addrs, s * 32 + 16);
  const lport = c.ports[s * 2] ?? 0;
  const rport = c.ports[s * 2 + 1] ?? 0;
  const kdir = c.meta[m + M_DIRECTION] ?? 0;
  // Seen mid-flow: the lower port is almost always the listening one.
  const server = kdir === KernelDirection.server || (kdir === KernelDirection.unknown && lport < rport);
  const start = BigInt(Math.round(fromMonoNs)) + clock.offsetNs;
  const end = BigInt(Math.round(Math.max(toMonoNs, fromMonoNs))) + clock.offsetNs;
  return {
    flow_id: flowId(c, s, id),
    node: id.node,
    start_ns: start,
    end_ns: end,
    src_ip: server ? remote : local,
    src_port: server ? rport : lport,
    dst_ip: server ? local : remote,
    dst_port: server ? lport : rport,
    protocol: "TCP",
    direction: server ? "server" : "client",
    bytes_sent: BigInt(c.bytes[s * 2] ?? 0),
    bytes_received: BigInt(c.bytes[s * 2 + 1] ?? 0),
    segs_sent: BigInt(c.counts[s * 4] ?? 0),
    segs_received: BigInt(c.counts[s * 4 + 1] ?? 0),
    retransmits: BigInt(c.counts[s * 4 + 2] ?? 0),
    syn_retransmits: BigInt(c.counts[s * 4 + 3] ?? 0),
    srtt_us: c.rtt[s * 3] ?? 0,
    min_rtt_us: c.rtt[s * 3 + 1] ?? 0,
    max_rtt_us: c.rtt[s * 3 + 2] ?? 0,
    state: TCP_STATES[c.meta[m + M_STATE] ?? 0] ?? "UNKNOWN",
    close_reason: CLOSE_NAMES[c.meta[m + M_CLOSE] ?? 0] ?? "open",
    netns: BigInt(c.netns[s] ?? 0),
    cgroup_id: (BigInt(c.cgroup[s * 2] ?? 0) << 32n) | BigInt(c.cgroup[s * 2 + 1] ?? 0),
    pid: c.pid[s] ?? 0,
    comm: commText(c, s),
    sampling: Math.max(1, c.sampling[s] ?? 1),
  };
};
