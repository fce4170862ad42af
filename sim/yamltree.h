/* yamltree.h — one YAML document as a tree whose nodes remember where they came from.
 *
 * The scenario loader and the plots (reading summary.yaml back) share it. Each node carries
 * the 1-based line and column it started at, or the name of the text it came from when that
 * text is not a file (a --set assignment), so that errors can point at the user's input. */
#ifndef P2PLAB_YAMLTREE_H
#define P2PLAB_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

enum ytree_kind { YTREE_SCALAR, YTREE_SEQ, YTREE_MAP };

struct ytree {
    enum ytree_kind kind;
    bool plain;                       /* a plain (unquoted) scalar: "~" and "" mean null */
    char *text;                       /* scalars */
    struct ytree **kid;               /* SEQ: the items; MAP: key, value, key, value, ... */
    size_t n, cap;                    /* entries in kid */
    int line, col;                    /* 1-based place in the text */
    const char *origin;               /* or the text's name when it is no file (not owned) */
};

/* Why a text did not parse, and where (1-based; the origin's own place when it has one). */
struct ytree_error {
    int line, col;
    bool syntax;                      /* libyaml rejected the text; problem says why */
    char problem[160];                /* libyaml's words, without the "invalid YAML: " */
    char msg[768];                    /* the whole message, e.g. "invalid YAML: a tab; ..." */
};

/* Parses text (one YAML document, len bytes) into *root; an empty text gives NULL. Aliases are
 * expanded, duplicate keys and a second document are errors, and at most max_nodes nodes are
 * built (aliases counted as expanded; 0 = no limit). origin is NULL when line:col refer to
 * the text itself, else every node is marked with it. 0, or -1 with *e filled. */
int ytree_parse(const char *text, size_t len, const char *origin, size_t max_nodes,
                struct ytree **root, struct ytree_error *e);

struct ytree *ytree_new(enum ytree_kind kind, int line, int col, const char *origin);
/* A plain or quoted scalar with the place of `at`. */
struct ytree *ytree_scalar(const char *text, bool plain, const struct ytree *at);
void ytree_push(struct ytree *parent, struct ytree *kid);
struct ytree *ytree_copy(const struct ytree *n);
size_t ytree_count(const struct ytree *n);
void ytree_free(struct ytree *n);

/* Whether n is absent or a plain null scalar ("", "~", "null"). */
bool ytree_null(const struct ytree *n);
/* "a mapping", "a list" or "a single value", for messages. */
const char *ytree_kind_name(const struct ytree *n);
/* Index of the pair whose key is `key` in a mapping, or -1 (also when map is no mapping). */
long ytree_index(const struct ytree *map, const char *key);
/* The value, or the key node, of `key` in a mapping; NULL if absent. */
const struct ytree *ytree_get(const struct ytree *map, const char *key);
const struct ytree *ytree_key(const struct ytree *map, const char *key);
/* The node at a dotted path of mapping keys ("scenario.protocols.pastry.b"), or NULL. */
const struct ytree *ytree_path(const struct ytree *y, const char *path);

#endif
