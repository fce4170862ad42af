/* workload.h — the keys, their popularity, and which key the next lookup asks for. */
#ifndef P2PLAB_WORKLOAD_H
#define P2PLAB_WORKLOAD_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "sim/scenario.h"

/* Zipf(alpha) over ranks 1..n by rejection-inversion (Hörmann & Derflinger, 1996): O(1) memory
 * and expected O(1) time, so catalogues of 10^9 keys need no table. */
struct zipf {
    uint64_t n;
    double alpha;
    double h_x1, h_n, s;              /* H(1.5) - 1, H(n + 0.5), the squeeze bound */
};

void zipf_init(struct zipf *z, uint64_t n, double alpha);
uint64_t zipf_sample(const struct zipf *z, gsl_rng *r);  /* a rank in 1..n */

struct workload {
    uint64_t *keys;                   /* identifiers of the keys inserted at t = 0 */
    uint32_t n_keys;
    enum popularity popularity;
    struct zipf zipf;
    gsl_rng *rng;                     /* keys, choices of origin and key, arrival times */
};

/* n_items identifiers: the keys (workload.keys) for the DHTs, the files (workload.files.count)
 * of the catalogue for the unstructured systems; popularity ranks them in this order. */
int workload_init(struct workload *w, const struct scn_workload *cfg, uint32_t n_items,
                  uint64_t seed);
void workload_free(struct workload *w);
uint32_t workload_pick(struct workload *w);      /* the rank of the next item asked for */

#endif
