/* store_entity.c: the compliance registry aggregate (issue 8): entities, the addresses
 * linked to them per chain, their documents (type and SHA-256, never the file) and related
 * parties. Validation of names, codes and dates lives in src/compliance; this file only
 * reads and writes rows. */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_bind_opt_text(sqlite3_stmt *st, int i, const char *t)
{
    if (t && *t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* ---- entities ---- */

#define ENTITY_COLS                                                                                \
    "id, name, type, jurisdiction, kyc, kyc_expires, tier, risk, review_due, blocked,"             \
    " created_at, updated_at"

static const char SQL_ENT_ADD[] =
    "INSERT INTO entities (name, type, jurisdiction, kyc, kyc_expires, tier, risk, review_due,"
    " blocked, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ENT_UPD[] =
    "UPDATE entities SET name = ?, type = ?, jurisdiction = ?, kyc = ?, kyc_expires = ?,"
    " tier = ?, risk = ?, review_due = ?, blocked = ?, updated_at = ? WHERE id = ?";
static const char SQL_ENT_GET[] = "SELECT " ENTITY_COLS " FROM entities WHERE id = ?";
static const char SQL_ENT_BY_NAME[] = "SELECT " ENTITY_COLS " FROM entities WHERE name = ?";
static const char SQL_ENT_LIST[] = "SELECT " ENTITY_COLS " FROM entities ORDER BY name";

static int entity_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_entity *x = item;
    x->id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, x->name, sizeof x->name);
    store_copy_text(st, 2, x->type, sizeof x->type);
    store_copy_text(st, 3, x->jurisdiction, sizeof x->jurisdiction);
    store_copy_text(st, 4, x->kyc, sizeof x->kyc);
    store_copy_text(st, 5, x->kyc_expires, sizeof x->kyc_expires);
    x->tier = sqlite3_column_int(st, 6);
    store_copy_text(st, 7, x->risk, sizeof x->risk);
    store_copy_text(st, 8, x->review_due, sizeof x->review_due);
    x->blocked = sqlite3_column_int(st, 9) != 0;
    x->created_at = sqlite3_column_int64(st, 10);
    x->updated_at = sqlite3_column_int64(st, 11);
    return 0;
}

static void bind_entity(sqlite3_stmt *st, const store_entity *x)
{
    sqlite3_bind_text(st, 1, x->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, x->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, x->jurisdiction, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, x->kyc[0] ? x->kyc : "pending", -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 5, x->kyc_expires);
    sqlite3_bind_int(st, 6, x->tier);
    sqlite3_bind_text(st, 7, x->risk[0] ? x->risk : "medium", -1, SQLITE_TRANSIENT);
    store_bind_opt_text(st, 8, x->review_due);
    sqlite3_bind_int(st, 9, x->blocked ? 1 : 0);
}

int store_entity_add(store *s, const store_entity *x, int64_t *id_out, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ENT_ADD, e);
    if (!st)
        return -1;
    bind_entity(st, x);
    int64_t now = store_now();
    sqlite3_bind_int64(st, 10, now);
    sqlite3_bind_int64(st, 11, now);
    if (store_exec_stmt(s, st, "adding an entity", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "an entity named \"%.200s\" already exists", x->name);
        return -1;
    }
    if (id_out)
        *id_out = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_entity_update(store *s, const store_entity *x, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ENT_UPD, e);
    if (!st)
        return -1;
    bind_entity(st, x);
    sqlite3_bind_int64(st, 10, store_now());
    sqlite3_bind_int64(st, 11, x->id);
    if (store_exec_stmt(s, st, "updating an entity", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS, "an entity named \"%.200s\" already exists", x->name);
        return -1;
    }
    return 0;
}

int store_entity_get(store *s, int64_t id, store_entity *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ENT_GET, e);
    if (!st)
        return -1;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int64(st, 1, id);
    return store_get_row(s, st, entity_row, out, found, "reading an entity", e);
}

int store_entity_find_name(store *s, const char *name, store_entity *out, bool *found, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_ENT_BY_NAME, e);
    if (!st)
        return -1;
    memset(out, 0, sizeof *out);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return store_get_row(s, st, entity_row, out, found, "reading an entity", e);
}

int store_entity_list(store *s, store_entity **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_ENT_LIST, e);
    if (!st)
        return -1;
    return store_collect(s, st, sizeof **out, entity_row, (void **)out, n, "listing entities",
                              e);
}

/* ---- linked addresses ---- */

static const char SQL_LINK_OWNER[] =
    "SELECT entity_id FROM entity_addresses WHERE chain_id = ? AND address = ?";
static const char SQL_LINK_ADD[] =
    "INSERT INTO entity_addresses (entity_id, chain_id, address) VALUES (?, ?, ?)";
static const char SQL_LINKS_OF[] =
    "SELECT entity_id, chain_id, address FROM entity_addresses WHERE entity_id = ?"
    " ORDER BY chain_id, address";
static const char SQL_LINKS_ALL[] =
    "SELECT entity_id, chain_id, address FROM entity_addresses ORDER BY entity_id, chain_id";
static const char SQL_LINK_FIND[] =
    "SELECT entity_id FROM entity_addresses WHERE address = ? AND chain_id IN (?, 0)"
    " ORDER BY chain_id DESC LIMIT 1";

