/* listfmt.h: the published list formats `fusion lists import` reads, as pure parsers over
 * bytes in memory (no store, no files): OFAC's SDN.CSV (digital currency addresses in the
 * Remarks field), OFAC's advanced XML (sdn_advanced.xml, "Digital Currency Address - X"
 * feature types), the FATF jurisdiction CSV and a plain address list. A bad record
 * refuses the whole file with "NAME:LINE: what is wrong". */
#ifndef FUSION_COMPLIANCE_LISTFMT_H
#define FUSION_COMPLIANCE_LISTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "base/attr.h"
#include "base/err.h"

typedef enum { LIST_FMT_SDN_CSV, LIST_FMT_OFAC_XML, LIST_FMT_FATF, LIST_FMT_PLAIN } list_format;

#define LIST_KEY_MAX 43    /* a lowercase 0x address, or an ISO 3166 alpha-2 code */
#define LIST_DETAIL_MAX 24 /* the asset (ETH, USDT ...) or the FATF list */

typedef struct list_item {
    char key[LIST_KEY_MAX];
    char detail[LIST_DETAIL_MAX];
    uint32_t line;
} list_item;

typedef struct list_parsed {
    list_item *items; /* sorted by key, one per key (the first line that listed it) */
    size_t n, cap;
    size_t n_records;   /* SDN records / list lines read */
    size_t n_skipped;   /* addresses of other chains (Bitcoin, Tron ...), counted only */
    size_t n_duplicates;
    char published[11]; /* from the file when it says (XML, FATF), else "" */
} list_parsed;

/* "sdn-csv", "ofac-xml", "fatf", "plain"; -1 for anything else. */
int list_format_parse(list_format *out, const char *s) FUSION_WUR;
const char *list_format_name(list_format f);
/* True for the formats whose entries are jurisdictions (FATF), not addresses. */
int list_format_is_jurisdictions(list_format f);

/* Parses data (name names it in errors) into out (zeroed first); on error out is freed. */
int list_parse(list_parsed *out, list_format fmt, const char *name, const char *data, size_t len,
               err *e) FUSION_WUR;
void list_parsed_free(list_parsed *p);

#endif
