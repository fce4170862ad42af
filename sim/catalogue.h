/* catalogue.h — the files that unstructured systems search, and who shares which.
 *
 * File i (rank i by query popularity q_i, from workload.popularity) has the identifier
 * keys[i] of the workload. Each node shares files_per_node distinct files drawn with
 * probability proportional to r_i = 1, q_i or sqrt(q_i) (workload.files.replication; Cohen &
 * Shenker 2002), drawn afresh whenever it (re)joins. A node knows its own list
 * (sim_node_files); the holder counts are global truth, for measurement only. */
#ifndef P2PLAB_CATALOGUE_H
#define P2PLAB_CATALOGUE_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "sim/scenario.h"
#include "sim/sim.h"

struct catalogue {
    uint32_t files, per_node;
    const uint64_t *id;               /* file identifiers (the workload's keys), by rank */
    double *cdf;                      /* cumulative r_i / sum r, by rank */
    uint64_t *shared_id;              /* slot n's files: [n * per_node, (n + 1) * per_node) */
    uint32_t *shared_rank;            /* ... and their ranks */
    uint32_t *holders;                /* per file: nodes in the overlay that share it */
    gsl_rng *rng;                     /* the "catalogue" stream */
};

/* ids: the workload's keys (files of them); cap: node slots. 0, or -1 out of memory. */
int catalogue_init(struct catalogue *c, const struct scn_workload *w, const uint64_t *ids,
                   node_t cap, uint64_t seed);
void catalogue_free(struct catalogue *c);
/* Slot n gets a fresh list of files. */
void catalogue_draw(struct catalogue *c, node_t n);
/* Slot n enters (+1) or leaves (-1) the overlay: its files' holder counts follow. */
void catalogue_count(struct catalogue *c, node_t n, int delta);
bool catalogue_shares(const struct catalogue *c, node_t n, uint64_t file);
/* The relative weight r_i of rank i under the replication rule (exposed for tests). */
double catalogue_weight(const struct scn_workload *w, uint32_t rank);

#endif
