// SPDX-License-Identifier: GPL-2.0
/*
 * TCP flow capture. Raw tracepoints on the stable TCP/socket tracepoints give the struct sock *;
 * tcp_sock fields are read with CO-RE. A per-flow LRU map aggregates in kernel; open, periodic
 * and close records go to user space on a ring buffer that never blocks (a failed reserve is
 * counted). Raw tracepoints need no tracefs and cost less than perf-event tracepoints; kprobes
 * and fentry/tp_btf are not available on the kernels we run on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow_record.h"

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

/* Load-time knobs, written by the loader into .rodata before load. */
const volatile __u32 sampling = 1;            /* keep 1 flow in N (hash of the sorted 4-tuple) */
const volatile __u64 interval_ns = 1000000000; /* at most one periodic record per flow per interval */
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
	__u64 last_emit_ns;
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
	__u8 direction;
	__u8 flags;
	__u8 close_reason;
	__u8 pending;         /* active open seen, filter decided at ESTABLISHED/CLOSE */
	__u8 active;          /* segments seen since the last record: the next flush reports them */
	__u8 _pad[3];
	char comm[NP_COMM_LEN];
};

/* Flows being tracked, keyed by struct sock address; LRU so a missed close can't leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct flow);
} flows SEC(".maps");

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

static __always_inline void read_tuple(const struct sock *sk, struct tuple *t)
{
	t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (!t->lport) /* inet_put_port() already cleared inet_num (failed connect, TIME_WAIT handoff) */
		t->lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t->family == AF_INET) {
		t->laddr[0] = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		t->raddr[0] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32);
		/* A dual-stack socket talking IPv4 (::ffff:a.b.c.d): treat it as the IPv4 flow it is,
		 * so IPv4 CIDR filters, sampling hashes and both ends agree. */
		if (!t->laddr[0] && !t->laddr[1] && t->laddr[2] == bpf_htonl(0xffff) && !t->raddr[0] && !t->raddr[1] &&
		    t->raddr[2] == bpf_htonl(0xffff)) {
			t->family = AF_INET;
			t->laddr[0] = t->laddr[3];
			t->raddr[0] = t->raddr[3];
			t->laddr[2] = t->laddr[3] = t->raddr[2] = t->raddr[3] = 0;
		}
	}
}

