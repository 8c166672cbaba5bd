/* fuzz_msg.h: the property every fuzz target checks of an error message: one line that
 * is safe to show (base/text.h: valid UTF-8 is kept, so a CJK counterparty name in a
 * message is shown as itself; controls, bidi controls, line separators and bytes that are
 * not UTF-8 never appear raw). */
#ifndef FUSION_FUZZ_MSG_H
#define FUSION_FUZZ_MSG_H

#include <stdbool.h>
#include <string.h>

#include "base/text.h"

static inline bool fuzz_msg_safe(const char *msg)
{
    size_t n = strlen(msg);
    return text_unsafe_at(msg, n) == n;
}

#endif
