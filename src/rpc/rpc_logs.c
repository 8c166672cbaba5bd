/* rpc_logs.c: the streaming reader of eth_getLogs answers. A getLogs answer is the one
 * large thing a node sends (tens of megabytes during an initial sync); a jansson tree of
 * it costs several times the node's own time and holds the whole text. This reader is a
 * push state machine fed by curl's write callback with pieces cut anywhere (inside a
 * string, an escape, a UTF-8 sequence, a number): it validates the text as JSON exactly
 * as jansson does (JSON_ALLOW_NUL: escapes, surrogate pairs, UTF-8, number ranges, depth
 * 2048, NUL in keys, the last of repeated keys wins) and writes each log of the result
 * array into an rpc_log_list as it passes. Everything else of the answer goes into a
 * small JSON skeleton (the result array written as []), which the general path reads
 * with jansson: ids, error objects and their classes mean the same as before.
 * Reads outside bytes: fuzzed by tests/fuzz/fuzz_rpc_logs.c against the jansson path. */
#include "rpc/rpc_logs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_DEPTH 2048             /* jansson's */
#define SKEL_MAX ((size_t)1 << 20) /* the answer besides its logs */
#define FIELD_MAX 80               /* a hash or a quantity is at most 66 characters */

/* What a container is for. */
enum role {
    R_SKEL,   /* copied into the skeleton */
    R_TOP,    /* the answer object (copied) */
    R_SKIP,   /* inside a log: validated only */
    R_LOGS,   /* the result array */
    R_LOG,    /* one log */
    R_TOPICS, /* a log's topics */
    /* blocks mode (rpc_logs_stream_blocks) */
    R_BATCH, /* the batch answer (copied) */
    R_ENTRY, /* one response of it (copied but its result) */
    R_BLOCK, /* a block */
    R_TXS,   /* its transactions */
    R_TX,    /* one transaction */
};

/* Where the characters of the string being read go. */
enum sink { K_NONE, K_SKEL, K_FIELD, K_DATA };

/* A log's fields; F_TOPIC is one element of its topics. */
enum field {
    F_NONE,
    F_ADDRESS,
    F_BHASH,
    F_TX,
    F_BLOCK,
    F_TXI,
    F_LOGI,
    F_DATA,
    F_TOPICS,
    F_REMOVED,
    F_TOPIC,
    F_B_HASH, /* a block's */
    F_B_PARENT,
    F_B_TS,
    F_B_TXS,
    F_B_NUMBER,
    F_T_TO, /* a transaction's */
    F_T_FROM,
    F_T_VALUE,
    F_T_HASH,
    N_FIELDS
};
enum { FS_MISSING, FS_OK, FS_BAD };
enum { P_NONE, P_RESULT };

enum st {
    S_VALUE,     /* a value */
    S_ARR_FIRST, /* a value or ] */
    S_OBJ_FIRST, /* a key or } */
    S_KEY,       /* a key */
    S_COLON,
    S_AFTER, /* , or the container's end */
    S_STR,
    S_ESC,
    S_UHEX,
    S_LOW_BS, /* the \ of a low surrogate */
    S_LOW_U,  /* its u */
    S_UTF8,
    S_NUM,
    S_LIT,
    S_END, /* after the answer: white space only */
};

enum num { N_SIGN, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

struct rpc_logs_stream {
    enum st st;
    bool failed;
    char why[160];
    size_t pos;   /* where the byte being read stands in the answer */
    size_t fed;   /* bytes fed before this piece */
    int depth;    /* open containers */
    uint8_t *stk; /* [1..MAX_DEPTH]: role << 1 | is_object */
    /* the string being read */
    bool in_key, str_nul;
    enum sink sink;
    char key[32];
    size_t key_n;
    bool key_long;
    char fld[FIELD_MAX + 1];
    size_t fld_n;
    bool fld_long;
    uint32_t u_val, hi;
    int u_digits;
    bool want_low;
    int utf8_left;
    uint32_t utf8_cp, utf8_min;
    /* the number or literal being read */
    buf num;
    enum num nst;
    bool num_skel;
    const char *lit;
    size_t lit_i;
    bool lit_skel;
    bool nul_after; /* a number or a literal just ended: jansson drops one NUL byte here */
    /* meaning */
    int pending; /* the key just read: P_RESULT in the answer object, a field in a log */
    buf skel;
    rpc_log_list out;
    size_t limit;        /* rpc_logs_stream_limit */
    bool over;           /* a log beyond it was read: the reader stopped there */
    uint64_t over_block; /* that log's block */
    size_t cap;
    size_t *offs; /* each log's data offset in out.data_ */
    uint8_t fs[N_FIELDS];
    size_t log_data;     /* out.data_.len when the current log began */
    enum field cur;      /* the field a K_FIELD string goes to */
    unsigned topic_i;    /* the topic a F_TOPIC string goes to */
    unsigned data_pre;   /* "0x" characters of data seen */
    int data_hi;         /* the high nibble waiting for its low one, -1 none */
    bool data_bad;
    bool result_bad;
    char result_why[160];
    /* blocks mode */
    bool blocks;
    uint8_t bfs[N_FIELDS]; /* the open block's fields (fs: its open transaction's) */
    rpc_native_block *blk;
    size_t nblk, blk_cap;
    rpc_native_tx *txs;
    size_t ntx, tx_cap;
    uint32_t tx_i; /* the next element's place in the open transaction list */
};

static int fail(rpc_logs_stream *s, const char *what)
{
    if (!s->failed) {
        s->failed = true;
        snprintf(s->why, sizeof s->why, "%s near byte %zu", what, s->pos);
    }
    return -1;
}

static void bad_result(rpc_logs_stream *s, const char *why)
{
    if (!s->result_bad) {
        s->result_bad = true;
        snprintf(s->result_why, sizeof s->result_why, "%s", why);
    }
}

int rpc_logs_stream_new(rpc_logs_stream **out, err *e)
{
    rpc_logs_stream *s = calloc(1, sizeof *s);
    if (s)
        s->stk = malloc(MAX_DEPTH + 1);
    if (!s || !s->stk) {
        if (s)
            free(s);
        *out = NULL;
        return err_set(e, ERR_NOMEM, "out of memory for a log reader");
    }
    rpc_logs_stream_reset(s);
    *out = s;
    return 0;
}

void rpc_logs_stream_free(rpc_logs_stream **p)
{
    if (!p || !*p)
        return;
    rpc_logs_stream *s = *p;
    free(s->stk);
    buf_free(&s->num);
    buf_free(&s->skel);
    rpc_log_list_free(&s->out);
    free(s->offs);
    free(s->blk);
    free(s->txs);
    free(s);
    *p = NULL;
}

static void list_clear(rpc_logs_stream *s)
{
    s->out.n = 0;
    s->out.data_.len = 0;
    s->over = false;
    s->over_block = 0;
    s->result_bad = false;
    s->result_why[0] = '\0';
    s->nblk = 0;
    s->ntx = 0;
}

void rpc_logs_stream_reset(rpc_logs_stream *s)
{
    s->st = S_VALUE;
    s->failed = false;
    s->why[0] = '\0';
    s->pos = 0;
    s->fed = 0;
    s->depth = 0;
    s->pending = P_NONE;
    s->nul_after = false;
    s->skel.len = 0;
    s->num.len = 0;
    list_clear(s);
}

static int role_of(const rpc_logs_stream *s)
{
    return s->depth ? s->stk[s->depth] >> 1 : -1;
}

static bool is_obj(const rpc_logs_stream *s)
{
    return s->stk[s->depth] & 1;
}

static int skel_put(rpc_logs_stream *s, const void *p, size_t n)
{
    err e;
    if (s->skel.len + n > SKEL_MAX)
        return fail(s, "the answer holds more than 1 MiB besides its logs");
    if (buf_append(&s->skel, p, n, &e) < 0)
        return fail(s, "out of memory");
    return 0;
}

static bool skel_role(int role)
{
    return role == R_SKEL || role == R_TOP || role == R_BATCH || role == R_ENTRY;
}

/* ---- string characters ---- */

/* Bytes that stand for themselves in a JSON string (printable ASCII but " and \). */
static const uint8_t plain[256] = {
#define PL_(c) [c] = (c) != '"' && (c) != '\\'
#define P4_(c) PL_(c), PL_(c + 1), PL_(c + 2), PL_(c + 3)
#define P16_(c) P4_(c), P4_(c + 4), P4_(c + 8), P4_(c + 12)
    P16_(0x20), P16_(0x30), P16_(0x40), P16_(0x50), P16_(0x60), P16_(0x70),
#undef P16_
#undef P4_
#undef PL_
};

static const uint8_t hex1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,
    ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
    ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
    ['F'] = 16,
};

