/* test_listfmt.c: the published list formats `fusion lists import` reads (listfmt.c),
 * fed hostile files: a FATF file the checker accepts in another spelling, XML that nests,
 * reorders, expands or points outside, asset names with control bytes. Each must give
 * exactly the entries the screening rules will accept, or one clear error line. */
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

#include "compliance/listfmt.h"
#include "compliance/screen.h"

#define ADDR1 "0x2f389cE8bD8ff92De3402FFCe4691d17fC4f6535"
#define ADDR1_LOW "0x2f389ce8bd8ff92de3402ffce4691d17fc4f6535"
#define ADDR2 "0x6f1ca141a28907f78ebaa64fb83a9088b02a8352"

static int parse(list_parsed *p, list_format f, const char *text, err *e)
{
    err_clear(e);
    return list_parse(p, f, "t", text, strlen(text), e);
}

static void expect_error(list_format f, const char *text, const char *want)
{
    list_parsed p;
    err e;
    if (parse(&p, f, text, &e) == 0) {
        list_parsed_free(&p);
        fail_msg("accepted, want an error with '%s'", want);
    }
    assert_int_equal(e.code, ERR_INVALID);
    if (!strstr(e.msg, want))
        fail_msg("error '%s' lacks '%s'", e.msg, want);
    assert_null(strchr(e.msg, '\n'));
    assert_null(strchr(e.msg, '\x1b'));
}

/* Every FATF entry is a code the screening rules read back: lists_build writes the
 * version's rows as a FATF CSV and parses it again, so a key like "is" (the header read
 * as a row) or "\"K" (a quoted code cut at two bytes) would break screening for the
 * whole desk after an import that said it was fine. */
static void test_fatf_entries_are_what_was_checked(void **state)
{
    (void)state;
    static const char *const files[] = {
        /* a blank line before the header */
        "\niso2,name,list,as_of\nKP,North Korea,call_for_action,2024-06-28\n"
        "IR,Iran,call_for_action,2024-06-28\n",
        /* a quoted code */
        "iso2,name,list,as_of\n\"KP\",North Korea,call_for_action,2024-06-28\n"
        "IR,Iran,\"call_for_action\",2024-06-28\n",
        /* CR LF and a quoted name holding commas */
        "iso2,name,list,as_of\r\nKP,\"Korea, Democratic People's Republic of\","
        "call_for_action,2024-06-28\r\nIR,Iran,call_for_action,2024-06-28\r\n",
    };
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        list_parsed p;
        err e;
        if (parse(&p, LIST_FMT_FATF, files[k], &e) < 0)
            fail_msg("file %zu refused: %s", k, e.msg);
        if (p.n != 2)
            fail_msg("file %zu: %zu entries, want 2 (first '%s')", k, p.n, p.items[0].key);
        assert_string_equal(p.items[0].key, "IR");
        assert_string_equal(p.items[1].key, "KP");
        assert_string_equal(p.items[1].detail, "call_for_action");
        assert_string_equal(p.published, "2024-06-28");
        /* the rows as lists_build writes them parse again */
        char csv[512];
        int m = snprintf(csv, sizeof csv, "iso2,name,list,as_of\n");
        for (size_t i = 0; i < p.n; i++)
            m += snprintf(csv + m, sizeof csv - (size_t)m, "%s,%s,%s,%s\n", p.items[i].key,
                          p.items[i].key, p.items[i].detail, p.published);
        screen_fatf *f = NULL;
        if (screen_fatf_parse(&f, "rebuilt", csv, (size_t)m, &e) < 0)
            fail_msg("file %zu: the rebuilt rows are refused: %s", k, e.msg);
        assert_int_equal(screen_fatf_risk(f, "KP"), SCREEN_RISK_HIGH);
        screen_fatf_free(&f);
        list_parsed_free(&p);
    }
}

#define XML_HEAD                                                                            \
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
#define XML_DATE "<DateOfIssue><Year>2026</Year><Month>11</Month><Day>10</Day></DateOfIssue>\n"
#define XML_TYPES                                                                           \
    "<ReferenceValueSets><FeatureTypeValues>"                                               \
    "<FeatureType ID=\"345\">Digital Currency Address - ETH</FeatureType>"                  \
    "</FeatureTypeValues></ReferenceValueSets>\n"
#define XML_PARTY(detail)                                                                   \
    "<DistinctParties><DistinctParty><Profile><Feature ID=\"1\" FeatureTypeID=\"345\">"     \
    "<FeatureVersion><VersionDetail>" detail "</VersionDetail></FeatureVersion>"            \
    "</Feature></Profile></DistinctParty></DistinctParties>\n"

static void test_xml_good(void **state)
{
    (void)state;
    list_parsed p;
    err e;
    const char *x = XML_HEAD "<Sanctions>" XML_DATE XML_TYPES XML_PARTY(ADDR1) "</Sanctions>";
    if (parse(&p, LIST_FMT_OFAC_XML, x, &e) < 0)
        fail_msg("%s", e.msg);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].key, ADDR1_LOW);
    assert_string_equal(p.items[0].detail, "ETH");
    list_parsed_free(&p);
}

