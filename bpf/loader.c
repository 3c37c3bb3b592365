// SPDX-License-Identifier: Apache-2.0
/*
 * netpulse-loader: loads the CO-RE capture programs, sets their knobs, attaches them and
 * streams fixed 192-byte records (flow_record.h) to stdout until SIGTERM/SIGINT or until
 * stdout is closed. Output is buffered and flushed once per poll round; a stats record
 * (drop counters, clock pair) is written at start and every --stats-ms.
 * Any failure is one line on stderr saying what to fix; exit 2 = bad flags, 1 = environment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow_record.h"
#include "loader_args.h"
#include "loader_selftest.h"
#include "netpulse.skel.h"

static volatile sig_atomic_t stop;
static bool verbose;
static bool out_broken;
static __u64 records_written;

static void on_signal(int sig) { stop = 1; }

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || (!verbose && level == LIBBPF_INFO))
		return 0;
	return verbose ? vfprintf(stderr, fmt, args) : 0;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void fail(const char *msg) { fprintf(stderr, "netpulse-loader: %s\n", msg); }

static void write_record(const void *rec)
{
	if (out_broken)
		return;
	if (fwrite(rec, NP_RECORD_SIZE, 1, stdout) != 1) {
		out_broken = true;
		stop = 1;
		return;
	}
	records_written++;
}

static int on_event(void *ctx, void *data, size_t size)
{
	if (size >= NP_RECORD_SIZE)
		write_record(data);
	return 0;
}

static void write_stats(struct netpulse *skel, __u32 sampling)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 totals[NP_CNT_MAX] = { 0 };
	__u64 *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(__u64));
	if (skel && vals && ncpu > 0) {
		int fd = bpf_map__fd(skel->maps.counters);
		for (__u32 k = 0; k < NP_CNT_MAX; k++) {
			if (bpf_map_lookup_elem(fd, &k, vals))
				continue;
			for (int c = 0; c < ncpu; c++)
				totals[k] += vals[c];
		}
	}
	free(vals);
	struct np_stats_record s;
	memset(&s, 0, sizeof(s));
	s.kind = NP_REC_STATS;
	s.sampling = sampling;
	s.mono_ns = clock_ns(CLOCK_MONOTONIC);
	s.real_ns = clock_ns(CLOCK_REALTIME);
	s.ringbuf_drops = totals[NP_CNT_RINGBUF_DROPS];
	s.flows_opened = totals[NP_CNT_OPENED];
	s.flows_closed = totals[NP_CNT_CLOSED];
	s.sampled_out = totals[NP_CNT_SAMPLED_OUT];
	s.filtered_out = totals[NP_CNT_FILTERED_OUT];
	s.map_full = totals[NP_CNT_MAP_FULL];
	s.records_written = records_written;
	write_record(&s);
}

/* Whether `cap` is in this process's effective set (capget(2); 64-bit sets, version 3). */
static bool cap_effective(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return false;
	return (data[cap / 32].effective >> (cap % 32)) & 1;
}

/* One line naming what is missing: the programs are tracing programs reading kernel memory, so
 * loading them needs CAP_BPF and CAP_PERFMON (root holds both; the Helm chart grants only these). */
static void explain_load_error(int err)
{
	if (err != -EPERM && err != -EACCES) {
		fprintf(stderr, "netpulse-loader: loading BPF programs failed (%s); rerun with --verbose for the "
				"verifier log\n", strerror(-err));
		return;
	}
	bool bpf = cap_effective(CAP_BPF), perfmon = cap_effective(CAP_PERFMON);
	const char *missing = !bpf && !perfmon ? "CAP_BPF and CAP_PERFMON" : !bpf ? "CAP_BPF" : "CAP_PERFMON";
	if (!bpf || !perfmon)
		fprintf(stderr, "netpulse-loader: permission denied loading BPF: run as root or grant CAP_BPF, "
				"CAP_PERFMON (missing: %s; %s)\n", missing, strerror(-err));
	else
		fail("permission denied loading BPF although CAP_BPF and CAP_PERFMON are effective: check lockdown "
		     "(/sys/kernel/security/lockdown) and the container's seccomp profile (bpf(2) must be allowed)");
}

static int set_knobs(struct netpulse *skel, const struct loader_opts *o)
{
	skel->rodata->sampling = o->sampling;
	skel->rodata->keep_rtt_us = o->keep_rtt_us;
	skel->rodata->keep_retrans = o->keep_retrans;
	skel->rodata->max_flows = o->map_size;
	skel->rodata->port_count = o->port_count;
	memcpy((void *)skel->rodata->ports, o->ports, sizeof(o->ports));
	skel->rodata->cidr_count = o->cidr_count;
	memcpy((void *)skel->rodata->cidrs, o->cidrs, sizeof(o->cidrs));
	if (bpf_map__set_max_entries(skel->maps.flows, o->map_size) ||
	    bpf_map__set_max_entries(skel->maps.skipped, o->map_size) ||
	    bpf_map__set_max_entries(skel->maps.dirty, o->map_size) ||
	    bpf_map__set_max_entries(skel->maps.events, o->ringbuf_kb * 1024))
		return -1;
	return 0;
}

#define MAX_LINKS 16

