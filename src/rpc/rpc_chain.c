/* rpc_chain.c: a client over a configured chain's endpoints (rpc_chain.h). */
#include "rpc/rpc_chain.h"

#include <stdlib.h>

int rpc_chain_client(rpc_client **out, store *db, uint64_t chain_id, const rpc_options *o,
                     err *e)
{
    *out = NULL;
    store_endpoint *eps = NULL;
    size_t n = 0;
    if (store_endpoint_list(db, chain_id, &eps, &n, e) < 0)
        return -1;
    if (n == 0) {
        free(eps);
        return err_set(e, ERR_NOT_FOUND, "chain %llu has no RPC endpoint",
                       (unsigned long long)chain_id);
    }
    const char **urls = calloc(n, sizeof *urls);
    if (!urls) {
        free(eps);
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        urls[i] = eps[i].url;
    rpc_options def;
    if (!o) {
        rpc_options_default(&def);
        o = &def;
    }
    int rc = rpc_client_new(out, urls, n, o, e);
    free(urls);
    free(eps);
    return rc;
}
