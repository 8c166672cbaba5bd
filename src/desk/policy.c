/* policy.c: the desk's ordered, first-match policy table, as a pure function of the
 * parsed file and one request. Velocity lines (value per operator per rolling day) are
 * checked first, then single-transaction `limit` lines, then the first matching `rule`
 * decides; when nothing matches the request is blocked. Format: docs/escrow.md. */
#include "desk/desk.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/amount.h"

enum { F_WHO, F_ACTION, F_CHAIN, F_ASSET, F_COUNTERPARTY, F_TO, F_COUNT };
static const char *const field_names[F_COUNT] = {"who",   "action",       "chain",
                                                 "asset", "counterparty", "to"};

typedef enum { L_VELOCITY, L_LIMIT, L_RULE } line_kind;

typedef struct pline {
    line_kind kind;
    unsigned lineno;
    char *field[F_COUNT]; /* NULL: any; else alternatives separated by '|' */
    char *lo, *hi;        /* amount band [lo, hi) in human units; NULL: open */
    bool has_band;        /* amount= was given (once) */
    char *cap;            /* velocity limit / single-transaction max */
    policy_outcome outcome;
    unsigned require_n;
} pline;

struct policy {
    pline *lines;
    size_t n;
};

const char *policy_outcome_str(policy_outcome o)
{
    return o == POLICY_ALLOW ? "allow" : o == POLICY_BLOCK ? "block" : "require";
}

static void line_free(pline *l)
{
    for (int i = 0; i < F_COUNT; i++)
        free(l->field[i]);
    free(l->lo);
    free(l->hi);
    free(l->cap);
}

void policy_free(policy **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < (*p)->n; i++)
        line_free(&(*p)->lines[i]);
    free((*p)->lines);
    free(*p);
    *p = NULL;
}

