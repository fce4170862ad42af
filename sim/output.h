/* output.h — a results folder: summary.yaml and the CSV files (OUT_FILES).
 *
 * Files are written into a hidden staging folder inside the destination and renamed into place
 * only when every one of them is complete, so a failed run leaves no partial output. Existing
 * files of the same names are replaced only when the caller passes force. */
#ifndef P2PLAB_OUTPUT_H
#define P2PLAB_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/run.h"
#include "sim/scenario.h"

/* One cell: a protocol at one sweep point, with every replica's result. */
struct out_cell {
    size_t proto;                     /* index into the scenario's protocols */
    size_t point;                     /* sweep point */
    struct scenario sc;               /* that point, resolved */
    struct run_result *rep;           /* replicas results */
    uint64_t *seed;                   /* replicas seeds */
    uint32_t n_rep;
};

struct out_set {
    const struct scn_doc *doc;
    const struct scenario *base;      /* point 0, resolved: echoed in summary.yaml */
    struct out_cell *cell;
    size_t n_cell;
};

#define OUT_FILES "summary.yaml", "runs.csv", "timeseries.csv", "hops.csv", "counters.csv", \
                  "gauges.csv", "cdf.csv", "perf.csv"

struct out_dir {
    char dir[1024];                   /* destination */
    char tmp[1100];                   /* staging folder inside it */
};

/* Whether a run may write its results into dir, creating nothing: dir does not exist yet, or
 * is a folder without results (any with force). 0, or -1 with a message in err. */
int out_check(const char *dir, bool force, char *err, size_t errlen);
/* Prepares `dir` (created if missing). Fails, with a message saying what to do, if the folder
 * cannot be written or already holds result files and !force. 0 or -1. */
int out_begin(struct out_dir *d, const char *dir, bool force, char *err, size_t errlen);
/* Writes every file of `set` into the staging folder, then moves them all into place. */
int out_write(struct out_dir *d, const struct out_set *set, char *err, size_t errlen);
/* Removes the staging folder and whatever it holds (after a failure). */
void out_abort(struct out_dir *d);

/* Mean and 95% confidence half-width (Student t) of the non-NaN values; n is their count. */
void out_ci(const double *v, size_t n_values, double *mean, double *ci95, size_t *n);
/* A number as it appears in CSV and YAML: "%.10g", "nan" for NaN. */
void out_number(double v, char *buf, size_t len);
/* An expectation of the scenario (expect:) judged against the results: the mean over the
 * cell's replicas, its 95% half-width, and whether the mean lies within the tolerance. */
enum out_verdict { OUT_WITHIN, OUT_OUTSIDE, OUT_NO_DATA };
extern const char *const out_verdict_name[];          /* "within", "outside", "no data" */
struct out_judged {
    double mean, ci95;
    size_t n;                         /* replicas where the metric is defined */
    enum out_verdict verdict;
    char cell[256];                   /* "chord nodes=1024" */
};
void out_judge(const struct out_set *set, size_t i, struct out_judged *j);

/* The end-of-run table on `f`. */
void out_table(FILE *f, const struct out_set *set);

#endif
