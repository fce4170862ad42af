/* yaml.h — summary.yaml read back for the plots, as the scenario's own tree (sim/yamltree.h).
 *
 * The plots keep their names for it: a struct plot_yaml is a struct ytree, read with the same
 * builder that reads scenarios, so there is one YAML tree in the project. */
#ifndef P2PLAB_PLOT_YAML_H
#define P2PLAB_PLOT_YAML_H

#include <stddef.h>

#include "sim/yamltree.h"

#define plot_yaml ytree               /* struct plot_yaml is struct ytree */
#define PLOT_YAML_SCALAR YTREE_SCALAR
#define PLOT_YAML_SEQ YTREE_SEQ
#define PLOT_YAML_MAP YTREE_MAP

/* Reads the file; NULL with a message in err. */
struct plot_yaml *plot_yaml_load(const char *path, char *err, size_t errlen);
void plot_yaml_free(struct plot_yaml *y);
/* The node at a dotted path of mapping keys ("scenario.protocols.pastry.b"), or NULL. */
const struct plot_yaml *plot_yaml_get(const struct plot_yaml *y, const char *path);
/* The scalar at path, or `def` when it is absent or not a scalar. */
const char *plot_yaml_text(const struct plot_yaml *y, const char *path, const char *def);

#endif
