// Byte offsets of bpf/flow_record.h, mirrored field for field. test/flowRecord.test.ts compares
// them with the C compiler's offsetof() (netpulse-loader --layout), so they cannot drift.
export const RECORD_SIZE = 192;
export const COMM_LEN = 16;

export const RecordKind = { open: 1, periodic: 2, close: 3, stats: 4 } as const;
export const KernelDirection = { unknown: 0, client: 1, server: 2 } as const;
export const KernelCloseReason = { none: 0, fin: 1, rstSent: 2, rstReceived: 3, timeout: 4 } as const;
export const RecordFlags = { pidKnown: 1, alwaysKeep: 2, midflow: 4 } as const;

/** struct np_flow_record: [offset, size]. */
export const FlowOffsets = {
  kind: [0, 1],
  family: [1, 1],
  direction: [2, 1],
  state: [3, 1],
  close_reason: [4, 1],
  flags: [5, 1],
  lport: [6, 2],
  rport: [8, 2],
  sampling: [12, 4],
  flow_id: [16, 8],
  ts_ns: [24, 8],
  start_ns: [32, 8],
  laddr: [40, 16],
  raddr: [56, 16],
  bytes_out: [72, 8],
  bytes_in: [80, 8],
  d_bytes_out: [88, 8],
  d_bytes_in: [96, 8],
  segs_out: [104, 4],
  segs_in: [108, 4],
  d_segs_out: [112, 4],
  d_segs_in: [116, 4],
  total_retrans: [120, 4],
  d_retrans: [124, 4],
  syn_retrans: [128, 4],
  d_syn_retrans: [132, 4],
  srtt_us: [136, 4],
  rttvar_us: [140, 4],
  min_rtt_us: [144, 4],
  max_rtt_us: [148, 4],
  pid: [152, 4],
  netns: [156, 4],
  cgroup_id: [160, 8],
  comm: [168, 16],
} as const;

/** struct np_stats_record: [offset, size]. */
export const StatsOffsets = {
  kind: [0, 1],
  sampling: [4, 4],
  mono_ns: [8, 8],
  real_ns: [16, 8],
  ringbuf_drops: [24, 8],
  flows_opened: [32, 8],
  flows_closed: [40, 8],
  sampled_out: [48, 8],
  filtered_out: [56, 8],
  map_full: [64, 8],
  records_written: [72, 8],
} as const;

/** Linux TCP states (include/net/tcp_states.h), as the schema writes them. */
export const TCP_STATES: ReadonlyArray<string> = [
  "UNKNOWN",
  "ESTABLISHED",
  "SYN_SENT",
  "SYN_RECV",
  "FIN_WAIT1",
  "FIN_WAIT2",
  "TIME_WAIT",
  "CLOSE",
  "CLOSE_WAIT",
  "LAST_ACK",
  "LISTEN",
  "CLOSING",
  "NEW_SYN_RECV",
  "BOUND_INACTIVE",
];
