/* rng.c — per-component GSL streams, seeded by hashing (seed, component name). */
#include "sim/rng.h"

#include <stdio.h>
#include <stdlib.h>

uint64_t rng_mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint64_t rng_replica_seed(uint64_t seed, uint32_t replica)
{
    /* seed, seed + 1, ...: replica r can be re-run alone with --seed; the streams themselves
     * are hashed from the seed, so neighbouring seeds are independent */
    return seed + replica;
}

gsl_rng *rng_stream(uint64_t seed, const char *component)
{
    uint64_t h = UINT64_C(1469598103934665603);      /* FNV-1a over the name */
    for (const char *c = component; *c; c++)
        h = (h ^ (unsigned char)*c) * UINT64_C(1099511628211);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) {
        fprintf(stderr, "p2plab: out of memory allocating the random stream \"%s\"\n", component);
        exit(1);
    }
    /* mt19937 takes an unsigned long seed; 0 selects GSL's default seed, so avoid it. */
    unsigned long s = (unsigned long)rng_mix(seed ^ rng_mix(h));
    gsl_rng_set(r, s ? s : 1);
    return r;
}
