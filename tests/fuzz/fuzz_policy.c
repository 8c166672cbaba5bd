/* fuzz_policy.c: libFuzzer target for <home>/policy.conf, the desk's hand-edited action
 * policy (rule / velocity / limit lines). Any input gives a policy that evaluates a
 * request, or one error; never a crash, a leak or a loop. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desk/desk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    policy *p = NULL;
    err e;
    err_clear(&e);
    if (policy_parse(&p, (const char *)data, size, &e) < 0) {
        if (p || e.msg[0] == '\0')
            abort();
        return 0;
    }
    policy_request r;
    memset(&r, 0, sizeof r);
    r.action = "create";
    r.operator_name = "alice";
    r.roles = ~0u;
    r.chain = "local";
    r.asset_symbol = "ETH";
    r.decimals = 18;
    r.amount.w[0] = 1000000; /* u256 limbs, least significant first */
    r.threshold = 2;
    policy_decision d;
    err_clear(&e);
    (void)policy_evaluate(p, &r, &d, &e);
    policy_free(&p);
    return 0;
}
