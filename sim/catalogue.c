/* catalogue.c — shared files drawn by a replication rule, and live holder counts. */
#include "sim/catalogue.h"

#include <math.h>
#include <stdlib.h>

#include "sim/mem.h"
#include "sim/rng.h"

double catalogue_weight(const struct scn_workload *w, uint32_t rank)
{
    double q = w->popularity == POP_ZIPF ? pow((double)rank + 1, -w->alpha) : 1.0;
    switch (w->replication) {
    case REPL_UNIFORM: return 1.0;
    case REPL_PROPORTIONAL: return q;
    case REPL_SQRT: return sqrt(q);
    }
    return 1.0;
}

int catalogue_init(struct catalogue *c, const struct scn_workload *w, const uint64_t *ids,
                   node_t cap, uint64_t seed)
{
    *c = (struct catalogue){ .files = w->files, .per_node = w->files_per_node, .id = ids };
    if (c->per_node > c->files)
        c->per_node = c->files;
    c->rng = rng_stream(seed, "catalogue");
    c->cdf = mem_calloc(c->files, sizeof *c->cdf, "the file catalogue");
    c->holders = mem_calloc(c->files, sizeof *c->holders, "the file holders");
    c->shared_id = mem_calloc((size_t)cap * c->per_node, sizeof *c->shared_id, "shared files");
    c->shared_rank = mem_calloc((size_t)cap * c->per_node, sizeof *c->shared_rank, "shared files");
    double sum = 0;
    for (uint32_t i = 0; i < c->files; i++)
        c->cdf[i] = (sum += catalogue_weight(w, i));
    for (uint32_t i = 0; i < c->files; i++)
        c->cdf[i] /= sum;
    return 0;
}

void catalogue_free(struct catalogue *c)
{
    free(c->cdf);
    free(c->holders);
    free(c->shared_id);
    free(c->shared_rank);
    if (c->rng)
        gsl_rng_free(c->rng);
    *c = (struct catalogue){ 0 };
}

/* A rank drawn with probability r_i / sum r (binary search on the cumulative weights). */
static uint32_t draw_rank(const struct catalogue *c)
{
    double u = gsl_rng_uniform(c->rng);
    uint32_t lo = 0, hi = c->files - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->cdf[mid] <= u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void catalogue_draw(struct catalogue *c, node_t n)
{
    uint32_t *rank = &c->shared_rank[(size_t)n * c->per_node];
    uint64_t *id = &c->shared_id[(size_t)n * c->per_node];
    uint32_t have = 0, tries = 0;
    while (have < c->per_node) {
        uint32_t r = draw_rank(c);
        /* distinct files: redraw a duplicate; after many duplicates (a list nearly as long as
         * a heavily skewed catalogue) take the next rank not yet listed */
        if (++tries > 50 * c->per_node)
            for (r = 0;; r++) {
                bool dup = false;
                for (uint32_t k = 0; k < have && !dup; k++)
                    dup = rank[k] == r;
                if (!dup)
                    break;
            }
        bool dup = false;
        for (uint32_t k = 0; k < have && !dup; k++)
            dup = rank[k] == r;
        if (dup)
            continue;
        rank[have] = r;
        id[have] = c->id[r];
        have++;
    }
}

void catalogue_count(struct catalogue *c, node_t n, int delta)
{
    const uint32_t *rank = &c->shared_rank[(size_t)n * c->per_node];
    for (uint32_t k = 0; k < c->per_node; k++)
        c->holders[rank[k]] += (uint32_t)delta;
}

bool catalogue_shares(const struct catalogue *c, node_t n, uint64_t file)
{
    const uint64_t *id = &c->shared_id[(size_t)n * c->per_node];
    for (uint32_t k = 0; k < c->per_node; k++)
        if (id[k] == file)
            return true;
    return false;
}
