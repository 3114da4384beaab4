/*
 * test_notify_breaker.c - the providers' circuit breaker (notify/breaker.c):
 * when it opens, that an open one lets nothing out until the cool-down is
 * over, then exactly one probe, and what the probe's result does.
 */
#include <stdint.h>

#include "unit.h"

#include "../notify/breaker.c"


int
main(void)
{
    int              i, sends;
    long             wait;
    int64_t          t;
    notify_breaker_t b;

    notify_breaker_init(&b, 3, 1000);
    UNIT_OK(notify_breaker_allow(&b, 0, &wait) && wait == 0,
            "closed: a send may go");
    UNIT_INT(notify_breaker_result(&b, NOTIFY_TRANSIENT, 10), 0,
             "one failure: still closed");
    notify_breaker_result(&b, NOTIFY_SENT, 20);
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 30);
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 40);
    UNIT_STR(notify_breaker_state_name(&b), "closed",
             "a success in between restarts the count");
    UNIT_INT(notify_breaker_result(&b, NOTIFY_TRANSIENT, 50), 1,
             "the threshold's failure in a row: the state changes");
    UNIT_STR(notify_breaker_state_name(&b), "open", "... to open");

    UNIT_OK(!notify_breaker_allow(&b, 50, &wait) && wait == 1000,
            "open: no send, wait the whole cool-down");
    UNIT_OK(!notify_breaker_allow(&b, 800, &wait) && wait == 250,
            "open: no send, wait what is left of it");
    UNIT_OK(notify_breaker_allow(&b, 1050, &wait),
            "cool-down over: one probe may go");
    UNIT_STR(notify_breaker_state_name(&b), "half_open", "... half open");
    UNIT_INT(notify_breaker_result(&b, NOTIFY_TRANSIENT, 1100), 1,
             "the probe fails: open again");
    UNIT_OK(!notify_breaker_allow(&b, 1200, &wait) && wait == 900,
            "... for a new cool-down from the probe's failure");
    UNIT_OK(notify_breaker_allow(&b, 2100, &wait), "the next probe");
    UNIT_INT(notify_breaker_result(&b, NOTIFY_SENT, 2110), 1,
             "the probe succeeds: the state changes");
    UNIT_STR(notify_breaker_state_name(&b), "closed", "... to closed");
    UNIT_OK(notify_breaker_allow(&b, 2120, &wait) && wait == 0,
            "closed again: sends go");
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 2130);
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 2140);
    UNIT_STR(notify_breaker_state_name(&b), "closed",
             "closing forgot the earlier failures");

    /* a provider down for 10 s, jobs asking every 10 ms: how many sends */
    notify_breaker_init(&b, 3, 1000);
    sends = 0;
    for (t = 0; t < 10000; t += 10) {
        if (notify_breaker_allow(&b, t, &wait)) {
            sends++;
            notify_breaker_result(&b, NOTIFY_TRANSIENT, t);
        }
    }
    UNIT_INT(sends, 3 + 9, "down 10 s: 3 failures, then 1 probe a second");

    notify_breaker_init(&b, 2, 1000);
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 0);
    notify_breaker_result(&b, NOTIFY_TRANSIENT, 0);
    notify_breaker_allow(&b, 1000, &wait);
    notify_breaker_result(&b, NOTIFY_PERMANENT, 1000);
    UNIT_STR(notify_breaker_state_name(&b), "closed",
             "a probe refused for its message proves the provider up");

    notify_breaker_init(&b, 0, 1000);
    for (i = 0; i < 100; i++) {
        notify_breaker_result(&b, NOTIFY_TRANSIENT, i);
    }
    UNIT_OK(notify_breaker_allow(&b, 100, &wait),
            "threshold 0: the breaker never opens");
    return UNIT_DONE();
}
