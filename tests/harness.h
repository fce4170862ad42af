/* harness.h — end-to-end test support: run a scenario file through the library. */
#ifndef P2PLAB_TEST_HARNESS_H
#define P2PLAB_TEST_HARNESS_H

#include <stddef.h>

#include "sim/run.h"
#include "sim/scenario.h"

struct harness_cell {
    struct scenario sc;               /* the resolved sweep point */
    size_t point, proto;
    struct run_result r;              /* replica 0 */
};

/* The path of a file in the source tree (from P2PLAB_SOURCE_DIR); a static buffer. */
const char *harness_path(const char *rel);
/* Loads `rel` (relative to the source tree), applies the "key=value" overrides, runs replica 0
 * of every cell (sweep point x protocol, in output order) and returns them; fails the test on
 * any error. */
size_t harness_run(const char *rel, const char *const *sets, size_t n_sets,
                   struct harness_cell **out);
void harness_free(struct harness_cell *cells, size_t n);
/* The success rate of the time-series interval containing t_s seconds. */
double harness_ts_success(const struct harness_cell *c, double t_s);
/* The share of keys no live node holds at the end of the interval containing t_s seconds
 * (NaN unless the protocol stores data). */
double harness_ts_keys_lost(const struct harness_cell *c, double t_s);
/* The cell's value of its first protocol's parameter `name` (integers and durations, in us). */
int64_t harness_param(const struct harness_cell *c, const char *name);

/* The whole file at `path`, NUL-terminated (free it); its length in *len unless len is NULL.
 * Fails the test if the file cannot be read. */
char *harness_slurp(const char *path, size_t *len);

/* Runs the p2plab binary (P2PLAB_BINARY) with `args` from the source tree, its stdout and
 * stderr together into harness_dir/out; returns its exit status (-1 if it did not exit). */
int harness_cli(const char *args);
/* What the last harness_cli printed (free it). */
char *harness_cli_out(void);

/* A fresh temporary folder for a test (cmocka setup) and its removal (teardown). */
extern char harness_dir[64];
int harness_dir_make(void **state);
int harness_dir_remove(void **state);

#endif
