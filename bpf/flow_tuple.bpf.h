/* SPDX-License-Identifier: GPL-2.0 */
/* A socket's addresses and ports, and the filters on them: ports, CIDRs, 1-in-N sampling. */
#ifndef NETPULSE_FLOW_TUPLE_BPF_H
#define NETPULSE_FLOW_TUPLE_BPF_H

/* Probe reads, not sk_ro() loads: once per flow, and direct loads here (inlined into adopt() in
 * on_tcp_probe) made clang 14 overflow the 512-byte BPF stack. */
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
	const struct cgroup *cg = sk_ro(sk)->sk_cgrp_data.cgroup;
	if (!cg)
		return 0;
	return cg->kn->id;
}

#endif
