/*
 * test_events.c - what an identity event carries of the request it comes
 * from (lib/events.c): the request id and the client address.
 */
#include <string.h>

#include "unit.h"

#include "events.h"
#include "log.h"


static const char *
member(const json_t *ev, const char *name)
{
    return json_string_value(json_object_get(ev, name));
}


int
main(void)
{
    json_t *ev;

    id_log_set_request_id("rid-1");
    id_log_set_client_ip("203.0.113.7");
    ev = id_event_identity("user.logged_in", "u-1",
                           json_pack("{s:s}", "session_id", "s-1"));
    UNIT_OK(ev != NULL, "an event");
    UNIT_STR(member(ev, "type"), "user.logged_in", "type");
    UNIT_STR(member(ev, "subject"), "u-1", "subject");
    UNIT_STR(member(ev, "request_id"), "rid-1", "the request's id");
    UNIT_STR(member(ev, "ip"), "203.0.113.7", "the client's address");
    UNIT_OK(member(ev, "id") != NULL && strlen(member(ev, "id")) == 36,
            "a uuid");
    UNIT_OK(member(ev, "occurred_at") != NULL, "occurred_at");
    json_decref(ev);

    id_log_set_client_ip(NULL);
    ev = id_event_identity("user.logged_in", "u-1", NULL);
    UNIT_STR(member(ev, "request_id"), "rid-1", "request id without address");
    UNIT_OK(json_object_get(ev, "ip") == NULL,
            "no address known (not through the gateway): no ip member");
    UNIT_OK(json_is_object(json_object_get(ev, "data")), "data {} for NULL");
    json_decref(ev);

    id_log_set_request_id(NULL);
    id_log_set_client_ip("2001:db8::1");
    ev = id_event_identity("user.deleted", "u-2", NULL);
    UNIT_OK(json_object_get(ev, "request_id") == NULL,
            "outside a request: no request_id");
    UNIT_STR(member(ev, "ip"), "2001:db8::1", "an IPv6 address");
    json_decref(ev);

    id_log_set_client_ip("0123456789012345678901234567890123456789012345678901"
                         "234567890123456789");
    ev = id_event_identity("user.deleted", "u-2", NULL);
    UNIT_OK(json_object_get(ev, "ip") == NULL,
            "an address too long to be one is left out, not cut");
    json_decref(ev);
    id_log_set_client_ip(NULL);

    return UNIT_DONE();
}