/* The end of the run of plain bytes at p: eight at a time while none of them is special
 * (below 0x20, above 0x7f, " or \\), then one by one. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
        uint64_t special = ((x - ones * 0x20) | x | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
        if (special)
            break;
        p += 8;
    }
    while (p < end && plain[*p])
        p++;
    return p;
}

/* Data characters (hex_decode_buf's rules: "0x" or "0X", an even number of digits). */
static int data_run(rpc_logs_stream *s, const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && s->data_pre < 2 && !s->data_bad) {
        if (s->data_pre == 0 ? p[i] != '0' : p[i] != 'x' && p[i] != 'X')
            s->data_bad = true;
        s->data_pre++;
        i++;
    }
    if (s->data_bad || i == n)
        return 0;
    buf *b = &s->out.data_;
    err e;
    if (buf_reserve(b, (n - i) / 2 + 1, &e) < 0)
        return fail(s, "out of memory reading log data");
    uint8_t *w = b->data + b->len;
    int hi = s->data_hi;
    for (; i < n; i++) {
        unsigned v = hex1[p[i]];
        if (!v) {
            s->data_bad = true;
            break;
        }
        if (hi < 0) {
            hi = (int)v - 1;
        } else {
            *w++ = (uint8_t)(hi << 4 | (int)(v - 1));
            hi = -1;
        }
    }
    s->data_hi = hi;
    b->len = (size_t)(w - b->data);
    return 0;
}

/* Decoded characters of the current string (bytes of UTF-8). */
static int emit(rpc_logs_stream *s, const unsigned char *p, size_t n)
{
    if (s->in_key) {
        if (memchr(p, 0, n))
            s->str_nul = true;
        size_t room = sizeof s->key - 1 - s->key_n;
        if (n > room)
            s->key_long = true;
        memcpy(s->key + s->key_n, p, n < room ? n : room);
        s->key_n += n < room ? n : room;
    }
    switch (s->sink) {
    case K_NONE:
        return 0;
    case K_SKEL: {
        /* Re-escaped: only what plain runs never hold needs it. */
        size_t from = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = p[i];
            if (c >= 0x20 && c != '"' && c != '\\')
                continue;
            if (i > from && skel_put(s, p + from, i - from) < 0)
                return -1;
            char esc[8];
            int k = c == '"' || c == '\\' ? snprintf(esc, sizeof esc, "\\%c", c)
                                          : snprintf(esc, sizeof esc, "\\u%04x", c);
            if (skel_put(s, esc, (size_t)k) < 0)
                return -1;
            from = i + 1;
        }
        return n > from ? skel_put(s, p + from, n - from) : 0;
    }
    case K_FIELD:
    case K_DATA:
        break;
    }
    /* A field is read as the C string a jansson value gives: up to its first NUL. */
    if (s->str_nul)
        return 0;
    const unsigned char *z = memchr(p, 0, n);
    if (z) {
        n = (size_t)(z - p);
        s->str_nul = true;
    }
    if (s->sink == K_DATA)
        return data_run(s, p, n);
    if (s->fld_n + n > FIELD_MAX) {
        s->fld_long = true;
        return 0;
    }
    memcpy(s->fld + s->fld_n, p, n);
    s->fld_n += n;
    return 0;
}

static int emit_cp(rpc_logs_stream *s, uint32_t cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return emit(s, u, n);
}

/* Makes room for one more element in the array whose pointer is at items (*cap elements of
 * size bytes, n used): doubles from first, never past max when max is not 0. The pointer is
 * read and written with memcpy, so any element type's pointer may be passed. */
static int grow(void *items, size_t *cap, size_t n, size_t size, size_t first, size_t max)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : first;
    if (max && nc > max)
        nc = max;
    void *old;
    memcpy(&old, items, sizeof old);
    void *ni = realloc(old, nc * size);
    if (!ni)
        return -1;
    memcpy(items, &ni, sizeof ni);
    *cap = nc;
    return 0;
}

/* ---- logs ---- */

