// SPDX-License-Identifier: Apache-2.0
/* --layout and --selftest: let the TypeScript decoder's test check itself against this
 * compiler's view of flow_record.h, without BPF or root. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "loader_selftest.h"

#define FIELD(s, f) printf("%s\"%s\":[%zu,%zu]", first ? "" : ",", #f, offsetof(struct s, f), sizeof(((struct s *)0)->f)), first = 0

int print_layout(void)
{
	int first = 1;
	printf("{\"size\":%zu,\"flow\":{", sizeof(struct np_flow_record));
	FIELD(np_flow_record, kind); FIELD(np_flow_record, family); FIELD(np_flow_record, direction);
	FIELD(np_flow_record, state); FIELD(np_flow_record, close_reason); FIELD(np_flow_record, flags);
	FIELD(np_flow_record, lport); FIELD(np_flow_record, rport); FIELD(np_flow_record, sampling);
	FIELD(np_flow_record, flow_id); FIELD(np_flow_record, ts_ns); FIELD(np_flow_record, start_ns);
	FIELD(np_flow_record, laddr); FIELD(np_flow_record, raddr); FIELD(np_flow_record, bytes_out);
	FIELD(np_flow_record, bytes_in); FIELD(np_flow_record, d_bytes_out);
	FIELD(np_flow_record, d_bytes_in); FIELD(np_flow_record, segs_out); FIELD(np_flow_record, segs_in);
	FIELD(np_flow_record, d_segs_out); FIELD(np_flow_record, d_segs_in); FIELD(np_flow_record, total_retrans);
	FIELD(np_flow_record, d_retrans); FIELD(np_flow_record, syn_retrans); FIELD(np_flow_record, d_syn_retrans);
	FIELD(np_flow_record, srtt_us); FIELD(np_flow_record, rttvar_us); FIELD(np_flow_record, min_rtt_us);
	FIELD(np_flow_record, max_rtt_us); FIELD(np_flow_record, pid); FIELD(np_flow_record, netns);
	FIELD(np_flow_record, cgroup_id); FIELD(np_flow_record, comm);
	first = 1;
	printf("},\"stats\":{");
	FIELD(np_stats_record, kind); FIELD(np_stats_record, sampling); FIELD(np_stats_record, mono_ns);
	FIELD(np_stats_record, real_ns); FIELD(np_stats_record, ringbuf_drops); FIELD(np_stats_record, flows_opened);
	FIELD(np_stats_record, flows_closed); FIELD(np_stats_record, sampled_out);
	FIELD(np_stats_record, filtered_out); FIELD(np_stats_record, map_full);
	FIELD(np_stats_record, records_written);
	printf("}}\n");
	return 0;
}

/* Known values, chosen so every byte of a multi-byte field differs (catches endianness and
 * off-by-N offsets). services/capture/test/flowRecord.test.ts expects exactly these. */
int write_selftest(FILE *out)
{
	struct np_flow_record r;
	memset(&r, 0, sizeof(r));
	r.kind = NP_REC_CLOSE;
	r.family = 2;
	r.direction = NP_DIR_SERVER;
	r.state = 7;
	r.close_reason = NP_CLOSE_RST_RECEIVED;
	r.flags = NP_F_PID_KNOWN | NP_F_ALWAYS_KEEP;
	r.lport = 8080;
	r.rport = 54321;
	r.sampling = 16;
	r.flow_id = 0x0102030405060708ULL;
	r.ts_ns = 0x1112131415161718ULL;
	r.start_ns = 0x0a0b0c0d0e0f1011ULL;
	const unsigned char l4[4] = { 10, 200, 1, 2 }, r4[4] = { 10, 200, 1, 1 };
	memcpy(r.laddr, l4, 4);
	memcpy(r.raddr, r4, 4);
	r.bytes_out = 0xfedcba9876543210ULL;
	r.bytes_in = 1234567890123ULL;
	r.d_bytes_out = 1000001;
	r.d_bytes_in = 2000002;
	r.segs_out = 0x01020304;
	r.segs_in = 0x05060708;
	r.d_segs_out = 11;
	r.d_segs_in = 12;
	r.total_retrans = 13;
	r.d_retrans = 14;
	r.syn_retrans = 2;
	r.d_syn_retrans = 1;
	r.srtt_us = 150123;
	r.rttvar_us = 4567;
	r.min_rtt_us = 100001;
	r.max_rtt_us = 200002;
	r.pid = 424242;
	r.netns = 4026531840u;
	r.cgroup_id = 0x0000123456789abcULL;
	strncpy(r.comm, "selftest-comm", sizeof(r.comm));
	fwrite(&r, sizeof(r), 1, out);

	memset(&r, 0, sizeof(r));
	r.kind = NP_REC_OPEN;
	r.family = 10;
	r.direction = NP_DIR_CLIENT;
	r.state = 1;
	r.lport = 40000;
	r.rport = 443;
	r.sampling = 1;
	r.flow_id = 7;
	const unsigned char l6[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	const unsigned char r6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xef };
	memcpy(r.laddr, l6, 16);
	memcpy(r.raddr, r6, 16);
	memcpy(r.comm, "0123456789abcdef", sizeof(r.comm)); /* full 16 bytes, no terminator */
	fwrite(&r, sizeof(r), 1, out);

	struct np_stats_record s;
	memset(&s, 0, sizeof(s));
	s.kind = NP_REC_STATS;
	s.sampling = 4;
	s.mono_ns = 123456789012345ULL;
	s.real_ns = 1763700000123456789ULL;
	s.ringbuf_drops = 5;
	s.flows_opened = 6;
	s.flows_closed = 7;
	s.sampled_out = 8;
	s.filtered_out = 9;
	s.map_full = 10;
	s.records_written = 11;
	fwrite(&s, sizeof(s), 1, out);
	return fflush(out) == 0 ? 0 : 1;
}
