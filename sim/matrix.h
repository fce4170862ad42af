/* matrix.h — a measured latency matrix (e.g. the King or Meridian data sets), read from a text
 * file of "i j ms" lines. */
#ifndef P2PLAB_MATRIX_H
#define P2PLAB_MATRIX_H

#include <stddef.h>
#include <stdint.h>

#define MATRIX_MAX_HOSTS 16384        /* hosts x hosts floats: 1 GiB at most */

/* One-way delay between every pair of hosts. Symmetric unless the file gives both directions
 * with different values; the diagonal is 0. */
struct latency_matrix {
    uint32_t hosts;
    float *ms;                        /* ms[i * hosts + j]: milliseconds from i to j */
};

/* Reads `path`: one "i j ms" line per pair (0-based host indices, ms >= 0), '#' comments and
 * blank lines allowed. A missing "j i" takes the value of "i j"; every pair must be given one
 * way or the other. Returns 0, or -1 with one "file:line:col: error: ..." message in err. */
int matrix_load(const char *path, struct latency_matrix *m, char *err, size_t errlen);
void matrix_free(struct latency_matrix *m);

#endif