static int log_begin(rpc_logs_stream *s)
{
    if (s->out.n == s->cap) {
        /* the two arrays keep one capacity; room for the log that stops the reader, no more */
        size_t max = s->limit ? s->limit + 1 : 0, ci = s->cap, co = s->cap;
        if (grow(&s->out.items, &ci, s->out.n, sizeof s->out.items[0], 256, max) < 0 ||
            grow(&s->offs, &co, s->out.n, sizeof s->offs[0], 256, max) < 0)
            return fail(s, "out of memory reading logs");
        s->cap = ci;
    }
    memset(&s->out.items[s->out.n], 0, sizeof s->out.items[0]);
    memset(s->fs, FS_MISSING, sizeof s->fs);
    s->log_data = s->out.data_.len;
    return 0;
}

static int log_end(rpc_logs_stream *s)
{
    static const enum field req[] = {F_BLOCK, F_BHASH, F_TX,     F_TXI,
                                     F_LOGI,  F_ADDRESS, F_TOPICS, F_DATA};
    static const char *const name[N_FIELDS] = {
        [F_ADDRESS] = "address",   [F_BHASH] = "blockHash", [F_TX] = "transactionHash",
        [F_BLOCK] = "blockNumber", [F_TXI] = "transactionIndex", [F_LOGI] = "logIndex",
        [F_DATA] = "data",         [F_TOPICS] = "topics",   [F_REMOVED] = "removed"};
    char why[80];
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (s->fs[req[i]] != FS_OK) {
            snprintf(why, sizeof why, "a log's %s is %s", name[req[i]],
                     s->fs[req[i]] == FS_MISSING ? "missing" : "malformed");
            bad_result(s, why);
            return 0;
        }
    if (s->fs[F_REMOVED] == FS_BAD) {
        bad_result(s, "a log's removed flag is not a boolean");
        return 0;
    }
    if (s->limit && s->out.n == s->limit) {
        /* one log too many: not kept, and nothing after it is read */
        s->over = true;
        s->over_block = s->out.items[s->out.n].block_number;
        return fail(s, "more logs than the reader's limit");
    }
    s->offs[s->out.n] = s->log_data;
    s->out.n++;
    return 0;
}

void rpc_logs_stream_limit(rpc_logs_stream *s, size_t max)
{
    s->limit = max;
}

bool rpc_logs_stream_over(const rpc_logs_stream *s, uint64_t *block)
{
    *block = s->over_block;
    return s->over;
}

/* ---- blocks ---- */

void rpc_logs_stream_blocks(rpc_logs_stream *s, bool on)
{
    s->blocks = on;
}

/* A response's result object: a block, written into the skeleton as {"k": its record}
 * (an object result never reaches the skeleton otherwise, so the marker is ours). */
static int block_begin(rpc_logs_stream *s)
{
    if (grow(&s->blk, &s->blk_cap, s->nblk, sizeof s->blk[0], 64, 0) < 0)
        return fail(s, "out of memory reading blocks");
    memset(&s->blk[s->nblk], 0, sizeof s->blk[0]);
    memset(s->bfs, FS_MISSING, sizeof s->bfs);
    s->blk[s->nblk].first = s->ntx;
    char mark[40];
    int k = snprintf(mark, sizeof mark, "{\"k\":%zu}", s->nblk);
    return skel_put(s, mark, (size_t)k);
}

static void block_end(rpc_logs_stream *s)
{
    rpc_native_block *b = &s->blk[s->nblk++];
    b->ok = s->bfs[F_B_HASH] == FS_OK && s->bfs[F_B_TS] == FS_OK && s->bfs[F_B_TXS] == FS_OK;
    b->parent_ok = s->bfs[F_B_PARENT] == FS_OK;
    b->number_ok = s->bfs[F_B_NUMBER] == FS_OK;
    b->n = s->bfs[F_B_TXS] == FS_OK ? s->ntx - b->first : 0;
}

static int tx_begin(rpc_logs_stream *s, uint32_t index)
{
    if (grow(&s->txs, &s->tx_cap, s->ntx, sizeof s->txs[0], 256, 0) < 0)
        return fail(s, "out of memory reading transactions");
    memset(&s->txs[s->ntx], 0, sizeof s->txs[0]);
    memset(s->fs, FS_MISSING, sizeof s->fs);
    s->txs[s->ntx].index = index;
    return 0;
}

/* Kept when every field the scan reads parsed. */
static void tx_end(rpc_logs_stream *s)
{
    if (s->fs[F_T_TO] == FS_OK && s->fs[F_T_FROM] == FS_OK && s->fs[F_T_VALUE] == FS_OK &&
        s->fs[F_T_HASH] == FS_OK)
        s->ntx++;
}

static enum field block_field_of(int role, const char *k, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
        enum field f;
    } t[] = {
#define F_(name, f) {name, sizeof name - 1, f}
        F_("hash", F_B_HASH),   F_("parentHash", F_B_PARENT), F_("timestamp", F_B_TS),
        F_("transactions", F_B_TXS), F_("number", F_B_NUMBER),  F_("to", F_T_TO),
        F_("from", F_T_FROM),   F_("value", F_T_VALUE),       F_("hash", F_T_HASH),
#undef F_
    };
    size_t lo = role == R_BLOCK ? 0 : 5, hi = role == R_BLOCK ? 5 : 9;
    for (size_t i = lo; i < hi; i++)
        if (t[i].len == n && memcmp(t[i].name, k, n) == 0)
            return t[i].f;
    return F_NONE;
}

int rpc_logs_stream_block(const rpc_logs_stream *s, const json_t *result, rpc_native_block *out)
{
    json_t *k = json_is_object(result) ? json_object_get(result, "k") : NULL;
    if (!json_is_integer(k) || json_integer_value(k) < 0 ||
        (size_t)json_integer_value(k) >= s->nblk)
        return -1;
    *out = s->blk[json_integer_value(k)];
    return 0;
}

const rpc_native_tx *rpc_logs_stream_txs(const rpc_logs_stream *s, size_t *n)
{
    *n = s->ntx;
    return s->txs;
}

static int quantity(const char *q, uint64_t max, uint64_t *out)
{
    u256 v;
    err ignored;
    return u256_from_quantity(&v, q, &ignored) == 0 && u256_to_u64(&v, out) && *out <= max ? 0
                                                                                           : -1;
}

