// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench --workload nginx: a real server, three ways, same files. A
 * workload with a runner of its own (workload.h).
 *
 * Three nginx instances run side by side (one worker each, ports 8081-8083,
 * the same tree, open_file_cache on, access_log off, tcp_nopush on):
 *   off    sendfile off (nginx reads into its buffers and writes)
 *   on     sendfile on
 *   zcsend sendfile on, with libzcsend-preload.so preloaded
 * and wrk (in the receiving network namespace for the veth routes) loads
 * one at a time, interleaved run by run, with a fixed number of connections
 * and a fixed duration: the small workload is a Lua script that picks one of
 * --objects files of --object-size bytes at random per request; the large
 * workload fetches one --size file. Reported per run, then as medians:
 * requests/s, MB/s (bytes wrk read, headers included), the nginx worker's
 * CPU seconds (utime + stime from /proc/PID/stat) per GiB served, wrk's
 * p50 and p99 latency, and each mode's requests/s as a ratio to "on".
 * Then, apart from the timed runs (whose throughput the tracepoints would
 * change), one run per workload of "on" and the shim counts the worker's
 * body calls and their EAGAINs per response (see count_calls()).
 *
 * nginx is Debian's binary, unpacked by scripts/setup into
 * $ZCSEND_CACHE/nginx (or --nginx PATH). Runs as root, meant for the VM.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/zcsend.h>

#include "routes.h"
#include "util.h"
#include "workload.h"

/* Where the package installs the preload library (the Makefile's LIBDIR). */
#ifndef ZCSEND_LIBDIR
#define ZCSEND_LIBDIR "/usr/lib/zcsend"
#endif

enum ngx_mode { NM_OFF, NM_ON, NM_SHIM, NM_COUNT };
static const char *const mode_names[NM_COUNT] = { "off", "on", "zcsend" };
static const char *const mode_desc[NM_COUNT] = {
	"sendfile off", "sendfile on", "sendfile on + shim",
};

enum ngx_wl { NW_SMALL, NW_LARGE, NW_COUNT };
static const char *const wl_names[NW_COUNT] = { "small", "large" };

#define NGX_PORT	8081
#define NGX_ROUTES	8
#define NGX_RUNS	32

struct ngx_opts {
	const struct bench_route *routes[NGX_ROUTES];
	int json;
	int nroutes;
	int runs, duration, connections, threads, objects;
	int count;	/* the counting runs (count_calls()) */
	uint64_t size, obj_min, obj_max;
	const char *json_file;
	char nginx[PATH_MAX], shim[PATH_MAX];
};

struct ngx_run {
	int ok;
	double rps, mbps, cpu_per_gib, p50_ms, p99_ms;
	uint64_t requests, bytes, errors;
	double secs, cpu_s;
};

/* One counting run: the worker's body calls (sendfile64, the module's
 * ioctls) and how many of them failed with EAGAIN. ok: counted. */
struct ngx_calls {
	int ok;
	uint64_t requests, calls, again;
};

struct ngx_inst {
	pid_t master;
	char stats[PATH_MAX];
};

