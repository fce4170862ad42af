/* scndoc.h — a loaded scenario document: its text, its tree, the --set overrides applied to
 * it and the sweep axes read from it; shared by the scenario modules (not by the simulator). */
#ifndef P2PLAB_SCNDOC_H
#define P2PLAB_SCNDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "sim/scenario.h"
#include "sim/yamltree.h"

#define SCN_MAX_NODES 100000          /* tree nodes, aliases expanded */

struct scn_doc_axis {
    const struct ytree *key;          /* in the doc's tree */
    const struct ytree *list;         /* its values */
};

struct scn_doc {
    char *path;                       /* as given: the FILE of messages */
    char *dir;                        /* its directory with a trailing '/', or "" */
    char *defname;                    /* base name without .yaml: the default name */
    char *text;                       /* the source, to echo lines */
    struct ytree *root;               /* always a mapping */
    bool summary;                     /* a results folder's summary.yaml: root is its scenario:
                                         block, and companions are read from the summaries in
                                         its subfolders */
    char **sets;                      /* "--set K=V", one per scn_set */
    char **set_paths;                 /* the key path each set, "nodes" read as "nodes.count" */
    size_t n_sets;
    struct scn_doc_axis axes[SCN_MAX_SWEEP];
    size_t n_axes;
};

/* Puts `value` at the dotted `path` under root (a mapping), creating mappings on the way with
 * the place of `origin`; "nodes: 1000" becomes { count: 1000 } when a key goes under it.
 * Takes value on success. On -1 *blocker is the node in the way (a single value or a list)
 * and blocked holds its path. */
int scn_doc_put(struct ytree *root, const char *path, struct ytree *value,
                const struct ytree *origin, const struct ytree **blocker, char *blocked,
                size_t blen);

/* Whether every list index in `path` ("churn.events[2].crash") names an item the tree has:
 * NULL, or a message in buf saying which does not. */
const char *scn_doc_missing_item(const struct ytree *root, const char *path, char *buf,
                                 size_t len);

#endif