/* The end of a string that went to a log field. */
static void field_end(rpc_logs_stream *s)
{
    if (s->cur >= F_B_HASH) {
        s->fld[s->fld_n] = '\0';
        const char *t = s->fld;
        err ignored;
        int rc = -1;
        /* only the open one is written: the other list may not exist yet */
        rpc_native_block *b = s->cur < F_T_TO ? &s->blk[s->nblk] : NULL;
        rpc_native_tx *x = s->cur >= F_T_TO ? &s->txs[s->ntx] : NULL;
        if (!s->fld_long) {
            switch (s->cur) {
            case F_B_HASH:
                rc = hex_decode_exact(b->hdr.hash, 32, t, HEX_REQUIRE_PREFIX, &ignored);
                break;
            case F_B_PARENT:
                rc = hex_decode_exact(b->hdr.parent_hash, 32, t, HEX_REQUIRE_PREFIX, &ignored);
                break;
            case F_B_TS:
                rc = quantity(t, UINT64_MAX, &b->hdr.timestamp);
                break;
            case F_B_NUMBER:
                rc = quantity(t, (uint64_t)INT64_MAX, &b->hdr.number);
                break;
            case F_T_TO:
                rc = hex_decode_exact(x->to.b, ADDR_LEN, t, HEX_REQUIRE_PREFIX, &ignored);
                break;
            case F_T_FROM:
                rc = hex_decode_exact(x->from.b, ADDR_LEN, t, HEX_REQUIRE_PREFIX, &ignored);
                break;
            case F_T_VALUE:
                rc = u256_from_quantity(&x->value, t, &ignored);
                break;
            case F_T_HASH:
                rc = hex_decode_exact(x->hash, 32, t, HEX_REQUIRE_PREFIX, &ignored);
                break;
            default:
                break;
            }
        }
        uint8_t *fs = s->cur >= F_T_TO ? s->fs : s->bfs;
        fs[s->cur] = rc < 0 ? FS_BAD : FS_OK;
        return;
    }
    rpc_log *lg = &s->out.items[s->out.n];
    if (s->sink == K_DATA) {
        bool ok = !s->data_bad && s->data_pre == 2 && s->data_hi < 0;
        s->fs[F_DATA] = ok ? FS_OK : FS_BAD;
        lg->data_len = s->out.data_.len - s->log_data;
        return;
    }
    s->fld[s->fld_n] = '\0';
    const char *t = s->fld;
    err ignored;
    uint64_t v = 0;
    int rc = -1;
    if (!s->fld_long) {
        switch (s->cur) {
        case F_ADDRESS:
            rc = hex_decode_exact(lg->address.b, ADDR_LEN, t, HEX_REQUIRE_PREFIX, &ignored);
            break;
        case F_BHASH:
            rc = hex_decode_exact(lg->block_hash, 32, t, HEX_REQUIRE_PREFIX, &ignored);
            break;
        case F_TX:
            rc = hex_decode_exact(lg->tx_hash, 32, t, HEX_REQUIRE_PREFIX, &ignored);
            break;
        case F_TOPIC:
            rc = hex_decode_exact(lg->topics[s->topic_i], 32, t, HEX_REQUIRE_PREFIX, &ignored);
            break;
        case F_BLOCK:
            rc = quantity(t, (uint64_t)INT64_MAX, &v);
            lg->block_number = v;
            break;
        case F_TXI:
            rc = quantity(t, UINT32_MAX, &v);
            lg->tx_index = (uint32_t)v;
            break;
        case F_LOGI:
            rc = quantity(t, UINT32_MAX, &v);
            lg->log_index = (uint32_t)v;
            break;
        default:
            break;
        }
    }
    enum field f = s->cur == F_TOPIC ? F_TOPICS : s->cur;
    if (rc < 0)
        s->fs[f] = FS_BAD;
    else if (f != F_TOPICS)
        s->fs[f] = FS_OK;
}

/* A hash or an address whose text [p, p + n) came whole in one piece, without escapes:
 * decoded straight from it (the same rules as hex_decode_exact on the C string). -1 when
 * the field is not one of those; the general path then reads it. */
static int fixed_whole(rpc_logs_stream *s, const unsigned char *p, size_t n)
{
    uint8_t *out;
    size_t want = 32;
    uint8_t *bfs = NULL;
    switch (s->cur) {
    case F_B_HASH:
    case F_B_PARENT:
        bfs = s->bfs;
        out = s->cur == F_B_HASH ? s->blk[s->nblk].hdr.hash : s->blk[s->nblk].hdr.parent_hash;
        break;
    case F_T_TO:
    case F_T_FROM:
    case F_T_HASH:
        bfs = s->fs;
        out = s->cur == F_T_TO     ? s->txs[s->ntx].to.b
              : s->cur == F_T_FROM ? s->txs[s->ntx].from.b
                                   : s->txs[s->ntx].hash;
        want = s->cur == F_T_HASH ? 32 : ADDR_LEN;
        break;
    default:
        break;
    }
    if (bfs) {
        size_t got = 0;
        err ignored;
        bool ok = hex_decode(out, want, &got, (const char *)p, n, HEX_REQUIRE_PREFIX,
                             &ignored) == 0 &&
                  got == want;
        bfs[s->cur] = ok ? FS_OK : FS_BAD;
        return 0;
    }
    if (s->cur >= F_B_HASH)
        return -1; /* a quantity of a block or a transaction: no log is open */
    rpc_log *lg = &s->out.items[s->out.n];
    switch (s->cur) {
    case F_ADDRESS:
        out = lg->address.b;
        want = ADDR_LEN;
        break;
    case F_BHASH:
        out = lg->block_hash;
        break;
    case F_TX:
        out = lg->tx_hash;
        break;
    case F_TOPIC:
        out = lg->topics[s->topic_i];
        break;
    default:
        return -1;
    }
    size_t got = 0;
    err ignored;
    bool ok = hex_decode(out, want, &got, (const char *)p, n, HEX_REQUIRE_PREFIX, &ignored) == 0 &&
              got == want;
    enum field f = s->cur == F_TOPIC ? F_TOPICS : s->cur;
    if (!ok)
        s->fs[f] = FS_BAD;
    else if (f != F_TOPICS)
        s->fs[f] = FS_OK;
    return 0;
}