size_t policy_rule_count(const policy *p)
{
    return p ? p->n : 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static bool amount_text_ok(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return false;
    return true;
}

/* One `key=value` word into l; returns -1 with e set. */
static int parse_word(pline *l, const char *w, size_t n, err *e)
{
    const char *eq = memchr(w, '=', n);
    if (!eq)
        return err_set(e, ERR_INVALID, "policy line %u: \"%.*s\" is not key=value", l->lineno,
                       (int)(n > 40 ? 40 : n), w);
    size_t kn = (size_t)(eq - w);
    const char *v = eq + 1;
    size_t vn = n - kn - 1;
    if (vn == 0)
        return err_set(e, ERR_INVALID, "policy line %u: empty value for %.*s", l->lineno, (int)kn,
                       w);
    for (int i = 0; i < F_COUNT; i++) {
        if (strlen(field_names[i]) == kn && strncmp(field_names[i], w, kn) == 0) {
            if (l->field[i])
                return err_set(e, ERR_INVALID, "policy line %u: %s given twice", l->lineno,
                               field_names[i]);
            if (vn == 1 && v[0] == '*')
                return 0;
            if (!(l->field[i] = dup_n(v, vn)))
                return err_set(e, ERR_NOMEM, "out of memory");
            return 0;
        }
    }
    if (kn == 6 && strncmp(w, "amount", 6) == 0) {
        const char *dots = NULL;
        for (size_t i = 0; i + 1 < vn; i++)
            if (v[i] == '.' && v[i + 1] == '.')
                dots = v + i;
        if (!dots)
            return err_set(e, ERR_INVALID,
                           "policy line %u: amount band must be LO..HI (either "
                           "side may be empty)",
                           l->lineno);
        if (l->has_band)
            return err_set(e, ERR_INVALID, "policy line %u: amount given twice", l->lineno);
        l->has_band = true;
        size_t ln = (size_t)(dots - v), hn = vn - ln - 2;
        if ((ln && !(l->lo = dup_n(v, ln))) || (hn && !(l->hi = dup_n(dots + 2, hn))))
            return err_set(e, ERR_NOMEM, "out of memory");
        if ((l->lo && !amount_text_ok(l->lo)) || (l->hi && !amount_text_ok(l->hi)))
            return err_set(e, ERR_INVALID,
                           "policy line %u: amount band bounds must be plain "
                           "decimals",
                           l->lineno);
        return 0;
    }
    bool is_cap = (l->kind == L_VELOCITY && kn == 5 && strncmp(w, "limit", 5) == 0) ||
                  (l->kind == L_LIMIT && kn == 3 && strncmp(w, "max", 3) == 0);
    if (is_cap) {
        if (l->cap)
            return err_set(e, ERR_INVALID, "policy line %u: %.*s given twice", l->lineno,
                           (int)kn, w);
        if (!(l->cap = dup_n(v, vn)))
            return err_set(e, ERR_NOMEM, "out of memory");
        if (!amount_text_ok(l->cap))
            return err_set(e, ERR_INVALID, "policy line %u: %.*s must be a plain decimal",
                           l->lineno, (int)kn, w);
        return 0;
    }
    return err_set(e, ERR_INVALID, "policy line %u: unknown key \"%.*s\"", l->lineno,
                   (int)(kn > 30 ? 30 : kn), w);
}

static int parse_outcome(pline *l, const char *s, err *e)
{
    char word[16];
    unsigned n = 0;
    int k = 0;
    if (sscanf(s, " %15s %n", word, &k) == 1 && strcmp(word, "allow") == 0 && !s[k]) {
        l->outcome = POLICY_ALLOW;
        return 0;
    }
    if (sscanf(s, " %15s %n", word, &k) == 1 && strcmp(word, "block") == 0 && !s[k]) {
        l->outcome = POLICY_BLOCK;
        return 0;
    }
    if (sscanf(s, " require %u %n", &n, &k) == 1 && !s[k] && n >= 1 && n <= STORE_MAX_APPROVERS) {
        l->outcome = POLICY_REQUIRE;
        l->require_n = n;
        return 0;
    }
    return err_set(e, ERR_INVALID,
                   "policy line %u: outcome must be allow, block or require N "
                   "(1..32)",
                   l->lineno);
}

static int parse_line(pline *l, char *s, err *e)
{
    char *arrow = strstr(s, "->");
    if (l->kind == L_RULE) {
        if (!arrow)
            return err_set(e, ERR_INVALID,
                           "policy line %u: a rule needs \"-> allow|block|"
                           "require N\"",
                           l->lineno);
        *arrow = '\0';
        if (parse_outcome(l, arrow + 2, e) < 0)
            return -1;
    } else if (arrow) {
        return err_set(e, ERR_INVALID, "policy line %u: only rules have an outcome", l->lineno);
    }
    char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, " \t");
        if (n && parse_word(l, p, n, e) < 0)
            return -1;
        p += n;
    }
    if (l->kind != L_RULE && !l->cap)
        return err_set(e, ERR_INVALID, "policy line %u: %s", l->lineno,
                       l->kind == L_VELOCITY ? "velocity needs limit=AMOUNT"
                                             : "limit needs max=AMOUNT");
    if (l->kind == L_VELOCITY && !l->field[F_ACTION] && !(l->field[F_ACTION] = dup_n("create", 6)))
        return err_set(e, ERR_NOMEM, "out of memory");
    if (l->kind == L_LIMIT && !l->field[F_ACTION] &&
        !(l->field[F_ACTION] = dup_n("create|fund", 11)))
        return err_set(e, ERR_NOMEM, "out of memory");
    return 0;
}