static char tmpdir[128];
static struct ngx_inst inst[NM_COUNT];
static struct ngx_run res[NGX_ROUTES][NW_COUNT][NM_COUNT][NGX_RUNS];
static struct ngx_calls calls[NGX_ROUTES][NW_COUNT][NM_COUNT];

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		fprintf(stderr, "zcsend bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The tree: www/s/N (the small files), www/large. Random bytes. */
static int make_tree(const struct ngx_opts *o)
{
	uint64_t span = o->obj_max - o->obj_min, sz;
	int i;

	if (run_cmd("mkdir -p %s/www/s %s/logs", tmpdir, tmpdir))
		return -1;
	for (i = 0; i < o->objects; i++) {
		sz = o->obj_min + (o->objects > 1 ? span * (uint64_t)i / (uint64_t)(o->objects - 1) : 0);
		if (run_cmd("head -c %" PRIu64 " /dev/urandom > %s/www/s/%d", sz, tmpdir, i))
			return -1;
	}
	return run_cmd("head -c %" PRIu64 " /dev/urandom > %s/www/large", o->size, tmpdir);
}

/* wrk scripts: small.lua picks a file at random, large.lua the one file. */
static int make_scripts(const struct ngx_opts *o)
{
	static const char done[] =
		"function done(summary, latency, requests)\n"
		"  local e = summary.errors\n"
		"  io.write(string.format(\"ZCB requests=%d bytes=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\\n\",\n"
		"    summary.requests, summary.bytes, summary.duration,\n"
		"    latency:percentile(50), latency:percentile(99),\n"
		"    e.connect + e.read + e.write + e.status + e.timeout))\n"
		"end\n";
	char path[PATH_MAX + 32], *buf;
	size_t cap = 4096 + (size_t)o->objects * 32;
	int len, i;

	buf = malloc(cap);
	if (!buf)
		return -1;
	len = snprintf(buf, cap, "local paths = {");
	for (i = 0; i < o->objects; i++)
		len += snprintf(buf + len, cap - (size_t)len, "\"/s/%d\",", i);
	snprintf(buf + len, cap - (size_t)len,
		 "}\nlocal n = #paths\n"
		 "function init(args) math.randomseed(os.time()) end\n"
		 "function request() return wrk.format(\"GET\", paths[math.random(n)]) end\n%s",
		 done);
	snprintf(path, sizeof(path), "%s/small.lua", tmpdir);
	if (write_text(path, buf)) {
		free(buf);
		return -1;
	}
	snprintf(buf, cap, "wrk.path = \"/large\"\n%s", done);
	snprintf(path, sizeof(path), "%s/large.lua", tmpdir);
	len = write_text(path, buf);
	free(buf);
	return len;
}

static pid_t worker_of(pid_t master)
{
	char path[300], buf[512], *p;
	struct dirent *de;
	pid_t found = 0;
	DIR *d = opendir("/proc");
	FILE *f;
	int ppid;

	while (d && (de = readdir(d)) && !found) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			p = strrchr(buf, ')');
			if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == master)
				found = atoi(de->d_name);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* utime + stime of a process, in seconds. */
static double cpu_seconds(pid_t pid)
{
	unsigned long long ut, st;
	char path[64], buf[1024], *p;
	FILE *f;
	int ok = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		ok = p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				 &ut, &st) == 2;
	}
	fclose(f);
	return ok ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : -1;
}

static int start_nginx(const struct ngx_opts *o, enum ngx_mode m, const char *addr)
{
	char conf[PATH_MAX + 16], text[2048], port[16];
	int i;

	snprintf(conf, sizeof(conf), "%s/%s.conf", tmpdir, mode_names[m]);
	snprintf(text, sizeof(text),
		 "user root;\nworker_processes 1;\npid %s/%s.pid;\n"
		 "error_log %s/logs/%s.log warn;\n"
		 "events { worker_connections 1024; }\n"
		 "http {\n default_type application/octet-stream;\n access_log off;\n"
		 " client_body_temp_path %s/tmp-%s;\n proxy_temp_path %s/tmp-%s;\n"
		 " fastcgi_temp_path %s/tmp-%s;\n uwsgi_temp_path %s/tmp-%s;\n"
		 " scgi_temp_path %s/tmp-%s;\n"
		 " sendfile %s;\n tcp_nopush on;\n keepalive_requests 1000000;\n"
		 " open_file_cache max=4096 inactive=60s;\n"
		 " server { listen %s:%d; root %s/www; }\n}\n",
		 tmpdir, mode_names[m], tmpdir, mode_names[m],
		 tmpdir, mode_names[m], tmpdir, mode_names[m], tmpdir, mode_names[m],
		 tmpdir, mode_names[m], tmpdir, mode_names[m],
		 m == NM_OFF ? "off" : "on", addr, NGX_PORT + m, tmpdir);
	if (write_text(conf, text))
		return -1;
	snprintf(inst[m].stats, sizeof(inst[m].stats), "%s/%s.preload", tmpdir, mode_names[m]);
	unlink(inst[m].stats);
	inst[m].master = fork();
	if (inst[m].master < 0)
		return -1;
	if (inst[m].master == 0) {
		if (m == NM_SHIM) {
			setenv("LD_PRELOAD", o->shim, 1);
			setenv("ZCSEND_PRELOAD_STATS", inst[m].stats, 1);
		}
		execl(o->nginx, "nginx", "-p", tmpdir, "-c", conf, "-e", "stderr",
		      "-g", "daemon off; master_process on;", (char *)NULL);
		perror("zcsend bench: exec nginx");
		_exit(127);
	}
	snprintf(port, sizeof(port), "%d", NGX_PORT + m);
	for (i = 0; i < 100; i++) {
		if (worker_of(inst[m].master) &&
		    run_cmd("curl -s -o /dev/null -f http://%s:%s/large -r 0-0", addr, port) == 0)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "zcsend bench: nginx (%s) did not start\n", mode_names[m]);
	return -1;
}

