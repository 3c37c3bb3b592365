// A complete RawFlow with plausible values, for tests and benchmarks; override what matters.
import type { RawFlow } from "@netpulse/runtime/records";

export const rawFlow = (o: Partial<RawFlow> = {}): RawFlow => ({
  flow_id: 0x7fff_ffff_ffff_fff1n,
  node: "node-a",
  start_ns: 1_767_225_600_000_000_000n + 5_000_000_000n,
  end_ns: 1_767_225_600_000_000_000n + 6_000_000_000n,
  src_ip: "10.1.0.1",
  src_port: 43512,
  dst_ip: "10.96.0.10",
  dst_port: 80,
  protocol: "TCP",
  direction: "client",
  bytes_sent: 1234n,
  bytes_received: 2n ** 40n,
  segs_sent: 10n,
  segs_received: 12n,
  retransmits: 1n,
  syn_retransmits: 0n,
  srtt_us: 850,
  min_rtt_us: 400,
  max_rtt_us: 2100,
  state: "ESTABLISHED",
  close_reason: "open",
  netns: 4026531840n,
  cgroup_id: 123456789n,
  pid: 4242,
  comm: "curl",
  sampling: 1,
  ...o,
});

/** The i-th of a varied set (many IPs and ports, both directions) for benchmarks. */
export const variedFlow = (i: number): RawFlow =>
  rawFlow({
    flow_id: BigInt(i) * 2654435761n + (1n << 61n),
    start_ns: 1_763_713_496_000_000_000n + BigInt(i),
    end_ns: 1_763_713_501_000_000_000n + BigInt(i),
    src_ip: `10.1.${i % 250}.${i % 200}`,
    src_port: 30000 + (i % 30000),
    dst_ip: "10.2.0.9",
    dst_port: 5432,
    direction: i % 2 === 0 ? "client" : "server",
    bytes_sent: BigInt(i * 1000),
    bytes_received: BigInt(i * 3),
    retransmits: BigInt(i % 3),
    comm: "postgres",
  });
