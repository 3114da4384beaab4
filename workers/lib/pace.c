/*
 * pace.c - answer floors (see pace.h).
 */
#include <errno.h>

#include "pace.h"


void
id_pace_start(struct timespec *t)
{
    clock_gettime(CLOCK_MONOTONIC, t);
}


void
id_pace_until(const struct timespec *start, long ms)
{
    struct timespec t = *start;

    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
    }
}
