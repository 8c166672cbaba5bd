/* service.c: backups of a desk home on disk. The snapshot reads desk.db through SQLite's
 * backup API into memory (a consistent picture while sync and other processes write),
 * then the audit log under its shared lock (so it holds at least the head desk.db
 * records), the key files and the desk's configuration files; restore writes into a
 * private directory beside the new home and renames it into place; the schedule runs
 * from `fusion sync`. */
#include "backup/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "base/fsperm.h"
#include "base/log.h"
#include "store/store.h"

/* The desk's configuration at the top of its home: what a restored desk needs to act as
 * before (docs/operations.md lists them). Other files there (passphrase files, exports,
 * the process log) are not the desk's records and stay out; desk.db and audit.log are
 * copied their own way, keys/ whole. */
static const char *const config_files[] = {
    "policy.conf", "compliance.conf", "prices.csv", "risk-limits.csv", "desk-sanctions.txt",
    "book.conf", BACKUP_CONF,
};

static int read_fd_all(int fd, const char *what, uint8_t **out, size_t *len, err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(e, ERR_IO, "cannot stat %s: %s", what, strerror(errno));
    if ((uint64_t)st.st_size > BACKUP_FILE_MAX)
        return err_set(e, ERR_INVALID, "%s is larger than 16 GiB", what);
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *p = malloc(cap);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", what);
    for (;;) {
        if (n == cap) {
            uint8_t *np = realloc(p, cap * 2);
            if (!np) {
                free(p);
                return err_set(e, ERR_NOMEM, "out of memory reading %s", what);
            }
            p = np;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(p);
            return err_set(e, ERR_IO, "cannot read %s: %s", what, strerror(errno));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = p;
    *len = n;
    return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len, err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    int rc = read_fd_all(fd, path, out, len, e);
    close(fd);
    return rc;
}

/* desk.db as bytes, copied page by page by the backup API into an in-memory database
 * (the copy restarts by itself when another connection writes meanwhile). */
static int snapshot_db(const char *home, uint8_t **out, size_t *len, json_t *man, err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    struct stat st;
    if (stat(path, &st) < 0)
        return err_set(e, ERR_NOT_FOUND, "no desk database at %s", path);
    sqlite3 *src = NULL, *dst = NULL;
    int rc = -1;
    if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_open_v2(":memory:", &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK) {
        err_set(e, ERR_IO, "cannot open %s for the backup: %s", path,
                src ? sqlite3_errmsg(src) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        err_set(e, ERR_IO, "backup of %s: %s", path, sqlite3_errmsg(dst));
        goto out;
    }
    int st_rc;
    unsigned tries = 0;
    while ((st_rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || st_rc == SQLITE_LOCKED) {
        if (++tries > 200)
            break;
        sqlite3_sleep(50);
    }
    if (sqlite3_backup_finish(b) != SQLITE_OK || st_rc != SQLITE_DONE) {
        err_set(e, ERR_IO, "backup of %s did not complete: %s", path, sqlite3_errmsg(dst));
        goto out;
    }
    /* The manifest's view of the copy: schema version, audit head, counts. */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(dst, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        json_object_set_new(man, "schema_version", json_integer(sqlite3_column_int(q, 0)));
    sqlite3_finalize(q);
    q = NULL;
    json_t *aud = json_object_get(man, "audit");
    if (sqlite3_prepare_v2(dst, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &q, NULL) ==
            SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        json_object_set_new(aud, "db_head_seq", json_integer(sqlite3_column_int64(q, 0)));
        json_object_set_new(aud, "db_head_hash",
                            json_string((const char *)sqlite3_column_text(q, 1)));
    }
    sqlite3_finalize(q);
    static const char *const counted[] = {
        "entities", "cases", "case_events", "operators", "escrows", "outbound_txs",
        "xswaps",   "chains", "events",
    };
    json_t *counts = json_object();
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", counted[i]);
        q = NULL;
        if (sqlite3_prepare_v2(dst, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
            json_object_set_new(counts, counted[i], json_integer(sqlite3_column_int64(q, 0)));
        sqlite3_finalize(q);
    }
    json_object_set_new(man, "counts", counts);
    sqlite3_int64 sz = 0;
    unsigned char *ser = sqlite3_serialize(dst, "main", &sz, 0);
    if (!ser) {
        err_set(e, ERR_NOMEM, "cannot serialise the database copy");
        goto out;
    }
    *out = malloc(sz ? (size_t)sz : 1);
    if (!*out) {
        sqlite3_free(ser);
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*out, ser, (size_t)sz);
    sodium_memzero(ser, (size_t)sz);
    sqlite3_free(ser);
    *len = (size_t)sz;
    rc = 0;
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    return rc;
}

/* The audit log under a shared flock (appends hold it exclusively, so no half row). */
static int snapshot_log(const char *home, backup_set *set, json_t *man, err *e)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", home, AUDIT_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
    int lr;
    while ((lr = flock(fd, LOCK_SH)) < 0 && errno == EINTR)
        ;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = lr < 0 ? err_set(e, ERR_IO, "cannot lock %s: %s", path, strerror(errno))
                    : read_fd_all(fd, path, &data, &len, e);
    close(fd);
    if (rc < 0)
        return -1;
    /* Head of the copied log: its last complete row; its first row names the desk. */
    json_t *aud = json_object_get(man, "audit");
    size_t end = len;
    while (end > 0 && data[end - 1] == '\n')
        end--;
    size_t start = end;
    while (start > 0 && data[start - 1] != '\n')
        start--;
    json_error_t je;
    json_t *last = end > start ? json_loadb((const char *)data + start, end - start, 0, &je) : NULL;
    if (last) {
        json_object_set(aud, "log_head_seq", json_object_get(last, "seq"));
        json_object_set(aud, "log_head_hash", json_object_get(last, "hash"));
        json_decref(last);
    }
    const uint8_t *nl = memchr(data, '\n', len);
    json_t *first = nl ? json_loadb((const char *)data, (size_t)(nl - data), 0, &je) : NULL;
    if (first && json_is_string(json_object_get(first, "hash")))
        json_object_set(man, "desk_id", json_object_get(first, "hash"));
    json_decref(first);
    rc = backup_set_add(set, AUDIT_FILE, 0600, false, data, len, e);
    sodium_memzero(data, len);
    free(data);
    return rc;
}

static bool skipped(const char *rel, const char *name)
{
    if (name[0] == '.' || fsperm_is_temp(name))
        return true;
    if (*rel)
        return false;
    for (size_t i = 0; i < sizeof config_files / sizeof config_files[0]; i++)
        if (strcmp(name, config_files[i]) == 0)
            return false;
    return true;
}

/* Regular files of dir (relative name prefix rel, "" for the home itself). */
static int snapshot_dir(const char *home, const char *rel, backup_set *set, json_t *files, err *e)
{
    char dpath[4200];
    snprintf(dpath, sizeof dpath, "%s%s%s", home, *rel ? "/" : "", rel);
    DIR *d = opendir(dpath);
    if (!d && errno == ENOENT && *rel)
        return 0;
    if (!d)
        return err_set(e, ERR_IO, "cannot read %s: %s", dpath, strerror(errno));
    if (*rel && backup_set_add(set, rel, 0700, true, NULL, 0, e) < 0) {
        closedir(d);
        return -1;
    }
    /* Sorted, so that two backups of one desk list their files alike. */
    struct dirent **names = NULL;
    closedir(d);
    int n = scandir(dpath, &names, NULL, alphasort);
    if (n < 0)
        return err_set(e, ERR_IO, "cannot read %s: %s", dpath, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (rc < 0 || skipped(rel, nm))
            continue;
        char path[4500], name[512];
        snprintf(path, sizeof path, "%s/%s", dpath, nm);
        snprintf(name, sizeof name, "%s%s%s", rel, *rel ? "/" : "", nm);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (!backup_name_ok(name, strlen(name))) {
            rc = err_set(e, ERR_INVALID, "cannot back up %s: its name is not one a backup may "
                         "hold (printable ASCII)", path);
            continue;
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (read_file(path, &data, &len, e) < 0) {
            rc = -1;
            continue;
        }
        rc = backup_set_add(set, name, st.st_mode & 0600, false, data, len, e);
        uint8_t h[crypto_hash_sha256_BYTES];
        char hx[2 * sizeof h + 1];
        crypto_hash_sha256(h, data, len);
        sodium_bin2hex(hx, sizeof hx, h, sizeof h);
        json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", name, "size",
                                               (json_int_t)len, "sha256", hx));
        sodium_memzero(data, len);
        free(data);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int backup_snapshot(backup_set *set, const char *home, err *e)
{
    backup_set_init(set);
    if (sodium_init() < 0)
        return err_set(e, ERR_CRYPTO, "libsodium failed to initialise");
    json_t *man = json_object();
    json_t *files = json_array();
    json_object_set_new(man, "format", json_string("fusion-backup"));
    json_object_set_new(man, "version", json_integer(BACKUP_VERSION));
    json_object_set_new(man, "desk_id", json_null());
    time_t now = time(NULL);
    char ts[32];
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(man, "created", json_string(ts));
    json_object_set_new(man, "created_unix", json_integer((json_int_t)now));
    json_object_set_new(man, "schema_latest", json_integer(store_schema_latest()));
    json_object_set_new(man, "audit", json_object());
    uint8_t *db = NULL;
    size_t db_len = 0;
    int rc = -1;
    /* desk.db first, then the log: the log then holds at least the head desk.db records. */
    if (snapshot_db(home, &db, &db_len, man, e) < 0)
        goto out;
    if (backup_set_add(set, "desk.db", 0600, false, db, db_len, e) < 0)
        goto out;
    json_array_append_new(files, json_pack("{s:s, s:I}", "name", "desk.db", "size",
                                           (json_int_t)db_len));
    if (snapshot_log(home, set, man, e) < 0 || snapshot_dir(home, "", set, files, e) < 0 ||
        snapshot_dir(home, "keys", set, files, e) < 0)
        goto out;
    json_object_set(man, "files", files);
    set->manifest = json_dumps(man, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!set->manifest) {
        err_set(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (db) {
        sodium_memzero(db, db_len);
        free(db);
    }
    json_decref(files);
    json_decref(man);
    if (rc < 0)
        backup_set_clear(set);
    return rc;
}

static void summarise(const backup_set *set, size_t archive_len, char *out, size_t cap)
{
    if (!out || !cap)
        return;
    json_error_t je;
    json_t *m = json_loads(set->manifest, 0, &je);
    json_t *aud = json_object_get(m, "audit");
    json_t *c = json_object_get(m, "counts");
    snprintf(out, cap, "%zu files, %zu bytes; audit head %lld; %lld entities, %lld cases, "
             "%lld escrows, %lld transactions",
             set->n, archive_len, (long long)json_integer_value(json_object_get(aud, "log_head_seq")),
             (long long)json_integer_value(json_object_get(c, "entities")),
             (long long)json_integer_value(json_object_get(c, "cases")),
             (long long)json_integer_value(json_object_get(c, "escrows")),
             (long long)json_integer_value(json_object_get(c, "outbound_txs")));
    json_decref(m);
}

int backup_write(const char *home, const char *out_path, bool replace, const char *passphrase,
                 uint64_t opslimit, uint64_t memlimit, char *summary, size_t cap, err *e)
{
    backup_set set;
    buf arc;
    buf_init(&arc);
    if (backup_snapshot(&set, home, e) < 0)
        return -1;
    int rc = -1;
    if (backup_seal(&arc, &set, passphrase, opslimit, memlimit, e) < 0)
        goto out;
    if (fsperm_write_atomic(out_path, arc.data, arc.len, replace, e) < 0)
        goto out;
    summarise(&set, arc.len, summary, cap);
    rc = 0;
out:
    backup_set_clear(&set);
    buf_free(&arc);
    return rc;
}

/* ---- restore ---- */

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
                continue;
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int backup_target_check(const char *home, err *e)
{
    struct stat st;
    if (lstat(home, &st) < 0) {
        if (errno == ENOENT)
            return 1;
        return err_set(e, ERR_IO, "cannot access %s: %s", home, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_EXISTS, "%s exists and is not a directory: restore only into an "
                       "empty or new home", home);
    if (st.st_uid != geteuid())
        return err_set(e, ERR_DENIED, "%s belongs to another user: refused", home);
    DIR *d = opendir(home);
    if (!d)
        return err_set(e, ERR_IO, "cannot read %s: %s", home, strerror(errno));
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            empty = false;
    closedir(d);
    if (!empty)
        return err_set(e, ERR_EXISTS, "%s is not empty: a restore goes into an empty or new home "
                       "only (nothing was written)", home);
    return 0;
}

static int write_entry_at(const char *path, const backup_entry *x, err *e)
{
    if (x->dir) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
            return err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
    size_t at = 0;
    while (at < x->len) {
        ssize_t w = write(fd, x->data + at, x->len - at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int er = errno;
            close(fd);
            return err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(er));
        }
        at += (size_t)w;
    }
    if (fsync(fd) < 0) {
        int er = errno;
        close(fd);
        return err_set(e, ERR_IO, "cannot sync %s: %s", path, strerror(er));
    }
    close(fd);
    return 0;
}

static int write_entry(const char *root, const backup_entry *x, err *e)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", root, x->name) < 0)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = write_entry_at(path, x, e);
    free(path);
    return rc;
}

static int mkdir_parents(const char *path, err *e)
{
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return err_set(e, ERR_IO, "cannot create %s: %s", p, strerror(errno));
        *s = '/';
    }
    return 0;
}

int backup_restore(const char *path, const char *home, const char *passphrase, backup_set *set,
                   err *e)
{
    backup_set_init(set);
    int exists = backup_target_check(home, e);
    if (exists < 0)
        return -1;
    uint8_t *arc = NULL;
    size_t len = 0;
    if (read_file(path, &arc, &len, e) < 0)
        return -1;
    int rc = backup_open(set, arc, len, passphrase, e);
    free(arc);
    if (rc < 0)
        return -1;
    json_error_t je;
    json_t *m = json_loads(set->manifest, 0, &je);
    bool ok = m && json_is_object(m) &&
              json_is_string(json_object_get(m, "format")) &&
              strcmp(json_string_value(json_object_get(m, "format")), "fusion-backup") == 0;
    json_decref(m);
    bool has_db = false;
    for (size_t i = 0; i < set->n; i++)
        has_db |= !set->v[i].dir && strcmp(set->v[i].name, "desk.db") == 0;
    if (!ok || !has_db) {
        backup_set_clear(set);
        return err_set(e, ERR_INVALID, "backup archive authenticated but holds no fusion desk "
                       "(manifest or desk.db missing)");
    }
    /* A private directory beside the new home, renamed into place when whole. */
    char hcopy[4200], *tmp = NULL;
    snprintf(hcopy, sizeof hcopy, "%s", home);
    size_t hl = strlen(hcopy);
    while (hl > 1 && hcopy[hl - 1] == '/')
        hcopy[--hl] = '\0';
    if (mkdir_parents(hcopy, e) < 0)
        goto fail;
    char *slash = strrchr(hcopy, '/');
    char parent[4200];
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == hcopy)
        snprintf(parent, sizeof parent, "/");
    else
        snprintf(parent, sizeof parent, "%.*s", (int)(slash - hcopy), hcopy);
    if (asprintf(&tmp, "%s/.%s.restore-XXXXXX", parent, slash ? slash + 1 : hcopy) < 0) {
        tmp = NULL;
        err_set(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!mkdtemp(tmp)) {
        err_set(e, ERR_IO, "cannot create a directory beside %s: %s", home, strerror(errno));
        goto fail;
    }
    /* Directories before the files in them. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < set->n; i++)
            if (set->v[i].dir == (pass == 0) && write_entry(tmp, &set->v[i], e) < 0) {
                remove_tree(tmp);
                goto fail;
            }
    fsync_path(tmp);
    if (exists == 0 && rmdir(hcopy) < 0) {
        err_set(e, ERR_IO, "cannot replace the empty %s: %s", home, strerror(errno));
        remove_tree(tmp);
        goto fail;
    }
    if (rename(tmp, hcopy) < 0) {
        err_set(e, ERR_IO, "cannot move the restored desk to %s: %s", home, strerror(errno));
        remove_tree(tmp);
        goto fail;
    }
    fsync_path(parent);
    free(tmp);
    return 0;
fail:
    free(tmp);
    backup_set_clear(set);
    return -1;
}

/* ---- schedule ---- */

static int parse_u64(uint64_t *out, const char *v, const char *key, unsigned line, err *e)
{
    char *end = NULL;
    errno = 0;
    if (!*v || *v == '-')
        goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    uint64_t mul = 1;
    if (end && *end && !end[1]) {
        switch (*end) {
        case 's': mul = 1; end++; break;
        case 'm': mul = 60; end++; break;
        case 'h': mul = 3600; end++; break;
        case 'd': mul = 86400; end++; break;
        default: break;
        }
    }
    if (errno || !end || *end || x > UINT64_MAX / mul)
        goto bad;
    *out = x * mul;
    return 0;
bad:
    return err_set(e, ERR_INVALID, "backup.conf line %u: %s wants a number (seconds, or with "
                   "s/m/h/d), not \"%s\"", line, key, v);
}

int backup_conf_parse(backup_conf *out, const char *text, size_t len, const char *home, err *e)
{
    memset(out, 0, sizeof *out);
    out->present = true;
    out->interval_s = 86400;
    out->keep = 7;
    snprintf(out->dir, sizeof out->dir, "%s/backups", home);
    snprintf(out->kdf, sizeof out->kdf, "moderate");
    bool alert_set = false;
    unsigned line = 0;
    size_t at = 0;
    while (at < len) {
        const char *ls = text + at;
        const char *le = memchr(ls, '\n', len - at);
        size_t ll = le ? (size_t)(le - ls) : len - at;
        at += ll + (le ? 1 : 0);
        line++;
        char lb[1200];
        if (ll >= sizeof lb)
            return err_set(e, ERR_INVALID, "backup.conf line %u is too long", line);
        memcpy(lb, ls, ll);
        lb[ll] = '\0';
        if (memchr(lb, '\0', ll))
            return err_set(e, ERR_INVALID, "backup.conf line %u holds a NUL byte", line);
        char *s = lb;
        while (*s == ' ' || *s == '\t')
            s++;
        char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            *--end = '\0';
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return err_set(e, ERR_INVALID, "backup.conf line %u: expected KEY = VALUE", line);
        char *k = s, *v = eq + 1;
        char *ke = eq;
        while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
            ke--;
        *ke = '\0';
        while (*v == ' ' || *v == '\t')
            v++;
        uint64_t x;
        if (strcmp(k, "interval") == 0) {
            if (parse_u64(&x, v, k, line, e) < 0)
                return -1;
            if (x < 60)
                return err_set(e, ERR_INVALID, "backup.conf line %u: interval is at least 60 "
                               "seconds", line);
            out->interval_s = x;
        } else if (strcmp(k, "keep") == 0) {
            char *ep = NULL;
            unsigned long kk = strtoul(v, &ep, 10);
            if (!*v || *v == '-' || *ep || kk < 1 || kk > 10000)
                return err_set(e, ERR_INVALID, "backup.conf line %u: keep wants 1..10000", line);
            out->keep = (unsigned)kk;
        } else if (strcmp(k, "alert_after") == 0) {
            if (parse_u64(&x, v, k, line, e) < 0)
                return -1;
            out->alert_after_s = x;
            alert_set = true;
        } else if (strcmp(k, "dir") == 0) {
            if (*v != '/' || strlen(v) >= sizeof out->dir)
                return err_set(e, ERR_INVALID, "backup.conf line %u: dir wants an absolute path",
                               line);
            snprintf(out->dir, sizeof out->dir, "%s", v);
        } else if (strcmp(k, "passphrase_file") == 0) {
            if (!*v || strlen(v) >= sizeof out->passphrase_file)
                return err_set(e, ERR_INVALID, "backup.conf line %u: passphrase_file wants a "
                               "path", line);
            snprintf(out->passphrase_file, sizeof out->passphrase_file, "%s", v);
        } else if (strcmp(k, "kdf") == 0) {
            if (strcmp(v, "interactive") && strcmp(v, "moderate") && strcmp(v, "sensitive"))
                return err_set(e, ERR_INVALID, "backup.conf line %u: kdf is interactive, "
                               "moderate or sensitive", line);
            snprintf(out->kdf, sizeof out->kdf, "%s", v);
        } else {
            return err_set(e, ERR_INVALID, "backup.conf line %u: unknown key \"%.40s\" (interval, "
                           "keep, alert_after, dir, passphrase_file, kdf)", line, k);
        }
    }
    if (!out->passphrase_file[0])
        return err_set(e, ERR_INVALID, "backup.conf: passphrase_file is required (a 0600 file "
                       "holding the backup passphrase)");
    if (!alert_set)
        out->alert_after_s = out->interval_s * 2;
    return 0;
}

int backup_conf_load(backup_conf *out, const char *home, err *e)
{
    memset(out, 0, sizeof *out);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", home, BACKUP_CONF);
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0;
    if (fsperm_check_private(path, "backup configuration", e) < 0)
        return -1;
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len, e) < 0)
        return -1;
    int rc = backup_conf_parse(out, (const char *)data, len, home, e);
    free(data);
    return rc;
}

static bool archive_name(const char *nm)
{
    size_t l = strlen(nm);
    return strncmp(nm, "fusion-", 7) == 0 && l > 11 && strcmp(nm + l - 4, ".fbk") == 0;
}

/* The scheduled archives in dir, oldest first (names sort by time); *mtime of the newest. */
static int list_archives(const char *dir, struct dirent ***names, int *n, int64_t *newest)
{
    *newest = 0;
    *n = scandir(dir, names, NULL, alphasort);
    if (*n < 0)
        return -1;
    int k = 0;
    for (int i = 0; i < *n; i++) {
        if (!archive_name((*names)[i]->d_name)) {
            free((*names)[i]);
            continue;
        }
        char p[4500];
        snprintf(p, sizeof p, "%s/%s", dir, (*names)[i]->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime > *newest)
            *newest = st.st_mtime;
        (*names)[k++] = (*names)[i];
    }
    *n = k;
    return 0;
}

static int read_passphrase(const char *path, char *out, size_t cap, err *e)
{
    if (fsperm_check_private(path, "backup passphrase file", e) < 0)
        return -1;
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len, e) < 0)
        return -1;
    size_t l = 0;
    while (l < len && data[l] != '\n' && data[l] != '\r')
        l++;
    int rc = 0;
    if (l == 0 || l >= cap)
        rc = err_set(e, ERR_INVALID, "backup passphrase file %s: the first line must hold the "
                     "passphrase", path);
    else {
        memcpy(out, data, l);
        out[l] = '\0';
    }
    sodium_memzero(data, len);
    free(data);
    return rc;
}

static void alert_update(const char *home, const backup_conf *conf, int64_t now, int64_t last_ok,
                         const char *failure)
{
    store_alert_cond c;
    size_t n = 0;
    memset(&c, 0, sizeof c);
    if (last_ok == 0 || (uint64_t)(now - last_ok) > conf->alert_after_s) {
        snprintf(c.key, sizeof c.key, "backup:stale");
        snprintf(c.kind, sizeof c.kind, "backup");
        c.severity = ALERT_WARNING;
        if (last_ok == 0)
            snprintf(c.message, sizeof c.message, "no good backup in %.150s%s%.60s", conf->dir,
                     failure ? ": " : "", failure ? failure : "");
        else
            snprintf(c.message, sizeof c.message, "last good backup is older than %llus "
                     "(alert_after in backup.conf)%s%.80s",
                     (unsigned long long)conf->alert_after_s, failure ? ": " : "",
                     failure ? failure : "");
        c.value = (double)(last_ok ? now - last_ok : 0);
        c.limit = (double)conf->alert_after_s;
        n = 1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/desk.db", home);
    store *db = NULL;
    err e;
    err_clear(&e);
    if (store_open(&db, path, &e) < 0 ||
        store_alert_sync_scope(db, "backup:", &c, n, now, NULL, NULL, &e) < 0)
        LOG_W("backup", "cannot record the backup alert: %s", e.msg);
    store_close(&db);
}

int backup_schedule_tick(const char *home, const backup_conf *conf, int64_t now, int64_t *last_ok,
                         err *e)
{
    *last_ok = 0;
    if (mkdir(conf->dir, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create the backup directory %s: %s", conf->dir,
                       strerror(errno));
    struct dirent **names = NULL;
    int n = 0;
    if (list_archives(conf->dir, &names, &n, last_ok) < 0)
        return err_set(e, ERR_IO, "cannot read the backup directory %s: %s", conf->dir,
                       strerror(errno));
    int rc = 0, listed = n;
    char failure[ERR_MSG_MAX] = "";
    if (*last_ok == 0 || now - *last_ok >= (int64_t)conf->interval_s) {
        char pass[1024], path[4500], ts[32], summary[256];
        struct tm tm;
        time_t t = (time_t)now;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(path, sizeof path, "%s/fusion-%s.fbk", conf->dir, ts);
        const char *lv = getenv("FUSION_KDF");
        const char *level = lv && *lv ? lv : conf->kdf;
        uint64_t ops = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        uint64_t mem = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
        if (strcmp(level, "interactive") == 0) {
            ops = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
            mem = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
        } else if (strcmp(level, "sensitive") == 0) {
            ops = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE;
            mem = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE;
        }
        rc = read_passphrase(conf->passphrase_file, pass, sizeof pass, e);
        if (rc == 0)
            rc = backup_write(home, path, false, pass, ops, mem, summary, sizeof summary, e);
        sodium_memzero(pass, sizeof pass);
        if (rc == 0) {
            LOG_I("backup", "scheduled backup %s: %s", path, summary);
            *last_ok = now;
            n++;
        } else {
            LOG_W("backup", "scheduled backup failed: %s", e->msg);
            snprintf(failure, sizeof failure, "%s", e->msg);
        }
    }
    /* Keep the newest `keep`, counting the one just written (not in names). */
    int total = n;
    for (int i = 0; i < listed; i++) {
        if (total - i > (int)conf->keep) {
            char p[4500];
            snprintf(p, sizeof p, "%s/%s", conf->dir, names[i]->d_name);
            if (unlink(p) == 0)
                LOG_I("backup", "removed old backup %s (keep = %u)", p, conf->keep);
        }
        free(names[i]);
    }
    free(names);
    alert_update(home, conf, now, *last_ok, failure[0] ? failure : NULL);
    return rc;
}
