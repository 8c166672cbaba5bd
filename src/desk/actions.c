/* actions.c: the desk action table (actions.h) and its look-ups. */
#include "desk/actions.h"

#include <string.h>

const desk_action_info desk_actions[DESK_ACT_COUNT] = {
#define DESK_ACT_ROW_(ID, nm, tgt, gt, fn, ck)                                                     \
    [DESK_ACT_##ID] = {.id = DESK_ACT_##ID, .name = nm, .target = tgt, .gated = gt, .function = fn, \
                       .checks = ck},
    DESK_ACTIONS(DESK_ACT_ROW_)
#undef DESK_ACT_ROW_
};

desk_action desk_action_find(const char *name)
{
    if (!name)
        return DESK_ACT_NONE;
    for (int a = 1; a < DESK_ACT_COUNT; a++)
        if (strcmp(desk_actions[a].name, name) == 0)
            return (desk_action)a;
    return DESK_ACT_NONE;
}

const desk_action_info *desk_action_get(desk_action a)
{
    return a > DESK_ACT_NONE && a < DESK_ACT_COUNT ? &desk_actions[a] : NULL;
}

bool desk_action_name_gated(const char *name)
{
    const desk_action_info *in = desk_action_get(desk_action_find(name));
    return in && in->gated;
}
