/* events.c: a strict decoder for the fixed set of events in events.h (static
 * types, string and address[] only: what the contracts emit). Every padding byte and
 * every offset is checked; a log that claims to be ours but does not decode exactly
 * is rejected rather than guessed at. */
#include "sync/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "crypto/keccak.h"
#include "sync/event_json.h"

typedef struct param {
    const char *name;
    abi_kind kind;
    unsigned bits; /* ABI_UINT width */
    bool indexed;
} param;

#define P_ADDR(n, ix)                                                                              \
    {                                                                                              \
        n, ABI_ADDRESS, 160, ix                                                                    \
    }
#define P_UINT(n, b, ix)                                                                           \
    {                                                                                              \
        n, ABI_UINT, b, ix                                                                         \
    }

static const param p_created[] = {
    P_ADDR("escrow", true),          P_ADDR("payer", true),
    P_ADDR("payee", true),           P_ADDR("token", false),
    P_UINT("amount", 256, false),    {"approvers", ABI_ADDRESS_ARRAY, 0, false},
    P_UINT("threshold", 256, false), P_ADDR("arbiter", false),
    P_UINT("deadline", 64, false),
};
static const param p_created_v2[] = {
    P_ADDR("escrow", true),          P_ADDR("payer", true),
    P_ADDR("payee", true),           P_ADDR("token", false),
    P_UINT("amount", 256, false),    {"approvers", ABI_ADDRESS_ARRAY, 0, false},
    P_UINT("threshold", 256, false), P_ADDR("arbiter", false),
    P_UINT("deadline", 64, false),   P_UINT("disputeWindow", 64, false),
    {"termsHash", ABI_BYTES32, 0, false},
};
static const param p_arbiter_changed[] = {P_ADDR("previous", true), P_ADDR("next", true)};
static const param p_swept[] = {P_ADDR("token", true), P_ADDR("to", true),
                                P_UINT("amount", 256, false)};
static const param p_funded[] = {P_ADDR("funder", true), P_UINT("amount", 256, false)};
static const param p_approved[] = {P_ADDR("approver", true), P_UINT("approvals", 256, false)};
static const param p_released[] = {P_ADDR("to", true), P_UINT("amount", 256, false)};
static const param p_refunded[] = {P_ADDR("to", true), P_UINT("amount", 256, false),
                                   P_ADDR("by", true)};
static const param p_disputed[] = {P_ADDR("by", true), {"reason", ABI_STRING, 0, false}};
static const param p_resolved[] = {
    {"toPayee", ABI_BOOL, 8, false}, P_ADDR("to", true), P_UINT("amount", 256, false)};
static const param p_locked[] = {
    {"id", ABI_BYTES32, 0, true},  P_ADDR("sender", true),
    P_ADDR("receiver", true),      P_ADDR("token", false),
    P_UINT("amount", 256, false),  {"hashlock", ABI_BYTES32, 0, false},
    P_UINT("timelock", 64, false),
};
static const param p_claimed[] = {{"id", ABI_BYTES32, 0, true},
                                  {"preimage", ABI_BYTES32, 0, false}};
static const param p_htlc_refunded[] = {{"id", ABI_BYTES32, 0, true}};
static const param p_answer[] = {{"current", ABI_INT256, 256, true},
                                 P_UINT("roundId", 256, true),
                                 P_UINT("updatedAt", 256, false)};
static const param p_round[] = {P_UINT("roundId", 256, true), P_ADDR("startedBy", true),
                                P_UINT("startedAt", 256, false)};
static const param p_v_deposited[] = {P_ADDR("owner", true), P_ADDR("token", true),
                                      P_UINT("amount", 256, false), P_UINT("balance", 256, false)};
static const param p_v_requested[] = {P_UINT("id", 256, true), P_ADDR("owner", true),
                                      P_ADDR("token", true), P_UINT("amount", 256, false)};
static const param p_v_proposed[] = {P_UINT("id", 256, true),     P_ADDR("owner", true),
                                     P_ADDR("token", true),       P_UINT("amount", 256, false),
                                     P_ADDR("to", false),         P_ADDR("by", false)};
