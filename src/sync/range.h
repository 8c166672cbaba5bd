/* range.h: the adaptive block range for eth_getLogs. It halves on "too many
 * results"/timeouts (or jumps to the provider's suggestion), grows while answers are
 * small and quick, and shrinks before the node has to refuse. Pure; unit-tested. */
#ifndef FUSION_SYNC_RANGE_H
#define FUSION_SYNC_RANGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sync_range {
    uint64_t size;      /* blocks per request now */
    uint64_t max;       /* never more */
    size_t target_logs; /* grow while answers have fewer logs than this */
    uint64_t target_ms; /* ... and take less time than this */
} sync_range;

void sync_range_init(sync_range *r, uint64_t initial, uint64_t max);
/* A request over `blocks` blocks answered `logs` logs in `ms` milliseconds. */
void sync_range_success(sync_range *r, uint64_t blocks, size_t logs, uint64_t ms);
/* A request over `blocks` blocks was refused as too large or timed out. hint_blocks
 * (0: none) is the range size the provider suggested. */
void sync_range_failure(sync_range *r, uint64_t blocks, uint64_t hint_blocks);

#endif