static void stop_nginx(enum ngx_mode m)
{
	int i, st;

	if (inst[m].master <= 0)
		return;
	kill(inst[m].master, SIGQUIT);
	for (i = 0; i < 100; i++) {
		if (waitpid(inst[m].master, &st, WNOHANG) == inst[m].master)
			break;
		usleep(100000);
	}
	if (i == 100) {
		kill(inst[m].master, SIGKILL);
		waitpid(inst[m].master, &st, 0);
	}
	inst[m].master = 0;
}

static int run_wrk(const struct ngx_opts *o, const struct route *r, const char *addr,
		   enum ngx_mode m, enum ngx_wl w, struct ngx_run *out)
{
	char cmd[PATH_MAX * 2], line[512], ns[64] = "";
	unsigned long long req = 0, bytes = 0, dur = 0, p50 = 0, p99 = 0, err = 0;
	pid_t worker = worker_of(inst[m].master);
	double c0, c1;
	FILE *p;
	int got = 0;

	if (r->ns_recv[0])
		snprintf(ns, sizeof(ns), "ip netns exec %s ", r->ns_recv);
	snprintf(cmd, sizeof(cmd),
		 "%swrk -t%d -c%d -d%ds --timeout 10s -s %s/%s.lua http://%s:%d/ 2>&1",
		 ns, o->threads, o->connections, o->duration, tmpdir, wl_names[w],
		 addr, NGX_PORT + m);
	memset(out, 0, sizeof(*out));
	c0 = cpu_seconds(worker);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "ZCB requests=%llu bytes=%llu duration_us=%llu p50_us=%llu p99_us=%llu errors=%llu",
			   &req, &bytes, &dur, &p50, &p99, &err) == 6)
			got = 1;
	if (pclose(p) != 0 || !got || !dur) {
		fprintf(stderr, "zcsend bench: wrk failed: %s\n", cmd);
		return -1;
	}
	c1 = cpu_seconds(worker);
	out->requests = req;
	out->bytes = bytes;
	out->errors = err;
	out->secs = (double)dur / 1e6;
	out->cpu_s = c1 - c0;
	out->rps = (double)req / out->secs;
	out->mbps = (double)bytes / out->secs / 1e6;
	out->cpu_per_gib = bytes ? out->cpu_s / ((double)bytes / (1 << 30)) : 0;
	out->p50_ms = (double)p50 / 1e3;
	out->p99_ms = (double)p99 / 1e3;
	/*
	 * A run counts when bytes flowed without errors: on a slow route a
	 * 64 MiB body may not complete within the run, and MB/s still holds.
	 */
	out->ok = err == 0 && bytes > 0 && c0 >= 0 && c1 >= 0;
	return 0;
}

/* --- body calls per response, counted by ftrace histogram triggers --- */

#define NGX_EVENTS "/sys/kernel/tracing/events/syscalls/"

/* The triggers of one counting run: event, trigger. */
struct ngx_trigger {
	const char *event;
	char text[160];
};

static int trigger_write(const char *event, const char *text, int remove)
{
	char path[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), NGX_EVENTS "%s/trigger", event);
	f = fopen(path, "a");
	if (!f)
		return -1;
	err = fprintf(f, "%s%s\n", remove ? "!" : "", text) < 0;
	return fclose(f) || err ? -1 : 0;
}

/*
 * The hits of @event's trigger whose filter names @key (keys differ between
 * the triggers of one event, so each has its own section of the "hist"
 * file: "# trigger info: hist:keys=KEY..." then "Hits: N" under Totals).
 */
static int64_t trigger_hits(const char *event, const char *key)
{
	char path[128], line[512];
	int64_t hits = -1;
	int mine = 0;
	FILE *f;

	snprintf(path, sizeof(path), NGX_EVENTS "%s/hist", event);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long long n;

		if (!strncmp(line, "# trigger info: ", 16))
			mine = !strncmp(line + 16, key, strlen(key));
		else if (mine && sscanf(line, " Hits: %lld", &n) == 1)
			hits = n;
	}
	fclose(f);
	return hits;
}

