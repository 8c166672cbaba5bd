/* opts.c: the option parser of the subcommands and of the global options (see opts.h).
 * Pure: no output, no globals, so a command can call it twice and the tests can drive it
 * directly. */
#include "cli/opts.h"

#include <string.h>

static const cli_opt *find(const cli_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* Parses argv[1..]. prefix: stop at the first positional argument (or after `--`) and
 * give its index in *next; else collect the positionals in order at argv[1..*n_pos]. */
static int parse(int argc, char **argv, const cli_opt *opts, size_t n_opts, bool prefix,
                 size_t *n_pos, int *next, err *e)
{
    /* Which single-valued options were given: a second one is refused, never the last
     * winning (`--amount 1 --amount 2`). */
    bool seen[CLI_OPTS_MAX] = {false};
    if (n_opts > CLI_OPTS_MAX)
        return err_set(e, ERR_INTERNAL, "more than %d options in one table", CLI_OPTS_MAX);
    size_t np = 0;
    bool options_done = false;
    int i = 1;
    for (; i < argc; i++) {
        char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            if (prefix)
                break;
            argv[1 + np++] = arg; /* np + 1 <= i: never overwrites an unread argument */
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            if (prefix) {
                i++;
                break;
            }
            continue;
        }
        if (arg[1] != '-')
            return err_set(e, ERR_USAGE, "unknown option '%s' (options are long: --name)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find(opts, n_opts, name, len);
        if (!o)
            return err_set(e, ERR_USAGE, "unknown option '--%.*s'", (int)len, name);
        if (o->kind == CLI_OPT_FLAG) {
            if (eq)
                return err_set(e, ERR_USAGE, "option '--%s' takes no value", o->name);
            *(bool *)o->dest = true;
            continue;
        }
        const char *value;
        if (eq) {
            value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return err_set(e, ERR_USAGE, "option '--%s' needs a value", o->name);
            value = argv[++i];
        }
        if (o->kind == CLI_OPT_STR) {
            size_t k = (size_t)(o - opts);
            if (seen[k])
                return err_set(e, ERR_USAGE, "option '--%s' given twice: give it once", o->name);
            seen[k] = true;
            *(const char **)o->dest = value;
        } else {
            cli_opt_list *l = o->dest;
            if (l->n == l->cap)
                return err_set(e, ERR_USAGE, "at most %zu '--%s' options", l->cap, o->name);
            l->items[l->n++] = value;
        }
    }
    if (n_pos)
        *n_pos = np;
    if (next)
        *next = i;
    return 0;
}

int cli_opts_parse(int argc, char **argv, const cli_opt *opts, size_t n_opts, size_t *n_pos, err *e)
{
    return parse(argc, argv, opts, n_opts, false, n_pos, NULL, e);
}

int cli_opts_parse_prefix(int argc, char **argv, const cli_opt *opts, size_t n_opts, int *next,
                          err *e)
{
    return parse(argc, argv, opts, n_opts, true, NULL, next, e);
}
