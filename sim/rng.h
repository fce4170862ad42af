/* rng.h — independent GSL random streams per component, derived from the scenario seed.
 *
 * Each component (network, churn, workload, protocol, ...) draws from its own stream, so that
 * changing how much one of them draws does not reshuffle the others: two protocols compared on
 * the same seed see the same churn and the same lookups (common random numbers). */
#ifndef P2PLAB_RNG_H
#define P2PLAB_RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* A new stream for `component` under `seed`; aborts with a message if GSL cannot allocate. */
gsl_rng *rng_stream(uint64_t seed, const char *component);
/* The seed of replica r of a scenario whose seed is `seed`. */
uint64_t rng_replica_seed(uint64_t seed, uint32_t replica);
/* A well-mixed 64-bit hash (splitmix64's finaliser), for per-pair stable values. */
uint64_t rng_mix(uint64_t x);

#endif
