/* opts.c: the subcommands' option parser (see opts.h). Pure: no output, no globals, so a
 * command can call it twice and the tests can drive it directly. */
#include "cli/opts.h"

#include <string.h>

static const cli_opt *find(const cli_opt *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

int cli_opts_parse(int argc, char **argv, const cli_opt *opts, size_t n_opts, size_t *n_pos, err *e)
{
    size_t np = 0;
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (options_done || arg[0] != '-' || arg[1] == '\0') {
            argv[1 + np++] = arg; /* np + 1 <= i: never overwrites an unread argument */
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
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
            *(const char **)o->dest = value;
        } else {
            cli_opt_list *l = o->dest;
            if (l->n == l->cap)
                return err_set(e, ERR_USAGE, "at most %zu '--%s' options", l->cap, o->name);
            l->items[l->n++] = value;
        }
    }
    *n_pos = np;
    return 0;
}