static enum field field_of(const char *k, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
        enum field f;
    } t[] = {
#define F_(name, f) {name, sizeof name - 1, f}
        F_("address", F_ADDRESS),     F_("blockHash", F_BHASH),
        F_("transactionHash", F_TX),  F_("blockNumber", F_BLOCK),
        F_("transactionIndex", F_TXI), F_("logIndex", F_LOGI),
        F_("data", F_DATA),           F_("topics", F_TOPICS),
        F_("removed", F_REMOVED),
#undef F_
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].len == n && memcmp(t[i].name, k, n) == 0)
            return t[i].f;
    return F_NONE;
}

/* ---- values ---- */

static int push(rpc_logs_stream *s, int role, bool obj)
{
    if (s->depth >= MAX_DEPTH)
        return fail(s, "maximum parsing depth reached");
    s->stk[++s->depth] = (uint8_t)(role << 1 | obj);
    s->st = obj ? S_OBJ_FIRST : S_ARR_FIRST;
    return 0;
}

static void str_begin(rpc_logs_stream *s, enum sink k, bool key)
{
    s->st = S_STR;
    s->sink = k;
    s->in_key = key;
    s->str_nul = false;
    s->key_n = 0;
    s->key_long = false;
    s->fld_n = 0;
    s->fld_long = false;
    s->want_low = false;
}

/* What the value starting with c is, given where it stands. */
static int value_begin(rpc_logs_stream *s, unsigned char c)
{
    int parent = role_of(s);
    int pending = s->pending;
    s->pending = P_NONE;
    enum { M_SKEL, M_SKIP, M_SPECIAL } mode = M_SKIP;
    if (parent < 0 && s->blocks) {
        if (c != '{' && c != '[')
            return fail(s, "'[' or '{' expected");
        if (skel_put(s, c == '{' ? "{" : "[", 1) < 0)
            return -1;
        return push(s, c == '{' ? R_SKEL : R_BATCH, c == '{');
    }
    if (parent < 0) {
        if (c == '{') {
            if (skel_put(s, "{", 1) < 0)
                return -1;
            return push(s, R_TOP, true);
        }
        if (c == '[') {
            if (skel_put(s, "[", 1) < 0)
                return -1;
            return push(s, R_SKEL, false);
        }
        return fail(s, "'[' or '{' expected");
    }
    switch (parent) {
    case R_TOP:
        if (pending == P_RESULT) {
            list_clear(s); /* the last result wins, as in a jansson object */
            if (c == '[') {
                if (skel_put(s, "[", 1) < 0)
                    return -1;
                return push(s, R_LOGS, false);
            }
        }
        mode = M_SKEL;
        break;
    case R_SKEL:
        mode = M_SKEL;
        break;
    case R_SKIP:
        break;
    case R_BATCH:
        if (c == '{') {
            if (skel_put(s, "{", 1) < 0)
                return -1;
            return push(s, R_ENTRY, true);
        }
        mode = M_SKEL;
        break;
    case R_ENTRY:
        if (pending == P_RESULT && c == '{') {
            if (block_begin(s) < 0)
                return -1;
            return push(s, R_BLOCK, true);
        }
        mode = M_SKEL;
        break;
    case R_BLOCK:
    case R_TX: {
        enum field f = (enum field)pending;
        uint8_t *fs = parent == R_BLOCK ? s->bfs : s->fs;
        if (f == F_NONE)
            break;
        if (f == F_B_TXS) {
            s->ntx = s->blk[s->nblk].first; /* a repeated list: the last one wins */
            s->tx_i = 0;
            fs[f] = c == '[' ? FS_OK : FS_BAD;
            if (c == '[')
                return push(s, R_TXS, false);
            break;
        }
        if (c == '"') {
            s->cur = f;
            str_begin(s, K_FIELD, false);
            return 0;
        }
        fs[f] = FS_BAD;
        break;
    }
    case R_TXS: {
        uint32_t i = s->tx_i++;
        if (c == '{') {
            if (tx_begin(s, i) < 0)
                return -1;
            return push(s, R_TX, true);
        }
        break; /* not a transaction object: nothing the scan reads */
    }
    case R_LOGS:
        if (c == '{' && !s->result_bad) {
            if (log_begin(s) < 0)
                return -1;
            return push(s, R_LOG, true);
        }
        bad_result(s, "a log is not an object");
        break;
    case R_TOPICS: {
        rpc_log *lg = &s->out.items[s->out.n];
        if (c != '"') {
            s->fs[F_TOPICS] = FS_BAD;
            break;
        }
        if (lg->n_topics == 4) {
            s->fs[F_TOPICS] = FS_BAD; /* more than 4 */
            break;
        }
        s->topic_i = lg->n_topics++;
        s->cur = F_TOPIC;
        str_begin(s, K_FIELD, false);
        return 0;
    }
    case R_LOG: {
        enum field f = (enum field)pending;
        rpc_log *lg = &s->out.items[s->out.n];
        switch (f) {
        case F_NONE:
            break;
        case F_TOPICS:
            lg->n_topics = 0;
            if (c == '[') {
                s->fs[F_TOPICS] = FS_OK;
                return push(s, R_TOPICS, false);
            }
            s->fs[f] = FS_BAD;
            break;
        case F_REMOVED:
            s->fs[f] = c == 't' || c == 'f' ? FS_OK : FS_BAD;
            lg->removed = c == 't';
            break;
        case F_DATA:
            lg->data_len = 0;
            s->out.data_.len = s->log_data; /* a repeated data field: the last one wins */
            if (c == '"') {
                s->data_pre = 0;
                s->data_hi = -1;
                s->data_bad = false;
                s->cur = f;
                str_begin(s, K_DATA, false);
                return 0;
            }
            s->fs[f] = FS_BAD;
            break;
        default:
            if (c == '"') {
                s->cur = f;
                str_begin(s, K_FIELD, false);
                return 0;
            }
            s->fs[f] = FS_BAD; /* a null blockNumber is a pending log */
            break;
        }
        break;
    }
    default:
        break;
    }
    bool skel = mode == M_SKEL;
    switch (c) {
    case '"':
        if (skel && skel_put(s, "\"", 1) < 0)
            return -1;
        str_begin(s, skel ? K_SKEL : K_NONE, false);
        return 0;
    case '{':
    case '[':
        if (skel && skel_put(s, c == '{' ? "{" : "[", 1) < 0)
            return -1;
        return push(s, skel ? R_SKEL : R_SKIP, c == '{');
    case 't':
    case 'f':
    case 'n':
        s->lit = c == 't' ? "true" : c == 'f' ? "false" : "null";
        s->lit_i = 1;
        s->lit_skel = skel;
        s->st = S_LIT;
        return 0;
    default:
        if (c != '-' && (c < '0' || c > '9'))
            return fail(s, "invalid token");
        s->num.len = 0;
        s->nst = c == '-' ? N_SIGN : c == '0' ? N_ZERO : N_INT;
        s->num_skel = skel;
        s->st = S_NUM;
        err e;
        if (buf_push(&s->num, c, &e) < 0)
            return fail(s, "out of memory");
        return 0;
    }
}

