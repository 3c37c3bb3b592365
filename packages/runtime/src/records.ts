// The typed shape of every record on the bus. Mirrors schemas/*.avsc field for field; the codec
// checks decoded Avro values into these types at the edge. 64-bit fields are bigint so u64
// counters, ns timestamps and flow ids never lose precision.

export type Direction = "client" | "server";
export type CloseReason = "fin" | "rst_sent" | "rst_received" | "timeout" | "open";

export interface RawFlow {
  readonly flow_id: bigint;
  readonly node: string;
  readonly start_ns: bigint;
  readonly end_ns: bigint;
  readonly src_ip: string;
  readonly src_port: number;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly protocol: string;
  readonly direction: string;
  readonly bytes_sent: bigint;
  readonly bytes_received: bigint;
  readonly segs_sent: bigint;
  readonly segs_received: bigint;
  readonly retransmits: bigint;
  readonly syn_retransmits: bigint;
  readonly srtt_us: number;
  readonly min_rtt_us: number;
  readonly max_rtt_us: number;
  readonly state: string;
  readonly close_reason: string;
  readonly netns: bigint;
  readonly cgroup_id: bigint;
  readonly pid: number;
  readonly comm: string;
  readonly sampling: number;
}

export type EndpointKind = "pod" | "node" | "service" | "external" | "unknown";

export interface Endpoint {
  readonly kind: string;
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly workload_kind: string;
  readonly workload_name: string;
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly host_network: boolean;
  readonly external_name: string;
}

export interface EnrichedFlow extends RawFlow {
  readonly src: Endpoint;
  readonly dst: Endpoint;
}

export type AnomalyKind =
  | "rtt_high"
  | "retransmits_high"
  | "syn_retransmits"
  | "baseline_deviation"
  | "policy_denied"
  | "policy_unprotected"
  | "capture_silent"
  | "conntrack_pressure";

export type Severity = "info" | "warning" | "critical";

export interface Anomaly {
  readonly id: string;
  readonly kind: string;
  readonly severity: string;
  readonly rule_id: string;
  readonly rule_version: number;
  readonly detected_ns: bigint;
  readonly window_start_ns: bigint;
  readonly window_end_ns: bigint;
  readonly node: string;
  readonly src_ip: string;
  readonly dst_ip: string;
  readonly dst_port: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly threshold: number | null;
  readonly baseline: number | null;
  readonly observed: number;
  readonly sample_flow_ids: ReadonlyArray<bigint>;
  readonly cause_hint: string;
  readonly policy_verdict: string;
  readonly policy_name: string;
  readonly policy_rule: string;
  readonly message: string;
  // v2 (schemas/anomaly.v2.avsc): episode fields. Optional here so v1-shaped writers still
  // type-check; Avro writes the schema default for an absent one and every decode fills them in.
  /** "open" | "resolved" [open]; a resolution repeats its opening's id. */
  readonly status?: string;
  /** Findings folded into the episode [1]. */
  readonly count?: number;
  /** Start of the window that opened the episode [0]. */
  readonly first_seen_ns?: bigint;
  /** End of the latest window that repeated the finding [0]. */
  readonly last_seen_ns?: bigint;
  /** The episode's subject: sorted workload pair, "+#port" for policy kinds, "node:X" for node kinds [""]. */
  readonly pair?: string;
  /** Unit of observed/threshold/baseline: us | segments | ratio | count | s [""]. */
  readonly unit?: string;
  /** "ingress" | "egress" | "ingress+egress" for policy kinds [""]. */
  readonly policy_direction?: string;
}

export interface Heartbeat {
  readonly node: string;
  readonly ts_ns: bigint;
  readonly conntrack_count: bigint;
  readonly conntrack_max: bigint;
  readonly conntrack_insert_failed: bigint;
  readonly conntrack_drop: bigint;
  readonly flows_tracked: bigint;
  readonly records_published: bigint;
  readonly dropped_ringbuf: bigint;
  readonly dropped_queue: bigint;
  readonly sampling: number;
}

export interface Batch {
  readonly schema: string;
  readonly schema_fingerprint: string;
  readonly producer: string;
  readonly sequence: bigint;
  readonly created_ns: bigint;
  readonly count: number;
  readonly records: Buffer;
}

export interface DeadLetter {
  readonly original: Buffer;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer;
  readonly stage: string;
  readonly error_kind: string;
  readonly reason: string;
  readonly at_ns: bigint;
}

export const emptyEndpoint: Endpoint = {
  kind: "unknown",
  pod: "",
  namespace: "",
  node: "",
  workload_kind: "",
  workload_name: "",
  service: "",
  labels: {},
  host_network: false,
  external_name: "",
};
