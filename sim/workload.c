/* workload.c — keys inserted at t = 0 and their popularity (uniform or Zipf). */
#include "sim/workload.h"

#include <math.h>
#include <stdlib.h>

#include "sim/rng.h"

/* log1p(x) / x and expm1(x) / x, continuous at 0 (so alpha = 1 needs no special case). */
static double log1p_over(double x) { return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x / 2; }
static double expm1_over(double x) { return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x / 2; }

/* H(x) = integral of t^-alpha from 1 to x; H^-1 its inverse; h(x) = x^-alpha. */
static double zipf_H(const struct zipf *z, double x)
{
    double lx = log(x);
    return expm1_over((1 - z->alpha) * lx) * lx;
}

static double zipf_Hinv(const struct zipf *z, double y)
{
    return exp(log1p_over((1 - z->alpha) * y) * y);
}

static double zipf_h(const struct zipf *z, double x) { return exp(-z->alpha * log(x)); }

void zipf_init(struct zipf *z, uint64_t n, double alpha)
{
    z->n = n;
    z->alpha = alpha;
    z->h_x1 = zipf_H(z, 1.5) - 1;
    z->h_n = zipf_H(z, (double)n + 0.5);
    z->s = 2 - zipf_Hinv(z, zipf_H(z, 2.5) - zipf_h(z, 2));
}

uint64_t zipf_sample(const struct zipf *z, gsl_rng *r)
{
    for (;;) {
        double u = z->h_n + gsl_rng_uniform(r) * (z->h_x1 - z->h_n);
        double x = zipf_Hinv(z, u);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        else if (k > (double)z->n)
            k = (double)z->n;
        if (k - x <= z->s || u >= zipf_H(z, k + 0.5) - zipf_h(z, k))
            return (uint64_t)k;
    }
}

int workload_init(struct workload *w, const struct scn_workload *cfg, uint32_t n_items,
                  uint64_t seed)
{
    *w = (struct workload){ .n_keys = n_items, .popularity = cfg->popularity };
    w->rng = rng_stream(seed, "workload");
    w->keys = malloc((size_t)n_items * sizeof *w->keys + 1);
    if (!w->keys)
        return -1;
    for (uint32_t i = 0; i < n_items; i++) {
        uint64_t hi = gsl_rng_get(w->rng);     /* two statements: C leaves the order of */
        uint64_t lo = gsl_rng_get(w->rng);     /* calls within one expression unspecified */
        w->keys[i] = (hi << 32) ^ lo;
    }
    if (cfg->popularity == POP_ZIPF)
        zipf_init(&w->zipf, n_items, cfg->alpha);
    return 0;
}

void workload_free(struct workload *w)
{
    free(w->keys);
    if (w->rng)
        gsl_rng_free(w->rng);
    *w = (struct workload){ 0 };
}

uint32_t workload_pick(struct workload *w)
{
    return (uint32_t)(w->popularity == POP_ZIPF ? zipf_sample(&w->zipf, w->rng) - 1
                                                : gsl_rng_uniform_int(w->rng, w->n_keys));
}
