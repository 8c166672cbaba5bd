/* test_opts.c: the subcommands' option parser: long options with separate and attached
 * values, flags, lists, `--`, positional order, and every way an option can be wrong (a
 * single-valued option given twice among them); the global options' prefix form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"

typedef struct parsed {
    const char *chain, *amount;
    bool json, yes;
    const char *rpc_items[2];
    cli_opt_list rpc;
} parsed;

/* argv wants writable strings (literals are const under -Wwrite-strings): copies the
 * NULL-terminated list into argv, returns argc. */
static char pool[16][32];
static int args(char **argv, const char *const *in)
{
    int n = 0;
    for (; in[n]; n++) {
        snprintf(pool[n], sizeof pool[n], "%s", in[n]);
        argv[n] = pool[n];
    }
    return n;
}
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static int parse(parsed *p, char **argv, int argc, size_t *n_pos, err *e)
{
    memset(p, 0, sizeof *p);
    p->rpc.items = p->rpc_items;
    p->rpc.cap = 2;
    const cli_opt opts[] = {
        {"chain", CLI_OPT_STR, &p->chain}, {"amount", CLI_OPT_STR, &p->amount},
        {"json", CLI_OPT_FLAG, &p->json},  {"yes", CLI_OPT_FLAG, &p->yes},
        {"rpc", CLI_OPT_LIST, &p->rpc},
    };
    err_clear(e);
    return cli_opts_parse(argc, argv, opts, CLI_NOPTS(opts), n_pos, e);
}

static void test_mixed(void **state)
{
    (void)state;
    char *argv[16];
    int argc = args(argv, LIST("show", "A", "--chain", "eth", "B", "--json", "--amount=1.5",
                               "--rpc", "u1", "--rpc=u2", "--", "--yes", "-"));
    parsed p;
    size_t n = 99;
    err e;
    assert_int_equal(parse(&p, argv, argc, &n, &e), 0);
    assert_string_equal(p.chain, "eth");
    assert_string_equal(p.amount, "1.5");
    assert_true(p.json);
    assert_false(p.yes); /* after "--" it is an argument */
    assert_int_equal(p.rpc.n, 2);
    assert_string_equal(p.rpc_items[0], "u1");
    assert_string_equal(p.rpc_items[1], "u2");
    assert_int_equal(n, 4);
    assert_string_equal(argv[1], "A");
    assert_string_equal(argv[2], "B");
    assert_string_equal(argv[3], "--yes");
    assert_string_equal(argv[4], "-");
}

static void test_empty_value(void **state)
{
    (void)state;
    char *argv[16];
    int argc = args(argv, LIST("x", "--chain=", "--amount", ""));
    parsed p;
    size_t n;
    err e;
    assert_int_equal(parse(&p, argv, argc, &n, &e), 0);
    assert_string_equal(p.chain, "");
    assert_string_equal(p.amount, "");
    assert_int_equal(n, 0);
}

/* A single-valued option given twice is refused, whatever the spelling or the values: the
 * last one winning signed `--amount 1 --amount 2` for 2. */
static void test_repeated(void **state)
{
    (void)state;
    const char *const *cases[] = {
        LIST("x", "--amount", "1", "--amount", "2"),
        LIST("x", "--amount=1", "--amount", "1"),
        LIST("x", "--chain", "a", "B", "--chain=a"),
        LIST("x", "--chain=", "--chain="),
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[16];
        int argc = args(argv, cases[i]);
        parsed p;
        size_t n;
        err e;
        assert_int_equal(parse(&p, argv, argc, &n, &e), -1);
        assert_int_equal(e.code, ERR_USAGE);
        if (!strstr(e.msg, "given twice") || !strstr(e.msg, cases[i][1][2] == 'a' ? "--amount"
                                                                                     : "--chain"))
            fail_msg("case %zu: message '%s'", i, e.msg);
    }
    /* flags may repeat (they say the same thing twice); lists append */
    char *argv[16];
    int argc = args(argv, LIST("x", "--json", "--json", "--rpc", "a", "--rpc", "b"));
    parsed p;
    size_t n;
    err e;
    assert_int_equal(parse(&p, argv, argc, &n, &e), 0);
    assert_true(p.json);
    assert_int_equal(p.rpc.n, 2);
}

/* The global options: parsed up to the first positional (the subcommand), the rest left
 * for it, even when it looks like an option. */
static void test_prefix(void **state)
{
    (void)state;
    char *argv[16];
    int argc = args(argv, LIST("fusion", "--chain", "a", "--json", "escrow", "--amount", "1",
                               "--chain", "b"));
    parsed p;
    memset(&p, 0, sizeof p);
    const cli_opt opts[] = {{"chain", CLI_OPT_STR, &p.chain}, {"json", CLI_OPT_FLAG, &p.json}};
    int next = 0;
    err e;
    err_clear(&e);
    assert_int_equal(cli_opts_parse_prefix(argc, argv, opts, CLI_NOPTS(opts), &next, &e), 0);
    assert_int_equal(next, 4);
    assert_string_equal(argv[next], "escrow");
    assert_string_equal(p.chain, "a");
    assert_true(p.json);
    argc = args(argv, LIST("fusion", "--json", "--", "--chain"));
    assert_int_equal(cli_opts_parse_prefix(argc, argv, opts, CLI_NOPTS(opts), &next, &e), 0);
    assert_int_equal(next, 3);
    argc = args(argv, LIST("fusion", "--json"));
    assert_int_equal(cli_opts_parse_prefix(argc, argv, opts, CLI_NOPTS(opts), &next, &e), 0);
    assert_int_equal(next, 2);
    /* repeated, abbreviated, unknown: refused before any subcommand runs */
    const char *const *bad[] = {
        LIST("fusion", "--chain", "bob", "--chain", "alice", "x"),
        LIST("fusion", "--cha", "bob", "x"),
        LIST("fusion", "--js", "x"),
        LIST("fusion", "-j", "x"),
    };
    static const char *const want[] = {"given twice", "'--cha'", "'--js'", "'-j'"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(&p, 0, sizeof p);
        argc = args(argv, bad[i]);
        err_clear(&e);
        assert_int_equal(cli_opts_parse_prefix(argc, argv, opts, CLI_NOPTS(opts), &next, &e), -1);
        assert_int_equal(e.code, ERR_USAGE);
        if (!strstr(e.msg, want[i]))
            fail_msg("case %zu: message '%s'", i, e.msg);
    }
}

static void expect_usage(const char *needle, const char *const *in)
{
    char *argv[16];
    int argc = args(argv, in);
    parsed p;
    size_t n;
    err e;
    assert_int_equal(parse(&p, argv, argc, &n, &e), -1);
    assert_int_equal(e.code, ERR_USAGE);
    if (!strstr(e.msg, needle))
        fail_msg("message '%s' does not name '%s'", e.msg, needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_usage("--nope", LIST("x", "--nope"));
    expect_usage("needs a value", LIST("x", "--chain"));
    expect_usage("takes no value", LIST("x", "--json=1"));
    expect_usage("'-j'", LIST("x", "-j"));
    expect_usage("at most 2", LIST("x", "--rpc", "1", "--rpc", "2", "--rpc", "3"));
    expect_usage("--jso", LIST("x", "--jso"));
    expect_usage("--chain-id", LIST("x", "--chain-id=5"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_empty_value),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