/* The counts of a counting run's triggers @t into @out: 0, or -1. */
static int calls_read(const struct ngx_trigger *t, const struct ngx_run *run,
		      struct ngx_calls *out)
{
	int64_t sf, sf_again, io, io_again;

	sf = trigger_hits(t[0].event, "hist:keys=common_pid");
	sf_again = trigger_hits(t[1].event, "hist:keys=ret");
	io = trigger_hits(t[2].event, "hist:keys=common_pid");
	io_again = trigger_hits(t[3].event, "hist:keys=ret");
	if (sf < 0 || sf_again < 0 || io < 0 || io_again < 0)
		return -1;
	out->ok = 1;
	out->requests = run->requests;
	out->calls = (uint64_t)(sf + io);
	out->again = (uint64_t)(sf_again + io_again);
	return 0;
}

/*
 * One run of mode @m on workload @w, the worker's body calls counted: every
 * sendfile64 and every SENDFILE or SENDVEC ioctl (the shim's), and those
 * that returned -EAGAIN (nginx's socket full). The keys differ per trigger
 * so that each can be read and removed apart. Needs tracefs and
 * CONFIG_HIST_TRIGGERS (Debian's kernels have both); without them the
 * count is left out.
 */
static void count_calls(const struct ngx_opts *o, const struct route *r,
			const char *addr, enum ngx_mode m, enum ngx_wl w,
			struct ngx_calls *out)
{
	pid_t worker = worker_of(inst[m].master);
	struct ngx_trigger t[4] = {
		{ "sys_exit_sendfile64", "" }, { "sys_exit_sendfile64", "" },
		{ "sys_enter_ioctl", "" }, { "sys_exit_ioctl", "" },
	};
	const char *why = NULL;
	struct ngx_run run;
	int i, n = 0;

	memset(out, 0, sizeof(*out));
	snprintf(t[0].text, sizeof(t[0].text),
		 "hist:keys=common_pid if common_pid == %d", (int)worker);
	snprintf(t[1].text, sizeof(t[1].text),
		 "hist:keys=ret if common_pid == %d && ret == %d", (int)worker, -EAGAIN);
	snprintf(t[2].text, sizeof(t[2].text),
		 "hist:keys=common_pid if common_pid == %d && (cmd == %lu || cmd == %lu)",
		 (int)worker, (unsigned long)ZCSEND_IOC_SENDFILE,
		 (unsigned long)ZCSEND_IOC_SENDVEC);
	snprintf(t[3].text, sizeof(t[3].text),
		 "hist:keys=ret if common_pid == %d && ret == %d", (int)worker, -EAGAIN);
	while (worker > 0 && n < 4 && !trigger_write(t[n].event, t[n].text, 0))
		n++;
	if (worker <= 0)
		why = "no worker process found";
	else if (n < 4)
		why = "a trigger refused (tracefs, CONFIG_HIST_TRIGGERS)";
	else if (run_wrk(o, r, addr, m, w, &run) || !run.ok)
		why = "its wrk run failed";
	else if (calls_read(t, &run, out))
		why = "a trigger's hits not found";
	for (i = 0; i < n; i++)
		trigger_write(t[i].event, t[i].text, 1);
	if (why)
		fprintf(stderr, "zcsend bench: nginx %s %s: body calls not counted: %s\n",
			mode_names[m], wl_names[w], why);
}

/* Median of one field over a cell's good runs. */
static double median_of(const struct ngx_run *runs, int n, size_t field)
{
	double v[NGX_RUNS];
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (runs[i].ok)
			v[k++] = *(const double *)((const char *)&runs[i] + field);
	return spread_of(v, (size_t)k).median;
}

#define MED(cell, n, f) median_of(cell, n, offsetof(struct ngx_run, f))

/*
 * The shim against "on" round by round: the two ran in the same round, one
 * right after the other, so their ratio does not carry the drift between
 * rounds that the medians of each do.
 */
