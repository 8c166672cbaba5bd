/* rpc_url.c: endpoint URLs as the desk stores them and as they are sent. A provider's
 * API key stays out of desk.db (and so out of backups, `chain list` and the audit log):
 * the stored URL names where the key is, "${env:NAME}" or "${file:PATH}", and the key is
 * read only when a client is built. What is shown of a URL is redacted: a key typed
 * into the URL itself is not printed either. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsperm.h"
#include "rpc/rpc.h"

/* A key file holds one line: at most this many bytes. */
#define KEY_MAX 512

/* Characters a key may have once put into a URL: no space, no control, nothing that
 * would end the path or start a query or a fragment elsewhere than the template says. */
static bool key_char_ok(unsigned char ch)
{
    return isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '%' ||
           ch == '+' || ch == '=' || ch == ':';
}

static bool name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 128 || isdigit((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* Reads the key file at path (a leading "~/" is $HOME): one line, trailing
 * whitespace dropped. */
static int read_key_file(const char *path, char *out, size_t cap, err *e)
{
    char full[1024];
    const char *home = getenv("HOME");
    if (strncmp(path, "~/", 2) == 0 && home)
        snprintf(full, sizeof full, "%s/%s", home, path + 2);
    else
        snprintf(full, sizeof full, "%s", path);
    if (fsperm_check_private(full, "API key file", e) < 0)
        return -1;
    FILE *f = fopen(full, "rb");
    if (!f)
        return err_set(e, ERR_IO, "cannot read the API key file %.200s: check the path in the "
                                  "endpoint's ${file:...}", full);
    size_t n = fread(out, 1, cap - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    out[n] = '\0';
    while (n && isspace((unsigned char)out[n - 1]))
        out[--n] = '\0';
    if (more || memchr(out, '\n', n))
        return err_set(e, ERR_INVALID, "the API key file %.200s must hold the key alone on one "
                                       "line", full);
    return 0;
}

int rpc_url_expand(const char *tmpl, char **out, err *e)
{
    *out = NULL;
    size_t cap = strlen(tmpl) + 1, len = 0;
    char *s = malloc(cap);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory");
    char key[KEY_MAX];
    for (const char *p = tmpl; *p;) {
        const char *val = NULL;
        size_t vlen = 1;
        const char *end;
        if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}')) != NULL) {
            const char *in = p + 2;
            size_t inlen = (size_t)(end - in);
            if (inlen > 4 && strncmp(in, "env:", 4) == 0) {
                char name[129];
                if (!name_ok(in + 4, inlen - 4)) {
                    free(s);
                    return err_set(e, ERR_INVALID, "RPC endpoint: \"${env:%.*s}\" is not an "
                                   "environment variable's name (letters, digits, _)",
                                   (int)(inlen - 4 > 64 ? 64 : inlen - 4), in + 4);
                }
                snprintf(name, sizeof name, "%.*s", (int)(inlen - 4), in + 4);
                val = getenv(name);
                if (!val || !*val) {
                    free(s);
                    return err_set(e, ERR_INVALID, "the RPC endpoint's API key variable %s is "
                                   "not set: export it before starting fusion", name);
                }
            } else if (inlen > 5 && strncmp(in, "file:", 5) == 0) {
                char path[1024];
                snprintf(path, sizeof path, "%.*s", (int)(inlen - 5), in + 5);
                if (read_key_file(path, key, sizeof key, e) < 0) {
                    free(s);
                    return -1;
                }
                val = key;
            } else {
                free(s);
                return err_set(e, ERR_INVALID, "RPC endpoint: unknown \"${...}\" in the URL: "
                               "use ${env:NAME} or ${file:PATH}");
            }
            vlen = strlen(val);
            if (vlen == 0) {
                free(s);
                return err_set(e, ERR_INVALID, "an RPC endpoint's API key is empty");
            }
            for (size_t i = 0; i < vlen; i++)
                if (!key_char_ok((unsigned char)val[i])) {
                    free(s);
                    return err_set(e, ERR_INVALID, "an RPC endpoint's API key has a character "
                                   "that cannot go into a URL (space, control, / ? # @...)");
                }
            p = end + 1;
        } else {
            val = p;
            p++;
        }
        if (len + vlen + 1 > cap) {
            size_t nc = (len + vlen + 1) * 2;
            char *t = realloc(s, nc);
            if (!t) {
                free(s);
                return err_set(e, ERR_NOMEM, "out of memory");
            }
            s = t;
            cap = nc;
        }
        memcpy(s + len, val, vlen);
        len += vlen;
    }
    s[len] = '\0';
    for (size_t i = 0; i < sizeof key; i++)
        ((volatile char *)key)[i] = 0;
    *out = s;
    return 0;
}

/* A path segment or query value that may be shown: a template, or short (a version,
 * a network's name); anything long may be a key. */
static bool part_shown(const char *s, size_t n)
{
    if (n >= 3 && s[0] == '$' && s[1] == '{' && s[n - 1] == '}' && !memchr(s + 2, '}', n - 3))
        return true;
    return n <= 12;
}

/* The length of the part at s up to one of stops; a template "${...}" is one piece even
 * when it holds a stop (a key file's path has slashes). */
static size_t part_len(const char *s, const char *stops)
{
    size_t i = 0;
    while (s[i] && !strchr(stops, s[i])) {
        const char *end;
        if (s[i] == '$' && s[i + 1] == '{' && (end = strchr(s + i + 2, '}')) != NULL)
            i = (size_t)(end - s) + 1;
        else
            i++;
    }
    return i;
}

void rpc_url_redact(char *out, size_t cap, const char *url)
{
    if (cap == 0)
        return;
    out[0] = '\0';
    size_t o = 0;
#define PUT(ptr, len)                                                                              \
    do {                                                                                           \
        size_t l_ = (len);                                                                         \
        if (o + l_ >= cap)                                                                         \
            l_ = cap - 1 - o;                                                                      \
        memcpy(out + o, (ptr), l_);                                                                \
        o += l_;                                                                                   \
        out[o] = '\0';                                                                             \
    } while (0)
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    PUT(url, (size_t)(host - url));
    size_t hl = strcspn(host, "/?#");
    /* user:password@ is a credential whatever its length */
    const char *at = memchr(host, '@', hl);
    if (at) {
        PUT("***@", 4);
        hl -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    PUT(host, hl);
    const char *q = host + hl;
    while (*q && *q != '#') {
        char sep = *q;
        PUT(q, 1);
        q++;
        size_t n = part_len(q, sep == '/' ? "/?#" : "&#");
        if (sep == '?' || sep == '&') {
            const char *eq = memchr(q, '=', n);
            size_t kl = eq ? (size_t)(eq - q) + 1 : 0;
            PUT(q, kl);
            if (part_shown(q + kl, n - kl))
                PUT(q + kl, n - kl);
            else
                PUT("***", 3);
            q += n;
            continue;
        }
        if (part_shown(q, n))
            PUT(q, n);
        else
            PUT("***", 3);
        q += n;
    }
#undef PUT
}
