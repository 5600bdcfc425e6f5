// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: charts of the results, drawn by gnuplot: throughput,
 * CPU per GiB and CPU copies per byte, one bar per case and method.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

/* One data row per case and method that ran. Rows written, or -1. */
static int plot_data(FILE *d, const struct case_res *cases, int ncases,
		     const char *copy_why)
{
	int c, i, rows = 0;

	for (c = 0; c < ncases; c++) {
		const struct case_res *cs = &cases[c];
		char sz[32];

		fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
		for (i = 0; i < cs->nm; i++) {
			const struct method_res *m = &cs->m[i];
			struct spread r;
			int nok;

			if (m->unavail[0])
				continue;
			r = metric_spread(cs, m, BYTES_PER_S, &nok);
			if (!nok)
				continue;
			fprintf(d, "\"%s %s %s\" %g %g %g\n", m->method->name,
				cs->wl->per_size ? sz : cs->wl->name, cs->route->name,
				r.median / 1e6, metric_spread(cs, m, CPU_S_PER_GIB, NULL).median,
				copy_why ? 0 : metric_spread(cs, m, COPIES_PER_BYTE, NULL).median);
			rows++;
		}
	}
	return rows;
}

static int gnuplot(const struct opts *o, const char *dat, int rows, const char *file)
{
	const char *ext = strrchr(file, '.');
	int svg = ext && strcmp(ext, ".svg") == 0;
	FILE *g;

	/* fontconfig wants a writable cache; the guest root is read-only */
	g = popen("XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp} gnuplot", "w");
	if (!g)
		return -1;
	fprintf(g, "set terminal %s size 1200,%d\n", svg ? "svg" : "pngcairo", 900 + 8 * rows);
	fprintf(g, "set output '%s'\n", file);
	fprintf(g, "set style data histograms\nset style fill solid 0.8 border -1\n"
		   "set termoption noenhanced\nset xtics rotate by -60 font ',8'\nset grid y\nset key off\n"
		   "set multiplot layout 3,1 title 'zcsend bench (%lu runs, median; receiver %s)'\n",
		o->runs, o->rx == RECEIVER_READ ? "read" : "discard");
	fprintf(g, "set ylabel 'MB/s'\nplot '%s' using 2:xtic(1)\n", dat);
	fprintf(g, "set ylabel 'CPU s/GiB'\nplot '%s' using 3:xtic(1)\n", dat);
	fprintf(g, "set ylabel 'CPU copies/byte'\nplot '%s' using 4:xtic(1)\n", dat);
	fprintf(g, "unset multiplot\n");
	return pclose(g) == 0 ? 0 : -1;
}

int plot_write(const struct opts *o, const struct case_res *cases, int ncases,
	       const char *copy_why, const char *file)
{
	char dat[] = "/tmp/zcsend-plot.XXXXXX";
	FILE *d;
	int fd, rows, err;

	fd = mkstemp(dat);
	if (fd < 0)
		return -1;
	d = fdopen(fd, "w");
	if (!d) {
		close(fd);
		unlink(dat);
		return -1;
	}
	rows = plot_data(d, cases, ncases, copy_why);
	if (fclose(d) || rows <= 0) {
		unlink(dat);
		return -1;
	}
	err = gnuplot(o, dat, rows, file);
	unlink(dat);
	return err;
}
