// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend bench: the charts, drawn by gnuplot. One row of three panels per
 * route: throughput as a ratio to sendfile's (1 = sendfile, dashed), sender
 * CPU seconds per GiB, and CPU-copied bytes per payload byte. In each
 * panel one group of bars per workload (and size), one bar per method, in
 * the same colour everywhere and named in the key; zcsend is drawn solid
 * with a dark border, the others lighter. Medians of the measured runs.
 * A .png gets an .svg of the same charts beside it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "results.h"
#include "util.h"

/* Colours by position in the method table; zcsend gets ZCSEND_COLOUR. */
static const char *const colours[] = {
	"#7f7f7f", "#bcbd22", "#1f77b4", "#17becf", "#2ca02c", "#9467bd",
	"#8c564b", "#e377c2", "#ff7f0e", "#aec7e8",
};
#define ZCSEND_COLOUR "#d62728"

/* The methods and routes that appear, in table order. */
struct plot_axes {
	const struct bench_method *methods[MAX_METHODS];
	int nmethods;
	const struct bench_route *routes[MAX_ROUTES];
	int nroutes;
	int copies;		/* CPU copies were measured: a third panel */
	/* per route and panel: bit i set if method i has a value */
	unsigned int present[MAX_ROUTES][3];
};

static const struct method_res *result_of(const struct case_res *cs,
					  const struct bench_method *m)
{
	int i;

	for (i = 0; i < cs->nm; i++)
		if (cs->m[i].method == m)
			return &cs->m[i];
	return NULL;
}

/* A method gets a bar only if it ran somewhere. */
static int ran_somewhere(const struct bench_method *m, const struct case_res *cases,
			 int ncases)
{
	int c, nok = 0;

	for (c = 0; c < ncases && !nok; c++) {
		const struct method_res *r = result_of(&cases[c], m);

		if (r && !r->unavail[0])
			metric_spread(&cases[c], r, BYTES_PER_S, &nok);
	}
	return nok > 0;
}

static void axes_of(const struct results *res, struct plot_axes *ax)
{
	int i;

	memset(ax, 0, sizeof(*ax));
	for (i = 0; i < res->nmethods; i++)
		if (ran_somewhere(res->methods[i], res->cases, res->ncases))
			ax->methods[ax->nmethods++] = res->methods[i];
	for (i = 0; i < res->nroutes; i++)
		ax->routes[ax->nroutes++] = res->routes[i];
}

static void group_label(const struct case_res *cs, char *buf, size_t len)
{
	char sz[32];

	if (cs->one_file) {
		fmt_bytes(sz, sizeof(sz), (double)cs->bytes);
		snprintf(buf, len, "%s %s", cs->workload, sz);
		return;
	}
	snprintf(buf, len, "%s (%lu files)", cs->workload, cs->objects);
}

/* "?" (missing) unless the method ran in the case; 1 if a value. */
static int put_value(FILE *d, const struct case_res *cs, const struct method_res *m,
		     enum metric x, double scale)
{
	int nok = 0;
	struct spread s;

	if (m && !m->unavail[0])
		s = metric_spread(cs, m, x, &nok);
	if (!nok || (scale <= 0 && x == BYTES_PER_S)) {
		fputs(" ?", d);
		return 0;
	}
	fprintf(d, " %g", scale > 0 ? s.median / scale : s.median);
	return 1;
}

/* One row per case of the route: label, then per method the ratio to
 * sendfile, CPU s/GiB, copies/B. Rows written. */
