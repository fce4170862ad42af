/* csv.h — a streaming reader for the results folder's CSV files, columns found by header name.
 *
 * One row at a time, so a large timeseries.csv is never held in memory whole. Fields may be
 * quoted ("a,b" and "" for a quote inside), as RFC 4180 writes them. */
#ifndef P2PLAB_PLOT_CSV_H
#define P2PLAB_PLOT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct plot_csv {
    FILE *f;
    char *line;                       /* the current row, split in place */
    size_t cap;
    char **field;                     /* the current row's fields */
    size_t n_field, cap_field;
    char **head;                      /* the header's names (owned copies) */
    size_t n_head;
    size_t row;                       /* rows read so far, header excluded */
    size_t lineno;                    /* the current row's line in the file, 1-based */
};

/* Opens `path` and reads its header. 0, or -1 (file missing or empty). */
int plot_csv_open(struct plot_csv *c, const char *path);
void plot_csv_close(struct plot_csv *c);
/* The column named `name`, or -1. */
int plot_csv_col(const struct plot_csv *c, const char *name);
/* Reads the next row; false at the end. Blank lines and lines starting with '#' are skipped. */
bool plot_csv_next(struct plot_csv *c);
/* The current row's field in column `col`; "" when the row is short or col < 0. */
const char *plot_csv_str(const struct plot_csv *c, int col);
/* The field as a number: NaN when it is empty, "nan" or not a number. */
double plot_csv_num(const struct plot_csv *c, int col);

#endif