static const param p_v_approved[] = {P_UINT("id", 256, true), P_ADDR("approver", true),
                                     P_UINT("approvals", 256, false)};
static const param p_v_cancelled[] = {P_UINT("id", 256, true)};
static const param p_v_withdrawn[] = {P_UINT("id", 256, true), P_ADDR("owner", true),
                                      P_ADDR("token", true), P_UINT("amount", 256, false),
                                      P_UINT("balance", 256, false)};
static const param p_v_seized[] = {P_UINT("id", 256, true),      P_ADDR("owner", true),
                                   P_ADDR("token", true),        P_UINT("amount", 256, false),
                                   P_ADDR("to", false),          P_UINT("balance", 256, false)};

typedef struct event_def {
    const char *name;
    const char *signature;
    store_contract_kind emitter;
    const param *params;
    size_t n_params;
} event_def;

#define N_(a) (sizeof a / sizeof a[0])
static const param *const params_of[EV_COUNT] = {
    NULL,       p_created,         p_created_v2, p_funded,  p_approved,      p_released,
    p_refunded, p_disputed,        p_resolved,   p_arbiter_changed, p_swept, p_locked,
    p_claimed,  p_htlc_refunded,   p_answer,     p_round,           p_v_deposited, p_v_requested,
    p_v_proposed, p_v_approved, p_v_cancelled, p_v_withdrawn, p_v_seized,
};
static const size_t n_params_of[EV_COUNT] = {
    0,
    N_(p_created),
    N_(p_created_v2),
    N_(p_funded),
    N_(p_approved),
    N_(p_released),
    N_(p_refunded),
    N_(p_disputed),
    N_(p_resolved),
    N_(p_arbiter_changed),
    N_(p_swept),
    N_(p_locked),
    N_(p_claimed),
    N_(p_htlc_refunded),
    N_(p_answer),
    N_(p_round),
    N_(p_v_deposited),
    N_(p_v_requested),
    N_(p_v_proposed),
    N_(p_v_approved),
    N_(p_v_cancelled),
    N_(p_v_withdrawn),
    N_(p_v_seized),
};

static const char *const names_of[EV_COUNT] = {"",
#define SYNC_EV_NAME_(id, name, sig, kind) name,
                                               SYNC_EVENTS(SYNC_EV_NAME_)
#undef SYNC_EV_NAME_
};
static const char *const sigs_of[EV_COUNT] = {"",
#define SYNC_EV_SIG_(id, name, sig, kind) sig,
                                              SYNC_EVENTS(SYNC_EV_SIG_)
#undef SYNC_EV_SIG_
};
static const store_contract_kind emitter_of[EV_COUNT] = {STORE_CONTRACT_TOKEN,
#define SYNC_EV_KIND_(id, name, sig, kind) kind,
                                                         SYNC_EVENTS(SYNC_EV_KIND_)
#undef SYNC_EV_KIND_
};

/* topic0 per event, and the per-emitter lists, computed once. */
static uint8_t topic_of[EV_COUNT][32];
#define N_EMITTERS 6 /* store_contract_kind values */
static uint8_t emitter_topics[N_EMITTERS][EV_COUNT][32];
static sync_event_kind emitter_events[N_EMITTERS][EV_COUNT];
static size_t emitter_n[N_EMITTERS];
static pthread_once_t topics_once = PTHREAD_ONCE_INIT;

static void topics_init(void)
{
    for (int k = 1; k < EV_COUNT; k++) {
        keccak256(topic_of[k], sigs_of[k], strlen(sigs_of[k]));
        unsigned em = (unsigned)emitter_of[k];
        memcpy(emitter_topics[em][emitter_n[em]], topic_of[k], 32);
        emitter_events[em][emitter_n[em]] = (sync_event_kind)k;
        emitter_n[em]++;
    }
}

