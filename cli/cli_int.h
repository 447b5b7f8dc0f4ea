/*
 * cli_int.h: what the files of cli/ share.
 */
#ifndef SCEAU_CLI_INT_H
#define SCEAU_CLI_INT_H

#include "sceau/core.h"

struct sc_db;
struct sc_hsm;

/* One run of the CLI: configuration and lazily opened resources. */
struct cli {
	struct sc_config cfg;
	int have_config; /* cfg was read from a file (else defaults) */
	struct sc_db *db;
	struct sc_hsm *hsm;
	struct sc_actor actor;
	char actor_name[96];
};

struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *cli, int argc, char **argv);
	const char *help; /* lines for `sceau --help` */
};

/* Every command function, declared from the command files. */
#define CLI_CMD(name, fn, help) int fn(struct cli *cli, int argc, char **argv);
#include "cmds/all.def"
#undef CLI_CMD

/** "fr" or "en" (SCEAU_LANG, then LANGUAGE). */
const char *cli_lang(void);
/** Prints the error (French title first) and @return its exit code. */
int cli_fail(const struct sc_err *err);
/** Prints @text on stderr and @return 64. */
int cli_usage(const char *text);
int cli_wants_help(int argc, char **argv);
/**
 * Reads "--name value" pairs into vals[] (same order as the NULL-ended
 * @names). @return 0, or -1 after a message for an unknown option.
 */
int cli_opts(int argc, char **argv, const char *const *names,
    const char **vals);
void cli_actor(struct cli *cli);
int cli_open_db(struct cli *cli, struct sc_err *err);
int cli_open_hsm(struct cli *cli, struct sc_err *err);

#endif
