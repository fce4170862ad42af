/* sweep.c — the sweep: its axes read from the tree and checked against the key table, the
 * cartesian product of their values (the first axis varies slowest), and each point's tree. */
#include "sim/sweep.h"

#include <stdio.h>
#include <string.h>

#include "protocols/protocol.h"
#include "sim/scndoc.h"
#include "sim/scnkeys.h"

#define COUNT(a) (sizeof (a) / sizeof (a)[0])
#define AXIS_PATH_MAX sizeof ((struct scn_axis *)0)->path
#define AXIS_VALUE_MAX sizeof ((struct scn_axis *)0)->values[0]

/* ==== the axes ============================================================================ */

/* Reads the sweep's shape from the doc's tree into d->axes (no schema checks yet). */
int scn_sweep_read(struct scn_doc *d, char *err, size_t errlen)
{
    struct scn_ctx cx = { d, err, errlen, false }, *c = &cx;
    const struct ytree *map;
    d->n_axes = 0;
    int rc = scn_get_map(c, d->root, "sweep", "sweep", "{ nodes: [1000, 2000, 4000] }", &map);
    if (rc <= 0)
        return rc;
    size_t points = 1;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct ytree *key = map->kid[i], *list = map->kid[i + 1];
        char P[200];
        snprintf(P, sizeof P, "sweep.%s", key->text);
        if (d->n_axes == SCN_MAX_SWEEP)
            return scn_fail(c, key, "sweep: at most %d axes (swept keys)", SCN_MAX_SWEEP);
        if (strlen(key->text) >= AXIS_PATH_MAX)
            return scn_fail(c, key, "sweep: the key path is too long (at most %zu characters)",
                        AXIS_PATH_MAX - 1);
        if (list->kind != YTREE_SEQ)
            return scn_fail(c, list, "%s must be a list of values such as [1000, 2000, 4000], not %s",
                        P, ytree_kind_name(list));
        if (list->n == 0)
            return scn_fail(c, list, "%s: give at least one value", P);
        if (list->n > SCN_MAX_POINTS)
            return scn_fail(c, list->kid[SCN_MAX_POINTS], "%s: at most %d values", P, SCN_MAX_POINTS);
        for (size_t k = 0; k < list->n; k++) {
            const struct ytree *v = list->kid[k];
            if (v->kind != YTREE_SCALAR)
                return scn_fail(c, v, "%s[%zu] must be a single value, not %s", P, k, ytree_kind_name(v));
            if (ytree_null(v))
                return scn_fail(c, v, "%s[%zu] has no value", P, k);
            if (strlen(v->text) >= AXIS_VALUE_MAX)
                return scn_fail(c, v, "%s[%zu] is too long: at most %zu characters", P, k,
                            AXIS_VALUE_MAX - 1);
        }
        points *= list->n;
        if (points > SCN_MAX_SWEEP_POINTS)
            return scn_fail(c, key, "sweep: more than %d points in all (the product of the numbers "
                        "of values)", SCN_MAX_SWEEP_POINTS);
        d->axes[d->n_axes++] = (struct scn_doc_axis){ key, list };
    }
    return 0;
}

const char *scn_canonical_path(const char *path)
{
    return strcmp(path, "nodes") == 0 ? "nodes.count" : path;
}

