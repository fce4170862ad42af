/* report.h — report.md: the scenario's settings, a table per metric that matters (protocol rows,
 * sweep-point columns, mean ± 95% CI), and every figure. Plain Markdown with aligned columns, so
 * it reads on a Git forge and in a terminal alike. */
#ifndef P2PLAB_PLOT_REPORT_H
#define P2PLAB_PLOT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "plots/figures.h"
#include "plots/results.h"

/* drawn: false when gnuplot was missing (the report then says how to draw the images). */
void plot_report_write(const struct plot_results *r, const struct plot_figs *figs, bool drawn,
                       FILE *out);
/* The results subfolder of a companion scenario (also:): its file name without .yaml; the
 * folder's length, 0 if none. */
size_t plot_companion_folder(const char *given, char *folder, size_t len);

#endif
