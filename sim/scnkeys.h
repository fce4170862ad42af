/* scnkeys.h — the table of scenario keys, in the style of Redis's static_configs[]: one row per
 * key with its default, how it is read and stored, its range or choices, and its doc.
 *
 * The same rows give the defaults of resolution (each default is written once, as a user
 * would write it, and read by the row's own parser), the typed reads with their range
 * messages, the keys a mapping may hold ("did you mean"), the swept paths, the resolved echo
 * in summary.yaml (sim/scnemit.c), `p2plab list keys` and the README reference. */
#ifndef P2PLAB_SCNKEYS_H
#define P2PLAB_SCNKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scnerr.h"
#include "sim/units.h"
#include "sim/yamltree.h"

#define SCN_MAX_NODE_COUNT 100000000  /* nodes.count, nodes.count x vnodes, and join events */
#define SCN_MAX_DURATION_US (INT64_C(365) * 86400 * US_PER_S)
#define SCN_MAX_LATENCY_US (INT64_C(3600) * US_PER_S)

enum scn_kind {
    SCN_DOC,                          /* a mapping, a list or a pattern: documented, read by hand */
    SCN_TEXT,                         /* char[size] */
    SCN_INT,                          /* whole number in [lo, hi], stored in size bytes (4, 8) */
    SCN_DURATION,                     /* int64_t microseconds */
    SCN_NUMBER,                       /* double */
    SCN_FRACTION,                     /* double, "50%" or 0.5 */
    SCN_RATE,                         /* struct rate */
    SCN_BANDWIDTH,                    /* double bytes per second */
    SCN_BOOL,                         /* bool, on|off */
    SCN_ENUM,                         /* int, an index into choices */
};

struct scn_key {
    const char *path;                 /* "network.latency.mean"; "[]" marks a list's items */
    const char *def;                  /* the default as written in a scenario; with `derived`,
                                         words on how it follows from other keys */
    const char *type;                 /* as documented: "duration", "constant|uniform|..." */
    const char *doc;
    enum scn_kind kind;
    bool derived;                     /* def is words: resolution computes the default */
    bool item;                        /* off is within the caller's struct (a list item, a
                                         distribution), not struct scenario */
    bool quiet;                       /* left out of the resolved echo when empty */
    size_t off, size;                 /* the field, and its size for SCN_TEXT and SCN_INT */
    int64_t lo, hi;                   /* SCN_INT */
    const char *const *choices;       /* SCN_ENUM */
    size_t n_choices;
    /* optional: why a value read is out of range ("must be more than 0"), or NULL */
    const char *(*check)(const void *field);
    const char *alias;                /* another row this one stands for (type, default, range) */
};

extern const struct scn_key scn_keys[];      /* terminated by a NULL path */

/* The row of `path`, or NULL. */
const struct scn_key *scn_key_find(const char *path);
/* The row that says how a row is read: its alias's, or itself. */
const struct scn_key *scn_key_target(const struct scn_key *k);
/* The default as shown: the alias's for an alias. */
const char *scn_key_default(const struct scn_key *k);
/* Whether the key holds one value, and so can be swept or set. */
bool scn_key_scalar(const struct scn_key *k);

/* Parses text as row k's value into field: 0, -1 with why if it does not read as the row's
 * type, range or choices, -2 with why ("must be more than 0") if the row's check rejects it. */
int scn_key_parse(const struct scn_key *k, const char *text, void *field, const char **why);
/* Sets every default of struct scenario (rows neither derived nor within an item), or with
 * a prefix ("plots[]."), every default of that item into base. */
void scn_key_defaults(const char *prefix, void *base);

#define SCN_KEY_NAME 32               /* bytes of one key of a path */

/* The keys a mapping at `path` may hold ("" is the top, "plots[]" a plot), in table order,
 * into names; returns how many. */
size_t scn_key_children(const char *path, char (*names)[SCN_KEY_NAME], size_t max);
/* Checks a mapping's keys against the table's children of `path` (shown as `shown`). */
int scn_check_keys(struct scn_ctx *c, const struct ytree *map, const char *path,
                   const char *shown);

/* Reads map's key for row `path` into base (struct scenario, or the item with `item` rows):
 * 1 if given, 0 if absent (the field keeps its default), -1 with the message. `parent` names
 * the mapping in messages ("plots[2]"); NULL means the row's own parent path. *at is the
 * value node, for later messages (may be NULL). */
int scn_get(struct scn_ctx *c, const struct ytree *map, const char *path, const char *parent,
            void *base, const struct ytree **at);
/* The scalar at map.key: 1 with *out set, 0 if absent, -1 if null or a collection. */
int scn_get_scalar(struct scn_ctx *c, const struct ytree *map, const char *key,
                   const char *path, const struct ytree **out);
/* The mapping at map.key: 1 with *out set, 0 if absent or null (an empty mapping), -1 if it is
 * something else. `example` shows the expected shape. */
int scn_get_map(struct scn_ctx *c, const struct ytree *map, const char *key, const char *path,
                const char *example, const struct ytree **out);

/* The value of row k in base, as the resolved echo writes it ("80ms"). */
void scn_key_format(const struct scn_key *k, const void *base, char *buf, size_t len);

/* `p2plab list keys`: a table for the terminal, or the README's markdown. */
void scn_keys_print(FILE *f, bool markdown);

#endif
