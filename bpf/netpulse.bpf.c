// SPDX-License-Identifier: GPL-2.0
/*
 * TCP flow capture. Raw tracepoints on the stable TCP/socket tracepoints give the struct sock *;
 * tcp_sock fields are read with CO-RE. A per-flow LRU map aggregates in kernel; open, periodic
 * and close records go to user space on a ring buffer that never blocks (a failed reserve is
 * counted); a syscall program the loader runs every interval reports activity the per-segment
 * path has not. Raw tracepoints need no tracefs and cost less than perf-event tracepoints;
 * kprobes and fentry/tp_btf (BPF_PROG_TYPE_TRACING) are not available on the kernels we run on.
 * State, maps and knobs: flow_state.bpf.h; tuple and filters: flow_tuple.bpf.h; records and the
 * flow life cycle: flow_emit.bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow_record.h"
#include "flow_state.bpf.h"
#include "flow_tuple.bpf.h"
#include "flow_emit.bpf.h"

SEC("raw_tp/inet_sock_set_state")
int on_set_state(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	int oldstate = (int)ctx->args[1];
	int newstate = (int)ctx->args[2];
	if (sk_ro(sk)->sk_protocol != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();

	if (newstate == TCP_SYN_SENT) {
		bpf_map_delete_elem(&skipped, &key); /* a new connection: decided afresh */
		on_active_open(key, sk, now);
		return 0;
	}
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (newstate == TCP_ESTABLISHED) {
		struct tuple t = {};
		read_tuple(sk, &t);
		if (oldstate == TCP_SYN_SENT && f && f->pending) {
			if (!admit(key, f, &t, false)) {
				bpf_map_delete_elem(&flows, &key);
				return 0;
			}
			open_flow(key, sk, f, now);
		} else if (oldstate == TCP_SYN_RECV && !f) {
			bpf_map_delete_elem(&skipped, &key); /* a new connection: decided afresh */
			struct flow nf = {};
			nf.start_ns = now;
			nf.direction = NP_DIR_SERVER;
			nf.cgroup_id = sk_cgroup_id(sk);
			if (!admit(key, &nf, &t, false))
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
		if (!admit(0, f, &t, f->syn_retrans > keep_retrans && keep_retrans)) {
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

/* Every incoming segment of an established connection: RTT tracking and periodic records. The
 * hottest program (about two runs per request/response): no clock read unless it emits. */
SEC("raw_tp/tcp_probe")
int on_tcp_probe(struct bpf_raw_tracepoint_args *ctx)
{
	const struct sock *sk = (const struct sock *)ctx->args[0];
	__u64 key = (__u64)sk;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		__u32 srtt = tcp_ro(sk)->srtt_us >> 3;
		f = adopt(key, sk, keep_rtt_us && srtt > keep_rtt_us, bpf_ktime_get_ns());
		if (!f)
			return 0;
	}
	if (f->pending)
		return 0;
	track_rtt(sk, f);
	if (f->emit_epoch != flush_epoch)
		emit(sk, f, NP_REC_PERIODIC, TCP_ESTABLISHED, bpf_ktime_get_ns());
	else
		mark_active(key, f);
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
		__u32 retrans = tcp_ro(sk)->total_retrans;
		if (retrans > keep_retrans && sk_ro(sk)->__sk_common.skc_state == TCP_ESTABLISHED)
			adopt(key, sk, true, bpf_ktime_get_ns());
		return 0;
	}
	if (f->pending)
		f->syn_retrans += 1;
	else
		mark_active(key, f);
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
 * receives on the socket (a server reads its request; a flow adopted mid-way gets the next
 * reader). Only receives: the hook runs on every recvmsg of every socket on the node and costs
 * its dispatch even when no pid is wanted; a sendmsg hook as well tripled that (one perf run
 * under the latency bench's load: 0.85 % of CPU time in the two hooks' path, 0.27 % with
 * receives only), for no flow a reading server doesn't already give.
 * A process that only ever sends on an accepted socket leaves pid 0 and comm empty; the cgroup
 * id still names its workload. Once learned, the flag stops lookups from doing anything more
 * than a hash probe. */
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

SEC("raw_tp/sock_recv_length")
int on_recv_length(struct bpf_raw_tracepoint_args *ctx)
{
	return learn_pid((const struct sock *)ctx->args[0]);
}

static __always_inline void flush_flow(__u64 key, struct flow *f, __u64 now)
{
	if (f->pending || !f->active)
		return;
	const struct sock *sk = (const struct sock *)key;
	if (!emit(sk, f, NP_REC_PERIODIC, sk_ro(sk)->__sk_common.skc_state, now))
		dirty_overflow = 1; /* no longer queued but still active: the next flush walks them all */
}

static long flush_each(struct bpf_map *map, __u64 *key, struct flow *f, __u64 *now)
{
	flush_flow(*key, f, *now);
	return 0;
}

static long flush_next_dirty(__u64 i, __u64 *now)
{
	__u64 key;
	if (bpf_map_pop_elem(&dirty, &key))
		return 1; /* drained */
	struct flow *f = bpf_map_lookup_elem(&flows, &key);
	if (f) /* else closed (or evicted) since it was queued */
		flush_flow(key, f, *now);
	return 0;
}

/* Run by the loader (BPF_PROG_TEST_RUN) every interval and before it exits: flows with activity
 * the per-segment path has not reported yet (a burst, then silence) get a periodic record, so
 * user-space windows never wait for the next segment or the close. It visits the flows queued in
 * `dirty`, so it costs what is active, not the map's size; after a queue overflow, every flow.
 * Entries exist only for sockets not yet closed, so the sock a flow's key points to is alive. */
SEC("syscall")
int flush(void *ctx)
{
	__sync_fetch_and_add(&flush_epoch, 1);
	__u64 now = bpf_ktime_get_ns();
	if (dirty_overflow) {
		dirty_overflow = 0; /* before the walk: an overflow during it is seen next time */
		bpf_for_each_map_elem(&flows, flush_each, &now, 0);
	}
	bpf_loop(max_flows, flush_next_dirty, &now, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
