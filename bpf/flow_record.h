/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel <-> user-space record layout: one fixed 192-byte record per event on the ring
 * buffer and on the loader's stdout. services/capture/src/FlowRecordDecoder.ts mirrors these
 * offsets; services/capture/test/flowRecord.test.ts holds the two together (loader --selftest
 * and --layout). Little-endian, natural alignment, explicit padding, no implicit holes.
 */
#ifndef NETPULSE_FLOW_RECORD_H
#define NETPULSE_FLOW_RECORD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NP_RECORD_SIZE 192
#define NP_COMM_LEN 16

enum np_record_kind {
	NP_REC_OPEN = 1,     /* connection established (or first seen mid-flow) */
	NP_REC_PERIODIC = 2, /* activity update, at most once per interval per flow */
	NP_REC_CLOSE = 3,    /* socket reached TCP_CLOSE (or was destroyed) */
	NP_REC_STATS = 4,    /* loader-written: struct np_stats_record */
};

enum np_direction {
	NP_DIR_UNKNOWN = 0, /* seen mid-flow: which side connected is unknown */
	NP_DIR_CLIENT = 1,  /* this node connected (active open) */
	NP_DIR_SERVER = 2,  /* this node accepted (passive open) */
};

enum np_close_reason {
	NP_CLOSE_NONE = 0,
	NP_CLOSE_FIN = 1,
	NP_CLOSE_RST_SENT = 2,
	NP_CLOSE_RST_RECEIVED = 3,
	NP_CLOSE_TIMEOUT = 4, /* connect gave up (SYN never answered) */
};

enum np_flags {
	NP_F_PID_KNOWN = 1,   /* pid/comm belong to this flow (client: connect(); server: first use) */
	NP_F_ALWAYS_KEEP = 2, /* kept despite sampling: RTT or retransmit threshold crossed */
	NP_F_MIDFLOW = 4,     /* first seen after it was established (capture started later) */
};

/* Byte counters are payload bytes: bytes_out = tcpi_bytes_sent - tcpi_bytes_retrans (SYN/FIN
 * carry no payload), bytes_in = tcpi_bytes_received minus the peer's FIN once it arrived.
 * Cumulative values are the socket's own since it was created; d_* are deltas since this
 * flow's previous record, so user space needs no per-flow baseline. */
struct np_flow_record {
	__u8 kind;          /*   0 enum np_record_kind */
	__u8 family;        /*   1 AF_INET (2) or AF_INET6 (10) */
	__u8 direction;     /*   2 enum np_direction */
	__u8 state;         /*   3 TCP state at emit (TCP_ESTABLISHED = 1 ...) */
	__u8 close_reason;  /*   4 enum np_close_reason */
	__u8 flags;         /*   5 enum np_flags */
	__u16 lport;        /*   6 local port, host order */
	__u16 rport;        /*   8 remote port, host order */
	__u16 _pad0;        /*  10 */
	__u32 sampling;     /*  12 1-in-N applied to this flow (1 when always-kept) */
	__u64 flow_id;      /*  16 kernel sequence number, unique per loader run */
	__u64 ts_ns;        /*  24 CLOCK_MONOTONIC at emit */
	__u64 start_ns;     /*  32 CLOCK_MONOTONIC at open */
	__u8 laddr[16];     /*  40 local address; IPv4 in the first 4 bytes */
	__u8 raddr[16];     /*  56 remote address */
	__u64 bytes_out;        /*  72 payload bytes sent once (see above) */
	__u64 bytes_in;         /*  80 payload bytes received */
	__u64 d_bytes_out;      /*  88 */
	__u64 d_bytes_in;       /*  96 */
	__u32 segs_out;         /* 104 */
	__u32 segs_in;          /* 108 */
	__u32 d_segs_out;       /* 112 */
	__u32 d_segs_in;        /* 116 */
	__u32 total_retrans;    /* 120 includes SYN retransmits, as the kernel counts */
	__u32 d_retrans;        /* 124 */
	__u32 syn_retrans;      /* 128 SYN retransmits of an active open */
	__u32 d_syn_retrans;    /* 132 */
	__u32 srtt_us;          /* 136 tp->srtt_us >> 3 at emit */
	__u32 rttvar_us;        /* 140 tp->mdev_us >> 2 at emit */
	__u32 min_rtt_us;       /* 144 lowest srtt seen since the previous record (0 = none) */
	__u32 max_rtt_us;       /* 148 highest srtt seen since the previous record */
	__u32 pid;              /* 152 tgid */
	__u32 netns;            /* 156 network namespace inode */
	__u64 cgroup_id;        /* 160 cgroup v2 id of the socket */
	char comm[NP_COMM_LEN]; /* 168 */
	__u64 _pad1;            /* 184 */
};

/* Written by the loader (never by BPF) every stats interval and once at start, so user space
 * can convert CLOCK_MONOTONIC to wall clock with an offset sampled at the same moment. */
struct np_stats_record {
	__u8 kind;             /*   0 NP_REC_STATS */
	__u8 _pad0[3];         /*   1 */
	__u32 sampling;        /*   4 configured 1-in-N */
	__u64 mono_ns;         /*   8 CLOCK_MONOTONIC */
	__u64 real_ns;         /*  16 CLOCK_REALTIME, same moment */
	__u64 ringbuf_drops;   /*  24 failed ringbuf reserves, all CPUs, since start */
	__u64 flows_opened;    /*  32 */
	__u64 flows_closed;    /*  40 */
	__u64 sampled_out;     /*  48 */
	__u64 filtered_out;    /*  56 */
	__u64 map_full;        /*  64 failed flow map inserts */
	__u64 records_written; /*  72 records the loader wrote to stdout */
	__u8 _pad1[112];       /*  80 */
};

/* Indexes of the per-CPU counter array shared by the BPF side and the loader. */
enum np_counter {
	NP_CNT_RINGBUF_DROPS = 0,
	NP_CNT_OPENED = 1,
	NP_CNT_CLOSED = 2,
	NP_CNT_SAMPLED_OUT = 3,
	NP_CNT_FILTERED_OUT = 4,
	NP_CNT_MAP_FULL = 5,
	NP_CNT_MAX = 6,
};

#define NP_MAX_PORTS 8
#define NP_MAX_CIDRS 8

/* A CIDR filter entry, set by the loader in .rodata. */
struct np_cidr {
	__u8 family;    /* 2 or 10 */
	__u8 prefix;    /* prefix length in bits */
	__u8 _pad[2];
	__u8 addr[16];
};

_Static_assert(sizeof(struct np_flow_record) == NP_RECORD_SIZE, "np_flow_record size");
_Static_assert(sizeof(struct np_stats_record) == NP_RECORD_SIZE, "np_stats_record size");
_Static_assert(__builtin_offsetof(struct np_flow_record, comm) == 168, "comm offset");
_Static_assert(__builtin_offsetof(struct np_flow_record, cgroup_id) == 160, "cgroup offset");

#endif
