/* sync_internal.h: the engine's shared state, seen by sync.c (engine, lock,
 * notifications, reindex) and sync_chain.c (the per-chain thread). */
#ifndef FUSION_SYNC_INTERNAL_H
#define FUSION_SYNC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store/store.h"
#include "sync/sync.h"

typedef struct chain_worker {
    struct sync_engine *eng;
    store_chain chain;
    pthread_t tid;
    bool started;
    atomic_int finished;
    sync_chain_stats stats; /* guarded by eng->mu */
} chain_worker;

struct sync_engine {
    sync_options opt;
    char db_path[4200];
    int lock_fd;
    int notify_fd; /* eventfd: counts commits */
    int stop_fd;   /* eventfd: readable once a stop is requested */
    atomic_int stop;
    pthread_mutex_t mu;
    size_t n_chains;
    chain_worker *workers;
};

/* The thread body, one per chain. */
void *sync_chain_main(void *arg);

/* Tells the UI (and anyone polling sync_notify_fd) that something was committed. */
void sync_notify(struct sync_engine *eng);
/* Sleeps up to ms unless a stop is requested; returns false when stopping. */
bool sync_sleep(struct sync_engine *eng, unsigned ms);
/* Monotonic seconds. */
double sync_now(void);

#endif