/* An address is never dropped in silence: an element inside its text, or a party's
 * feature before the feature types that say it is an address, refuse the file. */
static void test_xml_no_silent_loss(void **state)
{
    (void)state;
    expect_error(LIST_FMT_OFAC_XML,
                 XML_HEAD "<Sanctions>" XML_DATE XML_TYPES XML_PARTY(
                     "0x2f389cE8bD8ff92De34<b/>02FFCe4691d17fC4f6535") "</Sanctions>",
                 "inside");
    expect_error(LIST_FMT_OFAC_XML,
                 XML_HEAD "<Sanctions>" XML_DATE XML_PARTY(ADDR1) XML_TYPES "</Sanctions>",
                 "after");
}

/* The asset name of a feature type is outside text stored with every entry: the same
 * letters and digits SDN.CSV allows, not a newline or an escape sequence. */
static void test_xml_asset_name(void **state)
{
    (void)state;
    expect_error(LIST_FMT_OFAC_XML,
                 XML_HEAD "<Sanctions>" XML_DATE
                          "<FeatureType ID=\"345\">Digital Currency Address - ETH&#10;"
                          "OK &#xC2;&#x9B;31m</FeatureType>" XML_PARTY(ADDR1) "</Sanctions>",
                 "not an asset code");
    expect_error(LIST_FMT_SDN_CSV,
                 "1,\"X\",-0- ,\"P\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Digital Currency "
                 "Address - E\x1b[2J " ADDR2 ".\"\n",
                 "not an asset code");
}

/* Entities: the billion laughs stops at expat's amplification limit with one line; an
 * external entity is never read (its address does not become an entry); a parameter
 * entity is not fetched. */
static void test_xml_entities(void **state)
{
    (void)state;
    char ent[] = "/tmp/fusion-listfmt-XXXXXX";
    int fd = mkstemp(ent);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ADDR2, strlen(ADDR2)), (ssize_t)strlen(ADDR2));
    close(fd);
    char x[2048];
    snprintf(x, sizeof x,
             XML_HEAD "<!DOCTYPE Sanctions [<!ENTITY ext SYSTEM \"file://%s\">]>\n"
                      "<Sanctions>" XML_DATE XML_TYPES XML_PARTY(ADDR1) XML_PARTY("&ext;")
                          "</Sanctions>",
             ent);
    list_parsed p;
    err e;
    int rc = parse(&p, LIST_FMT_OFAC_XML, x, &e);
    if (rc == 0) {
        for (size_t i = 0; i < p.n; i++)
            if (!strcmp(p.items[i].key, ADDR2))
                fail_msg("the external entity's address was read");
        list_parsed_free(&p);
    } else {
        assert_null(strchr(e.msg, '\n'));
    }
    unlink(ent);

    /* ten levels of ten: 10^10 expansions of "lol" */
    char bl[4096];
    int m = snprintf(bl, sizeof bl, XML_HEAD "<!DOCTYPE Sanctions [<!ENTITY l0 \"lol\">");
    for (int i = 1; i <= 10; i++)
        m += snprintf(bl + m, sizeof bl - (size_t)m,
                      "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">", i,
                      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    snprintf(bl + m, sizeof bl - (size_t)m,
             "]>\n<Sanctions>" XML_DATE XML_TYPES XML_PARTY(ADDR1) "<Note>&l10;</Note></Sanctions>");
    expect_error(LIST_FMT_OFAC_XML, bl, "not well-formed XML");

    snprintf(x, sizeof x,
             XML_HEAD "<!DOCTYPE Sanctions [<!ENTITY %% pe SYSTEM \"file:///etc/passwd\"> %%pe;]>\n"
                      "<Sanctions>" XML_DATE XML_TYPES XML_PARTY(ADDR1) "</Sanctions>");
    rc = parse(&p, LIST_FMT_OFAC_XML, x, &e);
    if (rc == 0) {
        assert_int_equal(p.n, 1);
        list_parsed_free(&p);
    }
}

/* Invalid UTF-8 and control bytes in any format: one line, no raw byte. */
static void test_bytes_in_errors(void **state)
{
    (void)state;
    expect_error(LIST_FMT_PLAIN, "0x\x1b]0;owned\x07" "000000000000000000000000000000\n",
                 "fix or remove the line");
    expect_error(LIST_FMT_OFAC_XML,
                 XML_HEAD "<Sanctions>" XML_DATE XML_TYPES XML_PARTY("0x\xff\xfe") "</Sanctions>",
                 "not well-formed");
    expect_error(LIST_FMT_SDN_CSV, "1\x1b[2J,\"X\"\n", "ent_num");
    expect_error(LIST_FMT_FATF, "iso2,name,list,as_of\nKP,\x1b[31m,call_for_action,2024-01-01\n",
                 "control byte");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fatf_entries_are_what_was_checked),
        cmocka_unit_test(test_xml_good),
        cmocka_unit_test(test_xml_no_silent_loss),
        cmocka_unit_test(test_xml_asset_name),
        cmocka_unit_test(test_xml_entities),
        cmocka_unit_test(test_bytes_in_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
