/* run.h — one run of one cell: a scenario, a protocol, a seed → metrics and a time series. */
#ifndef P2PLAB_RUN_H
#define P2PLAB_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"
#include "sim/stats.h"

struct run_result {
    double metric[M_COUNT];           /* NaN where undefined (e.g. no successful lookup) */
    struct ts_bucket *ts;             /* time series, n_ts intervals of scenario.sample_us */
    size_t n_ts;
    uint64_t hop_hist[STATS_HOPS_MAX];
    const char *const *counter_name;  /* the protocol's counters (NULL-terminated), or NULL */
    uint64_t counter[16];             /* their values, in [warmup, duration) */
    const char *const *gauge_name;    /* the protocol's gauges (NULL-terminated), or NULL;
                                         their values are in ts[k].gauge */
    double gauge_mean[STATS_GAUGES_MAX];      /* each gauge's mean over the samples taken in
                                                 (warmup, duration] where it was defined */
    double cdf[CDF_COUNT][STATS_CDF_POINTS];  /* quantiles 0, 0.01, ..., 1; NaN when empty */
    double wall_s, events_per_s, peak_rss_mb;  /* what the machine measured: perf.csv only */
};

struct trace_opts;

struct run_progress {
    const char *label;                /* "chord nodes=1024 replica 2/5" */
    bool show;                        /* draw a progress line on stderr */
    const struct trace_opts *trace;   /* NULL, or what to trace (p2plab trace) */
};

/* Runs protocol sc->protocols[proto] of the resolved scenario with `seed`. 0, or -1 with a
 * message in err (e.g. a latency matrix that cannot be read, a protocol without converge). */
int run_cell(const struct scenario *sc, size_t proto, uint64_t seed,
             const struct run_progress *pg, struct run_result *out, char *err, size_t errlen);
/* The same with protocol p in place of the registry's (tests: a protocol made for the test). */
struct protocol;
int run_cell_with(const struct protocol *p, const struct scenario *sc, size_t proto, uint64_t seed,
                  const struct run_progress *pg, struct run_result *out, char *err, size_t errlen);
void run_result_free(struct run_result *r);

#endif
