/* validation.h — `p2plab validate`'s table: every expectation (expect:) of the scenarios it ran,
 * read back from each results folder's summary.yaml, paper against p2plab. */
#ifndef P2PLAB_PLOT_VALIDATION_H
#define P2PLAB_PLOT_VALIDATION_H

#include <stddef.h>
#include <stdio.h>

struct plot_validation {
    size_t expectations, within, outside, no_data;
};

/* Reads DIR/NAME/summary.yaml for each of the n names, prints one table on `console` and
 * writes it, with a line on how it was made (`how`), to DIR/validation.md. 0, or -1 with a
 * message in err (a folder without a summary, validation.md not writable). */
int plot_validation_write(const char *dir, const char *const *names, size_t n, const char *how,
                          FILE *console, struct plot_validation *v, char *err, size_t errlen);

#endif
