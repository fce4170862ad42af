/* bench_scale.h — the figures of `p2plab bench scale`: CPU seconds and peak RSS against the
 * number of nodes, log-log, one line per protocol. */
#ifndef P2PLAB_PLOT_BENCH_SCALE_H
#define P2PLAB_PLOT_BENCH_SCALE_H

#include <stdbool.h>
#include <stddef.h>

/* The figures' file stems; each is written as STEM.csv and STEM.gp, and drawn as STEM.png and
 * STEM.svg. */
#define PLOT_SCALE_FIGURES "scale-cpu", "scale-rss"

/* One measured run (runs that hit a limit are not passed in). */
struct plot_scale_point {
    const char *proto;
    double nodes;
    double cpu_s;                     /* user + system seconds */
    double rss_mb;                    /* peak resident set, MB (2^20 bytes) */
};

/* Writes the figures' data and scripts into folder `dir` and, when `draw`, draws them there
 * through gnuplot. `note` is the figures' second title line ("" for none). Returns 0; 1 when
 * gnuplot could not be run (data and scripts written, no images); -1 with err set when a file
 * could not be written or gnuplot reported an error. */
int plot_scale_write(const char *dir, const struct plot_scale_point *p, size_t n,
                     const char *note, bool draw, char *err, size_t errlen);

#endif
