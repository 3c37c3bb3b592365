// SPDX-License-Identifier: Apache-2.0
/* Argument parsing for netpulse-loader: every bad value is reported with the flag's name. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loader_args.h"

static const char usage[] =
	"usage: netpulse-loader [--port P]... [--cidr C]... [--sampling N] [--map-size N]\n"
	"       [--ringbuf-kb N] [--interval-ms N] [--stats-ms N] [--keep-rtt-us N] [--keep-retrans N]\n"
	"       [--duration-ms N]"
	"       [--verbose] | --selftest | --layout\n"
	"Writes fixed 192-byte records (bpf/flow_record.h) to stdout.\n";

static bool parse_u32(const char *flag, const char *s, unsigned long min, unsigned long max, __u32 *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || !end || *end || end == s || v < min || v > max || s[0] == '-') {
		fprintf(stderr, "netpulse-loader: %s: expected an integer in [%lu, %lu], got '%s'\n", flag, min, max, s);
		return false;
	}
	*out = (__u32)v;
	return true;
}

static bool parse_cidr(const char *s, struct np_cidr *c)
{
	char buf[64];
	if (strlen(s) >= sizeof(buf))
		goto bad;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	unsigned long max;
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		goto bad;
	}
	__u32 prefix = (__u32)max;
	if (slash && !parse_u32("--cidr prefix", slash + 1, 0, max, &prefix))
		return false;
	c->prefix = (__u8)prefix;
	return true;
bad:
	fprintf(stderr, "netpulse-loader: --cidr: expected ADDRESS[/PREFIX] (IPv4 or IPv6), got '%s'\n", s);
	return false;
}

bool parse_args(int argc, char **argv, struct loader_opts *o)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },     { "cidr", required_argument, NULL, 'c' },
		{ "sampling", required_argument, NULL, 's' }, { "map-size", required_argument, NULL, 'm' },
		{ "ringbuf-kb", required_argument, NULL, 'r' }, { "interval-ms", required_argument, NULL, 'i' },
		{ "stats-ms", required_argument, NULL, 'S' }, { "keep-rtt-us", required_argument, NULL, 'R' },
		{ "keep-retrans", required_argument, NULL, 'K' }, { "selftest", no_argument, NULL, 'T' },
		{ "duration-ms", required_argument, NULL, 'D' },
		{ "layout", no_argument, NULL, 'L' },         { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },           { 0 },
	};
	memset(o, 0, sizeof(*o));
	o->sampling = 1;
	o->map_size = 65536;
	o->ringbuf_kb = 8192;
	o->interval_ms = 1000;
	o->stats_ms = 1000;
	o->keep_rtt_us = 100000;
	o->keep_retrans = 3;
	int c;
	__u32 v;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->port_count >= NP_MAX_PORTS) {
				fprintf(stderr, "netpulse-loader: --port: at most %d ports\n", NP_MAX_PORTS);
				return false;
			}
			if (!parse_u32("--port", optarg, 1, 65535, &v))
				return false;
			o->ports[o->port_count++] = (__u16)v;
			break;
		case 'c':
			if (o->cidr_count >= NP_MAX_CIDRS) {
				fprintf(stderr, "netpulse-loader: --cidr: at most %d CIDRs\n", NP_MAX_CIDRS);
				return false;
			}
			if (!parse_cidr(optarg, &o->cidrs[o->cidr_count]))
				return false;
			o->cidr_count++;
			break;
		case 's':
			if (!parse_u32("--sampling", optarg, 1, 1u << 20, &o->sampling))
				return false;
			break;
		case 'm':
			if (!parse_u32("--map-size", optarg, 64, 1u << 24, &o->map_size))
				return false;
			break;
		case 'r':
			if (!parse_u32("--ringbuf-kb", optarg, 64, 1u << 20, &o->ringbuf_kb))
				return false;
			if (o->ringbuf_kb & (o->ringbuf_kb - 1)) {
				fprintf(stderr, "netpulse-loader: --ringbuf-kb: must be a power of two, got %u\n",
					o->ringbuf_kb);
				return false;
			}
			break;
		case 'i':
			if (!parse_u32("--interval-ms", optarg, 10, 3600000, &o->interval_ms))
				return false;
			break;
		case 'S':
			if (!parse_u32("--stats-ms", optarg, 10, 3600000, &o->stats_ms))
				return false;
			break;
		case 'R':
			if (!parse_u32("--keep-rtt-us", optarg, 0, 60000000, &o->keep_rtt_us))
				return false;
			break;
		case 'K':
			if (!parse_u32("--keep-retrans", optarg, 0, 1000000, &o->keep_retrans))
				return false;
			break;
		case 'D':
			if (!parse_u32("--duration-ms", optarg, 1, 0xffffffffu, &o->duration_ms))
				return false;
			break;
		case 'T':
			o->selftest = true;
			break;
		case 'L':
			o->layout = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return false;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "netpulse-loader: unexpected argument '%s'\n", argv[optind]);
		return false;
	}
	return true;
}
