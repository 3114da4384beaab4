/*
 * argon2bench.c - the time of one Argon2id hash with given parameters, on
 * one core, through libargon2 as the auth worker calls it
 * (argon2id_hash_encoded, a 16-byte salt, a 32-byte hash): the login
 * bench's bound is the CPUs over this time.
 *
 *   argon2bench MEMORY_KIB ITERATIONS PARALLELISM SECONDS
 *
 * Hashes for about SECONDS (at least 5 hashes) in batches of 5 and prints
 * "hash_us=<median batch's µs per hash> hashes=<n>".
 */
#include <argon2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 5
#define MAX_BATCHES 1000

static double
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    static double batch_us[MAX_BATCHES];
    const char    pw[] = "velvet orbit canyon 42";
    unsigned char salt[16];
    char          enc[256];
    unsigned long m, t, p;
    double        seconds, start, t0;
    int           n = 0, i, rc;

    if (argc != 5) {
        fprintf(stderr, "usage: argon2bench MEMORY_KIB ITERATIONS "
                        "PARALLELISM SECONDS\n");
        return 2;
    }
    m = strtoul(argv[1], NULL, 10);
    t = strtoul(argv[2], NULL, 10);
    p = strtoul(argv[3], NULL, 10);
    seconds = strtod(argv[4], NULL);
    if (m == 0 || t == 0 || p == 0 || seconds <= 0) {
        fprintf(stderr, "argon2bench: bad arguments\n");
        return 2;
    }
    memset(salt, 0x5a, sizeof(salt));

    /* one hash first: the memory's first touch is not a login's */
    rc = argon2id_hash_encoded((uint32_t) t, (uint32_t) m, (uint32_t) p, pw,
                               sizeof(pw) - 1, salt, sizeof(salt), 32, enc,
                               sizeof(enc));
    if (rc != ARGON2_OK) {
        fprintf(stderr, "argon2bench: %s\n", argon2_error_message(rc));
        return 1;
    }
    start = now_us();
    while (n < MAX_BATCHES && (n == 0 || now_us() - start < seconds * 1e6)) {
        t0 = now_us();
        for (i = 0; i < BATCH; i++) {
            salt[0] = (unsigned char) (n * BATCH + i);
            rc = argon2id_hash_encoded((uint32_t) t, (uint32_t) m,
                                       (uint32_t) p, pw, sizeof(pw) - 1, salt,
                                       sizeof(salt), 32, enc, sizeof(enc));
            if (rc != ARGON2_OK) {
                fprintf(stderr, "argon2bench: %s\n",
                        argon2_error_message(rc));
                return 1;
            }
        }
        batch_us[n++] = (now_us() - t0) / BATCH;
    }
    qsort(batch_us, (size_t) n, sizeof(batch_us[0]), cmp_double);
    printf("hash_us=%.0f hashes=%d\n", batch_us[n / 2], n * BATCH);
    return 0;
}
