// Decodes the loader's fixed 192-byte records (bpf/flow_record.h, offsets in FlowRecordLayout.ts).
// 64-bit counters and monotonic timestamps become doubles: exact below 2^53 (9 PB, 104 days of
// uptime), and past that a few ns of timestamp rounding is harmless. cgroup ids stay exact (hi/lo).
import { FlowOffsets as F, RECORD_SIZE, RecordKind, StatsOffsets as S } from "./FlowRecordLayout.js";

export interface KernelFlowRecord {
  readonly kind: 1 | 2 | 3;
  readonly family: number;
  readonly direction: number;
  readonly state: number;
  readonly closeReason: number;
  readonly flags: number;
  readonly lport: number;
  readonly rport: number;
  readonly sampling: number;
  readonly flowId: number;
  readonly tsNs: number;
  readonly startNs: number;
  /** Views into the source buffer: copy before the buffer is reused. */
  readonly laddr: Uint8Array;
  readonly raddr: Uint8Array;
  readonly bytesOut: number;
  readonly bytesIn: number;
  readonly dBytesOut: number;
  readonly dBytesIn: number;
  readonly segsOut: number;
  readonly segsIn: number;
  readonly dSegsOut: number;
  readonly dSegsIn: number;
  readonly totalRetrans: number;
  readonly dRetrans: number;
  readonly synRetrans: number;
  readonly dSynRetrans: number;
  readonly srttUs: number;
  readonly rttvarUs: number;
  readonly minRttUs: number;
  readonly maxRttUs: number;
  readonly pid: number;
  readonly netns: number;
  readonly cgroupHi: number;
  readonly cgroupLo: number;
  readonly comm: Uint8Array;
}

export interface KernelStatsRecord {
  readonly kind: 4;
  readonly sampling: number;
  readonly monoNs: bigint;
  readonly realNs: bigint;
  readonly ringbufDrops: number;
  readonly flowsOpened: number;
  readonly flowsClosed: number;
  readonly sampledOut: number;
  readonly filteredOut: number;
  readonly mapFull: number;
  readonly recordsWritten: number;
}

export type KernelRecord = KernelFlowRecord | KernelStatsRecord;

const u64 = (b: Buffer, at: number): number => b.readUInt32LE(at + 4) * 0x1_0000_0000 + b.readUInt32LE(at);

export const decodeFlow = (b: Buffer, o: number): KernelFlowRecord => ({
  kind: b[o + F.kind[0]] as 1 | 2 | 3,
  family: b.readUInt8(o + F.family[0]),
  direction: b.readUInt8(o + F.direction[0]),
  state: b.readUInt8(o + F.state[0]),
  closeReason: b.readUInt8(o + F.close_reason[0]),
  flags: b.readUInt8(o + F.flags[0]),
  lport: b.readUInt16LE(o + F.lport[0]),
  rport: b.readUInt16LE(o + F.rport[0]),
  sampling: b.readUInt32LE(o + F.sampling[0]),
  flowId: u64(b, o + F.flow_id[0]),
  tsNs: u64(b, o + F.ts_ns[0]),
  startNs: u64(b, o + F.start_ns[0]),
  laddr: b.subarray(o + F.laddr[0], o + F.laddr[0] + F.laddr[1]),
  raddr: b.subarray(o + F.raddr[0], o + F.raddr[0] + F.raddr[1]),
  bytesOut: u64(b, o + F.bytes_out[0]),
  bytesIn: u64(b, o + F.bytes_in[0]),
  dBytesOut: u64(b, o + F.d_bytes_out[0]),
  dBytesIn: u64(b, o + F.d_bytes_in[0]),
  segsOut: b.readUInt32LE(o + F.segs_out[0]),
  segsIn: b.readUInt32LE(o + F.segs_in[0]),
  dSegsOut: b.readUInt32LE(o + F.d_segs_out[0]),
  dSegsIn: b.readUInt32LE(o + F.d_segs_in[0]),
  totalRetrans: b.readUInt32LE(o + F.total_retrans[0]),
  dRetrans: b.readUInt32LE(o + F.d_retrans[0]),
  synRetrans: b.readUInt32LE(o + F.syn_retrans[0]),
  dSynRetrans: b.readUInt32LE(o + F.d_syn_retrans[0]),
  srttUs: b.readUInt32LE(o + F.srtt_us[0]),
  rttvarUs: b.readUInt32LE(o + F.rttvar_us[0]),
  minRttUs: b.readUInt32LE(o + F.min_rtt_us[0]),
  maxRttUs: b.readUInt32LE(o + F.max_rtt_us[0]),
  pid: b.readUInt32LE(o + F.pid[0]),
  netns: b.readUInt32LE(o + F.netns[0]),
  cgroupHi: b.readUInt32LE(o + F.cgroup_id[0] + 4),
  cgroupLo: b.readUInt32LE(o + F.cgroup_id[0]),
  comm: b.subarray(o + F.comm[0], o + F.comm[0] + F.comm[1]),
});

export const decodeStats = (b: Buffer, o: number): KernelStatsRecord => ({
  kind: 4,
  sampling: b.readUInt32LE(o + S.sampling[0]),
  monoNs: b.readBigUInt64LE(o + S.mono_ns[0]),
  realNs: b.readBigUInt64LE(o + S.real_ns[0]),
  ringbufDrops: u64(b, o + S.ringbuf_drops[0]),
  flowsOpened: u64(b, o + S.flows_opened[0]),
  flowsClosed: u64(b, o + S.flows_closed[0]),
  sampledOut: u64(b, o + S.sampled_out[0]),
  filteredOut: u64(b, o + S.filtered_out[0]),
  mapFull: u64(b, o + S.map_full[0]),
  recordsWritten: u64(b, o + S.records_written[0]),
});

/** One record at offset o, or undefined for an unknown kind (a newer loader). */
export const decodeRecord = (b: Buffer, o: number): KernelRecord | undefined => {
  const kind = b[o];
  if (kind === RecordKind.stats) return decodeStats(b, o);
  if (kind === RecordKind.open || kind === RecordKind.periodic || kind === RecordKind.close) return decodeFlow(b, o);
  return undefined;
};

/** Splits a byte stream into whole records, carrying a partial tail to the next chunk. */
export class RecordFramer {
  private tail: Buffer = Buffer.alloc(0);

  /** Returns a buffer holding only whole records (length a multiple of RECORD_SIZE). */
  push(chunk: Buffer): Buffer {
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const whole = data.length - (data.length % RECORD_SIZE);
    this.tail = whole === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(whole));
    return data.subarray(0, whole);
  }
}