/* Reports activity the per-segment path has not emitted yet (see flush() in netpulse.bpf.c). */
static void flush_flows(struct netpulse *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flush), &opts);
	if (err && verbose)
		fprintf(stderr, "netpulse-loader: flush failed (%s)\n", strerror(-err));
}

/* The next moment on a fixed grid after `now` (a late round skips the missed ones). */
static __u64 next_on_grid(__u64 due, __u64 every, __u64 now)
{
	while (due <= now)
		due += every;
	return due;
}

/* Longest single wait: bounds how late a stop signal that lands just before the wait is seen. */
#define MAX_WAIT_MS 1000

/* Sleeps until a record arrives or the next flush/stats/deadline is due, never on a fixed tick:
 * an idle loader wakes once per interval, not ten times a second. Flush and stats share one
 * wake-up and one write when they fall due together (the defaults: both every second), and the
 * flush's records are read at once, so user space gets them in the same chunk as the stats. */
static int poll_loop(struct netpulse *skel, const struct loader_opts *o)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "netpulse-loader: creating the ring buffer reader failed (%s)\n", strerror(errno));
		return 1;
	}
	__u64 stats_every = (__u64)o->stats_ms * 1000000ULL;
	__u64 started = clock_ns(CLOCK_MONOTONIC);
	__u64 next_stats = started + stats_every;
	__u64 deadline = o->duration_ms ? started + (__u64)o->duration_ms * 1000000ULL : 0;
	__u64 flush_every = (__u64)o->interval_ms * 1000000ULL;
	__u64 next_flush = started + flush_every;
	int rc = 0;
	while (!stop) {
		__u64 now = clock_ns(CLOCK_MONOTONIC);
		__u64 wake = next_flush < next_stats ? next_flush : next_stats;
		if (deadline && deadline < wake)
			wake = deadline;
		__u64 wait_ms = wake > now ? (wake - now + 999999ULL) / 1000000ULL : 0;
		int n = ring_buffer__poll(rb, wait_ms > MAX_WAIT_MS ? MAX_WAIT_MS : (int)wait_ms);
		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "netpulse-loader: polling the ring buffer failed (%s)\n", strerror(-n));
			rc = 1;
			break;
		}
		now = clock_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline)
			stop = 1;
		if (now >= next_flush) {
			flush_flows(skel);
			if (ring_buffer__consume(rb) > 0)
				n = 1;
			next_flush = next_on_grid(next_flush, flush_every, now);
		}
		if (now >= next_stats) {
			write_stats(skel, o->sampling);
			next_stats = next_on_grid(next_stats, stats_every, now);
			n = 1;
		}
		if (n > 0 && !out_broken && fflush(stdout) != 0)
			out_broken = true;
		if (out_broken)
			break; /* reader went away: a normal way to stop */
	}
	if (!out_broken) {
		flush_flows(skel); /* still-open flows: everything up to now */
		ring_buffer__consume(rb);
		write_stats(skel, o->sampling);
		fflush(stdout);
	}
	ring_buffer__free(rb);
	return rc;
}

static int run(const struct loader_opts *o)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		fail("kernel BTF not found at /sys/kernel/btf/vmlinux: CO-RE needs a kernel built with "
		     "CONFIG_DEBUG_INFO_BTF=y (in a container, mount the host's /sys/kernel/btf)");
		return 1;
	}
	struct netpulse *skel = netpulse__open();
	if (!skel) {
		fprintf(stderr, "netpulse-loader: opening the BPF object failed (%s)\n", strerror(errno));
		return 1;
	}
	struct bpf_link *links[MAX_LINKS] = { 0 };
	int nlinks = 0;
	int rc = 1;
	if (set_knobs(skel, o)) {
		fail("setting map sizes failed");
		goto out;
	}
	int err = netpulse__load(skel);
	if (err) {
		explain_load_error(err);
		goto out;
	}
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj) {
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SYSCALL)
			continue; /* run on demand, not attached */
		struct bpf_link *link = bpf_program__attach(prog);
		if (!link || nlinks >= MAX_LINKS) {
			fprintf(stderr, "netpulse-loader: attaching %s failed (%s): the kernel lacks this tracepoint "
					"or raw tracepoint support (CONFIG_TRACEPOINTS, CONFIG_BPF_EVENTS)\n",
				bpf_program__section_name(prog), strerror(errno));
			bpf_link__destroy(link);
			goto out;
		}
		links[nlinks++] = link;
	}
	/* First record: the clock pair, and the sign that every program is attached. */
	write_stats(skel, o->sampling);
	if (fflush(stdout) != 0)
		goto out;
	rc = poll_loop(skel, o);
out:
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	netpulse__destroy(skel);
	return rc;
}

int main(int argc, char **argv)
{
	struct loader_opts opts;
	if (!parse_args(argc, argv, &opts))
		return 2;
	if (opts.layout)
		return print_layout();
	if (opts.selftest)
		return write_selftest(stdout);
	verbose = opts.verbose;
	libbpf_set_print(print_libbpf);
	/* A roomy pipe (or socketpair, as Node's child_process gives) lets the reader fall behind
	 * briefly without stalling the poll loop. */
	if (fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20) < 0) {
		int sz = 4 << 20;
		if (setsockopt(STDOUT_FILENO, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
			setsockopt(STDOUT_FILENO, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	static char outbuf[1 << 16];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART; /* a blocked write to stdout must not fail with EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return run(&opts);
}
