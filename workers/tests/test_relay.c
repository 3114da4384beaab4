/*
 * test_relay.c - the outbox relay's pure parts (lib/relay.c, lib/outbox.c):
 * its retry backoff, which acked messages it may mark sent, and the bytes
 * a message is stored and published as.
 */
#include <stdlib.h>

#include "unit.h"

#include "outbox.h"
#include "relay.h"


static void
test_backoff(void)
{
    UNIT_INT(id_relay_backoff_ms(1, 250, 10000, 1.0), 250,
             "first failure: the base, at most");
    UNIT_INT(id_relay_backoff_ms(1, 250, 10000, 0.0), 125,
             "first failure: at least half the base");
    UNIT_INT(id_relay_backoff_ms(2, 250, 10000, 1.0), 500, "doubles");
    UNIT_INT(id_relay_backoff_ms(3, 250, 10000, 1.0), 1000, "doubles again");
    UNIT_INT(id_relay_backoff_ms(3, 250, 10000, 0.5), 750,
             "jitter in the upper half");
    UNIT_INT(id_relay_backoff_ms(7, 250, 10000, 1.0), 10000, "capped");
    UNIT_INT(id_relay_backoff_ms(7, 250, 10000, 0.0), 5000,
             "capped, jitter kept");
    UNIT_INT(id_relay_backoff_ms(1000, 250, 10000, 1.0), 10000,
             "a long outage does not overflow");
    UNIT_INT(id_relay_backoff_ms(64, 1, 10000, 1.0), 10000,
             "past 2^63 neither");
    UNIT_INT(id_relay_backoff_ms(0, 250, 10000, 1.0), 0, "no failure: no wait");
    UNIT_INT(id_relay_backoff_ms(2, 250, 10000, 7.0), 500,
             "rnd above 1 is taken as 1");
    UNIT_INT(id_relay_backoff_ms(2, 250, 10000, -1.0), 250,
             "rnd below 0 is taken as 0");
}


static void
test_prefix(void)
{
    id_kafka_batch_msg_t m[4];

    memset(m, 0, sizeof(m));
    UNIT_INT((int) id_relay_acked_prefix(m, 4), 4, "all acked: all marked");
    m[2].err = -1;
    UNIT_INT((int) id_relay_acked_prefix(m, 4), 2,
             "a gap: only the messages before it are marked");
    m[0].err = -1;
    UNIT_INT((int) id_relay_acked_prefix(m, 4), 0,
             "the first failed: none marked, though later ones were acked");
    UNIT_INT((int) id_relay_acked_prefix(m, 0), 0, "an empty batch");
}


static void
test_text(void)
{
    char   *s;
    json_t *msg;

    msg = json_pack("{s:s, s:s, s:{s:s}}", "id", "e-1", "type",
                    "user.logged_in", "data", "ip", "198.51.100.2");
    s = id_outbox_text(msg);
    UNIT_STR(s,
             "{\"id\":\"e-1\",\"type\":\"user.logged_in\","
             "\"data\":{\"ip\":\"198.51.100.2\"}}",
             "stored compact, in the members' order, as it was sent");
    free(s);
    json_decref(msg);
    UNIT_OK(id_outbox_text(NULL) == NULL, "no message, no text");
}


int
main(void)
{
    test_backoff();
    test_prefix();
    test_text();
    return UNIT_DONE();
}