static void print_paired(const struct ngx_opts *o, FILE *f)
{
	int ri, w, i;

	fprintf(f, "\nthe shim against sendfile on, round by round (each round runs every mode once, in reverse order every other round)\n");
	fprintf(f, "%-9s %-6s %7s %12s %12s %10s %14s\n", "route", "files", "rounds",
		"MB/s ratio", "shim ahead", "sign p", "cpu/GiB ratio");
	for (ri = 0; ri < o->nroutes; ri++)
		for (w = 0; w < NW_COUNT; w++) {
			double mb[NGX_RUNS], cpu[NGX_RUNS];
			int n = 0, ahead = 0;
			char won[32];

			for (i = 0; i < o->runs; i++) {
				const struct ngx_run *on = &res[ri][w][NM_ON][i];
				const struct ngx_run *z = &res[ri][w][NM_SHIM][i];

				if (!on->ok || !z->ok || on->mbps <= 0 || on->cpu_per_gib <= 0)
					continue;
				mb[n] = z->mbps / on->mbps;
				cpu[n] = z->cpu_per_gib / on->cpu_per_gib;
				ahead += mb[n] > 1;
				n++;
			}
			snprintf(won, sizeof(won), "%d of %d", ahead, n);
			fprintf(f, "%-9s %-6s %7d %12.3f %12s %10.3f %14.3f\n",
				o->routes[ri]->name, wl_names[w], n,
				spread_of(mb, (size_t)n).median, won,
				sign_test_p(ahead, n),
				spread_of(cpu, (size_t)n).median);
		}
}

static void print_table(const struct ngx_opts *o, FILE *f)
{
	int ri, w, m;

	fprintf(f, "\nnginx (%s), 1 worker each; wrk -t%d -c%d -d%ds; medians of %d runs\n",
		o->nginx, o->threads, o->connections,
		o->duration, o->runs);
	fprintf(f, "small: %d files of %" PRIu64 "-%" PRIu64 " bytes, one at random per request; large: one %" PRIu64 "-byte file\n",
		o->objects, o->obj_min, o->obj_max, o->size);
	/* The ratio is of MB/s: a large body's run may complete no request. */
	fprintf(f, "%-9s %-6s %-19s %10s %9s %10s %8s %8s %10s\n", "route", "files",
		"nginx", "req/s", "MB/s", "cpu s/GiB", "p50 ms", "p99 ms", "MB/s vs on");
	for (ri = 0; ri < o->nroutes; ri++) {
		for (w = 0; w < NW_COUNT; w++) {
			double on = MED(res[ri][w][NM_ON], o->runs, mbps);

			for (m = 0; m < NM_COUNT; m++) {
				struct ngx_run *c = res[ri][w][m];
				double mbps = MED(c, o->runs, mbps);

				fprintf(f, "%-9s %-6s %-19s %10.0f %9.1f %10.2f %8.2f %8.2f %10.3f\n",
					o->routes[ri]->name, wl_names[w], mode_desc[m],
					MED(c, o->runs, rps), mbps, MED(c, o->runs, cpu_per_gib),
					MED(c, o->runs, p50_ms), MED(c, o->runs, p99_ms),
					on > 0 ? mbps / on : 0);
			}
		}
	}
	print_paired(o, f);
	if (!o->count)
		return;
	fprintf(f, "\nbody calls per response (sendfile64, or the shim's ioctls), one run each, counted apart\n");
	fprintf(f, "%-9s %-6s %-19s %10s %12s %12s\n", "route", "files", "nginx",
		"responses", "calls/resp", "EAGAIN/resp");
	for (ri = 0; ri < o->nroutes; ri++)
		for (w = 0; w < NW_COUNT; w++)
			for (m = NM_ON; m < NM_COUNT; m++) {
				const struct ngx_calls *c = &calls[ri][w][m];

				if (!c->ok || !c->requests) {
					fprintf(f, "%-9s %-6s %-19s %10s\n", o->routes[ri]->name,
						wl_names[w], mode_desc[m], "not counted");
					continue;
				}
				fprintf(f, "%-9s %-6s %-19s %10" PRIu64 " %12.3f %12.3f\n",
					o->routes[ri]->name, wl_names[w], mode_desc[m],
					c->requests, (double)c->calls / (double)c->requests,
					(double)c->again / (double)c->requests);
			}
}