int policy_parse(policy **out, const char *text, size_t len, err *e)
{
    *out = NULL;
    policy *p = calloc(1, sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t cap = 0;
    unsigned lineno = 0;
    size_t i = 0;
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        unsigned at = 1;
        for (const char *q = text; q < nul; q++)
            at += *q == '\n';
        free(p);
        return err_set(e, ERR_INVALID, "policy line %u: NUL byte: not a text file", at);
    }
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        lineno++;
        char *line = dup_n(text + i, j - i);
        i = j + 1;
        if (!line)
            goto nomem;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        while (*s == ' ' || *s == '\t' || *s == '\r')
            s++;
        size_t sl = strlen(s);
        while (sl && (s[sl - 1] == ' ' || s[sl - 1] == '\t' || s[sl - 1] == '\r'))
            s[--sl] = '\0';
        if (!*s) {
            free(line);
            continue;
        }
        size_t kw = strcspn(s, " \t");
        line_kind kind;
        if (kw == 4 && strncmp(s, "rule", 4) == 0)
            kind = L_RULE;
        else if (kw == 8 && strncmp(s, "velocity", 8) == 0)
            kind = L_VELOCITY;
        else if (kw == 5 && strncmp(s, "limit", 5) == 0)
            kind = L_LIMIT;
        else {
            err_set(e, ERR_INVALID,
                    "policy line %u: starts with \"%.*s\"; expected rule, "
                    "velocity or limit",
                    lineno, (int)(kw > 20 ? 20 : kw), s);
            free(line);
            goto fail;
        }
        if (p->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            pline *nl = realloc(p->lines, nc * sizeof *nl);
            if (!nl) {
                free(line);
                goto nomem;
            }
            p->lines = nl;
            cap = nc;
        }
        pline *l = &p->lines[p->n++];
        memset(l, 0, sizeof *l);
        l->kind = kind;
        l->lineno = lineno;
        int rc = parse_line(l, s + kw, e);
        free(line);
        if (rc < 0)
            goto fail;
    }
    *out = p;
    return 0;
nomem:
    err_set(e, ERR_NOMEM, "out of memory");
fail:
    policy_free(&p);
    return -1;
}

/* ---- evaluation ---- */

static bool alt_match(const char *alts, const char *value, bool nocase)
{
    if (!alts)
        return true;
    if (!value)
        return false;
    size_t vn = strlen(value);
    const char *p = alts;
    for (;;) {
        size_t n = strcspn(p, "|");
        if (n == vn && (nocase ? strncasecmp(p, value, n) : strncmp(p, value, n)) == 0)
            return true;
        if (!p[n])
            return false;
        p += n + 1;
    }
}

static bool who_match(const char *alts, const policy_request *r)
{
    if (!alts)
        return true;
    const char *p = alts;
    for (;;) {
        size_t n = strcspn(p, "|");
        if (n > 5 && strncmp(p, "role:", 5) == 0) {
            unsigned bit = 0;
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)(n - 5 < 31 ? n - 5 : 31), p + 5);
            err ignore;
            if (desk_roles_parse(&bit, name, &ignore) == 0 && (r->roles & bit))
                return true;
        } else {
            const char *nm = p;
            size_t nn = n;
            if (n > 3 && strncmp(p, "op:", 3) == 0) {
                nm += 3;
                nn -= 3;
            }
            if (r->operator_name && strlen(r->operator_name) == nn &&
                strncmp(nm, r->operator_name, nn) == 0)
                return true;
        }
        if (!p[n])
            return false;
        p += n + 1;
    }
}

static bool addr_alt_match(const char *alts, const addr *a, bool native_ok)
{
    char lower[ADDR_STR_MAX];
    addr_to_lower(lower, a);
    if (alt_match(alts, lower, true))
        return true;
    return native_ok && addr_is_zero(a) && alt_match(alts, "native", true);
}

static bool asset_match(const char *alts, const policy_request *r)
{
    if (!alts)
        return true;
    if (r->asset_symbol && alt_match(alts, r->asset_symbol, true))
        return true;
    return addr_alt_match(alts, &r->asset, true);
}

