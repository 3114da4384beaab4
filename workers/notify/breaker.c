/*
 * breaker.c - a circuit breaker per provider, so that a provider that is
 * down gets a probe now and then instead of every job's every retry.
 *
 *   closed     sends go out; threshold transient failures in a row open it
 *   open       no send for cooldown_ms: jobs wait (held, no attempt used)
 *   half-open  after the cool-down one send goes out, the probe: success
 *              closes the breaker, a transient failure opens it again
 *
 * The worker is one loop, so the probe's result is known before the next
 * job asks: exactly one probe per cool-down.  A permanent failure (the
 * provider refused this message) proves the provider answers: it counts as
 * a success here.  Pure functions of the state and the time in ms.
 */
#include "notify.h"


void
notify_breaker_init(notify_breaker_t *b, int threshold, long cooldown_ms)
{
    b->threshold = threshold;
    b->cooldown_ms = cooldown_ms;
    b->state = NOTIFY_BREAKER_CLOSED;
    b->failures = 0;
    b->opened_at = 0;
}


int
notify_breaker_allow(notify_breaker_t *b, int64_t now_ms, long *wait_ms)
{
    int64_t left;

    *wait_ms = 0;
    if (b->state != NOTIFY_BREAKER_OPEN) {
        return 1;
    }
    left = b->opened_at + b->cooldown_ms - now_ms;
    if (left > 0) {
        *wait_ms = (long) left;
        return 0;
    }
    b->state = NOTIFY_BREAKER_HALF_OPEN; /* this send is the probe */
    return 1;
}


int
notify_breaker_result(notify_breaker_t *b, notify_result_t res, int64_t now_ms)
{
    int was = b->state;

    if (res != NOTIFY_TRANSIENT) {
        b->state = NOTIFY_BREAKER_CLOSED;
        b->failures = 0;
        return was != NOTIFY_BREAKER_CLOSED;
    }
    b->failures++;
    if (b->state == NOTIFY_BREAKER_HALF_OPEN ||
        (b->threshold > 0 && b->failures >= b->threshold)) {
        b->state = NOTIFY_BREAKER_OPEN;
        b->opened_at = now_ms;
    }
    return b->state != was;
}


const char *
notify_breaker_state_name(const notify_breaker_t *b)
{
    switch (b->state) {
    case NOTIFY_BREAKER_OPEN:
        return "open";
    case NOTIFY_BREAKER_HALF_OPEN:
        return "half_open";
    default:
        return "closed";
    }
}
