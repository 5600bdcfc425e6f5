/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zcsend bench: the output of the methods' cases, read from the results
 * alone: the tables, the legend and the JSON (report.c), the charts
 * (plot.c).
 */
#ifndef ZCSEND_BENCH_REPORT_H
#define ZCSEND_BENCH_REPORT_H

#include <stdio.h>

#include "results.h"

/* One case's tables. */
void print_case(const struct results *res, const struct case_res *cs, FILE *out);
void print_legend(const struct results *res, FILE *out);
/* Every raw run, as JSON. */
void json_write(const struct results *res, FILE *f);
/* Charts of the cases (.png, with an .svg beside it, or .svg). 0 or -1. */
int plot_write(const struct results *res, const char *file);

#endif /* ZCSEND_BENCH_REPORT_H */