/* Does amount fall in [lo, hi)? Bounds are human units in the request's decimals. */
static int band_match(const pline *l, const policy_request *r, bool *match, err *e)
{
    *match = true;
    u256 v;
    if (l->lo) {
        if (amount_parse(&v, l->lo, r->decimals, e) < 0)
            return err_prefix(e, "policy line %u", l->lineno);
        if (u256_cmp(&r->amount, &v) < 0)
            *match = false;
    }
    if (l->hi) {
        if (amount_parse(&v, l->hi, r->decimals, e) < 0)
            return err_prefix(e, "policy line %u", l->lineno);
        if (u256_cmp(&r->amount, &v) >= 0)
            *match = false;
    }
    return 0;
}

static int line_matches(const pline *l, const policy_request *r, bool *m, err *e)
{
    *m = who_match(l->field[F_WHO], r) && alt_match(l->field[F_ACTION], r->action, false) &&
         alt_match(l->field[F_CHAIN], r->chain, false) && asset_match(l->field[F_ASSET], r) &&
         alt_match(l->field[F_TO], r->dst_chain, false) &&
         (!l->field[F_COUNTERPARTY] ||
          (r->has_counterparty &&
           addr_alt_match(l->field[F_COUNTERPARTY], &r->counterparty, false)));
    if (*m && (l->lo || l->hi))
        return band_match(l, r, m, e);
    return 0;
}

static void reason(policy_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(policy_decision *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof d->reason, fmt, ap);
    va_end(ap);
}

static const char *sym(const policy_request *r)
{
    return r->asset_symbol ? r->asset_symbol : "units";
}

int policy_evaluate(const policy *p, const policy_request *r, policy_decision *d, err *e)
{
    memset(d, 0, sizeof *d);
    d->outcome = POLICY_BLOCK;
    char a[AMOUNT_STR_MAX], b[AMOUNT_STR_MAX], c[AMOUNT_STR_MAX];
    /* Velocity first: value per operator per rolling day. */
    for (size_t i = 0; i < p->n; i++) {
        const pline *l = &p->lines[i];
        bool m;
        if (l->kind != L_VELOCITY)
            continue;
        if (line_matches(l, r, &m, e) < 0)
            return -1;
        if (!m)
            continue;
        u256 cap, total;
        if (amount_parse(&cap, l->cap, r->decimals, e) < 0)
            return err_prefix(e, "policy line %u", l->lineno);
        if (u256_add(&total, &r->spent_24h, &r->amount) < 0 || u256_cmp(&total, &cap) > 0) {
            amount_format(a, &r->amount, r->decimals);
            amount_format(b, &r->spent_24h, r->decimals);
            amount_format(c, &cap, r->decimals);
            d->line = l->lineno;
            reason(d,
                   "velocity limit (policy line %u): %s %s plus %s already in the last 24 h "
                   "exceeds %s per day for %s",
                   l->lineno, a, sym(r), b, c, r->operator_name);
            return 0;
        }
    }
    /* Single-transaction limits (per operator, per asset). */
    for (size_t i = 0; i < p->n; i++) {
        const pline *l = &p->lines[i];
        bool m;
        if (l->kind != L_LIMIT)
            continue;
        if (line_matches(l, r, &m, e) < 0)
            return -1;
        if (!m)
            continue;
        u256 cap;
        if (amount_parse(&cap, l->cap, r->decimals, e) < 0)
            return err_prefix(e, "policy line %u", l->lineno);
        if (u256_cmp(&r->amount, &cap) > 0) {
            amount_format(a, &r->amount, r->decimals);
            amount_format(c, &cap, r->decimals);
            d->line = l->lineno;
            reason(d,
                   "amount limit (policy line %u): %s %s is above the %s %s allowed per "
                   "transaction",
                   l->lineno, a, sym(r), c, sym(r));
            return 0;
        }
    }
    /* Ordered rules: the first match decides. */
    for (size_t i = 0; i < p->n; i++) {
        const pline *l = &p->lines[i];
        bool m;
        if (l->kind != L_RULE)
            continue;
        if (line_matches(l, r, &m, e) < 0)
            return -1;
        if (!m)
            continue;
        d->line = l->lineno;
        d->require_n = l->require_n;
        if (l->outcome == POLICY_ALLOW) {
            d->outcome = POLICY_ALLOW;
            reason(d, "allowed by policy line %u", l->lineno);
        } else if (l->outcome == POLICY_BLOCK) {
            reason(d, "blocked by policy line %u (%s by %s)", l->lineno, r->action,
                   r->operator_name);
        } else if (r->threshold >= l->require_n) {
            d->outcome = POLICY_REQUIRE;
            reason(d, "allowed by policy line %u: at least %u approvers required, escrow needs %u",
                   l->lineno, l->require_n, r->threshold);
        } else {
            reason(d,
                   "policy line %u requires at least %u approvals; this escrow's threshold "
                   "is %u",
                   l->lineno, l->require_n, r->threshold);
        }
        return 0;
    }
    reason(d, "no policy rule allows %s by %s on %s: blocked by default", r->action,
           r->operator_name, r->chain ? r->chain : "this chain");
    return 0;
}