static void print_json(const struct ngx_opts *o, int complete, FILE *f)
{
	int ri, w, m, i;

	fprintf(f, "{\"workload\": \"nginx\", \"complete\": %s, \"threads\": %d, \"connections\": %d, \"duration_s\": %d, \"runs\": %d, \"objects\": %d, \"object_min\": %" PRIu64 ", \"object_max\": %" PRIu64 ", \"size\": %" PRIu64 ", \"cases\": [",
		complete ? "true" : "false", o->threads, o->connections, o->duration,
		o->runs, o->objects, o->obj_min, o->obj_max, o->size);
	for (ri = 0; ri < o->nroutes; ri++)
		for (w = 0; w < NW_COUNT; w++)
			for (m = 0; m < NM_COUNT; m++) {
				fprintf(f, "%s\n {\"route\": \"%s\", \"files\": \"%s\", \"mode\": \"%s\", \"runs\": [",
					ri + w + m ? "," : "", o->routes[ri]->name,
					wl_names[w], mode_names[m]);
				for (i = 0; i < o->runs; i++) {
					struct ngx_run *r = &res[ri][w][m][i];

					fprintf(f, "%s{\"ok\": %s, \"requests\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"seconds\": %.3f, \"worker_cpu_s\": %.3f, \"rps\": %.1f, \"mbps\": %.2f, \"cpu_s_per_gib\": %.4f, \"p50_ms\": %.3f, \"p99_ms\": %.3f}",
						i ? ", " : "", r->ok ? "true" : "false", r->requests,
						r->bytes, r->errors, r->secs, r->cpu_s, r->rps, r->mbps,
						r->cpu_per_gib, r->p50_ms, r->p99_ms);
				}
				fprintf(f, "]");
				if (m != NM_OFF && calls[ri][w][m].ok)
					fprintf(f, ", \"counted\": {\"responses\": %" PRIu64 ", \"body_calls\": %" PRIu64 ", \"eagain\": %" PRIu64 "}",
						calls[ri][w][m].requests, calls[ri][w][m].calls,
						calls[ri][w][m].again);
				fprintf(f, "}");
			}
	fprintf(f, "\n]}\n");
}

/* nginx as scripts/setup unpacked it: $ZCSEND_CACHE/nginx/VERSION/... */
static void default_nginx(char *out, size_t len)
{
	const char *cache = getenv("ZCSEND_CACHE");
	char ver[128] = "", path[PATH_MAX];
	FILE *f;

	cache = cache && *cache ? cache : "/var/cache/zcsend";
	snprintf(path, sizeof(path), "%s/nginx/current", cache);
	f = fopen(path, "r");
	if (f) {
		if (fgets(ver, sizeof(ver), f))
			ver[strcspn(ver, "\n")] = 0;
		fclose(f);
	}
	snprintf(out, len, "%s/nginx/%s/usr/sbin/nginx", cache, ver);
}

/* libzcsend-preload.so beside this program, else where the package puts it. */
static void default_shim(char *out, size_t len)
{
	char exe[PATH_MAX - 64];
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = 0;
	snprintf(out, len, "%s/libzcsend-preload.so", exe);
	if (access(out, R_OK))
		snprintf(out, len, "%s/libzcsend-preload.so", ZCSEND_LIBDIR);
}

/* The workload's own options; routes, runs and the JSON come from the
 * common options at run time. */
static struct ngx_opts ngx = {
	.duration = 5, .connections = 16, .threads = 1, .objects = 256,
	.obj_min = 4096, .obj_max = 65536, .size = 64 << 20, .count = 1,
};

