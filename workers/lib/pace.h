/*
 * pace.h - answers that take the same time whatever they found.
 *
 * A handler whose work depends on what it finds (an account, a pending
 * sign-up, a code to send) notes when the request arrived and, before it
 * answers, sleeps until a floor after that: the answer then comes at the
 * same time either way, as long as the work fits under the floor.
 *
 *   id_pace_start(&t)       notes now (monotonic clock).
 *   id_pace_until(&t, ms)   sleeps until t + ms (at once if that is past).
 */
#ifndef ID_PACE_H
#define ID_PACE_H

#include <time.h>

void id_pace_start(struct timespec *t);
void id_pace_until(const struct timespec *start, long ms);

#endif
