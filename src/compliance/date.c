/* date.c: calendar days for KYC expiry and list dates. Days since 1970-01-01 in the
 * proleptic Gregorian calendar (H. Hinnant's civil-date algorithms), UTC throughout. */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "compliance/internal.h"
#include "compliance/screen.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Strict YYYY-MM-DD of a real calendar day from 1970 on. */
static bool parse_ymd(const char *s, int64_t *y, unsigned *m, unsigned *d)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned v[8];
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0, k = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return false;
        v[k++] = (unsigned)(s[i] - '0');
    }
    *y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    *m = v[4] * 10 + v[5];
    *d = v[6] * 10 + v[7];
    if (*y < 1970 || *m < 1 || *m > 12 || *d < 1)
        return false;
    return *d <= mdays[*m - 1] + (*m == 2 && is_leap(*y));
}

int screen_date_parse(int32_t *day, const char *s, err *e)
{
    int64_t y;
    unsigned m, d;
    if (!parse_ymd(s, &y, &m, &d)) {
        char ex[TEXT_EXCERPT_MAX];
        return err_set(e, ERR_INVALID, "'%s' is not a date: write YYYY-MM-DD (1970 or later)",
                       text_safe(ex, sizeof ex, s, strnlen(s, 20)));
    }
    *day = (int32_t)days_from_civil(y, m, d);
    return 0;
}

void screen_date_format(char out[SCREEN_DATE_MAX], int32_t day)
{
    if (day == SCREEN_NO_DATE) {
        snprintf(out, SCREEN_DATE_MAX, "none");
        return;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, SCREEN_DATE_MAX, "invalid");
        return;
    }
    /* Ranges the compiler cannot see: m is 1..12, d is 1..31. */
    snprintf(out, SCREEN_DATE_MAX, "%04d-%02u-%02u", (int)y, m % 100u, d % 100u);
}

int32_t screen_day_of(uint64_t unix_ts)
{
    uint64_t d = unix_ts / 86400u;
    return d > (uint64_t)INT32_MAX ? INT32_MAX : (int32_t)d;
}
