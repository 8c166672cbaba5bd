/* chain.c: the desk's chain named by a bridge command (by id or name), for both routes. */
#include "bridge/ccip.h"

#include <stdbool.h>
#include <stdlib.h>

int bridge_chain_find(store *db, const char *s, store_chain *c, err *e)
{
    bool found = false;
    char *end = NULL;
    unsigned long long id = strtoull(s, &end, 10);
    if (end != s && !*end) {
        if (store_chain_get(db, id, c, &found, e) < 0)
            return -1;
    } else if (store_chain_find_name(db, s, c, &found, e) < 0) {
        return -1;
    }
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no chain \"%.64s\" in this desk (fusion chain list)", s);
    return 0;
}