/* After a complete value. */
static void value_end(rpc_logs_stream *s)
{
    s->st = s->depth ? S_AFTER : S_END;
}

static int container_end(rpc_logs_stream *s, unsigned char c)
{
    bool obj = is_obj(s);
    if (c != (obj ? '}' : ']'))
        return fail(s, obj ? "'}' expected" : "']' expected");
    int role = role_of(s);
    if ((skel_role(role) || role == R_LOGS) && skel_put(s, obj ? "}" : "]", 1) < 0)
        return -1;
    if (role == R_LOG && log_end(s) < 0)
        return -1;
    if (role == R_BLOCK)
        block_end(s);
    if (role == R_TX)
        tx_end(s);
    s->depth--;
    value_end(s);
    return 0;
}

static int string_end(rpc_logs_stream *s)
{
    if (s->in_key) {
        if (s->str_nul)
            return fail(s, "NUL byte in object key not supported");
        int role = role_of(s);
        if (s->sink == K_SKEL && skel_put(s, "\"", 1) < 0)
            return -1;
        s->pending = P_NONE;
        if (!s->key_long && (role == R_TOP || role == R_ENTRY) && s->key_n == 6 &&
            memcmp(s->key, "result", 6) == 0)
            s->pending = P_RESULT;
        else if (!s->key_long && (role == R_BLOCK || role == R_TX))
            s->pending = (int)block_field_of(role, s->key, s->key_n);
        else if (!s->key_long && role == R_LOG)
            s->pending = (int)field_of(s->key, s->key_n);
        s->st = S_COLON;
        return 0;
    }
    if (s->sink == K_SKEL && skel_put(s, "\"", 1) < 0)
        return -1;
    if (s->sink == K_FIELD || s->sink == K_DATA)
        field_end(s);
    value_end(s);
    return 0;
}