static int link_owner(store *s, uint64_t chain_id, const addr *a, int64_t *owner, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_LINK_OWNER, e);
    if (!st)
        return -1;
    store_bind_u64(st, 1, chain_id);
    store_bind_addr(st, 2, a);
    int rc = sqlite3_step(st);
    *owner = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "reading an address link");
    return 0;
}

int store_entity_link_add(store *s, const store_entity_link *l, err *e)
{
    int64_t owner = 0;
    if (link_owner(s, l->chain_id, &l->address, &owner, e) < 0)
        return -1;
    if (owner == l->entity_id)
        return 0;
    if (owner != 0) {
        char a[ADDR_STR_MAX];
        store_hex(a, sizeof a, l->address.b, ADDR_LEN);
        return err_set(e, ERR_EXISTS,
                       "address %s on chain %llu is already linked to entity %lld; unlink it "
                       "there first",
                       a, (unsigned long long)l->chain_id, (long long)owner);
    }
    sqlite3_stmt *st = store_stmt(s, SQL_LINK_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, l->entity_id);
    store_bind_u64(st, 2, l->chain_id);
    store_bind_addr(st, 3, &l->address);
    return store_exec_stmt(s, st, "linking an address", e);
}

static int link_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_entity_link *l = item;
    l->entity_id = sqlite3_column_int64(st, 0);
    l->chain_id = store_col_u64(st, 1);
    store_col_addr(st, 2, &l->address);
    return 0;
}

int store_entity_links(store *s, int64_t entity_id, store_entity_link **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, entity_id ? SQL_LINKS_OF : SQL_LINKS_ALL, e);
    if (!st)
        return -1;
    if (entity_id)
        sqlite3_bind_int64(st, 1, entity_id);
    return store_collect(s, st, sizeof **out, link_row, (void **)out, n,
                              "listing address links", e);
}

int store_entity_find_addr(store *s, uint64_t chain_id, const addr *a, int64_t *entity_id, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_LINK_FIND, e);
    if (!st)
        return -1;
    store_bind_addr(st, 1, a);
    store_bind_u64(st, 2, chain_id);
    int rc = sqlite3_step(st);
    *entity_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, e, "finding an address's entity");
    return 0;
}

/* ---- documents and related parties ---- */

static const char SQL_DOC_ADD[] =
    "INSERT INTO entity_documents (entity_id, doc_type, sha256, file_name, added_at)"
    " VALUES (?, ?, ?, ?, ?)";
static const char SQL_DOCS[] =
    "SELECT entity_id, doc_type, sha256, file_name, added_at FROM entity_documents"
    " WHERE entity_id = ? ORDER BY id";
static const char SQL_PARTY_ADD[] =
    "INSERT OR IGNORE INTO related_parties (entity_id, party_id, role) VALUES (?, ?, ?)";
static const char SQL_PARTIES[] =
    "SELECT entity_id, party_id, role FROM related_parties WHERE entity_id = ?"
    " ORDER BY role, party_id";

int store_entity_doc_add(store *s, const store_entity_doc *d, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_DOC_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, d->entity_id);
    sqlite3_bind_text(st, 2, d->doc_type, -1, SQLITE_TRANSIENT);
    store_bind_hash(st, 3, d->sha256);
    sqlite3_bind_text(st, 4, d->file_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, d->added_at ? d->added_at : store_now());
    if (store_exec_stmt(s, st, "recording a document", e) < 0) {
        if (e && e->code == ERR_EXISTS)
            err_set(e, ERR_EXISTS,
                    "a document with this SHA-256 is already recorded for the "
                    "entity");
        return -1;
    }
    return 0;
}

static int doc_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_entity_doc *d = item;
    d->entity_id = sqlite3_column_int64(st, 0);
    store_copy_text(st, 1, d->doc_type, sizeof d->doc_type);
    store_col_hash(st, 2, d->sha256);
    store_copy_text(st, 3, d->file_name, sizeof d->file_name);
    d->added_at = sqlite3_column_int64(st, 4);
    return 0;
}

int store_entity_docs(store *s, int64_t entity_id, store_entity_doc **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_DOCS, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, entity_id);
    return store_collect(s, st, sizeof **out, doc_row, (void **)out, n, "listing documents",
                              e);
}

int store_related_party_add(store *s, const store_related_party *p, err *e)
{
    sqlite3_stmt *st = store_stmt(s, SQL_PARTY_ADD, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, p->entity_id);
    sqlite3_bind_int64(st, 2, p->party_id);
    sqlite3_bind_text(st, 3, p->role, -1, SQLITE_TRANSIENT);
    return store_exec_stmt(s, st, "recording a related party", e);
}

static int party_row(sqlite3_stmt *st, void *item, err *e)
{
    (void)e; /* every column reads; nothing can be malformed here */
    store_related_party *p = item;
    p->entity_id = sqlite3_column_int64(st, 0);
    p->party_id = sqlite3_column_int64(st, 1);
    store_copy_text(st, 2, p->role, sizeof p->role);
    return 0;
}

int store_related_parties(store *s, int64_t entity_id, store_related_party **out, size_t *n, err *e)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = store_stmt(s, SQL_PARTIES, e);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, entity_id);
    return store_collect(s, st, sizeof **out, party_row, (void **)out, n,
                              "listing related parties", e);
}
