/* test_lists.c: the screening list loaders against the shipped data and crafted files:
 * OFAC text/JSON exports, the desk list (strict, errors name file:line), the manifest,
 * the FATF CSV, and the snapshot hashes (checked against coreutils' sha256sum). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs stdarg, stddef and setjmp first */
/* clang-format off */
#include <cmocka.h>
/* clang-format on */

#include "base/bytes.h"
#include "compliance/screen.h"

static char root[4096];
static char tmpdir[256];

static const char *data_path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
    return out;
}

static const char *tmp_file(char *out, size_t cap, const char *name, const char *content)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return out;
}

/* Runs a shell command and returns its first output line (trailing newline cut). */
static void run_line(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void run_line(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    assert_non_null(fgets(out, (int)cap, p));
    out[strcspn(out, "\n")] = '\0';
    assert_int_equal(pclose(p), 0);
}

/* Independent address decoding for the tests (sscanf, not the library's hex). */
static void parse_addr(addr *a, const char *s)
{
    assert_true(strlen(s) >= 42 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'));
    for (int i = 0; i < 20; i++) {
        unsigned v;
        char two[3] = {s[2 + 2 * i], s[3 + 2 * i], 0};
        assert_int_equal(sscanf(two, "%2x", &v), 1);
        a->b[i] = (uint8_t)v;
    }
}

static int setup(void **state)
{
    (void)state;
    const char *r = getenv("FUSION_ROOT");
    snprintf(root, sizeof root, "%s", r ? r : ".");
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/fusion-lists-XXXXXX", t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The shipped snapshot: counts match an independent count (Python) of the same files,
 * the snapshot hash matches `sha256sum FILES | sha256sum`, and every address of the ETH
 * list (checksummed or lowercase) is in the set. */
static void test_shipped_snapshot(void **state)
{
    (void)state;
    char manifest[4200], dir[4200];
    data_path(manifest, sizeof manifest, "data/sanctions/manifest.txt");
    data_path(dir, sizeof dir, "data/sanctions");
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_load(&s, manifest, NULL, &e), 0);
    assert_non_null(s);
    screen_list_info info;
    screen_sanctions_info(s, &info);

    char line[512];
    const char *files = "sanctioned_addresses_ETH.txt sanctioned_addresses_USDT.txt "
                        "sanctioned_addresses_USDC.txt sanctioned_addresses_ARB.txt "
                        "sanctioned_addresses_BSC.txt sanctioned_addresses_ETC.txt";
    run_line(line, sizeof line,
             "cd '%s' && /usr/bin/python3 -c 'import sys\n"
             "evm=set(); other=0\n"
             "for f in sys.argv[1:]:\n"
             "    for l in open(f):\n"
             "        l=l.strip()\n"
             "        if not l: continue\n"
             "        if l.lower().startswith(\"0x\"): evm.add(l.lower())\n"
             "        else: other+=1\n"
             "print(len(evm), other)' %s",
             dir, files);
    size_t want_evm, want_other;
    assert_int_equal(sscanf(line, "%zu %zu", &want_evm, &want_other), 2);
    assert_int_equal(info.n_addresses, want_evm);
    assert_int_equal(info.n_skipped, want_other);
    assert_true(want_other > 0); /* USDT carries Tron and Omni addresses */
    assert_int_equal(info.n_sources, 6);
    assert_string_equal(info.as_of, "2024-09-27");

    run_line(line, sizeof line, "cd '%s' && sha256sum %s | sha256sum", dir, files);
    char hex[65];
    hex_encode(hex, sizeof hex, info.sha256, 32, false);
    assert_memory_equal(line, hex, 64);
    char want_version[64];
    snprintf(want_version, sizeof want_version, "2024-09-27/%.16s", line);
    assert_string_equal(info.version, want_version);

    /* Every ETH entry, as shipped (115 checksummed, the rest lowercase), is listed. */
    char eth[4300];
    data_path(eth, sizeof eth, "data/sanctions/sanctioned_addresses_ETH.txt");
    FILE *f = fopen(eth, "r");
    assert_non_null(f);
    size_t n = 0, mixed = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        addr a;
        parse_addr(&a, line);
        assert_true(screen_sanctions_contains(s, &a));
        bool upper = false;
        for (const char *c = line + 2; *c; c++)
            upper |= (*c >= 'A' && *c <= 'F');
        mixed += upper;
        a.b[19] ^= 0x01; /* near miss: one bit off */
        assert_false(screen_sanctions_contains(s, &a));
        n++;
    }
    fclose(f);
    assert_int_equal(n, 152);
    assert_true(mixed > 0 && mixed < n);
    screen_sanctions_free(&s);
    assert_null(s);
}

/* The JSON exports hold the same addresses as the text ones. */
static void test_json_matches_text(void **state)
{
    (void)state;
    const char *assets[] = {"ETH", "USDT", "USDC", "ARB", "BSC", "ETC"};
    for (size_t i = 0; i < sizeof assets / sizeof *assets; i++) {
        char p[4300];
        screen_sanctions *t = NULL, *j = NULL;
        err e;
        err_clear(&e);
        assert_int_equal(screen_sanctions_new(&t, "2024-09-27", &e), 0);
        assert_int_equal(screen_sanctions_new(&j, "2024-09-27", &e), 0);
        snprintf(p, sizeof p, "%s/data/sanctions/sanctioned_addresses_%s.txt", root, assets[i]);
        assert_int_equal(screen_sanctions_add_file(t, p, SCREEN_LIST_TEXT, &e), 0);
        snprintf(p, sizeof p, "%s/data/sanctions/sanctioned_addresses_%s.json", root, assets[i]);
        assert_int_equal(screen_sanctions_add_file(j, p, SCREEN_LIST_JSON, &e), 0);
        screen_list_info ti, ji;
        screen_sanctions_info(t, &ti);
        screen_sanctions_info(j, &ji);
        assert_int_equal(ti.n_addresses, ji.n_addresses);
        assert_int_equal(ti.n_skipped, ji.n_skipped);
        assert_memory_not_equal(ti.sha256, ji.sha256, 32); /* different files, different hash */
        screen_sanctions_free(&t);
        screen_sanctions_free(&j);
    }
}

/* The desk list accepts checksummed, lowercase and all-caps forms of the same address
 * (taken checksummed from the OFAC export), with reasons and comments. */
static void test_desk_list_forms(void **state)
{
    (void)state;
    char p[512];
    tmp_file(p, sizeof p, "desk-forms.txt",
             "# desk list\n"
             "\n"
             "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1   fraud case 2024-17\r\n"
             "0x03893a7c7463ae47d46bc7f091665f1893656003\n"
             "  0x04DBA1194EE10112FE6C3207C0687DEF0E78BACF\t# all caps\n"
             "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1 same as line 3, lowercase\n");
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_new(&s, "2025-01-15", &e), 0);
    assert_int_equal(screen_sanctions_add_file(s, p, SCREEN_LIST_DESK, &e), 0);
    screen_list_info info;
    screen_sanctions_info(s, &info);
    assert_int_equal(info.n_addresses, 3);
    assert_int_equal(info.n_duplicates, 1);
    addr a;
    parse_addr(&a, "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1");
    assert_true(screen_sanctions_contains(s, &a));
    parse_addr(&a, "0x03893A7C7463AE47D46BC7F091665F1893656003");
    assert_true(screen_sanctions_contains(s, &a));
    parse_addr(&a, "0x04dba1194ee10112fe6c3207c0687def0e78bacf");
    assert_true(screen_sanctions_contains(s, &a));
    screen_sanctions_free(&s);
}