/* The number just ended: in range as jansson wants it. */
static int number_end(rpc_logs_stream *s)
{
    if (s->nst != N_ZERO && s->nst != N_INT && s->nst != N_FRAC && s->nst != N_EXP)
        return fail(s, "invalid number");
    err e;
    if (buf_push(&s->num, 0, &e) < 0)
        return fail(s, "out of memory");
    const char *t = (const char *)s->num.data;
    errno = 0;
    if (s->nst == N_FRAC || s->nst == N_EXP) {
        double d = strtod(t, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            return fail(s, "real number overflow");
    } else {
        (void)strtoll(t, NULL, 10);
        if (errno == ERANGE)
            return fail(s, "too big integer");
    }
    if (s->num_skel && skel_put(s, t, s->num.len - 1) < 0)
        return -1;
    value_end(s);
    s->nul_after = true;
    return 0;
}

/* One byte of a number: 1 when it belongs to it, 0 when the number ended before it. */
static int number_byte(rpc_logs_stream *s, unsigned char c)
{
    bool digit = c >= '0' && c <= '9';
    enum num n = s->nst;
    switch (n) {
    case N_SIGN:
        if (!digit)
            return 0;
        n = c == '0' ? N_ZERO : N_INT;
        break;
    case N_ZERO:
    case N_INT:
        if (digit && n == N_INT)
            break;
        if (c == '.')
            n = N_DOT;
        else if (c == 'e' || c == 'E')
            n = N_E;
        else
            return 0;
        break;
    case N_DOT:
    case N_FRAC:
        if (digit) {
            n = N_FRAC;
            break;
        }
        if (n == N_FRAC && (c == 'e' || c == 'E')) {
            n = N_E;
            break;
        }
        return 0;
    case N_E:
        if (c == '+' || c == '-') {
            n = N_ESIGN;
            break;
        }
        /* fall through */
    case N_ESIGN:
    case N_EXP:
        if (!digit)
            return 0;
        n = N_EXP;
        break;
    }
    s->nst = n;
    err e;
    if (buf_push(&s->num, c, &e) < 0)
        return fail(s, "out of memory");
    return 1;
}

static bool ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int rpc_logs_stream_feed(rpc_logs_stream *s, const char *text, size_t n)
{
    if (s->failed)
        return -1;
    const unsigned char *p = (const unsigned char *)text, *end = p + n;
    while (p < end) {
        s->pos = s->fed + (size_t)(p - (const unsigned char *)text);
        switch (s->st) {
        case S_STR: {
            const unsigned char *q = plain_run(p, end);
            if (q < end && *q == '"' && s->sink == K_FIELD && s->fld_n == 0 && !s->fld_long &&
                !s->str_nul && fixed_whole(s, p, (size_t)(q - p)) == 0) {
                p = q + 1; /* a hash that came in one piece: decoded from the piece */
                value_end(s);
                break;
            }
            if (q > p) {
                if (emit(s, p, (size_t)(q - p)) < 0)
                    return -1;
                p = q;
                if (p == end)
                    break;
            }
            unsigned char c = *p++;
            if (c == '"') {
                if (string_end(s) < 0)
                    return -1;
            } else if (c == '\\') {
                s->st = S_ESC;
            } else if (c < 0x20) {
                return fail(s, "control character in a string");
            } else if (c >= 0xc2 && c <= 0xdf) {
                s->utf8_left = 1, s->utf8_cp = c & 0x1f, s->utf8_min = 0x80;
            } else if (c >= 0xe0 && c <= 0xef) {
                s->utf8_left = 2, s->utf8_cp = c & 0x0f, s->utf8_min = 0x800;
            } else if (c >= 0xf0 && c <= 0xf4) {
                s->utf8_left = 3, s->utf8_cp = c & 0x07, s->utf8_min = 0x10000;
            } else {
                return fail(s, "invalid UTF-8");
            }
            if (c >= 0x80) {
                if (emit(s, &c, 1) < 0)
                    return -1;
                s->st = S_UTF8;
            }
            break;
        }
        case S_UTF8: {
            unsigned char c = *p++;
            if ((c & 0xc0) != 0x80)
                return fail(s, "invalid UTF-8");
            s->utf8_cp = s->utf8_cp << 6 | (c & 0x3f);
            if (emit(s, &c, 1) < 0)
                return -1;
            if (--s->utf8_left == 0) {
                uint32_t cp = s->utf8_cp;
                if (cp < s->utf8_min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                    return fail(s, "invalid UTF-8");
                s->st = S_STR;
            }
            break;
        }
        case S_ESC: {
            unsigned char c = *p++;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = c ? strchr(from, c) : NULL;
            if (k) {
                unsigned char d = (unsigned char)to[k - from];
                if (emit(s, &d, 1) < 0)
                    return -1;
                s->st = S_STR;
            } else if (c == 'u') {
                s->u_val = 0;
                s->u_digits = 0;
                s->st = S_UHEX;
            } else {
                return fail(s, "invalid escape");
            }
            break;
        }
        case S_UHEX: {
            unsigned v = hex1[*p++];
            if (!v)
                return fail(s, "invalid escape");
            s->u_val = s->u_val << 4 | (v - 1);
            if (++s->u_digits < 4)
                break;
            uint32_t u = s->u_val;
            if (s->want_low) {
                s->want_low = false;
                if (u < 0xdc00 || u > 0xdfff)
                    return fail(s, "invalid Unicode surrogate pair");
                if (emit_cp(s, 0x10000 + ((s->hi - 0xd800) << 10) + (u - 0xdc00)) < 0)
                    return -1;
                s->st = S_STR;
            } else if (u >= 0xd800 && u <= 0xdbff) {
                s->hi = u;
                s->st = S_LOW_BS;
            } else if (u >= 0xdc00 && u <= 0xdfff) {
                return fail(s, "invalid Unicode (lone low surrogate)");
            } else {
                if (emit_cp(s, u) < 0)
                    return -1;
                s->st = S_STR;
            }
            break;
        }
        case S_LOW_BS:
            if (*p++ != '\\')
                return fail(s, "invalid Unicode (lone high surrogate)");
            s->st = S_LOW_U;
            break;
        case S_LOW_U:
            if (*p++ != 'u')
                return fail(s, "invalid Unicode (lone high surrogate)");
            s->want_low = true;
            s->u_val = 0;
            s->u_digits = 0;
            s->st = S_UHEX;
            break;
        case S_NUM: {
            int r = number_byte(s, *p);
            if (r < 0)
                return -1;
            if (r == 1) {
                p++;
                break;
            }
            if (number_end(s) < 0)
                return -1;
            break; /* the byte is read again after the number */
        }
        case S_LIT: {
            unsigned char c = *p++;
            if (c != (unsigned char)s->lit[s->lit_i])
                return fail(s, "invalid token");
            if (s->lit[++s->lit_i] == '\0') {
                if (s->lit_skel && skel_put(s, s->lit, s->lit_i) < 0)
                    return -1;
                value_end(s);
                s->nul_after = true;
            }
            break;
        }
        case S_VALUE:
        case S_ARR_FIRST: {
            unsigned char c = *p++;
            if (ws(c))
                break;
            if (s->st == S_ARR_FIRST && c == ']') {
                if (container_end(s, c) < 0)
                    return -1;
                break;
            }
            if (value_begin(s, c) < 0)
                return -1;
            break;
        }
        case S_OBJ_FIRST:
        case S_KEY: {
            unsigned char c = *p++;
            if (ws(c))
                break;
            if (s->st == S_OBJ_FIRST && c == '}') {
                if (container_end(s, c) < 0)
                    return -1;
                break;
            }
            if (c != '"')
                return fail(s, "string or '}' expected");
            bool skel = skel_role(role_of(s));
            if (skel && skel_put(s, "\"", 1) < 0)
                return -1;
            str_begin(s, skel ? K_SKEL : K_NONE, true);
            break;
        }
        case S_COLON: {
            unsigned char c = *p++;
            if (ws(c))
                break;
            if (c != ':')
                return fail(s, "':' expected");
            if (skel_role(role_of(s)) && skel_put(s, ":", 1) < 0)
                return -1;
            s->st = S_VALUE;
            break;
        }
        case S_AFTER: {
            unsigned char c = *p++;
            /* jansson reads a number or a literal one byte too far and puts that byte
             * back into a buffer that a NUL marks as empty: one NUL there is skipped. */
            bool nul_after = s->nul_after;
            s->nul_after = false;
            if (c == 0 && nul_after)
                break;
            if (ws(c))
                break;
            if (c == ',') {
                if (skel_role(role_of(s)) && skel_put(s, ",", 1) < 0)
                    return -1;
                s->st = is_obj(s) ? S_KEY : S_VALUE;
                break;
            }
            if (container_end(s, c) < 0)
                return -1;
            break;
        }
        case S_END:
            if (!ws(*p++))
                return fail(s, "end of file expected");
            break;
        }
    }
    s->fed += n;
    s->pos = s->fed;
    return s->failed ? -1 : 0;
}

static int log_cmp(const void *a, const void *b)
{
    const rpc_log *x = a, *y = b;
    if (x->block_number != y->block_number)
        return x->block_number < y->block_number ? -1 : 1;
    return x->log_index < y->log_index ? -1 : x->log_index > y->log_index;
}

/* Data pointers into the list's buffer, then the order by block and log index. */
static void list_finish(rpc_log_list *l, const size_t *offs)
{
    bool sorted = true;
    for (size_t i = 0; i < l->n; i++) {
        l->items[i].data = l->items[i].data_len ? l->data_.data + offs[i] : NULL;
        if (i && log_cmp(&l->items[i - 1], &l->items[i]) > 0)
            sorted = false;
    }
    if (!sorted)
        qsort(l->items, l->n, sizeof *l->items, log_cmp);
}

int rpc_logs_stream_finish(rpc_logs_stream *s, json_t **skeleton, err *e)
{
    *skeleton = NULL;
    if (s->st == S_NUM && !s->failed)
        (void)number_end(s); /* only inside a container: truncated below */
    if (s->failed)
        return err_set(e, ERR_INVALID, "%s", s->why);
    if (s->st != S_END)
        return err_set(e, ERR_INVALID, s->pos ? "truncated at byte %zu" : "empty response",
                       s->pos);
    json_error_t jerr;
    *skeleton = json_loadb((const char *)s->skel.data, s->skel.len, JSON_ALLOW_NUL, &jerr);
    if (!*skeleton) /* not expected: the skeleton is written from valid JSON */
        return err_set(e, ERR_INTERNAL, "log reader skeleton: %s", jerr.text);
    return 0;
}

int rpc_logs_stream_take(rpc_logs_stream *s, const json_t *result, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_array(result))
        return err_set(e, ERR_INVALID, "result is not an array of logs");
    if (s->result_bad)
        return err_set(e, ERR_INVALID, "%s", s->result_why);
    list_finish(&s->out, s->offs);
    *out = s->out;
    memset(&s->out, 0, sizeof s->out);
    s->cap = 0;
    return 0;
}

/* ---- the general path: a jansson tree ---- */

static const char *jstr(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int parse_u32(const json_t *v, uint32_t *out, const char *what, err *e)
{
    uint64_t x;
    if (rpc_parse_u64(v, &x, what, e) < 0)
        return -1;
    if (x > UINT32_MAX)
        return err_set(e, ERR_OVERFLOW, "%s is out of range", what);
    *out = (uint32_t)x;
    return 0;
}

/* One log; its data is appended to data and its offset kept in *offset. */
static int parse_log(const json_t *o, rpc_log *lg, buf *data, size_t *offset, err *e)
{
    if (!json_is_object(o))
        return err_set(e, ERR_INVALID, "a log is not an object");
    memset(lg, 0, sizeof *lg);
    const json_t *bn = json_object_get(o, "blockNumber");
    if (json_is_null(bn))
        return err_set(e, ERR_INVALID, "a log has no block number (pending log)");
    if (rpc_parse_block_number(bn, &lg->block_number, "log blockNumber", e) < 0 ||
        rpc_parse_hash(json_object_get(o, "blockHash"), lg->block_hash, "log blockHash", e) < 0 ||
        rpc_parse_hash(json_object_get(o, "transactionHash"), lg->tx_hash, "log transactionHash",
                       e) < 0 ||
        parse_u32(json_object_get(o, "transactionIndex"), &lg->tx_index, "log transactionIndex",
                  e) < 0 ||
        parse_u32(json_object_get(o, "logIndex"), &lg->log_index, "log logIndex", e) < 0 ||
        rpc_parse_addr(json_object_get(o, "address"), &lg->address, "log address", e) < 0)
        return -1;
    const json_t *topics = json_object_get(o, "topics");
    if (!json_is_array(topics) || json_array_size(topics) > 4)
        return err_set(e, ERR_INVALID, "log topics are not an array of at most 4");
    for (size_t i = 0; i < json_array_size(topics); i++)
        if (rpc_parse_hash(json_array_get(topics, i), lg->topics[i], "log topic", e) < 0)
            return -1;
    lg->n_topics = (unsigned)json_array_size(topics);
    const char *d = jstr(json_object_get(o, "data"));
    if (!d)
        return err_set(e, ERR_INVALID, "log data is not a hex string");
    *offset = data->len;
    if (hex_decode_buf(data, d, strlen(d), HEX_REQUIRE_PREFIX, e) < 0)
        return err_prefix(e, "log data");
    lg->data_len = data->len - *offset;
    const json_t *removed = json_object_get(o, "removed");
    if (removed && !json_is_boolean(removed))
        return err_set(e, ERR_INVALID, "log removed flag is not a boolean");
    lg->removed = json_is_true(removed);
    return 0;
}

int rpc_logs_from_json(const json_t *r, rpc_log_list *out, err *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_array(r))
        return err_set(e, ERR_INVALID, "result is not an array of logs");
    size_t n = json_array_size(r);
    size_t *offsets = NULL;
    if (n) {
        out->items = calloc(n, sizeof *out->items);
        offsets = calloc(n, sizeof *offsets);
        if (!out->items || !offsets) {
            free(offsets);
            rpc_log_list_free(out);
            return err_set(e, ERR_NOMEM, "out of memory reading %zu logs", n);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (parse_log(json_array_get(r, i), &out->items[i], &out->data_, &offsets[i], e) < 0) {
            free(offsets);
            rpc_log_list_free(out);
            return -1;
        }
        out->n++;
    }
    list_finish(out, offsets);
    free(offsets);
    return 0;
}

int rpc_native_block_from_json(const json_t *blk, rpc_native_block *out, rpc_native_tx **txs,
                               size_t *ntx, size_t *cap, err *e)
{
    memset(out, 0, sizeof *out);
    err pe;
    const json_t *list = json_object_get(blk, "transactions");
    out->first = *ntx;
    out->ok = json_is_object(blk) &&
              rpc_parse_hash(json_object_get(blk, "hash"), out->hdr.hash, "hash", &pe) == 0 &&
              rpc_parse_u64(json_object_get(blk, "timestamp"), &out->hdr.timestamp, "timestamp",
                            &pe) == 0 &&
              json_is_array(list);
    out->parent_ok = rpc_parse_hash(json_object_get(blk, "parentHash"), out->hdr.parent_hash,
                                    "parentHash", &pe) == 0;
    out->number_ok = rpc_parse_block_number(json_object_get(blk, "number"), &out->hdr.number,
                                            "number", &pe) == 0;
    for (size_t i = 0; json_is_array(list) && i < json_array_size(list); i++) {
        const json_t *tx = json_array_get(list, i);
        const json_t *to = json_object_get(tx, "to");
        rpc_native_tx x = {.index = (uint32_t)i};
        if (!json_is_string(to) || rpc_parse_addr(to, &x.to, "to", &pe) < 0 ||
            rpc_parse_addr(json_object_get(tx, "from"), &x.from, "from", &pe) < 0 ||
            rpc_parse_u256(json_object_get(tx, "value"), &x.value, "value", &pe) < 0 ||
            rpc_parse_hash(json_object_get(tx, "hash"), x.hash, "hash", &pe) < 0)
            continue;
        if (*ntx == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            rpc_native_tx *p = realloc(*txs, nc * sizeof *p);
            if (!p)
                return err_set(e, ERR_NOMEM, "out of memory reading transactions");
            *txs = p;
            *cap = nc;
        }
        (*txs)[(*ntx)++] = x;
    }
    out->n = *ntx - out->first;
    return 0;
}

void rpc_log_list_free(rpc_log_list *l)
{
    if (!l)
        return;
    free(l->items);
    buf_free(&l->data_);
    memset(l, 0, sizeof *l);
}
