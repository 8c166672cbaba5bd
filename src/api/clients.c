/* clients.c: adding and revoking API clients. Each is a desk decision (the audit rows
 * api.client_add and api.client_revoke, signed by an admin on a signed desk); the token is
 * shown once and only its hash is kept: a token is 32 random bytes, so a fast unkeyed hash
 * (BLAKE2b-256) cannot be searched back, unlike a passphrase that would need a slow one. */
#include "api/api.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool api_client_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= STORE_API_NAME_MAX)
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

int api_client_add(store *s, const char *home, const char *by, const char *name,
                   api_scope scope, char token[API_TOKEN_LEN + 1], err *e)
{
    if (!api_client_name_ok(name))
        return err_set(e, ERR_INVALID, "a client name is 1-63 letters, digits, '-', '_' or '.'");
    if (scope != API_SCOPE_READ && scope != API_SCOPE_PROPOSE)
        return err_set(e, ERR_INVALID, "a client's scope is read or propose");
    store_api_client c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.scope, sizeof c.scope, "%s", api_scope_str(scope));
    snprintf(c.created_by, sizeof c.created_by, "%s", by ? by : "");
    c.created_at = (int64_t)time(NULL);
    api_token_new(token);
    api_token_hash(token, c.token_hash);
    json_t *det = json_pack("{s:s, s:s, s:s}", "client", name, "scope", c.scope, "token_hash",
                            c.token_hash);
    if (!det) {
        sodium_memzero(token, API_TOKEN_LEN + 1);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    bool found = false;
    store_api_client old;
    int rc = store_begin(s, e);
    if (rc == 0) {
        if (store_api_client_get(s, name, &old, &found, e) < 0)
            rc = -1;
        else if (found)
            rc = err_set(e, ERR_EXISTS, "there is already an API client \"%s\" (a revoked "
                         "name is not given again: choose another)", name);
        else if (store_api_client_add(s, &c, e) < 0 ||
                 store_audit(s, home, by, "api.client_add", det, e) < 0 ||
                 store_commit(s, e) < 0)
            rc = -1;
        if (rc < 0)
            store_rollback(s);
    }
    json_decref(det);
    if (rc < 0)
        sodium_memzero(token, API_TOKEN_LEN + 1);
    return rc;
}

int api_client_revoke(store *s, const char *home, const char *by, const char *name, err *e)
{
    json_t *det = json_pack("{s:s}", "client", name);
    if (!det)
        return err_set(e, ERR_NOMEM, "out of memory");
    bool found = false;
    int rc = store_begin(s, e);
    if (rc == 0) {
        if (store_api_client_revoke(s, name, by ? by : "", (int64_t)time(NULL), &found, e) < 0)
            rc = -1;
        else if (!found)
            rc = err_set(e, ERR_NOT_FOUND, "no active API client \"%.63s\" (see fusion api "
                         "client list)", name);
        else if (store_audit(s, home, by, "api.client_revoke", det, e) < 0 ||
                 store_commit(s, e) < 0)
            rc = -1;
        if (rc < 0)
            store_rollback(s);
    }
    json_decref(det);
    return rc;
}