/* Checks the axes against the schema, the listed protocols and the --set overrides. */
int scn_sweep_check(struct scn_ctx *c)
{
    const struct scn_doc *d = c->d;
    const char *paths[128];
    size_t n_paths = 0;
    for (const struct scn_key *k = scn_keys; k->path && n_paths < COUNT(paths); k++)
        if (scn_key_scalar(k) && !strchr(k->path, '['))
            paths[n_paths++] = k->path;
    for (size_t a = 0; a < d->n_axes; a++) {
        const struct ytree *key = d->axes[a].key;
        const char *path = key->text;
        if (strcmp(path, "seed") == 0)   /* runs.csv has one seed column: each replica's own */
            return scn_fail(c, key, "sweep: seed is not an axis; replicas already run with seeds "
                        "of their own: raise replicas for more, or change the base seed with "
                        "seed: or --seed");
        bool ok = false;
        for (size_t i = 0; i < n_paths && !ok; i++)
            ok = strcmp(path, paths[i]) == 0;
        if (!ok && strchr(path, '[')) {  /* churn.events[1].crash: row churn.events[].crash */
            char row[256], missing[256];
            size_t n = 0;
            for (const char *p = path; *p && n + 1 < sizeof row; p++) {
                row[n++] = *p;
                if (*p == '[')
                    while (p[1] && p[1] != ']')
                        p++;
            }
            row[n] = '\0';
            const struct scn_key *k = scn_key_find(row);
            if (k && k->item && scn_key_scalar(k)) {
                if (scn_doc_missing_item(d->root, path, missing, sizeof missing))
                    return scn_fail(c, key, "sweep: %s", missing);
                ok = true;
            }
        }
        if (!ok && strncmp(path, "protocols.", 10) == 0) {
            char name[64];
            const char *dot = strchr(path + 10, '.');
            size_t len = dot ? (size_t)(dot - path - 10) : strlen(path + 10);
            snprintf(name, sizeof name, "%.*s", (int)len, path + 10);
            const struct protocol *proto = protocol_find(name);
            if (!dot)
                return scn_fail(c, key, "sweep: \"%s\" is not a protocol parameter: write "
                            "protocols.NAME.PARAM, e.g. protocols.chord.successors", path);
            if (!proto || !proto->params) {
                const char *names[64];
                return scn_fail_unknown(c, key, name, "protocol", "protocols (in sweep)", names,
                                    scn_protocol_names(names, COUNT(names)));
            }
            if (param_find(proto->params, dot + 1) < 0) {
                const char *pnames[PARAM_MAX];
                size_t n = 0;
                for (; proto->params[n].name && n < PARAM_MAX; n++)
                    pnames[n] = proto->params[n].name;
                char P[128];
                snprintf(P, sizeof P, "protocols.%s (in sweep)", name);
                return scn_fail_unknown(c, key, dot + 1, "key", P, pnames, n);
            }
            if (!ytree_key(ytree_get(d->root, "protocols"), name))
                return scn_fail(c, key, "sweep: %s is not under protocols; add \"%s: {}\" there or "
                            "drop this axis", name, name);
            ok = true;
        }
        if (!ok) {
            const char *near = scn_closest(path, paths, n_paths);
            char got[64];
            if (near)
                return scn_fail(c, key, "sweep: unknown key path \"%s\" (did you mean \"%s\"?)",
                            scn_shown(path, got, sizeof got), near);
            return scn_fail(c, key, "sweep: \"%s\" is not a key that holds one value; sweep a key "
                        "such as nodes, churn.session.median or protocols.chord.successors",
                        scn_shown(path, got, sizeof got));
        }
        for (size_t b = 0; b < a; b++)
            if (strcmp(scn_canonical_path(path), scn_canonical_path(d->axes[b].key->text)) == 0)
                return scn_fail(c, key, "sweep: %s is already swept as %s", path,
                            d->axes[b].key->text);
        for (size_t s = 0; s < d->n_sets; s++)
            if (d->set_paths[s] && strcmp(scn_canonical_path(path), d->set_paths[s]) == 0) {
                const char *k = d->sets[s] + strlen("--set ");
                return scn_fail(c, &(struct ytree){ .origin = d->sets[s] }, "%.*s is swept (sweep.%s); "
                            "override the sweep instead, e.g. --set 'sweep.%s=[...]'",
                            (int)strcspn(k, "="), k, path, path);
            }
    }
    return 0;
}

/* ==== points ============================================================================== */

bool scn_axis_applies(const char *path, const char *protocol)
{
    if (strncmp(path, "protocols.", 10) != 0)
        return true;
    size_t n = strlen(protocol);
    return strncmp(path + 10, protocol, n) == 0 && path[10 + n] == '.';
}

bool scn_point_runs(const struct scn_doc *d, size_t point, const struct scenario *base,
                    const char *protocol)
{
    for (size_t a = 0; a < base->n_sweep; a++)
        if (!scn_axis_applies(base->sweep[a].path, protocol) &&
            strcmp(scn_point_value(d, point, a), base->sweep[a].values[0]) != 0)
            return false;
    return true;
}

size_t scn_points(const struct scn_doc *d)
{
    size_t n = 1;
    for (size_t a = 0; a < d->n_axes; a++)
        n *= d->axes[a].list->n;
    return n;
}

/* The index into axis `axis`'s values at `point`: the first axis varies slowest. */
static size_t value_index(const struct scn_doc *d, size_t point, size_t axis)
{
    size_t stride = 1;
    for (size_t a = axis + 1; a < d->n_axes; a++)
        stride *= d->axes[a].list->n;
    return point / stride % d->axes[axis].list->n;
}

const char *scn_point_value(const struct scn_doc *d, size_t point, size_t axis)
{
    if (axis >= d->n_axes || point >= scn_points(d))
        return NULL;
    return d->axes[axis].list->kid[value_index(d, point, axis)]->text;
}

struct ytree *scn_sweep_tree(const struct scn_doc *d, size_t point)
{
    struct ytree *tree = ytree_copy(d->root);
    for (size_t a = 0; a < d->n_axes; a++) {
        const struct ytree *v = d->axes[a].list->kid[value_index(d, point, a)], *blocker;
        struct ytree *value = ytree_copy(v);
        char blocked[256];
        if (scn_doc_put(tree, d->axes[a].key->text, value, d->axes[a].key, &blocker, blocked,
                        sizeof blocked) != 0)
            ytree_free(value);        /* resolution reports the node in the way */
    }
    return tree;
}

size_t scn_protocol_names(const char **names, size_t max)
{
    size_t n = 0;
    for (const struct protocol *const *p = protocol_registry; *p && n < max; p++)
        names[n++] = (*p)->name;
    return n;
}