static void expect_desk_error(const char *content, const char *want_loc, const char *want_text)
{
    char p[512];
    tmp_file(p, sizeof p, "desk.txt", content);
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_new(&s, "2025-01-15", &e), 0);
    assert_int_equal(screen_sanctions_add_file(s, p, SCREEN_LIST_DESK, &e), -1);
    assert_int_equal(e.code, ERR_INVALID);
    char loc[600];
    snprintf(loc, sizeof loc, "%s%s", p, want_loc);
    if (!strstr(e.msg, loc) || !strstr(e.msg, want_text))
        fail_msg("error '%s' lacks '%s' or '%s'", e.msg, loc, want_text);
    assert_null(strchr(e.msg, '\n'));
    screen_sanctions_free(&s);
}

static void test_desk_list_errors(void **state)
{
    (void)state;
    const char *good = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\n";
    char text[512];
    /* too short */
    snprintf(text, sizeof text, "# x\n%s\n0x1234 typo\n", good);
    expect_desk_error(text, ":4:", "'0x1234' is not an EVM address");
    /* one letter of a checksummed address in the wrong case: a typo, not a new address */
    snprintf(text, sizeof text, "%s0x01e2919679362dFBC9ee1644Ba9C6da6D6245Bb1\n", good);
    expect_desk_error(text, ":2:", "0x01e2919679362dFBC9ee1644Ba9C6da6D6245Bb1");
    /* not hex */
    expect_desk_error("0x01e2919679362dFBC9ee1644Ba9C6da6D6245BBZ\n", ":1:", "fix or remove");
    /* a Tron address has no place in the desk's EVM list */
    expect_desk_error("TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR\n", ":1:", "is not an EVM address");
    /* the prefix is 0x, as everywhere in fusion */
    expect_desk_error("0X04DBA1194EE10112FE6C3207C0687DEF0E78BACF\n", ":1:", "0x");
    /* 41 hex digits */
    expect_desk_error("0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB10\n", ":1:", "not an EVM");
    /* a control byte */
    expect_desk_error("\n\n0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1 \x01\n",
                      ":3:", "unexpected byte 0x01");
}