const uint8_t *sync_event_topic(sync_event_kind k)
{
    pthread_once(&topics_once, topics_init);
    return (unsigned)k < EV_COUNT ? topic_of[k] : topic_of[0];
}

const char *sync_event_name(sync_event_kind k)
{
    return (unsigned)k < EV_COUNT ? names_of[k] : "";
}

size_t sync_event_topics_for(store_contract_kind emitter, const uint8_t (**topics)[32])
{
    pthread_once(&topics_once, topics_init);
    if ((unsigned)emitter >= N_EMITTERS) {
        *topics = NULL;
        return 0;
    }
    *topics = (const uint8_t(*)[32])emitter_topics[emitter];
    return emitter_n[emitter];
}

static bool zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* One 32-byte word (from a topic or the data head) into a static-typed field. */
static int word_to_field(const param *p, const uint8_t w[32], abi_field *f, err *e)
{
    f->name = p->name;
    f->kind = p->kind;
    switch (p->kind) {
    case ABI_ADDRESS:
        if (!zero(w, 12))
            return err_set(e, ERR_INVALID, "%s: address word has non-zero padding", p->name);
        memcpy(f->a.b, w + 12, 20);
        return 0;
    case ABI_UINT:
        if (!zero(w, (256 - p->bits) / 8))
            return err_set(e, ERR_INVALID, "%s: value exceeds uint%u", p->name, p->bits);
        u256_from_be(&f->u, w);
        return 0;
    case ABI_INT256:
        u256_from_be(&f->u, w);
        return 0;
    case ABI_BOOL:
        if (!zero(w, 31) || w[31] > 1)
            return err_set(e, ERR_INVALID, "%s: bool word is not 0 or 1", p->name);
        f->u = u256_from_u64(w[31]);
        return 0;
    case ABI_BYTES32:
        memcpy(f->b32, w, 32);
        return 0;
    default:
        return err_set(e, ERR_INVALID, "%s: dynamic type cannot be indexed here", p->name);
    }
}

/* Reads a head offset word: in bounds, aligned, fits size_t. */
static int read_offset(const uint8_t *data, size_t len, size_t head_pos, size_t *out,
                       const char *name, err *e)
{
    const uint8_t *w = data + head_pos;
    if (!zero(w, 24))
        return err_set(e, ERR_INVALID, "%s: offset is out of range", name);
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    if (v % 32 || v > len || len - v < 32)
        return err_set(e, ERR_INVALID, "%s: offset %llu points outside the data", name,
                       (unsigned long long)v);
    *out = (size_t)v;
    return 0;
}

static int read_len(const uint8_t *w, size_t *out, const char *name, err *e)
{
    if (!zero(w, 24))
        return err_set(e, ERR_INVALID, "%s: length is out of range", name);
    uint64_t v = 0;
    for (int i = 24; i < 32; i++)
        v = v << 8 | w[i];
    if (v > (1u << 24))
        return err_set(e, ERR_INVALID, "%s: length %llu is implausible", name,
                       (unsigned long long)v);
    *out = (size_t)v;
    return 0;
}

static int dynamic_field(const param *p, const uint8_t *data, size_t len, size_t off, abi_field *f,
                         err *e)
{
    f->name = p->name;
    f->kind = p->kind;
    size_t n = 0;
    if (read_len(data + off, &n, p->name, e) < 0)
        return -1;
    size_t body = off + 32;
    if (p->kind == ABI_STRING) {
        size_t padded = (n + 31) / 32 * 32;
        if (padded > len - body)
            return err_set(e, ERR_INVALID, "%s: %zu bytes run past the data", p->name, n);
        if (!zero(data + body + n, padded - n))
            return err_set(e, ERR_INVALID, "%s: non-zero padding after the string", p->name);
        f->ptr = data + body;
        f->len = n;
        return 0;
    }
    /* address[] */
    if (n > (len - body) / 32)
        return err_set(e, ERR_INVALID, "%s: %zu elements run past the data", p->name, n);
    for (size_t i = 0; i < n; i++)
        if (!zero(data + body + 32 * i, 12))
            return err_set(e, ERR_INVALID, "%s[%zu]: address word has non-zero padding", p->name,
                           i);
    f->ptr = data + body;
    f->len = n;
    return 0;
}

