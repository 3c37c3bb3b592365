// Paced HTTP/1.1 keep-alive load for latency.bench.ts: a fixed request rate (open loop), not
// "as fast as it can". Request j is due at start + j / rate on connection j mod conns, so the
// sends are spaced evenly in time; one request at a time per connection (no pipelining). A request
// whose connection is still busy when it falls due waits for it, and every latency is measured
// from the request's DUE time (coordinated omission counted), in ns from CLOCK_MONOTONIC; the time
// from the actual send is printed beside it. Wakes at each due time with a timerfd and 1 ns timer
// slack, so the schedule holds to a few µs and the generator itself costs little CPU.
//   paced-load <ipv4> <port> <conns> <rate/s> <seconds>
// prints one JSON object: requests, achieved rate, latency percentiles (µs), send lag, errors,
// its own CPU seconds.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define QUEUE 4096
#define BUF 65536

static const char request[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

struct conn {
	int fd;
	int busy;
	uint64_t due_ns, sent_ns;
	/* due times of requests waiting for this connection */
	uint64_t queue[QUEUE];
	unsigned head, len;
	char buf[BUF];
	size_t used;
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "paced-load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *xs, size_t n, double q)
{
	if (n == 0)
		return -1;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return (double)xs[i] / 1000.0;
}

static double mean(const uint64_t *xs, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)xs[i];
	return n ? s / (double)n / 1000.0 : -1;
}

static uint64_t *lat, *svc, *lag;
static size_t done, cap, errors, late;

static void send_request(struct conn *c, uint64_t due)
{
	uint64_t t = now_ns();
	if (write(c->fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1))
		die("write");
	c->busy = 1;
	c->due_ns = due;
	c->sent_ns = t;
}

/* One complete response in c->buf (headers + Content-Length body)? Consumes it and returns 1. */
static int take_response(struct conn *c)
{
	char *end = memmem(c->buf, c->used, "\r\n\r\n", 4);
	if (!end)
		return 0;
	size_t head = (size_t)(end - c->buf) + 4, body = 0;
	for (char *p = c->buf; p < end; p++) {
		if ((p == c->buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
			body = strtoul(p + 15, NULL, 10);
			break;
		}
	}
	if (c->used < head + body)
		return 0;
	if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
		errors++;
	memmove(c->buf, c->buf + head + body, c->used - head - body);
	c->used -= head + body;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: paced-load <ipv4> <port> <conns> <rate/s> <seconds>\n");
		return 2;
	}
	int n = atoi(argv[3]);
	double rate = atof(argv[4]), seconds = atof(argv[5]);
	if (n <= 0 || rate <= 0 || seconds <= 0) {
		fprintf(stderr, "paced-load: conns, rate and seconds must be > 0\n");
		return 2;
	}
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "paced-load: bad address %s\n", argv[1]);
		return 2;
	}
	struct conn *conns = calloc((size_t)n, sizeof *conns);
	int ep = epoll_create1(0);
	if (!conns || ep < 0)
		die("setup");
	for (int i = 0; i < n; i++) {
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
			die("connect");
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		conns[i].fd = fd;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			die("epoll_ctl");
	}
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
	if (tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
		die("timerfd");

	uint64_t total = (uint64_t)(rate * seconds);
	cap = total + 1;
	lat = malloc(cap * sizeof *lat);
	svc = malloc(cap * sizeof *svc);
	lag = malloc(cap * sizeof *lag);
	if (!lat || !svc || !lag)
		die("malloc");

	struct rusage r0;
	getrusage(RUSAGE_SELF, &r0);
	const double period = 1e9 / rate;
	const uint64_t start = now_ns() + 1000000; /* connections are up; first request 1 ms from now */
	uint64_t next = 0; /* index of the next request to fall due */
	size_t outstanding = 0;
	const uint64_t deadline = start + (uint64_t)(seconds * 1e9) + 2000000000u; /* 2 s to drain */
	struct epoll_event evs[64];

	for (;;) {
		uint64_t t = now_ns();
		while (next < total && start + (uint64_t)((double)next * period) <= t) {
			uint64_t due = start + (uint64_t)((double)next * period);
			struct conn *c = &conns[next % (uint64_t)n];
			if (!c->busy)
				send_request(c, due);
			else if (c->len < QUEUE)
				c->queue[(c->head + c->len++) % QUEUE] = due;
			else
				errors++; /* far behind: give this one up */
			outstanding++;
			next++;
		}
		if (next == total && outstanding == 0)
			break;
		if (t > deadline) {
			errors += outstanding;
			break;
		}
		if (next < total) {
			uint64_t due = start + (uint64_t)((double)next * period);
			struct itimerspec its = {.it_value = {.tv_sec = (time_t)(due / 1000000000u),
							      .tv_nsec = (long)(due % 1000000000u)}};
			timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
		}
		int k = epoll_wait(ep, evs, 64, next < total ? -1 : 100);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int e = 0; e < k; e++) {
			if (evs[e].data.u32 == UINT32_MAX) {
				uint64_t x;
				(void)!read(tfd, &x, sizeof x);
				continue;
			}
			struct conn *c = &conns[evs[e].data.u32];
			ssize_t got = read(c->fd, c->buf + c->used, BUF - c->used);
			if (got <= 0) {
				fprintf(stderr, "paced-load: connection closed by the server\n");
				return 1;
			}
			c->used += (size_t)got;
			while (c->busy && take_response(c)) {
				uint64_t at = now_ns();
				if (done < cap) {
					lat[done] = at - c->due_ns;
					svc[done] = at - c->sent_ns;
					lag[done] = c->sent_ns - c->due_ns;
					if (c->sent_ns - c->due_ns > 1000000)
						late++;
					done++;
				}
				outstanding--;
				c->busy = 0;
				if (c->len > 0) {
					uint64_t due = c->queue[c->head];
					c->head = (c->head + 1) % QUEUE;
					c->len--;
					send_request(c, due);
				}
			}
		}
	}
	const double elapsed = (double)(now_ns() - start) / 1e9;

	struct rusage r1;
	getrusage(RUSAGE_SELF, &r1);
	double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
		     (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
		     (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	double lat_mean = mean(lat, done), svc_mean = mean(svc, done), lag_mean = mean(lag, done);
	qsort(lat, done, sizeof *lat, cmp_u64);
	qsort(svc, done, sizeof *svc, cmp_u64);
	qsort(lag, done, sizeof *lag, cmp_u64);
	printf("{\"requests\":%zu,\"target_rate\":%.1f,\"rate\":%.1f,\"elapsed_s\":%.3f,"
	       "\"mean_us\":%.2f,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,"
	       "\"send_mean_us\":%.2f,\"send_p50_us\":%.2f,\"send_p99_us\":%.2f,"
	       "\"lag_mean_us\":%.2f,\"lag_p99_us\":%.2f,\"late\":%zu,\"errors\":%zu,\"cpu_s\":%.4f}\n",
	       done, rate, (double)done / seconds, elapsed, lat_mean, pct(lat, done, 0.5), pct(lat, done, 0.9),
	       pct(lat, done, 0.99), pct(lat, done, 0.999), pct(lat, done, 1.0), svc_mean, pct(svc, done, 0.5),
	       pct(svc, done, 0.99), lag_mean, pct(lag, done, 0.99), late, errors, cpu);
	return 0;
}
