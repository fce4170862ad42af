/* net.c — latency models (constant, uniform, lognormal, euclidean, matrix) and loss. */
#include "sim/net.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "sim/mem.h"
#include "sim/rng.h"

/* A uniform (0, 1) value fixed for the unordered pair {a, b}. */
static double pair_uniform(const struct net *n, uint32_t a, uint32_t b)
{
    uint64_t lo = a < b ? a : b, hi = a < b ? b : a;
    uint64_t h = rng_mix(n->pair_seed ^ rng_mix((hi << 32) | lo));
    return ((double)(h >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

int net_init(struct net *n, const struct scn_network *cfg, uint32_t hosts, uint64_t seed,
             char *err, size_t errlen)
{
    *n = (struct net){ .model = cfg->model, .mean_us = cfg->mean_us, .min_us = cfg->min_us,
                       .max_us = cfg->max_us, .hosts = hosts, .loss = cfg->loss };
    n->rng = rng_stream(seed, "network");
    n->pair_seed = rng_mix(seed ^ UINT64_C(0x6e6574776f726b));
    switch (cfg->model) {
    case LAT_CONSTANT:
    case LAT_UNIFORM:
        break;
    case LAT_LOGNORMAL:
        /* mean = exp(mu + sigma^2 / 2) */
        n->sigma = cfg->sigma;
        n->mu = log((double)(cfg->mean_us > 0 ? cfg->mean_us : 1)) - cfg->sigma * cfg->sigma / 2;
        break;
    case LAT_EUCLIDEAN: {
        double access = (double)cfg->access_us;
        double spare = (double)cfg->mean_us - 2 * access;
        if (spare <= 0) {
            snprintf(err, errlen, "network.latency: the mean (%.3f ms) must exceed twice the "
                     "access delay (%.3f ms) for the euclidean model",
                     cfg->mean_us / 1e3, access / 1e3);
            net_free(n);
            return -1;
        }
        n->scale_us = spare / NET_UNIT_SQUARE_MEAN_DISTANCE;
        n->host = malloc(hosts * sizeof *n->host);
        if (!n->host) {
            snprintf(err, errlen, "out of memory placing %u hosts", hosts);
            net_free(n);
            return -1;
        }
        mem_advise_huge(n->host, hosts * sizeof *n->host);
        for (uint32_t h = 0; h < hosts; h++) {
            struct net_host *p = &n->host[h];
            p->x = (float)gsl_rng_uniform(n->rng);
            p->y = (float)gsl_rng_uniform(n->rng);
            /* access links: exponential around the configured mean */
            p->access_us = access > 0 ? (float)gsl_ran_exponential(n->rng, access) : 0.0f;
            p->pad = 0.0f;
        }
        break;
    }
    case LAT_MATRIX:
        if (matrix_load(cfg->matrix, &n->matrix, err, errlen) != 0) {
            n->model = LAT_CONSTANT;          /* nothing of the matrix to free */
            net_free(n);
            return -1;
        }
        n->matrix_host = malloc(hosts * sizeof *n->matrix_host);
        if (!n->matrix_host) {
            snprintf(err, errlen, "out of memory mapping %u hosts", hosts);
            net_free(n);
            return -1;
        }
        for (uint32_t h = 0; h < hosts; h++)
            n->matrix_host[h] = (uint32_t)gsl_rng_uniform_int(n->rng, n->matrix.hosts);
        break;
    }
    return 0;
}

void net_free(struct net *n)
{
    free(n->host);
    free(n->matrix_host);
    if (n->model == LAT_MATRIX)
        matrix_free(&n->matrix);
    if (n->rng)
        gsl_rng_free(n->rng);
    *n = (struct net){ 0 };
}

int64_t net_delay(const struct net *n, uint32_t a, uint32_t b)
{
    switch (n->model) {
    case LAT_CONSTANT:
        return n->mean_us;
    case LAT_UNIFORM:
        return n->min_us + (int64_t)(pair_uniform(n, a, b) * (double)(n->max_us - n->min_us));
    case LAT_LOGNORMAL:
        return (int64_t)exp(n->mu + n->sigma * gsl_cdf_ugaussian_Pinv(pair_uniform(n, a, b)));
    case LAT_EUCLIDEAN: {
        if (a == b)
            return 0;
        const struct net_host *p = &n->host[a], *q = &n->host[b];
        double dx = p->x - q->x, dy = p->y - q->y;
        return (int64_t)(p->access_us + q->access_us + n->scale_us * sqrt(dx * dx + dy * dy));
    }
    case LAT_MATRIX: {
        uint32_t ha = n->matrix_host[a], hb = n->matrix_host[b];
        return (int64_t)(n->matrix.ms[(size_t)ha * n->matrix.hosts + hb] * 1000.0);
    }
    }
    return n->mean_us;
}

bool net_lost(struct net *n)
{
    return n->loss > 0 && gsl_rng_uniform(n->rng) < n->loss;
}
