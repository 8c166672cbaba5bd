/* backup.h: encrypted desk backups. The archive core (archive.c) is pure: it turns a set
 * of named files and a manifest into one passphrase-sealed archive and back, in memory
 * (Argon2id as the key store derives keys, XChaCha20-Poly1305 secretstream with a final
 * tag, the header as additional data). The service (service.c) takes an online snapshot
 * of a desk home, writes archives atomically, restores into an empty home and runs the
 * schedule that `fusion sync` drives. See docs/operations.md. */
#ifndef FUSION_BACKUP_BACKUP_H
#define FUSION_BACKUP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "base/err.h"

#define BACKUP_MAGIC "FUSIONBK"
#define BACKUP_VERSION 1
#define BACKUP_HEADER_LEN 68
#define BACKUP_CHUNK 65536           /* plaintext bytes per sealed frame */
#define BACKUP_NAME_MAX 255          /* bytes of one entry's relative name */
#define BACKUP_FILE_MAX (1ULL << 34) /* one entry, and the whole archive, at most 16 GiB */

/* What the header says, readable without the passphrase. */
typedef struct backup_header {
    uint16_t version;
    uint64_t opslimit;
    uint64_t memlimit;
    uint8_t salt[16];
    uint8_t stream_header[24];
} backup_header;

/* One file (or directory, data NULL) of the archive, named relative to the desk home. */
typedef struct backup_entry {
    char *name;
    uint32_t mode;
    bool dir;
    uint8_t *data;
    size_t len;
} backup_entry;

/* An archive's content: the manifest (JSON text) and the entries. Owns everything. */
typedef struct backup_set {
    char *manifest;
    backup_entry *v;
    size_t n, cap;
} backup_set;

void backup_set_init(backup_set *s);
/* Wipes the data and frees everything; the set is empty again. */
void backup_set_clear(backup_set *s);
/* Adds a copy of data under name (checked as backup_name_ok). */
int backup_set_add(backup_set *s, const char *name, uint32_t mode, bool dir, const void *data,
                   size_t len, err *e) __attribute__((warn_unused_result));
/* A name an archive may hold: relative, no "." or ".." component, no empty component,
 * printable ASCII without backslash, at most BACKUP_NAME_MAX bytes. */
bool backup_name_ok(const char *name, size_t len);

/* Parses the fixed header (the first BACKUP_HEADER_LEN bytes): magic, version, KDF limits
 * within the key store's bounds. */
int backup_header_parse(backup_header *out, const uint8_t *data, size_t len, err *e)
    __attribute__((warn_unused_result));
/* Parses a decrypted payload (records: manifest, entries, end) into out. */
int backup_payload_parse(backup_set *out, const uint8_t *p, size_t len, err *e)
    __attribute__((warn_unused_result));

/* Seals set under passphrase with the given Argon2id limits; appends the archive to out. */
int backup_seal(buf *out, const backup_set *set, const char *passphrase, uint64_t opslimit,
                uint64_t memlimit, err *e) __attribute__((warn_unused_result));
/* Opens an archive whole: every frame authenticated, the final tag at the very end. A
 * wrong passphrase and a changed byte both fail authentication (ERR_AUTH); a cut archive
 * is ERR_INVALID "truncated". Nothing is returned unless all of it holds. */
int backup_open(backup_set *out, const uint8_t *data, size_t len, const char *passphrase, err *e)
    __attribute__((warn_unused_result));

/* ---- service (service.c) ---- */

/* Snapshots the desk at home (desk.db through SQLite's backup API while it runs, the
 * audit log, key files and configuration) into set, with its manifest. */
int backup_snapshot(backup_set *set, const char *home, err *e) __attribute__((warn_unused_result));
/* Snapshot, seal and write out_path atomically (0600; replace: an existing file may be
 * overwritten). The manifest's summary line goes to summary (may be NULL). */
int backup_write(const char *home, const char *out_path, bool replace, const char *passphrase,
                 uint64_t opslimit, uint64_t memlimit, char *summary, size_t cap, err *e)
    __attribute__((warn_unused_result));
/* Where a restore may go: 1 when home does not exist, 0 when it is an empty directory of
 * ours, -1 (refused, with the reason) otherwise. */
int backup_target_check(const char *home, err *e) __attribute__((warn_unused_result));
/* Reads and opens the archive at path, then places its files into home, which must not
 * exist or be empty: written into a private directory beside it first and renamed into
 * place, so a refusal writes nothing. */
int backup_restore(const char *path, const char *home, const char *passphrase, backup_set *opened,
                   err *e) __attribute__((warn_unused_result));

/* <home>/backup.conf: the schedule `fusion sync` runs. */
#define BACKUP_CONF "backup.conf"
typedef struct backup_conf {
    bool present;
    uint64_t interval_s;   /* every ... seconds */
    unsigned keep;         /* archives kept in dir (oldest removed first) */
    uint64_t alert_after_s; /* alert when the last good backup is older */
    char dir[1024];        /* where archives go (default <home>/backups) */
    char passphrase_file[1024];
    char kdf[16];          /* "interactive", "moderate" or "sensitive" */
} backup_conf;

/* Parses backup.conf text (KEY = VALUE lines, # comments). Pure. */
int backup_conf_parse(backup_conf *out, const char *text, size_t len, const char *home, err *e)
    __attribute__((warn_unused_result));
/* Reads <home>/backup.conf (private file); out->present false when there is none. */
int backup_conf_load(backup_conf *out, const char *home, err *e) __attribute__((warn_unused_result));

/* One step of the schedule at time now: writes a backup when the last one is older than
 * the interval, prunes beyond keep, and returns in *last_ok the time of the newest good
 * archive (0: none). Records the outcome in the desk's settings and alerts. */
int backup_schedule_tick(const char *home, const backup_conf *conf, int64_t now, int64_t *last_ok,
                         err *e) __attribute__((warn_unused_result));

#endif