int policy_limit_max(const policy *p, const policy_request *r, u256 *max, unsigned *line,
                     bool *found, err *e)
{
    *found = false;
    *line = 0;
    for (size_t i = 0; i < p->n; i++) {
        const pline *l = &p->lines[i];
        bool m;
        if (l->kind != L_LIMIT)
            continue;
        if (line_matches(l, r, &m, e) < 0)
            return -1;
        if (!m)
            continue;
        u256 cap;
        if (amount_parse(&cap, l->cap, r->decimals, e) < 0)
            return err_prefix(e, "policy line %u", l->lineno);
        if (!*found || u256_cmp(&cap, max) < 0) {
            *max = cap;
            *line = l->lineno;
        }
        *found = true;
    }
    return 0;
}

bool policy_permits(const policy *p, const char *action, const char *operator_name,
                    unsigned roles, unsigned *line)
{
    policy_request r;
    memset(&r, 0, sizeof r);
    r.operator_name = operator_name;
    r.roles = roles;
    r.action = action;
    if (line)
        *line = 0;
    for (size_t i = 0; i < p->n; i++) {
        const pline *l = &p->lines[i];
        if (l->kind != L_RULE || !who_match(l->field[F_WHO], &r) ||
            !alt_match(l->field[F_ACTION], action, false))
            continue;
        bool conditional = l->field[F_CHAIN] || l->field[F_ASSET] || l->field[F_COUNTERPARTY] ||
                           l->field[F_TO] ||
                           l->lo || l->hi;
        if (l->outcome == POLICY_BLOCK && conditional)
            continue; /* another request of the same action may pass it */
        if (line)
            *line = l->lineno;
        return l->outcome != POLICY_BLOCK;
    }
    return false;
}

int desk_action_role_check(const policy *p, desk_action a, const char *operator_name,
                           unsigned roles, char *why, size_t cap)
{
    const desk_action_info *in = desk_action_get(a);
    if (!in) {
        snprintf(why, cap, "not a desk action");
        return 1;
    }
    unsigned line = 0;
    if (policy_permits(p, in->name, operator_name, roles, &line))
        return 0;
    if (!operator_name || !*operator_name)
        operator_name = "this operator";
    char rs[64];
    desk_roles_format(rs, sizeof rs, roles);
    if (line)
        snprintf(why, cap, "the desk policy (policy.conf line %u) does not let %.63s (%s) %s",
                 line, operator_name, rs[0] ? rs : "no role",
                 in->name);
    else
        snprintf(why, cap, "no rule of the desk policy (policy.conf) lets %.63s (%s) %s",
                 operator_name, rs[0] ? rs : "no role",
                 in->name);
    return 1;
}