static __always_inline bool cidr_match(const volatile struct np_cidr *c, __u8 family, const __u32 *addr)
{
	if (c->family != family)
		return false;
	const __u8 *a = (const __u8 *)addr;
	__u32 bits = c->prefix;
#pragma unroll
	for (int i = 0; i < 16; i++) {
		if (bits == 0)
			return true;
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if ((a[i] & mask) != (c->addr[i] & mask))
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

static __always_inline bool filter_pass(const struct tuple *t)
{
	if (port_count) {
		bool hit = false;
#pragma unroll
		for (int i = 0; i < NP_MAX_PORTS; i++) {
			if (i < port_count && (ports[i] == t->lport || ports[i] == t->rport))
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (cidr_count) {
		bool hit = false;
#pragma unroll
		for (int i = 0; i < NP_MAX_CIDRS; i++) {
			if (i < cidr_count &&
			    (cidr_match(&cidrs[i], t->family, t->laddr) || cidr_match(&cidrs[i], t->family, t->raddr)))
				hit = true;
		}
		if (!hit)
			return false;
	}
	return true;
}

static __always_inline __u32 mix(__u32 h, __u32 w)
{
	h ^= w;
	h *= 0x9E3779B1u;
	return h ^ (h >> 15);
}

/* Both ends of a connection hash the same sorted endpoint pair, so they agree on sampling. */
static __always_inline bool sampled_in(const struct tuple *t)
{
	if (sampling <= 1)
		return true;
	bool local_first = false;
	bool decided = false;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		if (!decided && t->laddr[i] != t->raddr[i]) {
			local_first = bpf_ntohl(t->laddr[i]) < bpf_ntohl(t->raddr[i]);
			decided = true;
		}
	}
	if (!decided)
		local_first = t->lport < t->rport;
	__u32 h = 0x811C9DC5u;
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = mix(h, local_first ? t->laddr[i] : t->raddr[i]);
	h = mix(h, local_first ? t->lport : t->rport);
#pragma unroll
	for (int i = 0; i < 4; i++)
		h = mix(h, local_first ? t->raddr[i] : t->laddr[i]);
	h = mix(h, local_first ? t->rport : t->lport);
	return h % sampling == 0;
}

static __always_inline __u64 sk_cgroup_id(const struct sock *sk)
{
	struct cgroup *cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	if (!cg)
		return 0;
	return BPF_CORE_READ(cg, kn, id);
}

/* Baselines advance with compare-and-swap: per-socket events are serialized by the socket lock,
 * but the loader's flush runs beside them on another CPU (or interrupts them). Each emitter
 * claims the span from the old baseline to what it read, so deltas telescope to exactly the
 * final value: none is counted twice, and a lost race leaves the span for the next record. */
#define ADVANCE_TRIES 8

static __always_inline __u64 advance64(__u64 *base, __u64 cur)
{
	for (int i = 0; i < ADVANCE_TRIES; i++) {
		__u64 prev = *(volatile __u64 *)base;
		if (cur <= prev)
			return 0;
		if (__sync_val_compare_and_swap(base, prev, cur) == prev)
			return cur - prev;
	}
	return 0;
}

static __always_inline __u32 advance32(__u32 *base, __u32 cur)
{
	for (int i = 0; i < ADVANCE_TRIES; i++) {
		__u32 prev = *(volatile __u32 *)base;
		if ((__s32)(cur - prev) <= 0)
			return 0;
		if (__sync_val_compare_and_swap(base, prev, cur) == prev)
			return cur - prev;
	}
	return 0;
}

static __always_inline void emit(const struct sock *sk, struct flow *f, __u8 kind, __u8 state, __u64 now)
{
	struct np_flow_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		/* Deltas stay pending in f, so the next record carries them. */
		count(NP_CNT_RINGBUF_DROPS);
		return;
	}
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	__u64 out = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
	__u64 in = BPF_CORE_READ(tp, bytes_received);
	if (in) {
		/* tcp_fin() sets SOCK_DONE; the FIN took one byte of sequence space. Any record kind
		 * can come after it (a flush in CLOSE_WAIT), so every kind leaves it out. */
		unsigned long skflags = BPF_CORE_READ(sk, __sk_common.skc_flags);
		if (skflags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
			in -= 1;
	}
	__u32 segs_out = BPF_CORE_READ(tp, segs_out);
	__u32 segs_in = BPF_CORE_READ(tp, segs_in);
	__u32 retrans = BPF_CORE_READ(tp, total_retrans);

	r->kind = kind;
	r->family = f->t.family;
	r->direction = f->direction;
	r->state = state;
	r->close_reason = f->close_reason;
	r->flags = f->flags;
	r->lport = f->t.lport;
	r->rport = f->t.rport;
	r->_pad0 = 0;
	r->sampling = f->sampling;
	r->flow_id = f->id;
	r->ts_ns = now;
	r->start_ns = f->start_ns;
	__builtin_memcpy(r->laddr, f->t.laddr, 16);
	__builtin_memcpy(r->raddr, f->t.raddr, 16);
	r->bytes_out = out;
	r->bytes_in = in;
	r->d_bytes_out = advance64(&f->bytes_out, out);
	r->d_bytes_in = advance64(&f->bytes_in, in);
	r->segs_out = segs_out;
	r->segs_in = segs_in;
	r->d_segs_out = advance32(&f->segs_out, segs_out);
	r->d_segs_in = advance32(&f->segs_in, segs_in);
	r->total_retrans = retrans;
	r->d_retrans = advance32(&f->total_retrans, retrans);
	r->syn_retrans = f->syn_retrans;
	r->d_syn_retrans = advance32(&f->syn_retrans_sent, f->syn_retrans);
	r->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	r->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	r->min_rtt_us = f->min_rtt_us;
	r->max_rtt_us = f->max_rtt_us;
	r->pid = f->pid;
	r->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	r->cgroup_id = f->cgroup_id;
	__builtin_memcpy(r->comm, f->comm, NP_COMM_LEN);
	r->_pad1 = 0;
	bpf_ringbuf_submit(r, 0);

	f->min_rtt_us = 0;
	f->max_rtt_us = 0;
	f->last_emit_ns = now;
	f->active = 0;
}

/* Decide whether a flow whose tuple is now complete is tracked; fills sampling and flags. */
static __always_inline bool admit(struct flow *f, const struct tuple *t, bool keep)
{
	if (!filter_pass(t)) {
		count(NP_CNT_FILTERED_OUT);
		return false;
	}
	f->t = *t;
	if (sampled_in(t)) {
		f->sampling = sampling ? sampling : 1;
		return true;
	}
	if (keep) {
		f->sampling = 1;
		f->flags |= NP_F_ALWAYS_KEEP;
		return true;
	}
	count(NP_CNT_SAMPLED_OUT);
	return false;
}

static __always_inline void track_rtt(const struct sock *sk, struct flow *f)
{
	__u32 srtt = BPF_CORE_READ((const struct tcp_sock *)sk, srtt_us) >> 3;
	if (!srtt)
		return;
	if (!f->min_rtt_us || srtt < f->min_rtt_us)
		f->min_rtt_us = srtt;
	if (srtt > f->max_rtt_us)
		f->max_rtt_us = srtt;
}

static __always_inline void on_active_open(__u64 key, const struct sock *sk, __u64 now)
{
	struct flow f = {};
	f.start_ns = now;
	f.direction = NP_DIR_CLIENT;
	f.pending = 1;
	f.flags = NP_F_PID_KNOWN;
	f.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(f.comm, sizeof(f.comm));
	f.cgroup_id = sk_cgroup_id(sk);
	if (!f.cgroup_id)
		f.cgroup_id = bpf_get_current_cgroup_id();
	if (bpf_map_update_elem(&flows, &key, &f, BPF_ANY))
		count(NP_CNT_MAP_FULL);
}

/* Deletes a closed flow, settling its share of pid_wanted. */
static __always_inline void forget(__u64 *key, struct flow *f)
{
	if (!(f->flags & NP_F_PID_KNOWN))
		want_pid(-1);
	bpf_map_delete_elem(&flows, key);
}

static __always_inline void open_flow(__u64 key, const struct sock *sk, struct flow *f, __u64 now)
{
	f->id = next_flow_id();
	f->pending = 0;
	f->last_emit_ns = now;
	count(NP_CNT_OPENED);
	emit(sk, f, NP_REC_OPEN, TCP_ESTABLISHED, now);
}

/* Why a tracked socket reached TCP_CLOSE when no RST was seen yet. An abort (close() with
 * unread data, SO_LINGER 0, tcp_abort) sets TCP_CLOSE *before* sending its RST, so a direct
 * jump to CLOSE from a synchronized state is an RST about to be sent; a retransmission or
 * keepalive give-up sets sk_err = ETIMEDOUT first. */
static __always_inline __u8 close_reason_at_close(const struct sock *sk, int oldstate)
{
	if (BPF_CORE_READ(sk, sk_err) == 110 /* ETIMEDOUT */)
		return NP_CLOSE_TIMEOUT;
	if (oldstate == TCP_ESTABLISHED || oldstate == TCP_SYN_RECV || oldstate == TCP_FIN_WAIT1 ||
	    oldstate == TCP_CLOSE_WAIT)
		return NP_CLOSE_RST_SENT;
	return NP_CLOSE_FIN;
}

SEC("raw_tp/inet_sock_set_state")
int on_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1];
	int newstate = (int)ctx->args[2];
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();

	if (newstate == TCP_SYN_SENT) {
		on_active_open(key, sk, now);
		return 0;
	}
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (newstate == TCP_ESTABLISHED) {
		struct tuple t = {};
		read_tuple(sk, &t);
		if (oldstate == TCP_SYN_SENT && f && f->pending) {
			if (!admit(f, &t, false)) {
				bpf_map_delete_elem(&flows, &key);
				return 0;
			}
			open_flow(key, sk, f, now);
		} else if (oldstate == TCP_SYN_RECV && !f) {
			struct flow nf = {};
			nf.start_ns = now;
			nf.direction = NP_DIR_SERVER;
			nf.cgroup_id = sk_cgroup_id(sk);
			if (!admit(&nf, &t, false))
				return 0;
			if (bpf_map_update_elem(&flows, &key, &nf, BPF_ANY)) {
				count(NP_CNT_MAP_FULL);
				return 0;
			}
			f = bpf_map_lookup_elem(&flows, &key);
			if (f) {
				want_pid(1);
				open_flow(key, sk, f, now);
			}
		}
		return 0;
	}
	if (newstate != TCP_CLOSE || !f)
		return 0;
	if (f->pending) {
		/* Connect failed: decide now that the tuple is complete. */
		struct tuple t = {};
		read_tuple(sk, &t);
		if (!admit(f, &t, f->syn_retrans > keep_retrans && keep_retrans)) {
			bpf_map_delete_elem(&flows, &key);
			return 0;
		}
		f->id = next_flow_id();
		count(NP_CNT_OPENED);
		if (!f->close_reason)
			f->close_reason = NP_CLOSE_TIMEOUT;
	} else if (!f->close_reason) {
		f->close_reason = close_reason_at_close(sk, oldstate);
	}
	track_rtt(sk, f);
	count(NP_CNT_CLOSED);
	emit(sk, f, NP_REC_CLOSE, TCP_CLOSE, now);
	forget(&key, f);
	return 0;
}

/* Creates a flow first seen established: capture started later, or an always-keep threshold
 * was crossed by a flow sampling had left out. */
static __always_inline struct flow *adopt(__u64 key, const struct sock *sk, bool keep, __u64 now)
{
	struct tuple t = {};
	read_tuple(sk, &t);
	if (!filter_pass(&t))
		return NULL;
	struct flow nf = {};
	if (sampled_in(&t)) {
		nf.sampling = sampling ? sampling : 1;
	} else if (keep) {
		nf.sampling = 1;
		nf.flags = NP_F_ALWAYS_KEEP;
	} else {
		return NULL;
	}
	nf.flags |= NP_F_MIDFLOW;
	nf.t = t;
	nf.start_ns = now;
	nf.direction = NP_DIR_UNKNOWN;
	nf.cgroup_id = sk_cgroup_id(sk);
	if (bpf_map_update_elem(&flows, &key, &nf, BPF_NOEXIST))
		return NULL;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (f) {
		want_pid(1); /* whoever uses it next in process context */
		open_flow(key, sk, f, now);
	}
	return f;
}

/* Every incoming segment of an established connection: RTT tracking and periodic records. */
SEC("raw_tp/tcp_probe")
int on_tcp_probe(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		__u32 srtt = BPF_CORE_READ((const struct tcp_sock *)sk, srtt_us) >> 3;
		f = adopt(key, sk, keep_rtt_us && srtt > keep_rtt_us, now);
		if (!f)
			return 0;
	}
	if (f->pending)
		return 0;
	track_rtt(sk, f);
	if (now - f->last_emit_ns >= interval_ns)
		emit(sk, f, NP_REC_PERIODIC, TCP_ESTABLISHED, now);
	else
		f->active = 1;
	return 0;
}

