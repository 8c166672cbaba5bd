/* escrow_input.c: the new-escrow input checks (see escrow_input.h). */
#include "desk/escrow_input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "desk/names.h"

int desk_party_parse(store *s, const char *text, addr *out, err *e)
{
    if (!text[0])
        return err_set(e, ERR_INVALID, "give an address (0x...) or an operator's name");
    if (strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0)
        return addr_parse(out, text, e);
    store_operator op;
    bool found = false;
    if (store_operator_get(s, text, &op, &found, e) < 0)
        return -1;
    if (found) {
        *out = op.address;
        return 0;
    }
    /* the address book: an entity's name (its one linked address) */
    desk_names *book = NULL;
    if (desk_names_load(&book, s, NULL, e) < 0)
        return -1;
    err re;
    int rc = desk_names_resolve(book, 0, text, out, &re);
    desk_names_free(&book);
    if (rc == 0)
        return 0;
    if (re.code == ERR_NOT_FOUND)
        return err_set(e, ERR_INVALID,
                       "\"%s\" is neither an address nor an operator or entity of the desk",
                       text);
    *e = re;
    e->code = ERR_INVALID;
    return -1;
}

/* Exactly YYYY-MM-DDTHH:MM:SSZ naming a real instant: no day 30 of February, no hour 24,
 * no leap second. strptime + timegm would move an impossible date to a real one. */
static int utc_time_parse(const char *s, int64_t *out)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    int v[6] = {0}, k = 0;
    if (strlen(s) != sizeof shape - 1)
        return -1;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] != 'd') {
            if (s[i] != shape[i])
                return -1;
            k += shape[i + 1] != '\0'; /* the next number */
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v[k] = v[k] * 10 + (s[i] - '0');
    }
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = v[0], m = v[1], d = v[2];
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap) || v[3] > 23 ||
        v[4] > 59 || v[5] > 59)
        return -1;
    /* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
    int yy = y - (m <= 2);
    int era = yy / 400; /* yy >= 0: four digits */
    int yoe = yy - era * 400;
    int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *out = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
    return 0;
}

int desk_deadline_read(const char *text, uint64_t now, uint64_t *out, err *e)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    bool ok = false;
    if (!errno && end != text && text[0] != '-') {
        if (!*end) {
            *out = v;
            ok = true;
        } else if (end[1] == '\0') {
            uint64_t mul = end[0] == 'd'   ? 86400
                           : end[0] == 'h' ? 3600
                           : end[0] == 'm' ? 60
                           : end[0] == 's' ? 1
                                           : 0;
            if (mul && v < (1ull << 32)) {
                *out = now + v * mul;
                ok = true;
            }
        }
    }
    if (!ok) {
        int64_t t;
        if (utc_time_parse(text, &t) < 0)
            return err_set(e, ERR_INVALID,
                           "use 7d, 12h, 30m, a unix time or YYYY-MM-DDTHH:MM:SSZ "
                           "(a real calendar day and time)");
        if (t < 0)
            return err_set(e, ERR_INVALID, "the deadline is before 1970");
        *out = (uint64_t)t;
    }
    return 0;
}

int desk_deadline_parse(const char *text, uint64_t now, uint64_t *out, err *e)
{
    if (desk_deadline_read(text, now, out, e) < 0)
        return -1;
    if (*out <= now)
        return err_set(e, ERR_INVALID, "the deadline must be in the future");
    return 0;
}

int desk_asset_lookup(store *s, uint64_t chain_id, const char *text, addr *token,
                      unsigned *decimals, bool *known, err *e)
{
    store_chain ch;
    bool found = false;
    *known = false;
    *decimals = 0;
    if (!text[0])
        return err_set(e, ERR_INVALID, "give the native symbol, a token symbol or an address");
    if (store_chain_get(s, chain_id, &ch, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "chain %llu is not configured on this desk",
                       (unsigned long long)chain_id);
    if (strcasecmp(text, ch.native_symbol) == 0) {
        memset(token, 0, sizeof *token);
        *decimals = ch.native_decimals;
        *known = true;
        return 0;
    }
    bool is_addr = strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0;
    if (is_addr && addr_parse(token, text, e) < 0)
        return -1;
    store_token *ts = NULL;
    size_t n = 0;
    if (store_token_list(s, chain_id, &ts, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n && !*known; i++) {
        if (is_addr ? addr_equal(&ts[i].address, token) : strcasecmp(ts[i].symbol, text) == 0) {
            *token = ts[i].address;
            *decimals = ts[i].decimals;
            *known = true;
        }
    }
    free(ts);
    if (*known || is_addr)
        return 0;
    return err_set(e, ERR_NOT_FOUND, "no token \"%s\" on %s: give its address, a configured "
                   "symbol or %s", text, ch.name, ch.native_symbol);
}
