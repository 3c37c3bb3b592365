// Builds kernel records byte for byte (FlowRecordLayout offsets) for unit tests and benchmarks.
import { FlowOffsets as F, RECORD_SIZE, StatsOffsets as S } from "../src/FlowRecordLayout.js";

export interface FlowFields {
  kind: number;
  flowId: number;
  tsNs: number;
  startNs?: number;
  family?: number;
  direction?: number;
  state?: number;
  closeReason?: number;
  flags?: number;
  lport?: number;
  rport?: number;
  laddr?: number[];
  raddr?: number[];
  sampling?: number;
  dBytesOut?: number;
  dBytesIn?: number;
  dSegsOut?: number;
  dSegsIn?: number;
  dRetrans?: number;
  dSynRetrans?: number;
  srttUs?: number;
  minRttUs?: number;
  maxRttUs?: number;
  pid?: number;
  netns?: number;
  comm?: string;
}

const u64 = (b: Buffer, at: number, v: number) => b.writeBigUInt64LE(BigInt(Math.round(v)), at);

export const flowRecord = (f: FlowFields, b: Buffer = Buffer.alloc(RECORD_SIZE), o = 0): Buffer => {
  b.fill(0, o, o + RECORD_SIZE);
  b[o + F.kind[0]] = f.kind;
  b[o + F.family[0]] = f.family ?? 2;
  b[o + F.direction[0]] = f.direction ?? 1;
  b[o + F.state[0]] = f.state ?? 1;
  b[o + F.close_reason[0]] = f.closeReason ?? 0;
  b[o + F.flags[0]] = f.flags ?? 1;
  b.writeUInt16LE(f.lport ?? 40000, o + F.lport[0]);
  b.writeUInt16LE(f.rport ?? 80, o + F.rport[0]);
  b.writeUInt32LE(f.sampling ?? 1, o + F.sampling[0]);
  u64(b, o + F.flow_id[0], f.flowId);
  u64(b, o + F.ts_ns[0], f.tsNs);
  u64(b, o + F.start_ns[0], f.startNs ?? 0);
  Buffer.from(f.laddr ?? [10, 0, 0, 1]).copy(b, o + F.laddr[0]);
  Buffer.from(f.raddr ?? [10, 0, 0, 2]).copy(b, o + F.raddr[0]);
  u64(b, o + F.d_bytes_out[0], f.dBytesOut ?? 0);
  u64(b, o + F.d_bytes_in[0], f.dBytesIn ?? 0);
  b.writeUInt32LE(f.dSegsOut ?? 0, o + F.d_segs_out[0]);
  b.writeUInt32LE(f.dSegsIn ?? 0, o + F.d_segs_in[0]);
  b.writeUInt32LE(f.dRetrans ?? 0, o + F.d_retrans[0]);
  b.writeUInt32LE(f.dSynRetrans ?? 0, o + F.d_syn_retrans[0]);
  b.writeUInt32LE(f.srttUs ?? 0, o + F.srtt_us[0]);
  b.writeUInt32LE(f.minRttUs ?? 0, o + F.min_rtt_us[0]);
  b.writeUInt32LE(f.maxRttUs ?? 0, o + F.max_rtt_us[0]);
  b.writeUInt32LE(f.pid ?? 0, o + F.pid[0]);
  b.writeUInt32LE(f.netns ?? 4026531840, o + F.netns[0]);
  b.write(f.comm ?? "", o + F.comm[0], F.comm[1], "latin1");
  return b;
};

export const statsRecord = (monoNs: bigint, realNs: bigint, ringbufDrops = 0): Buffer => {
  const b = Buffer.alloc(RECORD_SIZE);
  b[0] = 4;
  b.writeUInt32LE(1, S.sampling[0]);
  b.writeBigUInt64LE(monoNs, S.mono_ns[0]);
  b.writeBigUInt64LE(realNs, S.real_ns[0]);
  b.writeBigUInt64LE(BigInt(ringbufDrops), S.ringbuf_drops[0]);
  return b;
};