static int set_int(const char *arg, unsigned long max, int *out)
{
	unsigned long v;

	if (parse_uint(arg, max, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int set_duration(const char *arg)
{
	return set_int(arg, 3600, &ngx.duration);
}

static int set_connections(const char *arg)
{
	return set_int(arg, 10000, &ngx.connections);
}

static int set_threads(const char *arg)
{
	return set_int(arg, 64, &ngx.threads);
}

static int set_objects(const char *arg)
{
	return set_int(arg, 100000, &ngx.objects);
}

static int set_object_size(const char *arg)
{
	return parse_size_range(arg, &ngx.obj_min, &ngx.obj_max);
}

static int set_size(const char *arg)
{
	return parse_size(arg, &ngx.size);
}

static int set_count(const char *arg)
{
	if (strcmp(arg, "0") && strcmp(arg, "1"))
		return -1;
	ngx.count = arg[0] == '1';
	return 0;
}

static int set_nginx(const char *arg)
{
	snprintf(ngx.nginx, sizeof(ngx.nginx), "%s", arg);
	return 0;
}

static int set_shim(const char *arg)
{
	snprintf(ngx.shim, sizeof(ngx.shim), "%s", arg);
	return 0;
}

static const struct bench_option nginx_options[] = {
	{ "duration", "SEC", "wrk duration per run (default 5)", set_duration },
	{ "connections", "N", "wrk connections (default 16)", set_connections },
	{ "threads", "N", "wrk threads (default 1, at most the connections)", set_threads },
	{ "objects", "N", "small files (default 256)", set_objects },
	{ "object-size", "MIN-MAX", "their sizes, spread evenly (default 4K-64K)",
	  set_object_size },
	{ "size", "SIZE", "the large file (default 64M)", set_size },
	{ "count-calls", "0|1",
	  "1: count body calls per response in runs of their own (default)", set_count },
	{ "nginx", "PATH", "nginx binary (default: unpacked by scripts/setup)", set_nginx },
	{ "shim", "PATH", "libzcsend-preload.so (default: beside this program)", set_shim },
	{ NULL, NULL, NULL, NULL },
};

/* The run's options: the workload's own and the common ones. 0, or -1. */
static int run_opts(const struct bench_opts *common, struct ngx_opts *o)
{
	int i;

	*o = ngx;
	if (!o->nginx[0])
		default_nginx(o->nginx, sizeof(o->nginx));
	if (!o->shim[0])
		default_shim(o->shim, sizeof(o->shim));
	o->runs = (int)common->runs;
	o->json = common->json;
	o->json_file = common->json_file;
	for (i = 0; i < common->nroutes && i < NGX_ROUTES; i++)
		o->routes[o->nroutes++] = common->routes[i];
	if (o->runs > NGX_RUNS || common->nroutes > NGX_ROUTES ||
	    o->threads > o->connections) {
		fprintf(stderr, "zcsend bench: --workload nginx takes at most %d runs and %d routes, and no more --threads than --connections\n",
			NGX_RUNS, NGX_ROUTES);
		return -1;
	}
	return 0;
}

static void report_shim(void)
{
	char line[512];
	FILE *f = fopen(inst[NM_SHIM].stats, "r");

	if (!f) {
		fprintf(stderr, "zcsend bench: no shim counters in %s\n", inst[NM_SHIM].stats);
		return;
	}
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, "ioctl_calls=0 ioctl_bytes=0 fallback_calls=0"))
			printf("# shim: %s", line);
	fclose(f);
}

/* nginx, the shim, wrk and curl are there: 0, or 1 (printed). */
static int check_tools(const struct ngx_opts *o)
{
	if (access(o->nginx, X_OK)) {
		fprintf(stderr, "zcsend bench: no nginx at %s (run scripts/setup)\n", o->nginx);
		return 1;
	}
	if (access(o->shim, R_OK)) {
		fprintf(stderr, "zcsend bench: no %s (make userspace)\n", o->shim);
		return 1;
	}
	if (run_cmd("command -v wrk curl > /dev/null"))
		return 1;
	if (access("/dev/zcsend", R_OK | W_OK))
		fprintf(stderr, "zcsend bench: /dev/zcsend not usable: the shim will fall back to sendfile\n");
	return 0;
}

/* Warm the page cache and the connections once per mode: 0 or 1. */
static int warm_up(const struct ngx_opts *o, const struct route *r,
		   const char *addr)
{
	struct ngx_opts warm = { .threads = o->threads,
				 .connections = o->connections, .duration = 1 };
	struct ngx_run ignored;
	int w, m;

	for (w = 0; w < NW_COUNT; w++)
		for (m = 0; m < NM_COUNT; m++)
			if (run_wrk(&warm, r, addr, m, w, &ignored))
				return 1;
	return 0;
}

/*
 * Run i of every workload and mode on route ri, interleaved, in reverse
 * order every other run, so that no mode always runs first or right after
 * another: 0 or 1.
 */
static int measure_run(const struct ngx_opts *o, int ri, const struct route *r,
		       const char *addr, int i)
{
	int w, k, m;

	for (w = 0; w < NW_COUNT; w++)
		for (k = 0; k < NM_COUNT; k++) {
			struct ngx_run *x;

			m = i % 2 ? NM_COUNT - 1 - k : k;
			x = &res[ri][w][m][i];

			if (run_wrk(o, r, addr, m, w, x))
				return 1;
			fprintf(stderr, "nginx %s %s %-6s run %d: %.0f req/s, %.1f MB/s, %.2f cpu s/GiB, p50 %.2f ms, p99 %.2f ms%s\n",
				r->def->name, wl_names[w], mode_names[m], i + 1,
				x->rps, x->mbps, x->cpu_per_gib, x->p50_ms, x->p99_ms,
				x->ok ? "" : " (errors)");
			if (!x->ok)
				return 1;
		}
	return 0;
}

/* Every run on route ri, its three nginx started and stopped: 0 or 1. */
static int bench_route(const struct ngx_opts *o, int ri)
{
	char addr[sizeof(((struct route *)0)->addr)];
	struct route r;
	int m, w, i, err = 0;

	if (route_setup(&r, o->routes[ri]))
		return 1;
	/* nginx listens on the sending side: .1 of the receiver's /24. */
	snprintf(addr, sizeof(addr), "%s", r.addr);
	if (r.ns_recv[0] && strrchr(addr, '.'))
		strcpy(strrchr(addr, '.') + 1, "1");
	for (m = 0; m < NM_COUNT && !err; m++)
		err = start_nginx(o, m, addr) ? 1 : 0;
	if (!err)
		err = warm_up(o, &r, addr);
	for (i = 0; i < o->runs && !err; i++)
		err = measure_run(o, ri, &r, addr, i);
	for (w = 0; w < NW_COUNT && !err && o->count; w++)
		for (m = NM_ON; m < NM_COUNT; m++)
			count_calls(o, &r, addr, m, w, &calls[ri][w][m]);
	for (m = 0; m < NM_COUNT; m++)
		stop_nginx(m);
	if (!err)
		report_shim();
	route_teardown(&r);
	return err;
}

/* The JSON of the routes done so far: to its file, whole each time (a
 * temporary renamed over it), so that a run cut short keeps what ran. */
static int write_json(const struct ngx_opts *o, int done, int complete)
{
	struct ngx_opts part = *o;
	char tmp[PATH_MAX];
	FILE *f;

	if (!o->json_file)
		return 0;
	part.nroutes = done;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->json_file);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return 1;
	}
	print_json(&part, complete, f);
	if (fclose(f) || rename(tmp, o->json_file)) {
		perror(o->json_file);
		unlink(tmp);
		return 1;
	}
	return 0;
}

