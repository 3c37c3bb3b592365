// Hand-unrolled RowBinary for netpulse.flows, the one hot table: the same bytes as the generic
// RowEncoder (a test holds the two together), without its per-column closures and type checks —
// the Avro codec has already guaranteed every field's type and range. Only IPs on modern servers
// (IPv6 columns) can still make a row unencodable.
import type { EnrichedFlow, Endpoint } from "@netpulse/runtime/records";
import type { Dialect } from "@netpulse/clickhouse/ServerVersion";
import { ipv6Bytes as ipv6, type Rejected } from "./RowEncoder.js";
import { RowBinaryWriter } from "./RowBinaryWriter.js";

const endpoint = (w: RowBinaryWriter, e: Endpoint): void => {
  w.string(e.kind);
  w.string(e.pod);
  w.string(e.namespace);
  w.string(e.node);
  w.string(e.workload_kind);
  w.string(e.workload_name);
  w.string(e.service);
  const labels = e.labels;
  let n = 0;
  for (const _k in labels) n++;
  w.varint(n);
  for (const k in labels) w.string(k);
  w.varint(n);
  for (const k in labels) w.string(labels[k] ?? "");
  w.u8(e.host_network ? 1 : 0);
  w.string(e.external_name);
};

export const encodeFlows = (rows: ReadonlyArray<EnrichedFlow>, d: Dialect) => {
  const w = new RowBinaryWriter(rows.length * 384 + 1024);
  const encoded: EnrichedFlow[] = [];
  const rejected: Rejected<EnrichedFlow>[] = [];
  const modern = d === "modern";
  for (const r of rows) {
    let src: number[] | undefined;
    let dst: number[] | undefined;
    if (modern) {
      src = ipv6(r.src_ip);
      dst = ipv6(r.dst_ip);
      if (src === undefined || dst === undefined) {
        const bad = src === undefined ? ["src_ip", r.src_ip] : ["dst_ip", r.dst_ip];
        rejected.push({ row: r, reason: `${bad[0]}: not an IPv4/IPv6 address: ${JSON.stringify(bad[1])}` });
        continue;
      }
    }
    w.i64(r.flow_id);
    w.string(r.node);
    w.i64(r.start_ns);
    w.i64(r.end_ns);
    if (src !== undefined) w.raw(src);
    else w.string(r.src_ip);
    w.u16(r.src_port);
    if (dst !== undefined) w.raw(dst);
    else w.string(r.dst_ip);
    w.u16(r.dst_port);
    w.string(r.protocol);
    w.string(r.direction);
    w.i64(r.bytes_sent);
    w.i64(r.bytes_received);
    w.i64(r.segs_sent);
    w.i64(r.segs_received);
    w.i64(r.retransmits);
    w.i64(r.syn_retransmits);
    w.i32(r.srtt_us);
    w.i32(r.min_rtt_us);
    w.i32(r.max_rtt_us);
    w.string(r.state);
    w.string(r.close_reason);
    w.i64(r.netns);
    w.i64(r.cgroup_id);
    w.i32(r.pid);
    w.string(r.comm);
    w.i32(r.sampling);
    endpoint(w, r.src);
    endpoint(w, r.dst);
    encoded.push(r);
  }
  return { body: w.bytes(), encoded, rejected };
};
