// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the output. Per case two tables (rates and CPU; CPU
 * copies beside the article's claims), a legend, and the JSON with every
 * raw run.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "report.h"
#include "results.h"
#include "trace.h"
#include "util.h"

/* ---- the table ---- */

/* Ratios to sendfile's medians in the same case. */
struct baseline {
	int present;
	struct spread rate, cpu;
};

static void rate_text(const struct case_res *cs, const struct method_res *m,
		      char *rs, size_t len)
{
	struct spread rate = metric_spread(cs, m, BYTES_PER_S, NULL);
	struct spread reqs = metric_spread(cs, m, REQUESTS_PER_S, NULL);
	char a[32], b[32], c[32];

	if (cs->header_bytes)
		snprintf(rs, len, "%.0f/s [%.0f..%.0f]", reqs.median, reqs.min, reqs.max);
	else
		snprintf(rs, len, "%s [%s..%s]",
			 fmt_rate(a, sizeof(a), rate.median),
			 fmt_rate(b, sizeof(b), rate.min), fmt_rate(c, sizeof(c), rate.max));
}

static void print_rate_row(const struct results *res, const struct case_res *cs,
			   const struct method_res *m, const struct baseline *sf,
			   FILE *out)
{
	struct spread rate, cpu, usr, sys, sc, vcs, ivcs;
	char rs[80], ratio[16], cratio[16], a[32], b[32], c[32];
	int nok;

	rate = metric_spread(cs, m, BYTES_PER_S, &nok);
	if (nok == 0) {
		fprintf(out, "%-14s failed: %s\n", m->method->name,
			m->nruns > 1 ? m->runs[1].err : m->runs[0].err);
		return;
	}
	cpu = metric_spread(cs, m, CPU_S_PER_GIB, NULL);
	usr = metric_spread(cs, m, USER_S_PER_GIB, NULL);
	sys = metric_spread(cs, m, SYS_S_PER_GIB, NULL);
	sc = metric_spread(cs, m, SYSCALLS, NULL);
	vcs = metric_spread(cs, m, CTX_VOLUNTARY, NULL);
	ivcs = metric_spread(cs, m, CTX_INVOLUNTARY, NULL);
	rate_text(cs, m, rs, sizeof(rs));
	snprintf(ratio, sizeof(ratio), "%.2fx",
		 sf->rate.median > 0 ? rate.median / sf->rate.median : 0);
	snprintf(cratio, sizeof(cratio), "%.2fx",
		 sf->cpu.median > 0 ? cpu.median / sf->cpu.median : 0);
	snprintf(a, sizeof(a), "%.2f", cpu.median);
	snprintf(b, sizeof(b), "%.0f/%.0f", cpu.median > 0 ? 100 * usr.median / cpu.median : 0,
		 cpu.median > 0 ? 100 * sys.median / cpu.median : 0);
	snprintf(c, sizeof(c), "%.0f/%.0f", vcs.median, ivcs.median);
	fprintf(out, "%-14s %-34s %7s %-9s %7s %9s %9.0f %11s", m->method->name, rs,
		sf->present ? ratio : "-", a, sf->present ? cratio : "-", b, sc.median, c);
	if (nok < (int)res->runs)
		fprintf(out, "  (%d/%lu runs ok)", nok, res->runs);
	fputc('\n', out);
}

static void print_rates(const struct results *res, const struct case_res *cs, FILE *out)
{
	const struct method_res *sendfile = find_method(cs, "sendfile");
	struct baseline sf = { 0 };
	int i;

	if (sendfile) {
		sf.present = 1;
		sf.rate = metric_spread(cs, sendfile, BYTES_PER_S, NULL);
		sf.cpu = metric_spread(cs, sendfile, CPU_S_PER_GIB, NULL);
	}
	fprintf(out, "%-14s %-34s %7s %-9s %7s %9s %9s %11s\n", "method",
		cs->header_bytes ? "throughput (requests/s)" : "throughput",
		"x sendf", "CPU s/GiB", "x sendf", "usr/sys%", "syscalls", "cs vol/inv");
	for (i = 0; i < cs->nm; i++) {
		const struct method_res *m = &cs->m[i];

		if (m->unavail[0])
			fprintf(out, "%-14s unavailable: %s\n", m->method->name, m->unavail);
		else
			print_rate_row(res, cs, m, &sf, out);
	}
}

