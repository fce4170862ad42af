/* labels.h — what a metric or a swept key is called on an axis, with its unit. */
#ifndef P2PLAB_PLOT_LABELS_H
#define P2PLAB_PLOT_LABELS_H

#include <stddef.h>

#include "plots/results.h"

/* The axis label of a metric ("lookup latency, mean (ms)") and the factor its values are
 * multiplied by on that axis (100 for shares shown in %). Unknown names label themselves. */
double plot_metric_label(const char *metric, char *buf, size_t len);
/* The axis label of a swept key: "nodes (N)", "churn.session.median (min)". */
void plot_axis_label(const struct plot_results *r, int axis, char *buf, size_t len);
/* The timeseries.csv column holding `metric` per interval ("success_rate" for
 * lookup.success_rate), or NULL when there is none. */
const char *plot_ts_column(const char *metric);

#endif
