/* SPDX-License-Identifier: GPL-2.0 */
/* Knobs, per-flow state and the maps of netpulse.bpf.c (included once, after vmlinux.h). */
#ifndef NETPULSE_FLOW_STATE_BPF_H
#define NETPULSE_FLOW_STATE_BPF_H

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* TCP states (include/net/tcp_states.h) */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8

/* A raw tracepoint's struct sock * is a plain number to the verifier. bpf_rdonly_cast (a kfunc
 * of every program type since Linux 6.2) makes it a read-only kernel pointer whose fields are
 * read with direct, fault-safe loads (CO-RE relocated like BPF_CORE_READ) instead of one
 * bpf_probe_read_kernel call each: on the per-segment path that read was about 40 ns of a
 * 250 ns run (bench/bpf-cost.bench.ts). A faulting load reads 0, as a failed probe read did. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline const struct sock *sk_ro(const struct sock *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
}

static __always_inline const struct tcp_sock *tcp_ro(const struct sock *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
}

/* Load-time knobs, written by the loader into .rodata before load. */
const volatile __u32 sampling = 1;            /* keep 1 flow in N (hash of the sorted 4-tuple) */
const volatile __u32 keep_rtt_us = 100000;    /* always keep a flow whose srtt crosses this (0 = off) */
const volatile __u32 keep_retrans = 3;        /* always keep a flow with more retransmits (0 = off) */
const volatile __u32 port_count = 0;          /* 0 = all ports */
const volatile __u16 ports[NP_MAX_PORTS] = {};
const volatile __u32 cidr_count = 0;          /* 0 = all addresses */
const volatile struct np_cidr cidrs[NP_MAX_CIDRS] = {};

/* Per-flow state in kernel. */
struct tuple {
	__u8 family;
	__u8 _pad;
	__u16 lport;
	__u16 rport;
	__u16 _pad2;
	__u32 laddr[4];
	__u32 raddr[4];
};

struct flow {
	struct tuple t;       /* saved at admission: ports are gone by TCP_CLOSE after TIME_WAIT */
	__u64 id;
	__u64 start_ns;
	__u64 bytes_out;      /* values at the previous record, for deltas */
	__u64 bytes_in;
	__u64 cgroup_id;
	__u32 segs_out;
	__u32 segs_in;
	__u32 total_retrans;
	__u32 syn_retrans;
	__u32 syn_retrans_sent;
	__u32 min_rtt_us;
	__u32 max_rtt_us;
	__u32 pid;
	__u32 sampling;
	__u32 emit_epoch;     /* flush_epoch when the last record was emitted */
	__u8 direction;
	__u8 flags;
	__u8 close_reason;
	__u8 pending;         /* active open seen, filter decided at ESTABLISHED/CLOSE */
	__u8 active;          /* segments seen since the last record: the next flush reports them */
	__u8 _pad[3];
	char comm[NP_COMM_LEN];
};

/* Flow map capacity (the loader sets it with the map's max_entries): bounds one flush's drain of
 * `dirty`. */
const volatile __u32 max_flows = 65536;

/* Runs of the loader's flush (one per interval). A flow whose last record is from an earlier
 * epoch gets a periodic record on its next segment: at most about one per flow per interval,
 * decided with one load instead of reading the clock on every segment. */
__u32 flush_epoch;

/* Flows being tracked, keyed by struct sock address; LRU so a missed close can't leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct flow);
} flows SEC(".maps");

/* Flows marked active since their last record, for the flush to visit: walking the whole LRU
 * map instead cost about 0.85 ms per flush even when empty (it visits every bucket, and the
 * walk cannot be preempted), which showed as the paced latency bench's p99. A flow is pushed
 * when `active` goes 0 -> 1, which only a record resets, so it is queued at most once per record
 * (plus stale keys of flows closed since, which the flush skips). A full queue sets
 * dirty_overflow and the next flush walks the whole map, as it always did: nothing is lost. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 65536);
	__type(value, __u64);
} dirty SEC(".maps");

__u32 dirty_overflow;

static __always_inline void mark_active(__u64 key, struct flow *f)
{
	if (f->active)
		return;
	f->active = 1;
	if (bpf_map_push_elem(&dirty, &key, 0))
		dirty_overflow = 1;
}

/* Sockets seen and not tracked (enum skip_reason), so the per-segment path does not re-read and
 * re-filter their tuple on every segment (that made a filtered-out segment cost about twice a
 * tracked one). Written when a connection is refused at open or a mid-flow socket at adoption;
 * cleared at every open, so a socket address reused by a new connection starts clean. LRU: an
 * entry nobody clears (the socket closed) ages out; a lost entry only costs one re-decision. */
enum skip_reason {
	SKIP_FILTERED = 1, /* port/CIDR filter: never tracked */
	SKIP_SAMPLED = 2,  /* sampled out: tracked only once a keep threshold is crossed */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} skipped SEC(".maps");

static __always_inline void skip(__u64 key, __u8 reason)
{
	bpf_map_update_elem(&skipped, &key, &reason, BPF_ANY);
}

/* Records to user space; size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Per-CPU counters (enum np_counter): ringbuf drops, opens, closes, filter/sample outcomes. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Tracked flows still waiting for their process (accepted or seen mid-flow); while 0, the
 * send/recv hooks return before looking the socket up. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} pid_wanted SEC(".maps");

static __always_inline void want_pid(__s64 delta)
{
	__u32 zero = 0;
	__s64 *v = bpf_map_lookup_elem(&pid_wanted, &zero);
	if (v)
		__sync_fetch_and_add(v, delta);
}

/* Source of flow ids (single slot, atomically incremented). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_seq SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline __u64 next_flow_id(void)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&flow_seq, &zero);
	if (!v)
		return 0;
	return __sync_fetch_and_add(v, 1) + 1;
}

#endif