/* Loading with a bad desk list fails as a whole (the caller keeps the running list). */
static void test_load_all_or_nothing(void **state)
{
    (void)state;
    char manifest[4200], desk[512];
    data_path(manifest, sizeof manifest, "data/sanctions/manifest.txt");
    tmp_file(desk, sizeof desk, "bad-desk.txt", "0xnothex\n");
    screen_sanctions *s = (screen_sanctions *)&s; /* must be reset to NULL */
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_load(&s, manifest, desk, &e), -1);
    assert_null(s);
    assert_non_null(strstr(e.msg, "bad-desk.txt:1:"));

    assert_int_equal(screen_sanctions_load(&s, manifest, "/nonexistent/desk.txt", &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/desk.txt"));
    assert_null(s);
}

static void expect_list_error(screen_list_format fmt, const char *content, const char *want)
{
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_new(&s, "2024-09-27", &e), 0);
    assert_int_equal(screen_sanctions_add(s, "list.x", content, strlen(content), fmt, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("error '%s' lacks '%s'", e.msg, want);
    screen_sanctions_free(&s);
}

static void test_ofac_errors(void **state)
{
    (void)state;
    expect_list_error(SCREEN_LIST_TEXT, "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\n0xabc\n",
                      "list.x:2: '0xabc' is not an EVM address");
    expect_list_error(SCREEN_LIST_TEXT, "1CF46Rfbp97absrs7zb7dFfZS6qBXUm9EP two\n",
                      "list.x:1: '1CF46Rfbp97absrs7zb7dFfZS6qBXUm9EP two' is not one address");
    expect_list_error(SCREEN_LIST_JSON, "{\"a\": 1}", "list.x: expected a JSON array");
    expect_list_error(SCREEN_LIST_JSON, "[\"0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1\", 5]",
                      "list.x: entry 2 is not a string");
    expect_list_error(SCREEN_LIST_JSON, "[\n\"0x01\",\n", "list.x:3: not valid JSON");
    expect_list_error(SCREEN_LIST_JSON, "[\"0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB\"]",
                      "list.x: entry 1: '0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB' is not an EVM");

    /* Non-EVM entries are skipped and counted, not errors. */
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_new(&s, "2024-09-27", &e), 0);
    const char *txt = "TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR\n1CF46Rfbp97absrs7zb7dFfZS6qBXUm9EP\n";
    assert_int_equal(screen_sanctions_add(s, "t.txt", txt, strlen(txt), SCREEN_LIST_TEXT, &e), 0);
    screen_list_info info;
    screen_sanctions_info(s, &info);
    assert_int_equal(info.n_addresses, 0);
    assert_int_equal(info.n_skipped, 2);
    screen_sanctions_free(&s);
}

static void expect_manifest_error(const char *content, const char *want)
{
    char p[512];
    tmp_file(p, sizeof p, "manifest.txt", content);
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_load(&s, p, NULL, &e), -1);
    assert_null(s);
    if (!strstr(e.msg, want))
        fail_msg("error '%s' lacks '%s'", e.msg, want);
}

