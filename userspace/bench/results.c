// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the results model. The figures derived from raw runs (per
 * byte, per GiB, per second), their spread over the measured runs, and the
 * article's claims for a method on a route. Reads nothing but the results.
 */
#include <stdlib.h>
#include <string.h>

#include "results.h"

struct case_res *results_new_case(struct results *res)
{
	struct case_res *p = realloc(res->cases, (size_t)(res->ncases + 1) * sizeof(*p));

	if (!p)
		return NULL;
	res->cases = p;
	memset(&p[res->ncases], 0, sizeof(*p));
	return &p[res->ncases++];
}

void results_free(struct results *res)
{
	int c, i;

	for (c = 0; c < res->ncases; c++)
		for (i = 0; i < res->cases[c].nm; i++)
			free(res->cases[c].m[i].runs);
	free(res->cases);
	res->cases = NULL;
	res->ncases = 0;
}

const char *receiver_name(enum receiver_mode rx)
{
	return rx == RECEIVER_READ ? "read" : "discard";
}

static const char *const metric_names[METRIC_COUNT] = {
	[BYTES_PER_S] = "bytes_per_s",
	[REQUESTS_PER_S] = "requests_per_s",
	[CPU_S_PER_GIB] = "cpu_s_per_gib",
	[SYSCALLS] = "syscalls",
	[CTX_VOLUNTARY] = "ctx_voluntary",
	[CTX_INVOLUNTARY] = "ctx_involuntary",
	[COPIES_PER_BYTE] = "copies_per_byte",
	[COPIES_FILE_READ_PER_BYTE] = "copies_file_read_per_byte",
	[COPIES_SEND_PER_BYTE] = "copies_send_per_byte",
	[COPIES_SEGMENT_PER_BYTE] = "copies_segment_per_byte",
	[COPIES_ZC_REPORTED_PER_BYTE] = "copies_zc_reported_per_byte",
	[BY_REFERENCE_PER_BYTE] = "by_reference_per_byte",
	[RX_SIDE_COPIES_PER_BYTE] = "rx_side_copies_per_byte",
	[ENCRYPTED_PER_BYTE] = "encrypted_per_byte",
	[TLS_COPIES_PER_BYTE] = "tls_copies_per_byte",
	[NIC_FRAMES] = "nic_frames",
	[NIC_HEAD_BYTES_PER_BYTE] = "nic_head_bytes_per_byte",
	[NIC_FRAG_BYTES_PER_BYTE] = "nic_frag_bytes_per_byte",
};

const char *metric_json_name(enum metric x)
{
	return metric_names[x];
}

static double metric_of(const struct case_res *cs, const struct run_rec *r, enum metric x)
{
	double gib = (double)r->requested / (double)(1ULL << 30);
	double b = (double)r->requested;

	switch (x) {
	case BYTES_PER_S: return b / r->wall;
	case REQUESTS_PER_S: return (double)cs->objects / r->wall;
	case CPU_S_PER_GIB: return (r->usr + r->sys) / gib;
	case USER_S_PER_GIB: return r->usr / gib;
	case SYS_S_PER_GIB: return r->sys / gib;
	case SYSCALLS: return (double)r->syscalls;
	case CTX_VOLUNTARY: return (double)r->vcs;
	case CTX_INVOLUNTARY: return (double)r->ivcs;
	case COPIES_FILE_READ_PER_BYTE: return r->cp.file_read / b;
	case COPIES_SEND_PER_BYTE: return r->cp.send / b;
	case COPIES_SEGMENT_PER_BYTE: return r->cp.segment / b;
	case COPIES_ZC_REPORTED_PER_BYTE: return (double)r->zc_copied / b;
	case COPIES_PER_BYTE:
		return (r->cp.file_read + r->cp.send + r->cp.segment +
			(double)r->zc_copied) / b;
	case BY_REFERENCE_PER_BYTE: return r->cp.by_ref / b;
	case RX_SIDE_COPIES_PER_BYTE: return r->cp.rx_other / b;
	case ENCRYPTED_PER_BYTE: return r->cp.encrypt / b;
	case TLS_COPIES_PER_BYTE: return r->cp.tls_copy / b;
	case NIC_FRAMES: return r->cp.nic_frames;
	case NIC_HEAD_BYTES_PER_BYTE: return (r->cp.nic_bytes - r->cp.nic_frag_bytes) / b;
	case NIC_FRAG_BYTES_PER_BYTE: return r->cp.nic_frag_bytes / b;
	default: return 0;
	}
}

struct spread metric_spread(const struct case_res *cs, const struct method_res *m,
			    enum metric x, int *nok)
{
	double v[MAX_RUNS];
	int i, n = 0;

	for (i = 1; i < m->nruns; i++)
		if (m->runs[i].ok)
			v[n++] = metric_of(cs, &m->runs[i], x);
	if (nok)
		*nok = n;
	return spread_of(v, (size_t)n);
}

const struct method_res *find_method(const struct case_res *cs, const char *name)
{
	int i;

	for (i = 0; i < cs->nm; i++)
		if (strcmp(cs->m[i].method->name, name) == 0 && !cs->m[i].unavail[0])
			return &cs->m[i];
	return NULL;
}

int article_claim_of(const struct bench_method *m, const struct bench_route *r,
		     int *switches, int *copies)
{
	if (!m->article.listed)
		return 0;
	*switches = m->article.mode_switches;
	*copies = r->no_sg ? m->article.cpu_copies_nosg : m->article.cpu_copies;
	return 1;
}
