/* results.h — a results folder read back for plotting: the resolved scenario from
 * summary.yaml, and from runs.csv the cells (protocol x sweep point) with each metric's mean and
 * 95% confidence half-width across replicas.
 *
 * Only result files are read, never the simulator's state: a folder copied to another machine
 * plots the same. Columns are found by their header names. */
#ifndef P2PLAB_PLOT_RESULTS_H
#define P2PLAB_PLOT_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include "plots/csv.h"
#include "plots/yaml.h"

#define PLOT_MAX_AXES 8

/* One swept key: its values as written, and where each sits on a plotted axis. */
struct plot_axis {
    char path[128];                   /* as in runs.csv: "nodes", "churn.session.median" */
    char **value;                     /* in sweep order (first appearance in runs.csv) */
    double *x;                        /* the value on a plot axis (in `unit`); its index if
                                         categorical */
    size_t n_value;
    bool categorical;                 /* words such as iterative/recursive */
    char unit[8];                     /* durations: "ms", "s", "min", "h" or "d"; else "" */
};

struct plot_cell {
    size_t proto;                     /* index into plot_results.proto */
    size_t vi[PLOT_MAX_AXES];         /* value index on each axis */
    size_t n_rep;                     /* rows of runs.csv */
    double *mean, *ci;                /* per metric; NaN where undefined (ci: fewer than 2) */
};

struct plot_results {
    char dir[1024];
    struct ytree *summary;
    const struct ytree *scenario; /* the resolved scenario echoed in summary.yaml */
    char name[128];
    char **proto;                     /* protocol names in output order */
    size_t n_proto;
    struct plot_axis axis[PLOT_MAX_AXES];
    size_t n_axes;
    int nodes_axis;                   /* the axis sweeping nodes, or -1 */
    char **metric;                    /* runs.csv's metric columns */
    size_t n_metric;
    struct plot_cell *cell;           /* in output order */
    size_t n_cell;
};

/* Reads DIR/summary.yaml and DIR/runs.csv. 0, or -1 with "DIR: error: ... what to do" in err. */
int plot_results_load(struct plot_results *r, const char *dir, char *err, size_t errlen);
void plot_results_free(struct plot_results *r);

int plot_metric(const struct plot_results *r, const char *name);   /* index or -1 */
int plot_axis_find(const struct plot_results *r, const char *path);  /* "nodes" = "nodes.count" */
int plot_proto_find(const struct plot_results *r, const char *name);
/* True when some cell of metric m has a finite mean. */
bool plot_metric_present(const struct plot_results *r, int m);
/* The index of the value of axis a with the largest x (the largest N). */
size_t plot_axis_max(const struct plot_results *r, int a);

/* Cells that share a protocol and every axis value except `skip_axis` form one series (a line
 * over that axis; -1 skips none). Sets group[i] for every cell (SIZE_MAX where mask[i] is false,
 * mask may be NULL) and returns the number of groups, numbered in output order. */
size_t plot_group(const struct plot_results *r, int skip_axis, const bool *mask, size_t *group);
/* "chord", or "chord (churn.session.median=30min)": the protocol and the values of the axes
 * other than skip_axis that vary among the cells in mask (NULL: all). No commas in it. */
void plot_cell_label(const struct plot_results *r, size_t cell, int skip_axis, const bool *mask,
                     char *buf, size_t len);

/* Locating a row of timeseries.csv, cdf.csv or gauges.csv: its protocol and sweep columns. */
struct plot_rowkey {
    int proto_col;
    int axis_col[PLOT_MAX_AXES];
    char last[512];                   /* the previous row's key fields, joined */
    int last_cell;                    /* and its cell: rows come in runs of one cell */
};
/* 0, or -1 when the file lacks one of the columns. */
int plot_rowkey_init(const struct plot_results *r, const struct plot_csv *c, struct plot_rowkey *k);
/* The cell of the current row, or -1. */
int plot_rowkey_cell(const struct plot_results *r, struct plot_rowkey *k,
                     const struct plot_csv *c);

/* Reads a duration as written in the scenario ("20min") into seconds; NaN if it is not one. */
double plot_seconds(const char *text);

#endif
