/* sweep.h — the scenario's sweep: axes, points and the tree of each point (scenario modules
 * only; the simulator uses scn_points and friends from scenario.h). */
#ifndef P2PLAB_SWEEP_H
#define P2PLAB_SWEEP_H

#include <stddef.h>

#include "sim/scnerr.h"
#include "sim/yamltree.h"

struct scn_doc;

/* Reads the sweep's shape from the doc's tree into d->axes (no schema checks yet). */
int scn_sweep_read(struct scn_doc *d, char *err, size_t errlen);
/* Checks the axes against the key table, the listed protocols and the --set overrides. */
int scn_sweep_check(struct scn_ctx *c);
/* A copy of the doc's tree with each axis's value at `point` put at the axis's path. */
struct ytree *scn_sweep_tree(const struct scn_doc *d, size_t point);
/* "nodes" stands for "nodes.count". */
const char *scn_canonical_path(const char *path);
/* The registered protocols' names into names; returns how many. */
size_t scn_protocol_names(const char **names, size_t max);

#endif
