/* yaml.h — summary.yaml read back for the plots, as a struct ytree (sim/yamltree.h): read
 * with the same builder that reads scenarios, so there is one YAML tree in the project. */
#ifndef P2PLAB_PLOT_YAML_H
#define P2PLAB_PLOT_YAML_H

#include <stddef.h>

#include "sim/yamltree.h"

/* Reads the file; NULL with a message in err. */
struct ytree *plot_yaml_load(const char *path, char *err, size_t errlen);
void plot_yaml_free(struct ytree *y);
/* The node at a dotted path of mapping keys ("scenario.protocols.pastry.b"), or NULL. */
const struct ytree *plot_yaml_get(const struct ytree *y, const char *path);
/* The scalar at path, or `def` when it is absent or not a scalar. */
const char *plot_yaml_text(const struct ytree *y, const char *path, const char *def);
/* The number at path as summary.yaml writes one ("12.5", ".nan"), or NaN when it is absent,
 * .nan or not a number. */
double plot_yaml_number(const struct ytree *y, const char *path);

#endif