/* The article's columns: its CPU copies and mode switches, '*' where the
 * measurement disagrees. */
static void claim_text(const struct case_res *cs, const struct method_res *m,
		       double copies, int measured, char *claim, size_t clen,
		       char *sws, size_t slen)
{
	double per_obj = metric_spread(cs, m, SYSCALLS, NULL).median / (double)cs->objects;
	int sw, cp;

	if (!article_claim_of(m->method, cs->route, &sw, &cp)) {
		snprintf(claim, clen, "-");
		snprintf(sws, slen, "%.0f/-", 2 * per_obj);
		return;
	}
	snprintf(claim, clen, "%d%s", cp,
		 measured && (copies < cp - 0.15 || copies > cp + 0.15) ? " *" : "");
	snprintf(sws, slen, "%.0f/%d%s", 2 * per_obj, sw,
		 (int)(2 * per_obj + 0.5) != sw ? " *" : "");
}

static void print_copy_row(const struct case_res *cs, const struct method_res *m,
			   const char *copy_why, FILE *out)
{
	struct spread tot, sc;
	char zcs[16], claim[16], sws[40], ts[48];
	int nok;

	tot = metric_spread(cs, m, COPIES_PER_BYTE, &nok);
	if (nok == 0)
		return;
	sc = metric_spread(cs, m, SYSCALLS, NULL);
	if (m->runs[1 < m->nruns ? 1 : 0].zc_known || !m->method->reports_zc_copies)
		snprintf(zcs, sizeof(zcs), "%6.2f",
			 metric_spread(cs, m, COPIES_ZC_REPORTED_PER_BYTE, NULL).median);
	else
		snprintf(zcs, sizeof(zcs), "%6s", "n/r");
	claim_text(cs, m, tot.median, !copy_why, claim, sizeof(claim), sws, sizeof(sws));
	if (copy_why) {
		fprintf(out, "%-14s %-32s %6s %6s %6s %s %7s %6.0f | %-7s %-16s\n",
			m->method->name, "not measured", "-", "-", "-", zcs, "-",
			sc.median, claim, sws);
		return;
	}
	snprintf(ts, sizeof(ts), "%.2f [%.2f..%.2f]", tot.median, tot.min, tot.max);
	fprintf(out, "%-14s %-32s %6.2f %6.2f %6.2f %s %7.2f %6.0f | %-7s %-17s %.2f\n",
		m->method->name, ts,
		metric_spread(cs, m, COPIES_FILE_READ_PER_BYTE, NULL).median,
		metric_spread(cs, m, COPIES_SEND_PER_BYTE, NULL).median,
		metric_spread(cs, m, COPIES_SEGMENT_PER_BYTE, NULL).median, zcs,
		metric_spread(cs, m, BY_REFERENCE_PER_BYTE, NULL).median,
		sc.median, claim, sws,
		metric_spread(cs, m, RX_SIDE_COPIES_PER_BYTE, NULL).median);
}

/* kTLS routes: the encryption pass and kTLS's own copy, per byte. */
static void print_ktls(const struct case_res *cs, const char *copy_why, FILE *out)
{
	int i, nok;

	fprintf(out, "\n%-14s %12s %12s   (kTLS TX: TLS 1.3 AES-GCM-128; CPU passes per byte sent)\n",
		"kTLS", "encrypted/B", "tls-copy/B");
	for (i = 0; i < cs->nm; i++) {
		const struct method_res *m = &cs->m[i];
		struct spread enc, cp;

		if (m->unavail[0])
			continue;
		enc = metric_spread(cs, m, ENCRYPTED_PER_BYTE, &nok);
		if (!nok)
			continue;
		cp = metric_spread(cs, m, TLS_COPIES_PER_BYTE, NULL);
		if (copy_why)
			fprintf(out, "%-14s %12s %12s\n", m->method->name, "-", "-");
		else
			fprintf(out, "%-14s %12.2f %12.2f\n", m->method->name, enc.median,
				cp.median);
	}
}

