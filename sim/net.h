/* net.h — the network model: one-way latency between hosts and message loss.
 *
 * Latencies are stable per pair for the whole run (a pair's delay is a hash of the pair under
 * the run's seed, or a distance), and symmetric. Host h is node slot h; the introducer is the
 * extra host `hosts - 1`. */
#ifndef P2PLAB_NET_H
#define P2PLAB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "sim/matrix.h"
#include "sim/scenario.h"

/* euclidean: one host's place and access link, read together by every delay: one cache line,
 * not three */
struct net_host {
    float x, y;                       /* position in the unit square */
    float access_us;                  /* access delay, each way */
    float pad;
};

struct net {
    enum latency_model model;
    int64_t mean_us, min_us, max_us;  /* constant / uniform */
    double mu, sigma;                 /* lognormal: ln(delay in us) ~ N(mu, sigma) */
    uint32_t hosts;
    struct net_host *host;            /* euclidean: per host */
    double scale_us;                  /* euclidean: microseconds per unit of distance */
    struct latency_matrix matrix;     /* matrix: hosts of the file */
    uint32_t *matrix_host;            /* matrix: which matrix host each host sits on */
    double loss;
    uint64_t pair_seed;               /* hashing key for per-pair values */
    gsl_rng *rng;                     /* placement and loss */
};

/* 0, or -1 with a message in err. */
int net_init(struct net *n, const struct scn_network *cfg, uint32_t hosts, uint64_t seed,
             char *err, size_t errlen);
void net_free(struct net *n);
int64_t net_delay(const struct net *n, uint32_t a, uint32_t b);  /* one way, microseconds */
bool net_lost(struct net *n);
/* A hint that delays from host h are about to be asked for: brings its place into the cache. */
static inline void net_prefetch(const struct net *n, uint32_t h)
{
    if (n->host)
        __builtin_prefetch(&n->host[h]);
}

/* Mean distance between two uniform points of the unit square (for scaling euclidean). */
#define NET_UNIT_SQUARE_MEAN_DISTANCE 0.5214054331647207

#endif
