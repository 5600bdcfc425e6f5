// SPDX-License-Identifier: GPL-2.0
/* zcsend: the user-space tool. Subcommand dispatch, --help, --version. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zcsend.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "send", cmd_send, "send FILE HOST:PORT [--offset N] [--length N]" },
	{ "stats", cmd_stats, "stats [--json] [--per-cpu] [--watch SECONDS] | stats reset" },
	{ "config", cmd_config, "config | config set NAME VALUE" },
	{ "bench", cmd_bench, "bench [OPTIONS]  (see zcsend bench --help)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: zcsend [--help] [--version] COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  zcsend %s\n", commands[i].help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int c;

	/* '+': stop at the subcommand, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("zcsend %s\n", ZCSEND_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 0;	/* reset getopt for the subcommand */
			return commands[i].fn(subc, sub);
		}
	}
	fprintf(stderr, "zcsend: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
