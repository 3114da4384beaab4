/*
 * argon2bench.c - the time of one Argon2id hash with given parameters,
 * through libargon2 as the auth worker calls it (argon2id_hash_encoded, a
 * 16-byte salt, a 32-byte hash): the login bench's bound.
 *
 *   argon2bench MEMORY_KIB ITERATIONS PARALLELISM SECONDS [THREADS]
 *
 * Without THREADS: one thread hashes for about SECONDS (at least 5 hashes)
 * in batches of 5 and prints
 *     "hash_us=<median batch's µs per hash> hashes=<n>".
 * With THREADS: that many threads hash at once for about SECONDS, as the
 * auth worker's do when every CPU verifies a password, and it prints
 *     "hash_us=<THREADS × elapsed µs ÷ hashes> hashes=<n> threads=<k>":
 * the time of one hash while the others run.  The CPUs share caches and
 * memory bandwidth (and, on a virtual machine, whatever the host gives
 * them), so on many machines this is longer than a hash alone, and the CPUs
 * ÷ the time of one hash alone is a rate no program reaches.
 */
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 5
#define MAX_BATCHES 1000
#define MAX_THREADS 256

typedef struct {
    uint32_t m, t, p;
    double   seconds;
} bench_params_t;

typedef struct {
    const bench_params_t *params;
    pthread_barrier_t    *start;
    int                   id;
    long                  hashes;
    int                   failed;
    double                t0, t1;
} bench_thread_t;


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


/* One hash; the salt varies with n so that no two are the same work. */
static int
hash_once(const bench_params_t *bp, long n)
{
    const char    pw[] = "velvet orbit canyon 42";
    unsigned char salt[16];
    char          enc[256];
    int           rc;

    memset(salt, 0x5a, sizeof(salt));
    memcpy(salt, &n, sizeof(n));
    rc = argon2id_hash_encoded(bp->t, bp->m, bp->p, pw, sizeof(pw) - 1, salt,
                               sizeof(salt), 32, enc, sizeof(enc));
    if (rc != ARGON2_OK) {
        fprintf(stderr, "argon2bench: %s\n", argon2_error_message(rc));
        return -1;
    }
    return 0;
}


static int
bench_alone(const bench_params_t *bp)
{
    static double batch_us[MAX_BATCHES];
    double        start, t0;
    int           n = 0, i;

    /* one hash first: the memory's first touch is not a login's */
    if (hash_once(bp, -1) != 0) {
        return 1;
    }
    start = now_us();
    while (n < MAX_BATCHES && (n == 0 || now_us() - start < bp->seconds * 1e6)) {
        t0 = now_us();
        for (i = 0; i < BATCH; i++) {
            if (hash_once(bp, (long) n * BATCH + i) != 0) {
                return 1;
            }
        }
        batch_us[n++] = (now_us() - t0) / BATCH;
    }
    qsort(batch_us, (size_t) n, sizeof(batch_us[0]), cmp_double);
    printf("hash_us=%.0f hashes=%d\n", batch_us[n / 2], n * BATCH);
    return 0;
}


static void *
bench_thread(void *arg)
{
    bench_thread_t *bt = arg;
    long            base = (long) bt->id << 32;

    if (hash_once(bt->params, base - 1) != 0) {
        bt->failed = 1;
    }
    pthread_barrier_wait(bt->start);
    bt->t0 = now_us();
    do {
        if (bt->failed || hash_once(bt->params, base + bt->hashes) != 0) {
            bt->failed = 1;
            break;
        }
        bt->hashes++;
        bt->t1 = now_us();
    } while (bt->t1 - bt->t0 < bt->params->seconds * 1e6);
    return NULL;
}


static int
bench_together(const bench_params_t *bp, int threads)
{
    static bench_thread_t bt[MAX_THREADS];
    static pthread_t      tid[MAX_THREADS];
    pthread_barrier_t     start;
    double                busy_us = 0;
    long                  hashes = 0;
    int                   i, failed = 0;

    if (pthread_barrier_init(&start, NULL, (unsigned) threads) != 0) {
        fprintf(stderr, "argon2bench: no barrier\n");
        return 1;
    }
    for (i = 0; i < threads; i++) {
        bt[i].params = bp;
        bt[i].start = &start;
        bt[i].id = i;
        if (pthread_create(&tid[i], NULL, bench_thread, &bt[i]) != 0) {
            fprintf(stderr, "argon2bench: cannot start thread %d\n", i);
            return 1; /* the barrier never opens: exit, not join */
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        failed |= bt[i].failed;
        hashes += bt[i].hashes;
        busy_us += bt[i].t1 - bt[i].t0;
    }
    pthread_barrier_destroy(&start);
    if (failed || hashes == 0) {
        return 1;
    }
    /* each thread's own span: one that finished its last hash late is
     * counted for as long as it hashed */
    printf("hash_us=%.0f hashes=%ld threads=%d\n", busy_us / (double) hashes,
           hashes, threads);
    return 0;
}


int
main(int argc, char **argv)
{
    bench_params_t bp;
    int            threads = 0;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: argon2bench MEMORY_KIB ITERATIONS "
                        "PARALLELISM SECONDS [THREADS]\n");
        return 2;
    }
    bp.m = (uint32_t) strtoul(argv[1], NULL, 10);
    bp.t = (uint32_t) strtoul(argv[2], NULL, 10);
    bp.p = (uint32_t) strtoul(argv[3], NULL, 10);
    bp.seconds = strtod(argv[4], NULL);
    if (argc == 6) {
        threads = atoi(argv[5]);
    }
    if (bp.m == 0 || bp.t == 0 || bp.p == 0 || bp.seconds <= 0 ||
        (argc == 6 && (threads < 1 || threads > MAX_THREADS))) {
        fprintf(stderr, "argon2bench: bad arguments\n");
        return 2;
    }
    return argc == 6 ? bench_together(&bp, threads) : bench_alone(&bp);
}
