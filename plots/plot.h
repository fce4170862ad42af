/* plot.h — figures and a report from a results folder, reading only its files.
 *
 * plot_render(DIR) writes, for every figure the results call for, DIR/plots/NAME.csv (the data),
 * DIR/plots/NAME.gp (a standalone gnuplot script) and, through gnuplot, NAME.png and NAME.svg;
 * then DIR/report.md. Every file is written in a staging folder and renamed into place. The same
 * results always give the same files, so rendering again reproduces them byte for byte. */
#ifndef P2PLAB_PLOT_H
#define P2PLAB_PLOT_H

#include <stdbool.h>
#include <stddef.h>

enum plot_status {
    PLOT_OK = 0,
    PLOT_NO_GNUPLOT = 1,              /* data, scripts and report written; no images */
    PLOT_FAILED = -1,                 /* err says why */
    PLOT_NOT_RESULTS = -2,            /* DIR is not a results folder; err says why */
};

struct plot_done {
    size_t figures;                   /* figures written */
};

enum plot_status plot_render(const char *dir, struct plot_done *done, char *err, size_t errlen);
/* True when `gnuplot --version` runs. */
bool plot_gnuplot_found(void);

#endif