static int route_block(FILE *d, struct plot_axes *ax, int route,
		       const struct case_res *cases, int ncases, const char *copy_why)
{
	const struct bench_route *r = ax->routes[route];
	unsigned int *present = ax->present[route];
	int c, i, rows = 0;

	for (c = 0; c < ncases; c++) {
		const struct case_res *cs = &cases[c];
		const struct method_res *sf = find_method(cs, "sendfile");
		double sf_rate = sf ? metric_spread(cs, sf, BYTES_PER_S, NULL).median : 0;
		char label[80];

		if (cs->route != r || cs->unavail[0])
			continue;
		group_label(cs, label, sizeof(label));
		fprintf(d, "\"%s\"", label);
		for (i = 0; i < ax->nmethods; i++) {
			const struct method_res *m = result_of(cs, ax->methods[i]);

			present[0] |= (unsigned int)put_value(d, cs, m, BYTES_PER_S, sf_rate) << i;
			present[1] |= (unsigned int)put_value(d, cs, m, CPU_S_PER_GIB, 0) << i;
			if (copy_why)
				fputs(" ?", d);
			else
				present[2] |= (unsigned int)put_value(d, cs, m, COPIES_PER_BYTE, 0) << i;
		}
		fputc('\n', d);
		rows++;
	}
	return rows;
}

/* The data file: one gnuplot index (block) per route. Routes with data
 * are marked in has[]. Rows written in all. */
static int plot_data(FILE *d, struct plot_axes *ax, const struct case_res *cases,
		     int ncases, const char *copy_why, int *has)
{
	int r, rows = 0, n;

	for (r = 0; r < ax->nroutes; r++) {
		n = route_block(d, ax, r, cases, ncases, copy_why);
		if (!n)
			fputs("\"none\"\n", d);	/* keeps the index numbering */
		fputs("\n\n", d);
		has[r] = n > 0;
		rows += n;
	}
	return rows;
}

static const char *colour_of(const struct plot_axes *ax, int i)
{
	if (strcmp(ax->methods[i]->name, "zcsend") == 0)
		return ZCSEND_COLOUR;
	return colours[i % (sizeof(colours) / sizeof(colours[0]))];
}

/* A method's bar style: zcsend solid with a dark border, others lighter. */
static void bar_style(FILE *g, const struct plot_axes *ax, int i)
{
	int zc = strcmp(ax->methods[i]->name, "zcsend") == 0;

	fprintf(g, " lc rgb '%s' fs solid %s border lc rgb '%s'", colour_of(ax, i),
		zc ? "1.0" : "0.55", zc ? "#000000" : "#606060");
}

/* The plot command of one panel: column 'col' (0, 1, 2) of each method
 * that has a value on this route. */
static void panel_plot(FILE *g, const struct plot_axes *ax, const char *dat,
		       int index, int col)
{
	int i, first = 1;

	fprintf(g, "plot ");
	for (i = 0; i < ax->nmethods; i++) {
		if (!(ax->present[index][col] & (1U << i)))
			continue;
		fprintf(g, "%s'%s' index %d using %d%s notitle", first ? "" : ", \\\n  ",
			dat, index, 2 + 3 * i + col, first ? ":xtic(1)" : "");
		bar_style(g, ax, i);
		first = 0;
	}
	if (first)	/* nothing measured: the groups' names only */
		fprintf(g, "'%s' index %d using (0):xtic(1) notitle", dat, index);
	fputc('\n', g);
}

static void panel(FILE *g, const struct plot_axes *ax, const char *dat, int index,
		  int col, const char *route)
{
	static const char *const ylabels[] = {
		"throughput, x sendfile", "sender CPU s per GiB", "CPU copies per byte",
	};

	fprintf(g, "set title \"%s: %s\" font ',13'\nset ylabel \"%s\"\n", route,
		ylabels[col], ylabels[col]);
	if (col == 0)
		fprintf(g, "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb '#000000' front\n");
	else
		fprintf(g, "unset arrow 1\n");
	panel_plot(g, ax, dat, index, col);
}

/* Pixels: a row of panels, the title and key above. */
#define ROW_PX		340
#define TOP_PX		80
#define PANEL_PX	550

