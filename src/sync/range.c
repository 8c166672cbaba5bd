/* range.c: see range.h. */
#include "sync/range.h"

void sync_range_init(sync_range *r, uint64_t initial, uint64_t max)
{
    r->max = max ? max : 1;
    r->size = initial ? initial : 1;
    if (r->size > r->max)
        r->size = r->max;
    r->target_logs = 25000;
    r->target_ms = 2000;
}

void sync_range_success(sync_range *r, uint64_t blocks, size_t logs, uint64_t ms)
{
    if (blocks == 0)
        return;
    if (logs > 2 * r->target_logs || ms > 2 * r->target_ms) {
        /* Heavy: come down before the node starts refusing, by half or straight to the
         * size whose answer would be on target (logs are dense in some stretches of a
         * chain: halving step by step reads several heavy answers first). */
        uint64_t next = blocks / 2;
        if (logs > 2 * r->target_logs) {
            uint64_t fit = (blocks * r->target_logs + logs - 1) / logs;
            next = fit < next ? fit : next;
        }
        if (ms > 2 * r->target_ms) {
            uint64_t fit = (blocks * r->target_ms + ms - 1) / ms;
            next = fit < next ? fit : next;
        }
        r->size = next ? next : 1;
        return;
    }
    if (logs > r->target_logs) {
        /* Above target (the sync cuts answers of twice the target short): back to the size
         * whose answer would be on target, so that a denser stretch ahead is not cut. */
        uint64_t fit = (blocks * r->target_logs + logs - 1) / logs;
        if (fit < r->size)
            r->size = fit ? fit : 1;
        return;
    }
    /* Only a full-size answer says anything about a larger one. */
    if (blocks >= r->size && logs < r->target_logs && ms < r->target_ms) {
        uint64_t grown = r->size > r->max / 2 ? r->max : r->size * 2;
        /* no further than this answer's density of logs puts on target */
        uint64_t fit = logs ? blocks * r->target_logs / logs : grown;
        if (fit < grown)
            grown = fit > r->size ? fit : r->size;
        r->size = grown;
    }
}

void sync_range_failure(sync_range *r, uint64_t blocks, uint64_t hint_blocks)
{
    uint64_t next = blocks / 2;
    if (hint_blocks && hint_blocks < blocks)
        next = hint_blocks;
    r->size = next ? next : 1;
    if (r->size > r->max)
        r->size = r->max;
}
