/* SPDX-License-Identifier: GPL-2.0 */
/* Records on the ring buffer, and the flow life cycle helpers the programs share. */
#ifndef NETPULSE_FLOW_EMIT_BPF_H
#define NETPULSE_FLOW_EMIT_BPF_H

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

/* False when the ring buffer was full: the record is dropped (counted), f keeps its deltas and
 * stays active, so the next record carries them. */
static __always_inline bool emit(const struct sock *sk, struct flow *f, __u8 kind, __u8 state, __u64 now)
{
	struct np_flow_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(NP_CNT_RINGBUF_DROPS);
		return false;
	}
	const struct tcp_sock *tp = tcp_ro(sk);
	const struct sock *s = sk_ro(sk);
	__u64 out = tp->bytes_sent - tp->bytes_retrans;
	__u64 in = tp->bytes_received;
	if (in) {
		/* tcp_fin() sets SOCK_DONE; the FIN took one byte of sequence space. Any record kind
		 * can come after it (a flush in CLOSE_WAIT), so every kind leaves it out. */
		unsigned long skflags = s->__sk_common.skc_flags;
		if (skflags & (1UL << bpf_core_enum_value(enum sock_flags, SOCK_DONE)))
			in -= 1;
	}
	__u32 segs_out = tp->segs_out;
	__u32 segs_in = tp->segs_in;
	__u32 retrans = tp->total_retrans;

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
	r->srtt_us = tp->srtt_us >> 3;
	r->rttvar_us = tp->mdev_us >> 2;
	r->min_rtt_us = f->min_rtt_us;
	r->max_rtt_us = f->max_rtt_us;
	r->pid = f->pid;
	r->netns = s->__sk_common.skc_net.net->ns.inum;
	r->cgroup_id = f->cgroup_id;
	__builtin_memcpy(r->comm, f->comm, NP_COMM_LEN);
	r->_pad1 = 0;
	bpf_ringbuf_submit(r, 0);

	f->min_rtt_us = 0;
	f->max_rtt_us = 0;
	f->emit_epoch = flush_epoch;
	f->active = 0;
	return true;
}

/* Decide whether a flow whose tuple is now complete is tracked; fills sampling and flags.
 * A refused connection is remembered in `skipped` under `key` (0: nothing to remember). */
static __always_inline bool admit(__u64 key, struct flow *f, const struct tuple *t, bool keep)
{
	if (!filter_pass(t)) {
		count(NP_CNT_FILTERED_OUT);
		if (key)
			skip(key, SKIP_FILTERED);
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
	if (key)
		skip(key, SKIP_SAMPLED);
	return false;
}

static __always_inline void track_rtt(const struct sock *sk, struct flow *f)
{
	__u32 srtt = tcp_ro(sk)->srtt_us >> 3;
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
	count(NP_CNT_OPENED);
	emit(sk, f, NP_REC_OPEN, TCP_ESTABLISHED, now);
}

/* Why a tracked socket reached TCP_CLOSE when no RST was seen yet. An abort (close() with
 * unread data, SO_LINGER 0, tcp_abort) sets TCP_CLOSE *before* sending its RST, so a direct
 * jump to CLOSE from a synchronized state is an RST about to be sent; a retransmission or
 * keepalive give-up sets sk_err = ETIMEDOUT first. */
static __always_inline __u8 close_reason_at_close(const struct sock *sk, int oldstate)
{
	if (sk_ro(sk)->sk_err == 110 /* ETIMEDOUT */)
		return NP_CLOSE_TIMEOUT;
	if (oldstate == TCP_ESTABLISHED || oldstate == TCP_SYN_RECV || oldstate == TCP_FIN_WAIT1 ||
	    oldstate == TCP_CLOSE_WAIT)
		return NP_CLOSE_RST_SENT;
	return NP_CLOSE_FIN;
}

/* Creates a flow first seen established: capture started later, or an always-keep threshold
 * was crossed by a flow sampling had left out. */
static __always_inline struct flow *adopt(__u64 key, const struct sock *sk, bool keep, __u64 now)
{
	__u8 *skipped_as = bpf_map_lookup_elem(&skipped, &key);
	if (skipped_as && (*skipped_as == SKIP_FILTERED || !keep))
		return NULL;
	struct tuple t = {};
	read_tuple(sk, &t);
	if (!filter_pass(&t)) {
		skip(key, SKIP_FILTERED);
		return NULL;
	}
	struct flow nf = {};
	if (sampled_in(&t)) {
		nf.sampling = sampling ? sampling : 1;
	} else if (keep) {
		nf.sampling = 1;
		nf.flags = NP_F_ALWAYS_KEEP;
	} else {
		skip(key, SKIP_SAMPLED);
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

#endif