/* The key alone, one row across the top, under the title. */
static void key_panel(FILE *g, const struct plot_axes *ax, const char *dat, int height)
{
	int i;

	(void)dat;
	fprintf(g, "set origin 0,%.4f\nset size 1,%.4f\nunset border\nunset tics\n"
		   "unset ylabel\nunset title\nunset grid\nset yrange [0:1]\n"
		   "set xrange [0:1]\nset style data lines\n"
		   "set key center center horizontal maxrows 1 font ',12' samplen 2 width -1\n"
		   /* gnuplot 5.4 asserts on a plot of keyentry alone */
		   "plot NaN notitle",
		1.0 - (double)TOP_PX / height, 45.0 / height);
	for (i = 0; i < ax->nmethods; i++) {
		fprintf(g, ", keyentry with boxes title '%s'", ax->methods[i]->name);
		bar_style(g, ax, i);
	}
	fputc('\n', g);
	fprintf(g, "unset key\nset border 3\nset xtics nomirror font ',11'\nset ytics\n"
		   "set grid y\nset autoscale x\nset yrange [0:*]\nset style data histograms\n");
}

static int gnuplot(const struct results *res, const struct plot_axes *ax, const int *has,
		   const char *dat, const char *file, int svg)
{
	int r, rows = 0, row = 0, col, ncols = ax->copies ? 3 : 2, height;
	FILE *g;

	for (r = 0; r < ax->nroutes; r++)
		rows += has[r];
	height = TOP_PX + ROW_PX * rows;
	/* fontconfig wants a writable cache; the guest root is read-only */
	g = popen("XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp} gnuplot", "w");
	if (!g)
		return -1;
	fprintf(g, "set terminal %s size %d,%d font ',11'\n", svg ? "svg dynamic" : "pngcairo",
		PANEL_PX * ncols, height);
	fprintf(g, "set output '%s'\nset termoption noenhanced\nset datafile missing '?'\n"
		   "set style data histograms\nset style histogram clustered gap 2\n", file);
	fprintf(g, "set multiplot title 'zcsend bench: medians of %lu runs, receiver %s' font ',14'\n",
		res->runs, receiver_name(res->rx));
	key_panel(g, ax, dat, height);
	for (r = 0; r < ax->nroutes; r++) {
		if (!has[r])
			continue;
		for (col = 0; col < ncols; col++) {
			fprintf(g, "set origin %.4f,%.4f\nset size %.4f,%.4f\n",
				(double)col / ncols, (double)ROW_PX * (rows - 1 - row) / height,
				1.0 / ncols, (double)ROW_PX / height);
			panel(g, ax, dat, r, col, ax->routes[r]->name);
		}
		row++;
	}
	fprintf(g, "unset multiplot\n");
	return pclose(g) == 0 ? 0 : -1;
}

/* file.png -> file.svg beside it; NULL if file is not a .png. */
static char *svg_beside(const char *file)
{
	size_t n = strlen(file);
	char *svg;

	if (n < 4 || strcmp(file + n - 4, ".png") != 0)
		return NULL;
	svg = strdup(file);
	if (svg)
		memcpy(svg + n - 4, ".svg", 4);
	return svg;
}

static int draw(const struct results *res, const struct plot_axes *ax, const int *has,
		const char *dat, const char *file)
{
	const char *ext = strrchr(file, '.');
	char *svg = svg_beside(file);
	int err;

	err = gnuplot(res, ax, has, dat, file, ext && strcmp(ext, ".svg") == 0);
	if (!err && svg)
		err = gnuplot(res, ax, has, dat, svg, 1);
	free(svg);
	return err;
}

int plot_write(const struct results *res, const char *file)
{
	char dat[] = "/tmp/zcsend-plot.XXXXXX";
	int has[MAX_ROUTES], fd, rows, err;
	struct plot_axes ax;
	FILE *d;

	axes_of(res, &ax);
	ax.copies = !res->copy_why;
	fd = mkstemp(dat);
	if (fd < 0)
		return -1;
	d = fdopen(fd, "w");
	if (!d) {
		close(fd);
		unlink(dat);
		return -1;
	}
	rows = plot_data(d, &ax, res->cases, res->ncases, res->copy_why, has);
	if (fclose(d) || rows <= 0) {
		unlink(dat);
		return -1;
	}
	err = draw(res, &ax, has, dat, file);
	unlink(dat);
	return err;
}