static void print_nic_row(const struct case_res *cs, const struct method_res *m,
			  FILE *out)
{
	struct spread frames, head, frag;
	int nok;

	frames = metric_spread(cs, m, NIC_FRAMES, &nok);
	if (!nok)
		return;
	head = metric_spread(cs, m, NIC_HEAD_BYTES_PER_BYTE, NULL);
	frag = metric_spread(cs, m, NIC_FRAG_BYTES_PER_BYTE, NULL);
	fprintf(out, "%-14s %8.0f %8.0f %9.3f %10.3f %12.2f\n", m->method->name,
		frames.median, frames.median > 0 ?
		(head.median + frag.median) * (double)cs->bytes / frames.median : 0,
		head.median, frag.median,
		metric_spread(cs, m, COPIES_PER_BYTE, NULL).median);
}

/* NIC routes: what the sending NIC's driver was handed, and the article's
 * "sendfile + SG-DMA" row beside zcsend's measurement. */
static void print_nic(const struct case_res *cs, const char *copy_why, FILE *out)
{
	const struct method_res *zc = find_method(cs, "zcsend");
	int i;

	fprintf(out, "\n%-14s %8s %8s %9s %10s %12s   (at virtio-net start_xmit; per byte sent)\n",
		"NIC driver", "frames", "B/frame", "head B/B", "frags B/B", "CPU copies/B");
	if (copy_why) {
		fprintf(out, "%-14s %s\n", "", copy_why);
		return;
	}
	for (i = 0; i < cs->nm; i++)
		if (!cs->m[i].unavail[0])
			print_nic_row(cs, &cs->m[i], out);
	if (!zc || !cs->route->nic || cs->route->no_sg)
		return;
	fprintf(out, "article, \"sendfile + SG-DMA\": 0 CPU copies, the NIC gathers the payload by DMA.\n"
		"measured, zcsend: %.2f CPU copies/B, %.3f of the bytes sent handed to the NIC\n"
		"as page fragments (the rest: protocol headers and the header bytes).\n",
		metric_spread(cs, zc, COPIES_PER_BYTE, NULL).median,
		metric_spread(cs, zc, NIC_FRAG_BYTES_PER_BYTE, NULL).median);
}

void print_case(const struct results *res, const struct case_res *cs, FILE *out)
{
	const char *copy_why = res->copy_why;
	int i;

	fprintf(out, "\n== %s: median of %lu runs after 1 warm-up [min..max]\n", cs->title,
		res->runs);
	if (cs->note[0])
		fprintf(out, "   note: %s\n", cs->note);
	if (cs->unavail[0]) {
		fprintf(out, "   unavailable: %s\n", cs->unavail);
		return;
	}
	print_rates(res, cs, out);
	fprintf(out, "\n%-14s %-32s %6s %6s %6s %6s %7s %6s | %-7s %-17s %s\n", "CPU copies/B",
		"total [min..max]", "read", "send", "segm", "zc-cp", "by-ref", "calls", "article",
		"mode sw: meas/art", "rx-side");
	for (i = 0; i < cs->nm; i++)
		if (!cs->m[i].unavail[0])
			print_copy_row(cs, &cs->m[i], copy_why, out);
	if (cs->route->ktls)
		print_ktls(cs, copy_why, out);
	if (cs->route->nic)
		print_nic(cs, copy_why, out);
}