static void test_manifest_errors(void **state)
{
    (void)state;
    char list[512];
    tmp_file(list, sizeof list, "one.txt", "0x03893a7c7463ae47d46bc7f091665f1893656003\n");
    expect_manifest_error("list one.txt\n", "no 'as_of YYYY-MM-DD' line");
    expect_manifest_error("as_of 2024-09-27\n", "no 'list FILE' line");
    expect_manifest_error("as_of 2024-02-30\nlist one.txt\n", "manifest.txt:1:");
    expect_manifest_error("as_of 2024-09-27\nas_of 2024-09-28\n", "manifest.txt:2: second as_of");
    expect_manifest_error("as_of 2024-09-27\nlist one.txt\nlists two.txt\n", "manifest.txt:3:");
    expect_manifest_error("as_of 2024-09-27\nlist absent.txt\n", "absent.txt");

    /* And a good one, relative paths resolved against the manifest's directory. */
    char p[512];
    tmp_file(p, sizeof p, "manifest.txt", "# ok\nas_of 2025-01-02\nlist one.txt\n");
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_sanctions_load(&s, p, NULL, &e), 0);
    screen_list_info info;
    screen_sanctions_info(s, &info);
    assert_int_equal(info.n_addresses, 1);
    assert_string_equal(info.as_of, "2025-01-02");
    screen_sanctions_free(&s);
}

/* The FATF file: every row's list maps to its risk (read independently here), the file
 * hash matches sha256sum, and as_of is the statement date. */
static void test_fatf_shipped(void **state)
{
    (void)state;
    char path[4200];
    data_path(path, sizeof path, "data/compliance/fatf-jurisdictions.csv");
    screen_fatf *f = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_fatf_load(&f, path, &e), 0);
    screen_list_info info;
    screen_fatf_info(f, &info);
    assert_string_equal(info.as_of, "2025-10-24");
    char line[512];
    run_line(line, sizeof line, "sha256sum '%s'", path);
    char hex[65];
    hex_encode(hex, sizeof hex, info.sha256, 32, false);
    assert_memory_equal(line, hex, 64);

    FILE *in = fopen(path, "r");
    assert_non_null(in);
    size_t rows = 0, high = 0;
    assert_non_null(fgets(line, sizeof line, in)); /* header */
    while (fgets(line, sizeof line, in)) {
        char iso[3] = {line[0], line[1], 0};
        screen_risk want = strstr(line, ",call_for_action,")        ? SCREEN_RISK_HIGH
                           : strstr(line, ",increased_monitoring,") ? SCREEN_RISK_MEDIUM
                                                                    : SCREEN_RISK_NONE;
        assert_int_not_equal(want, SCREEN_RISK_NONE);
        assert_int_equal(screen_fatf_risk(f, iso), want);
        high += want == SCREEN_RISK_HIGH;
        rows++;
    }
    fclose(in);
    assert_int_equal(info.n_addresses, rows);
    assert_int_equal(high, 3); /* KP, IR, MM per the October 2025 statement */
    assert_int_equal(screen_fatf_risk(f, "DE"), SCREEN_RISK_NONE);
    assert_int_equal(screen_fatf_risk(f, "US"), SCREEN_RISK_NONE);
    assert_int_equal(screen_fatf_risk(f, "ir"), SCREEN_RISK_NONE); /* codes are upper case */
    assert_int_equal(screen_fatf_risk(f, ""), SCREEN_RISK_NONE);
    screen_fatf_free(&f);
    assert_null(f);
}

static void expect_fatf_error(const char *content, const char *want)
{
    screen_fatf *f = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_fatf_parse(&f, "j.csv", content, strlen(content), &e), -1);
    assert_null(f);
    if (!strstr(e.msg, want))
        fail_msg("error '%s' lacks '%s'", e.msg, want);
}

