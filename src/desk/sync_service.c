/* sync_service.c: sync plus the automatic screener (sync_service.h). */
#include "desk/sync_service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

struct desk_sync {
    sync_engine *eng;
    compliance_screener *scr;
    char screening_off[ERR_MSG_MAX];
};

void desk_sync_options_default(desk_sync_options *o, const char *home)
{
    memset(o, 0, sizeof *o);
    sync_options_default(&o->sync);
    o->sync.home = home;
}

int desk_sync_start(desk_sync **out, const desk_sync_options *o, err *e)
{
    *out = NULL;
    desk_sync *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "out of memory starting sync");
    err se;
    err_clear(&se);
    bool on_book = o->sync.book && o->sync.book_url && o->book_reader;
    if (compliance_screener_new(&s->scr, o->sync.home, NULL, &se) < 0 ||
        (on_book && compliance_screener_set_book(s->scr, o->book_reader, o->sync.book_url, &se) < 0) ||
        compliance_screener_start(s->scr, &se) < 0) {
        compliance_screener_free(&s->scr);
        if (o->screener_required) {
            free(s);
            if (e)
                *e = se;
            return -1;
        }
        snprintf(s->screening_off, sizeof s->screening_off, "%s", se.msg);
        LOG_E("desk", "automatic screening is off: %s", se.msg);
    }
    sync_options so = o->sync;
    so.after_commit = s->scr ? compliance_screener_after_commit : NULL;
    so.after_commit_ctx = s->scr;
    so.after_commit_on_book = s->scr && on_book;
    so.book_reader = on_book ? o->book_reader : NULL; /* the credit repayments' inflows */
    sigset_t block, old;
    if (o->block_signals) {
        sigemptyset(&block);
        sigaddset(&block, SIGWINCH);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &block, &old);
    }
    int rc = sync_start(&s->eng, &so, e);
    if (o->block_signals)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        compliance_screener_free(&s->scr); /* whoever syncs screens too */
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

sync_engine *desk_sync_engine(desk_sync *s)
{
    return s ? s->eng : NULL;
}

const char *desk_sync_screening_off(const desk_sync *s)
{
    return s ? s->screening_off : "";
}

void desk_sync_totals(desk_sync *s, compliance_screen_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s && s->scr)
        compliance_screener_totals(s->scr, out);
}

int desk_sync_stop(desk_sync **p, compliance_screen_stats *totals, err *e)
{
    if (totals)
        memset(totals, 0, sizeof *totals);
    if (!p || !*p)
        return 0;
    desk_sync *s = *p;
    int rc = sync_stop(&s->eng, e);
    compliance_screener_stop(s->scr); /* after its last pass over what sync stored */
    if (totals && s->scr)
        compliance_screener_totals(s->scr, totals);
    compliance_screener_free(&s->scr);
    free(s);
    *p = NULL;
    return rc;
}
