// SPDX-License-Identifier: GPL-2.0
/*
 * zcsend config: show the module's tunables (text or JSON), or set one.
 * Over genl.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "zcsend.h"

/* The tunables "config set" knows, by name, with their attribute. */
static const struct {
	const char *name;
	int attr;
} tunables[] = {
	{ "batch_pages", ZCSEND_A_CONFIG_BATCH_PAGES },
};

static int tunable_attr(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++)
		if (strcmp(name, tunables[i].name) == 0)
			return tunables[i].attr;
	return -1;
}

static int config_show(struct zc_genl *g, bool json)
{
	uint32_t batch_pages;

	if (zc_genl_status(g, zc_config_get(g, &batch_pages), "config"))
		return 1;
	if (json)
		printf("{\"batch_pages\": %" PRIu32 "}\n", batch_pages);
	else
		printf("batch_pages %" PRIu32 "\n", batch_pages);
	return 0;
}

static int config_set(struct zc_genl *g, const char *name, uint32_t value)
{
	char what[64];

	snprintf(what, sizeof(what), "config set %s %" PRIu32, name, value);
	return zc_genl_status(g, zc_config_set(g, tunable_attr(name), value),
			      what);
}

static void config_usage(FILE *out)
{
	fprintf(out,
		"usage: zcsend config [--json]\n"
		"       zcsend config set NAME VALUE   (NAME: batch_pages)\n");
}

/* Any u32; the range is the kernel's to check (it says so in extack). */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "set NAME VALUE" at argv[0..2]: 0, or the exit status (printed). */
static int parse_set(int argc, char **argv, const char **name,
		     uint32_t *value)
{
	if (strcmp(argv[0], "set") || argc != 3) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	*name = argv[1];
	if (tunable_attr(*name) < 0) {
		fprintf(stderr, "zcsend: unknown tunable '%s'\n", *name);
		config_usage(stderr);
		return EXIT_USAGE;
	}
	if (parse_u32(argv[2], value)) {
		fprintf(stderr, "zcsend: %s wants a number 0..%" PRIu32 ", not '%s'\n",
			*name, UINT32_MAX, argv[2]);
		return EXIT_USAGE;
	}
	return 0;
}

/* The command line: 0, -1 (help printed) or the exit status (printed). */
static int parse_config_opts(int argc, char **argv, bool *json,
			     const char **name, uint32_t *value)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
			continue;
		}
		config_usage(c == 'h' ? stdout : stderr);
		return c == 'h' ? -1 : EXIT_USAGE;
	}
	if (optind == argc)
		return 0;
	if (*json) {
		config_usage(stderr);
		return EXIT_USAGE;
	}
	return parse_set(argc - optind, argv + optind, name, value);
}

/**
 * cmd_config() - zcsend config [--json] | config set NAME VALUE
 * @argc: argument count, argv[0] is "config"
 * @argv: arguments
 *
 * Return: exit status: 0, 1 on failure, EXIT_USAGE on bad usage.
 */
int cmd_config(int argc, char **argv)
{
	const char *name = NULL;
	uint32_t value = 0;
	bool json = false;
	struct zc_genl *g;
	int ret;

	ret = parse_config_opts(argc, argv, &json, &name, &value);
	if (ret)
		return ret < 0 ? 0 : ret;
	g = zc_genl_open();
	if (!g)
		return 1;
	ret = name ? config_set(g, name, value) : config_show(g, json);
	zc_genl_free(g);
	return ret;
}