SEC("raw_tp/tcp_retransmit_skb")
int on_retransmit(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	__u64 key = (__u64)sk;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		if (!keep_retrans)
			return 0;
		__u32 retrans = BPF_CORE_READ((const struct tcp_sock *)sk, total_retrans);
		if (retrans > keep_retrans && BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_ESTABLISHED)
			adopt(key, sk, true, bpf_ktime_get_ns());
		return 0;
	}
	if (f->pending)
		f->syn_retrans += 1;
	else
		f->active = 1;
	return 0;
}

SEC("raw_tp/tcp_send_reset")
int on_send_reset(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	if (!key)
		return 0;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (f && !f->close_reason)
		f->close_reason = NP_CLOSE_RST_SENT;
	return 0;
}

SEC("raw_tp/tcp_receive_reset")
int on_receive_reset(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 key = ctx->args[0];
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (f && !f->close_reason)
		f->close_reason = NP_CLOSE_RST_RECEIVED;
	return 0;
}

/* Safety net: a tracked socket destroyed without passing through TCP_CLOSE. */
SEC("raw_tp/tcp_destroy_sock")
int on_destroy(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	__u64 key = (__u64)sk;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f)
		return 0;
	if (!f->pending) {
		if (!f->close_reason)
			f->close_reason = NP_CLOSE_FIN;
		count(NP_CNT_CLOSED);
		emit(sk, f, NP_REC_CLOSE, TCP_CLOSE, bpf_ktime_get_ns());
	}
	forget(&key, f);
	return 0;
}