int sync_event_decode(store_contract_kind emitter, const uint8_t topics[][32], unsigned n_topics,
                      const uint8_t *data, size_t len, sync_decoded *d, err *e)
{
    pthread_once(&topics_once, topics_init);
    memset(d, 0, sizeof *d);
    if (n_topics == 0 || (unsigned)emitter >= N_EMITTERS)
        return 0;
    sync_event_kind k = EV_NONE;
    for (size_t i = 0; i < emitter_n[emitter]; i++) {
        if (memcmp(emitter_topics[emitter][i], topics[0], 32) == 0) {
            k = emitter_events[emitter][i];
            break;
        }
    }
    if (k == EV_NONE)
        return 0;
    const param *ps = params_of[k];
    size_t np = n_params_of[k];
    unsigned n_indexed = 0;
    size_t n_head = 0;
    for (size_t i = 0; i < np; i++) {
        if (ps[i].indexed)
            n_indexed++;
        else
            n_head++;
    }
    if (n_topics != 1 + n_indexed)
        return err_set(e, ERR_INVALID, "%s log has %u topics, expected %u", names_of[k], n_topics,
                       1 + n_indexed);
    if (len % 32 || len < 32 * n_head)
        return err_set(e, ERR_INVALID,
                       "%s log data is %zu bytes, expected at least %zu in "
                       "32-byte words",
                       names_of[k], len, 32 * n_head);
    unsigned ti = 1;
    size_t hi = 0;
    for (size_t i = 0; i < np; i++) {
        abi_field *f = &d->f[i];
        int rc;
        if (ps[i].indexed) {
            rc = word_to_field(&ps[i], topics[ti++], f, e);
        } else if (ps[i].kind == ABI_STRING || ps[i].kind == ABI_ADDRESS_ARRAY) {
            size_t off = 0;
            rc = read_offset(data, len, 32 * hi, &off, ps[i].name, e);
            if (rc == 0)
                rc = dynamic_field(&ps[i], data, len, off, f, e);
            hi++;
        } else {
            rc = word_to_field(&ps[i], data + 32 * hi, f, e);
            hi++;
        }
        if (rc < 0)
            return err_prefix(e, "%s log", names_of[k]);
    }
    d->kind = k;
    d->name = names_of[k];
    d->n_fields = np;
    return 0;
}

const abi_field *sync_field(const sync_decoded *d, const char *name)
{
    for (size_t i = 0; i < d->n_fields; i++)
        if (strcmp(d->f[i].name, name) == 0)
            return &d->f[i];
    return NULL;
}

