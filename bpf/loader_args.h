/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line options of netpulse-loader. */
#ifndef NETPULSE_LOADER_ARGS_H
#define NETPULSE_LOADER_ARGS_H

#include <stdbool.h>
#include "flow_record.h"

struct loader_opts {
	__u16 ports[NP_MAX_PORTS];
	__u32 port_count;
	struct np_cidr cidrs[NP_MAX_CIDRS];
	__u32 cidr_count;
	__u32 sampling;
	__u32 map_size;
	__u32 ringbuf_kb;
	__u32 interval_ms;
	__u32 stats_ms;
	__u32 keep_rtt_us;
	__u32 keep_retrans;
	__u32 duration_ms; /* 0 = until SIGTERM/SIGINT */
	bool selftest;
	bool layout;
	bool verbose;
};

/* Parses argv into opts; on bad input prints one line naming the flag and returns false. */
bool parse_args(int argc, char **argv, struct loader_opts *opts);

#endif
