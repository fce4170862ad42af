/* figures.h — which figures a results folder calls for, built from its files.
 *
 * Each builder looks at what the results contain (a sweep over nodes, over churn, a crash event,
 * a cdf.csv, BitTorrent gauges, the scenario's plots: entries) and adds the figures that fit, in
 * a fixed order; a figure whose data is absent is not made. */
#ifndef P2PLAB_PLOT_FIGURES_H
#define P2PLAB_PLOT_FIGURES_H

#include <stdbool.h>
#include <stddef.h>

#include "plots/figure.h"
#include "plots/results.h"

struct plot_figs {
    struct plot_figure **f;
    size_t n;
};

/* Takes f; a figure without points (or NULL) is dropped. */
void plot_figs_add(struct plot_figs *l, struct plot_figure *f);
void plot_figs_free(struct plot_figs *l);

/* Against a swept key: hops, messages, bandwidth, state and success against N (with the
 * theoretical curves), success against a churn key, and the cost-performance plane. */
void plot_figures_sweep(const struct plot_results *r, struct plot_figs *out);
/* Distributions and time: the lookup latency CDF, success over time around a crash, and
 * BitTorrent's download-time CDF and gauges. */
void plot_figures_time(const struct plot_results *r, struct plot_figs *out);
/* The scenario's own plots: entries. */
void plot_figures_scenario(const struct plot_results *r, struct plot_figs *out);

/* metric (mean and CI over replicas) against swept key `axis`, one line per protocol and
 * combination of the other swept keys, over the cells in mask (NULL: all). NULL when the
 * metric is absent. logx: the axis's base, 0 for linear, < 0 for "2 when it is nodes". */
struct plot_figure *plot_fig_vs_axis(const struct plot_results *r, int axis, const char *metric,
                                     const bool *mask, const char *name, const char *title,
                                     double logx, double logy);

/* metric per interval of timeseries.csv (a metric name such as lookup.success_rate, or a
 * column name) against time, one line per cell in mask (NULL: all), mean over replicas, with
 * the scenario's crashes marked. NULL when the file or the column is absent. */
struct plot_figure *plot_fig_over_time(const struct plot_results *r, const char *metric,
                                       const bool *mask, const char *name, const char *title);

/* The time series of several replicas averaged per instant: x kept sorted. */
struct plot_tavg {
    double *x, *sum;
    size_t *n;
    size_t len, cap;
};
void plot_tavg_add(struct plot_tavg *t, double x, double v);     /* NaN values are left out */
void plot_tavg_free(struct plot_tavg *t);

/* The scenario's mass crashes (churn.events with crash:): when, in seconds, and "crash of 50%". */
size_t plot_crashes(const struct plot_results *r, double *at_s, char (*text)[48], size_t max);
/* The unit that suits a span of time: its name and length in seconds ("min", 60). */
const char *plot_time_unit(double span_s, double *unit_s);
/* A file-name-safe stem: letters, digits and '-' ("lookup.hops.mean" -> "lookup-hops-mean"). */
void plot_stem(const char *in, char *out, size_t len);

#endif
