/* event_json.h: a stored event's decoded fields, decoded on read (events.c). Its own
 * header, apart from events.h, for the readers (the API, the desk's timeline, the CLI):
 * events.h's ABI field kinds share their names with eth/abi.h's. */
#ifndef FUSION_SYNC_EVENT_JSON_H
#define FUSION_SYNC_EVENT_JSON_H

#include "store/store.h"

/* The event's decoded fields as a JSON object, decoded from its name, topics and data
 * (the store keeps no JSON): the text sync_event_json gives for the log, or NULL when the
 * event has no name, is not one of SYNC_EVENTS (a bridge leg's), does not decode to that
 * name, or memory ran out. topic0 names the event and so its emitter kind (every signature
 * of SYNC_EVENTS is one emitter's). malloc'ed. */
char *sync_event_json_of(const store_event *ev);

#endif