void print_legend(const struct results *res, FILE *out)
{
	const char *copy_why = res->copy_why;
	int p;

	fprintf(out,
"\nLegend: x sendf = ratio to sendfile's median in the same case. CPU s/GiB = sender\n"
"user+system CPU seconds per GiB (getrusage). syscalls and cs (context switches,\n"
"getrusage voluntary/involuntary) per transfer. CPU copies/B = payload bytes the CPU\n"
"copied per byte sent: read = page cache -> user (read(2)), or file -> pipe by copy;\n"
"send = user -> socket buffer; segm = the sender's copies below TCP (skb_copy_bits,\n"
"skb_copy_and_csum_bits: segmentation, linearisation; attributed by kernel stack, any\n"
"stack not the receiver's counts); zc-cp = bytes the kernel\n"
"reported as copied after all (SO_EE_CODE_ZEROCOPY_COPIED / IORING_NOTIF_USAGE_ZC_COPIED,\n"
"n/r = not reported by this kernel; the kernel flags a whole send call, so for one big\n"
"send it is an upper bound); by-ref = handed to TCP by page reference (no copy).\n"
"article = the article's CPU copies (README.md, \"Why\"; sendfile: 1 on a route without\n"
"scatter-gather, else the SG-DMA row's 0); mode sw = 2 x syscalls per file (the article\n"
"counts a system call as two switches) vs its figure; '*' marks a disagreement. rx-side =\n"
"skb copies under the receive path per byte, mostly the receiving socket coalescing\n"
"small linear skbs (skb_try_coalesce): a receive-side copy, not in the sender's total.\n");
	if (copy_why) {
		fprintf(out, "CPU copies: %s\n", copy_why);
		return;
	}
	fprintf(out, "CPU copies measured with kprobe events + hist triggers, summed over all tasks:\n");
	for (p = 0; p < PROBE_COUNT; p++)
		fprintf(out, "  %-55s %s\n", trace_probe_desc(p),
			trace_probe_ok(p) ? "probed" : "refused by this kernel (counted as 0)");
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_spread(FILE *f, const char *name, struct spread s)
{
	fprintf(f, "\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}", name,
		s.median, s.min, s.max);
}

static void json_copies(FILE *f, const struct run_rec *r)
{
	int p;

	if (!r->cp.measured) {
		fprintf(f, "\"copied_bytes\": null");
		return;
	}
	fprintf(f, "\"copied_bytes\": {\"file_read\": %.0f, \"send\": %.0f, \"segment\": %.0f, \"linearize\": %lld, \"by_reference\": %.0f, \"rx_coalesce\": %lld, \"rx_other\": %lld, \"tls_copy\": %.0f}, \"encrypted_bytes\": %.0f, ",
		r->cp.file_read, r->cp.send, r->cp.segment, (long long)r->ts.copy_bits_tx,
		r->cp.by_ref,
		(long long)r->ts.copy_bits_coalesce, (long long)r->ts.copy_bits_other,
		r->cp.tls_copy, r->cp.encrypt);
	fprintf(f, "\"nic\": {\"frames\": %.0f, \"bytes\": %.0f, \"frag_bytes\": %.0f}, ",
		r->cp.nic_frames, r->cp.nic_bytes, r->cp.nic_frag_bytes);
	fprintf(f, "\"probes\": {");
	for (p = 0; p < PROBE_COUNT; p++)
		fprintf(f, "%s\"%d\": {\"hits\": %llu, \"sum\": %lld}", p ? ", " : "", p,
			(unsigned long long)r->ts.hits[p], (long long)r->ts.sum[p]);
	fprintf(f, "}");
}

static void json_run(FILE *f, const struct run_rec *r, int warmup)
{
	fprintf(f, "{\"warmup\": %s, \"ok\": %s, ", warmup ? "true" : "false",
		r->ok ? "true" : "false");
	if (!r->ok) {
		fprintf(f, "\"error\": ");
		json_str(f, r->err);
		fprintf(f, ", ");
	}
	fprintf(f, "\"bytes_requested\": %llu, \"bytes_sent\": %llu, \"bytes_received\": %llu, ",
		(unsigned long long)r->requested, (unsigned long long)r->sent,
		(unsigned long long)r->received);
	fprintf(f, "\"wall_s\": %.9f, \"cpu_user_s\": %.6f, \"cpu_sys_s\": %.6f, ",
		r->wall, r->usr, r->sys);
	fprintf(f, "\"syscalls\": %llu, \"ctx_voluntary\": %ld, \"ctx_involuntary\": %ld, ",
		(unsigned long long)r->syscalls, r->vcs, r->ivcs);
	fprintf(f, "\"zc_sends\": %llu, \"zc_completions\": %llu, \"zc_copied_bytes\": ",
		(unsigned long long)r->zc_sends, (unsigned long long)r->zc_done);
	if (r->zc_known)
		fprintf(f, "%llu, ", (unsigned long long)r->zc_copied);
	else
		fprintf(f, "null, ");
	json_copies(f, r);
	fprintf(f, "}");
}

static void json_summary(FILE *f, const struct case_res *cs, const struct method_res *m)
{
	int x, first = 1;

	fprintf(f, ", \"summary\": {");
	for (x = 0; x < METRIC_COUNT; x++) {
		if (!metric_json_name(x))
			continue;
		fprintf(f, "%s", first ? "" : ", ");
		json_spread(f, metric_json_name(x), metric_spread(cs, m, x, NULL));
		first = 0;
	}
	fprintf(f, "}");
}

static void json_method(FILE *f, const struct case_res *cs, const struct method_res *m)
{
	int j, sw, cp;

	fprintf(f, "{\"method\": \"%s\", \"available\": %s", m->method->name,
		m->unavail[0] ? "false" : "true");
	if (m->unavail[0]) {
		fprintf(f, ", \"reason\": ");
		json_str(f, m->unavail);
		fprintf(f, "}");
		return;
	}
	if (article_claim_of(m->method, cs->route, &sw, &cp))
		fprintf(f, ", \"article\": {\"mode_switches\": %d, \"cpu_copies\": %d}", sw, cp);
	json_summary(f, cs, m);
	fprintf(f, ",\n    \"runs\": [");
	for (j = 0; j < m->nruns; j++) {
		fprintf(f, "%s\n     ", j ? "," : "");
		json_run(f, &m->runs[j], j == 0);
	}
	fprintf(f, "]}");
}

static void json_case(FILE *f, const struct case_res *cs)
{
	int i;

	fprintf(f, "{\"workload\": \"%s\", \"bytes\": %llu, \"objects\": %lu, \"header_bytes\": %u, \"route\": \"%s\", \"cold\": %s",
		cs->workload, (unsigned long long)cs->bytes, cs->objects,
		cs->header_bytes, cs->route->name, cs->cold ? "true" : "false");
	if (!cs->one_file)
		fprintf(f, ", \"object_min\": %llu, \"object_max\": %llu",
			(unsigned long long)cs->obj_min, (unsigned long long)cs->obj_max);
	if (cs->note[0]) {
		fprintf(f, ", \"note\": ");
		json_str(f, cs->note);
	}
	if (cs->unavail[0]) {
		fprintf(f, ", \"unavailable\": ");
		json_str(f, cs->unavail);
	}
	fprintf(f, ", \"methods\": [");
	for (i = 0; i < cs->nm; i++) {
		fprintf(f, "%s\n   ", i ? "," : "");
		json_method(f, cs, &cs->m[i]);
	}
	fprintf(f, "]}");
}

static void json_probes(FILE *f, const char *copy_why)
{
	int p;

	if (copy_why) {
		json_str(f, copy_why);
		return;
	}
	fprintf(f, "{\"method\": \"kprobe events + hist triggers, all tasks\", \"probes\": [");
	for (p = 0; p < PROBE_COUNT; p++) {
		fprintf(f, "%s{\"id\": %d, \"what\": ", p ? ", " : "", p);
		json_str(f, trace_probe_desc(p));
		fprintf(f, ", \"ok\": %s}", trace_probe_ok(p) ? "true" : "false");
	}
	fprintf(f, "]}");
}

void json_write(const struct results *res, FILE *f)
{
	struct utsname u;
	int c;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	fprintf(f, "{\"tool\": \"zcsend bench\", \"version\": \"%s\", \"kernel\": ", ZCSEND_VERSION);
	json_str(f, u.release);
	fprintf(f, ", \"runs\": %lu, \"warmup_runs\": 1, \"receiver\": \"%s\", \"complete\": %s,\n \"copies\": ",
		res->runs, receiver_name(res->rx), res->complete ? "true" : "false");
	json_probes(f, res->copy_why);
	fprintf(f, ",\n \"cases\": [");
	for (c = 0; c < res->ncases; c++) {
		fprintf(f, "%s\n  ", c ? "," : "");
		json_case(f, &res->cases[c]);
	}
	fprintf(f, "\n ]}\n");
}