/* Server side: the accept happened in softirq, so the owning process is the first one that
 * sends or receives on the socket. One record tells user space, then the flag stops lookups
 * from doing anything more than a hash probe. */
static __always_inline int learn_pid(const struct sock *sk)
{
	__u32 zero = 0;
	__s64 *wanted = bpf_map_lookup_elem(&pid_wanted, &zero);
	if (!wanted || *wanted <= 0)
		return 0;
	__u64 key = (__u64)sk;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f || (f->flags & NP_F_PID_KNOWN))
		return 0;
	want_pid(-1);
	f->flags |= NP_F_PID_KNOWN;
	f->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(f->comm, sizeof(f->comm));
	return 0;
}

SEC("raw_tp/sock_send_length")
int on_send_length(struct bpf_raw_tracepoint_args *ctx)
{
	return learn_pid((const struct sock *)ctx->args[0]);
}

SEC("raw_tp/sock_recv_length")
int on_recv_length(struct bpf_raw_tracepoint_args *ctx)
{
	return learn_pid((const struct sock *)ctx->args[0]);
}

static long flush_one(struct bpf_map *map, __u64 *key, struct flow *f, __u64 *now)
{
	if (f->pending || !f->active)
		return 0;
	const struct sock *sk = (const struct sock *)*key;
	emit(sk, f, NP_REC_PERIODIC, BPF_CORE_READ(sk, __sk_common.skc_state), *now);
	return 0;
}

/* Run by the loader (BPF_PROG_TEST_RUN) every interval and before it exits: flows with activity
 * the per-segment path has not reported yet (a burst, then silence) get a periodic record, so
 * user-space windows never wait for the next segment or the close. Entries exist only for
 * sockets not yet closed, so the sock they point to is alive. */
SEC("syscall")
int flush(void *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	bpf_for_each_map_elem(&flows, flush_one, &now, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