/* The table of the routes done (or the JSON, if --json took stdout), and
 * the JSON's file once more: 0 or 1. */
static int report(const struct ngx_opts *o, int done, int complete)
{
	struct ngx_opts part = *o;

	part.nroutes = done;
	if (o->json && !o->json_file)
		print_json(&part, complete, stdout);
	else
		print_table(&part, stdout);
	return write_json(o, done, complete);
}

static int run_nginx(const struct bench_opts *common)
{
	struct ngx_opts o;
	int ri, m, err, done = 0;

	if (run_opts(common, &o))
		return EXIT_USAGE;
	if (check_tools(&o))
		return 1;
	if ((size_t)snprintf(tmpdir, sizeof(tmpdir), "%s/zcsend-nginx-bench.XXXXXX",
			     common->dir) >= sizeof(tmpdir) || !mkdtemp(tmpdir)) {
		perror("zcsend bench: mkdtemp");
		return 1;
	}
	err = make_tree(&o) || make_scripts(&o);
	for (ri = 0; ri < o.nroutes && !err && !bench_stop_signal; ri++) {
		fprintf(stderr, "zcsend bench: nginx, route %d/%d: %s\n", ri + 1, o.nroutes,
			o.routes[ri]->name);
		err = bench_route(&o, ri);
		if (!err)
			write_json(&o, ++done, 0);
	}
	if (done)
		err |= report(&o, done, done == o.nroutes);
	for (m = 0; m < NM_COUNT; m++)
		stop_nginx(m);
	run_cmd("rm -rf %s", tmpdir);
	return err || bench_stop_signal ? 1 : 0;
}

const struct bench_workload workload_nginx = {
	.name = "nginx",
	.help = "nginx under wrk, sendfile off, on, on + the preload library",
	.options = nginx_options, .runs = 3, .routes = "loopback,veth",
	.run = run_nginx,
};
