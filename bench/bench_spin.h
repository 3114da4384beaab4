
/*
 * The bench's stand-in for a signature check: a fixed number of steps of
 * pure register arithmetic (a 64-bit linear congruential chain, each step
 * waiting on the one before), touching no memory at all.  The gateway
 * nginx pays a signature check for every new token; the plain nginx can
 * pay this instead, for the same CPU time, so that the run shows what any
 * computation of that length costs in that place of a request on this
 * machine, apart from what the check does to caches (it does nothing to
 * them).  Shared by ngx_http_bench_spin_module.c and jwtbench.c, so the
 * steps nginx takes are the steps jwtbench times.
 */


#ifndef BENCH_SPIN_H
#define BENCH_SPIN_H


#include <stdint.h>


static inline uint64_t
bench_spin(uint64_t x, uint64_t steps)
{
    uint64_t  i;

    for (i = 0; i < steps; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    }

    return x;
}


#endif /* BENCH_SPIN_H */
