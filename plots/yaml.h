/* yaml.h — summary.yaml read back as a plain tree (scalars, lists, mappings), for the plots. */
#ifndef P2PLAB_PLOT_YAML_H
#define P2PLAB_PLOT_YAML_H

#include <stddef.h>

enum plot_yaml_kind { PLOT_YAML_SCALAR, PLOT_YAML_SEQ, PLOT_YAML_MAP };

struct plot_yaml {
    enum plot_yaml_kind kind;
    char *text;                       /* scalars */
    struct plot_yaml **kid;           /* SEQ: items; MAP: key, value, key, value, ... */
    size_t n, cap;                    /* entries in kid */
};

/* Reads the file; NULL with a message in err. */
struct plot_yaml *plot_yaml_load(const char *path, char *err, size_t errlen);
void plot_yaml_free(struct plot_yaml *y);
/* The node at a dotted path of mapping keys ("scenario.protocols.pastry.b"), or NULL. */
const struct plot_yaml *plot_yaml_get(const struct plot_yaml *y, const char *path);
/* The scalar at path, or `def` when it is absent or not a scalar. */
const char *plot_yaml_text(const struct plot_yaml *y, const char *path, const char *def);

#endif
