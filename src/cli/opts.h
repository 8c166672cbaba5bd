/* opts.h: one option parser for every subcommand and for the global options, so that a
 * command declares its options as a table instead of writing its own getopt loop. Long
 * options only (`--name VALUE`, `--name=VALUE`, `--flag`), exact names (no abbreviations: a
 * desk command that moves money should not guess), a single-valued option at most once (no
 * "last one wins"), `--` ends the options. Positional arguments keep their order. */
#ifndef FUSION_CLI_OPTS_H
#define FUSION_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef enum {
    CLI_OPT_FLAG, /* dest: bool *, set true */
    CLI_OPT_STR,  /* dest: const char **; given twice is a usage error */
    CLI_OPT_LIST, /* dest: cli_opt_list *, every occurrence appended (the repeatable kind) */
} cli_opt_kind;

typedef struct cli_opt_list {
    const char **items; /* caller's array */
    size_t cap;
    size_t n;
} cli_opt_list;

typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    cli_opt_kind kind;
    void *dest;
} cli_opt;

/* Options in one table, at most. */
#define CLI_OPTS_MAX 64

/* Parses argv[1..argc-1] (argv[0] is the subcommand's name) against the n_opts options.
 * The positional arguments are moved, in order, to argv[1..*n_pos]. On a bad option
 * (unknown, missing value, value given to a flag, single-valued option given twice, list
 * full) returns -1 with ERR_USAGE and a message naming the option; the caller turns it into
 * a usage line. */
int cli_opts_parse(int argc, char **argv, const cli_opt *opts, size_t n_opts, size_t *n_pos, err *e)
    __attribute__((warn_unused_result));
/* The same rules for options before a command (the global options): parses argv[1..] up
 * to the first positional argument, or just after `--`, and sets *next to its index (argc
 * when there is none). argv is not reordered. */
int cli_opts_parse_prefix(int argc, char **argv, const cli_opt *opts, size_t n_opts, int *next,
                          err *e) __attribute__((warn_unused_result));

/* cli_opts_parse for the subcommand cmd: EXIT_OK, or EXIT_USAGE after printing the usage
 * line (implemented in main.c next to cli_usage). */
int cli_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t n_opts,
             size_t *n_pos) __attribute__((warn_unused_result));
/* cli_opts, then exactly n_want positional arguments: else the usage line says what
 * ("needs exactly one facility NAME"; NULL: "unexpected argument 'X'", the first extra). */
int cli_opts_n(const char *cmd, int argc, char **argv, const cli_opt *opts, size_t n_opts,
               size_t n_want, const char *what) __attribute__((warn_unused_result));
#define CLI_NOPTS(a) (sizeof(a) / sizeof *(a))

#endif