static void test_fatf_errors(void **state)
{
    (void)state;
    const char *h = "iso2,name,list,as_of\n";
    char text[512];
    expect_fatf_error("code,name\nIR,Iran\n", "j.csv:1: header");
    expect_fatf_error(h, "no jurisdictions listed");
    snprintf(text, sizeof text, "%sIR,Iran,blacklist,2025-10-24\n", h);
    expect_fatf_error(text, "j.csv:2: list 'blacklist'");
    snprintf(text, sizeof text, "%sIRN,Iran,call_for_action,2025-10-24\n", h);
    expect_fatf_error(text, "j.csv:2: 'IRN' is not an ISO 3166");
    snprintf(text, sizeof text, "%sIR,Iran,call_for_action,2025-10-32\n", h);
    expect_fatf_error(text, "j.csv:2:");
    snprintf(text, sizeof text,
             "%sIR,Iran,call_for_action,2025-10-24\nIR,Iran,call_for_action,"
             "2025-10-24\n",
             h);
    expect_fatf_error(text, "j.csv:3: IR is listed twice");
    snprintf(text, sizeof text, "%sIR,Iran,call_for_action\n", h);
    expect_fatf_error(text, "j.csv:2: 3 fields");
    snprintf(text, sizeof text, "%sIR,\"Iran,call_for_action,2025-10-24\n", h);
    expect_fatf_error(text, "unterminated quoted field");

    /* Quoted names with commas and CRLF line ends are fine. */
    const char *ok = "iso2,name,list,as_of\r\n"
                     "XK,\"Somewhere, Republic of \"\"X\"\"\",increased_monitoring,2026-02-13\r\n"
                     "IR,Iran,call_for_action,2025-10-24\r\n";
    screen_fatf *f = NULL;
    err e;
    err_clear(&e);
    assert_int_equal(screen_fatf_parse(&f, "ok.csv", ok, strlen(ok), &e), 0);
    assert_int_equal(screen_fatf_risk(f, "XK"), SCREEN_RISK_MEDIUM);
    screen_list_info info;
    screen_fatf_info(f, &info);
    assert_string_equal(info.as_of, "2026-02-13"); /* the newest row date */
    screen_fatf_free(&f);
}

/* Dates against values printed by GNU date(1) (`date -u -d DAY +%s` / 86400). */
static void test_dates(void **state)
{
    (void)state;
    struct {
        const char *s;
        int32_t day;
    } ok[] = {
        {"1970-01-01", 0},
        {"2000-02-29", 951782400 / 86400},
        {"2024-09-27", 1727395200 / 86400},
        {"2025-03-02", 1740873600 / 86400},
        {"2025-10-24", 1761264000 / 86400},
        {"9999-12-31", (int32_t)(253402214400LL / 86400)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int32_t d = -1;
        err e;
        err_clear(&e);
        assert_int_equal(screen_date_parse(&d, ok[i].s, &e), 0);
        assert_int_equal(d, ok[i].day);
        char back[SCREEN_DATE_MAX];
        screen_date_format(back, d);
        assert_string_equal(back, ok[i].s);
    }
    const char *bad[] = {"2023-02-29", "2025-13-01", "2025-00-10",  "2025-04-31",
                         "2025-1-01",  "1969-12-31", "2025-01-01 ", "",
                         "20250101",   "2025/01/01", "1900-02-29"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t d;
        err e;
        err_clear(&e);
        assert_int_equal(screen_date_parse(&d, bad[i], &e), -1);
        assert_int_equal(e.code, ERR_INVALID);
    }
    assert_int_equal(screen_day_of(1740873599), 1740873600 / 86400 - 1);
    assert_int_equal(screen_day_of(1740873600), 1740873600 / 86400);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_snapshot),    cmocka_unit_test(test_json_matches_text),
        cmocka_unit_test(test_desk_list_forms),     cmocka_unit_test(test_desk_list_errors),
        cmocka_unit_test(test_load_all_or_nothing), cmocka_unit_test(test_ofac_errors),
        cmocka_unit_test(test_manifest_errors),     cmocka_unit_test(test_fatf_shipped),
        cmocka_unit_test(test_fatf_errors),         cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