void sync_field_array_addr(const abi_field *f, size_t i, addr *out)
{
    memcpy(out->b, f->ptr + 32 * i + 12, 20);
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            if (c == 0)
                return false;
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* A small JSON writer: straight into a buffer (a JSON tree per event cost more than the
 * event's insert when the store kept this text for every event). */
typedef struct jw {
    char *s;
    size_t len, cap;
    bool oom;
} jw;

static void jw_put(jw *w, const char *p, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t nc = w->cap ? w->cap : 256;
        while (nc < w->len + n + 1)
            nc *= 2;
        char *ns = realloc(w->s, nc);
        if (!ns) {
            w->oom = true;
            return;
        }
        w->s = ns;
        w->cap = nc;
    }
    memcpy(w->s + w->len, p, n);
    w->len += n;
    w->s[w->len] = '\0';
}

static void jw_str(jw *w, const char *p)
{
    jw_put(w, p, strlen(p));
}

static void jw_hex(jw *w, const uint8_t *b, size_t n)
{
    char tmp[2 * 64 + 5];
    if (n <= 64) {
        tmp[0] = '"';
        hex_encode(tmp + 1, sizeof tmp - 1, b, n, true);
        size_t l = strlen(tmp);
        tmp[l] = '"';
        jw_put(w, tmp, l + 1);
        return;
    }
    char *h = hex_encode_new(b, n);
    if (!h) {
        w->oom = true;
        return;
    }
    jw_put(w, "\"", 1);
    jw_str(w, h);
    jw_put(w, "\"", 1);
    free(h);
}

static void jw_dec(jw *w, const u256 *v, bool negative)
{
    char d[U256_DEC_MAX + 3];
    d[0] = '"';
    d[1] = '-';
    u256_to_dec(d + 2, v);
    size_t l = strlen(d + 2) + 2;
    d[l] = '"';
    if (negative) {
        jw_put(w, d, l + 1);
    } else {
        d[1] = '"';
        jw_put(w, d + 1, l);
    }
}

static void jw_text(jw *w, const uint8_t *p, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    jw_put(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        jw_put(w, (const char *)p + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', (char)c, 0};
        if (c < 0x20) {
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hexd[c >> 4];
            esc[5] = hexd[c & 15];
            jw_put(w, esc, 6);
        } else {
            jw_put(w, esc, 2);
        }
    }
    jw_put(w, (const char *)p + run, n - run);
    jw_put(w, "\"", 1);
}

char *sync_event_json(const sync_decoded *d)
{
    jw w = {0};
    jw_put(&w, "{", 1);
    for (size_t i = 0; i < d->n_fields; i++) {
        const abi_field *f = &d->f[i];
        bool text = f->kind == ABI_STRING && utf8_valid(f->ptr, f->len);
        if (i)
            jw_put(&w, ",", 1);
        jw_put(&w, "\"", 1);
        jw_str(&w, f->name);
        if (f->kind == ABI_STRING && !text)
            jw_str(&w, "_hex");
        jw_put(&w, "\":", 2);
        switch (f->kind) {
        case ABI_ADDRESS:
            jw_hex(&w, f->a.b, 20);
            break;
        case ABI_UINT:
            jw_dec(&w, &f->u, false);
            break;
        case ABI_INT256:
            if (f->u.w[3] >> 63) {
                /* two's complement magnitude: ~v + 1 */
                u256 m;
                uint64_t carry = 1;
                for (int k = 0; k < 4; k++) {
                    m.w[k] = ~f->u.w[k] + carry;
                    carry = carry && m.w[k] == 0;
                }
                jw_dec(&w, &m, true);
            } else {
                jw_dec(&w, &f->u, false);
            }
            break;
        case ABI_BOOL:
            jw_str(&w, u256_is_zero(&f->u) ? "false" : "true");
            break;
        case ABI_BYTES32:
            jw_hex(&w, f->b32, 32);
            break;
        case ABI_STRING:
            if (text)
                jw_text(&w, f->ptr, f->len);
            else
                jw_hex(&w, f->ptr, f->len);
            break;
        case ABI_ADDRESS_ARRAY:
            jw_put(&w, "[", 1);
            for (size_t k = 0; k < f->len; k++) {
                addr a;
                sync_field_array_addr(f, k, &a);
                if (k)
                    jw_put(&w, ",", 1);
                jw_hex(&w, a.b, 20);
            }
            jw_put(&w, "]", 1);
            break;
        }
    }
    jw_put(&w, "}", 1);
    if (w.oom) {
        free(w.s);
        return NULL;
    }
    return w.s;
}

char *sync_event_json_of(const store_event *ev)
{
    pthread_once(&topics_once, topics_init);
    if (!ev->name[0] || ev->n_topics == 0)
        return NULL;
    for (int k = 1; k < EV_COUNT; k++) {
        if (memcmp(topic_of[k], ev->topics[0], 32) != 0)
            continue;
        sync_decoded d;
        err e;
        if (sync_event_decode(emitter_of[k], ev->topics, ev->n_topics, ev->data, ev->data_len,
                              &d, &e) < 0 ||
            d.kind == EV_NONE || strcmp(d.name, ev->name) != 0)
            return NULL;
        return sync_event_json(&d);
    }
    return NULL;
}
