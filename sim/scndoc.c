/* scndoc.c — a scenario document: loading the file into a tree with marks, and --set
 * overrides, which rewrite the tree before resolution (sim/scenario.c). */
#include "sim/scndoc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"
#include "sim/scnerr.h"
#include "sim/sweep.h"

#define MAX_TEXT (16u << 20)          /* bytes of scenario text */
#define AXIS_PATH_MAX sizeof ((struct scn_axis *)0)->path

static void *alloc(size_t n, const char *what)
{
    return mem_calloc(1, n ? n : 1, what);
}

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(alloc(n, "a scenario string"), s, n);
}

/* Parses text (one YAML document) into *root; an empty text gives NULL. 0 or -1. */
static int parse(struct scn_doc *d, const char *text, const char *set, struct ytree **root,
                 char *err, size_t errlen)
{
    struct ytree_error e;
    if (ytree_parse(text, strlen(text), set, SCN_MAX_NODES, root, &e) == 0)
        return 0;
    return scn_fail_at(d, set, e.line, e.col, err, errlen, "%s", e.msg);
}

/* ==== overrides =========================================================================== */

int scn_doc_put(struct ytree *root, const char *path, struct ytree *value, const struct ytree *origin,
                      const struct ytree **blocker, char *blocked, size_t blen)
{
    char segs[256];
    snprintf(segs, sizeof segs, "%s", path);
    struct ytree *cur = root;
    for (char *seg = segs, *next; seg; seg = next) {
        next = strchr(seg, '.');
        if (next)
            *next++ = '\0';
        char *bracket = strchr(seg, '[');
        if (bracket && next) {        /* "events[1]": into item 1 of the list events */
            *bracket = '\0';
            long k = ytree_index(cur, seg), item = strtol(bracket + 1, NULL, 10);
            struct ytree *list = k >= 0 ? cur->kid[k + 1] : NULL;
            if (!list || list->kind != YTREE_SEQ || item >= (long)list->n ||
                list->kid[item]->kind != YTREE_MAP) {
                *blocker = list ? list : cur;
                snprintf(blocked, blen, "%.*s", (int)(seg - segs + strlen(seg)), path);
                return -1;
            }
            cur = list->kid[item];
            continue;
        }
        long i = ytree_index(cur, seg);
        bool top_nodes = cur == root && strcmp(seg, "nodes") == 0;
        if (!next) {                  /* the last segment: put the value here */
            if (i >= 0 && top_nodes && cur->kid[i + 1]->kind == YTREE_MAP && value->kind == YTREE_SCALAR)
                return scn_doc_put(cur->kid[i + 1], "count", value, origin, blocker, blocked, blen);
            if (i >= 0) {
                ytree_free(cur->kid[i + 1]);
                cur->kid[i + 1] = value;
            } else {
                ytree_push(cur, ytree_scalar(seg, true, origin));
                ytree_push(cur, value);
            }
            return 0;
        }
        if (i < 0) {
            ytree_push(cur, ytree_scalar(seg, true, origin));
            ytree_push(cur, ytree_new(YTREE_MAP, origin->line, origin->col, origin->origin));
            i = (long)cur->n - 2;
        }
        struct ytree *v = cur->kid[i + 1];
        if (ytree_null(v)) {             /* "chord:" is an empty mapping */
            struct ytree *m = ytree_new(YTREE_MAP, v->line, v->col, v->origin);
            ytree_free(v);
            cur->kid[i + 1] = v = m;
        } else if (top_nodes && v->kind == YTREE_SCALAR) {   /* nodes: 1000 -> { count: 1000 } */
            struct ytree *m = ytree_new(YTREE_MAP, v->line, v->col, v->origin);
            ytree_push(m, ytree_scalar("count", true, v));
            ytree_push(m, v);
            cur->kid[i + 1] = v = m;
        }
        if (v->kind != YTREE_MAP) {
            *blocker = v;
            snprintf(blocked, blen, "%.*s", (int)(seg - segs + strlen(seg)), path);
            return -1;
        }
        cur = v;
    }
    return 0;
}

/* Dotted keys, a list's item by its index within a path: churn.events[1].crash. */
static bool valid_key_path(const char *k)
{
    if (!*k || *k == '.')
        return false;
    for (const char *p = k; *p; p++) {
        if (*p == '[' && p > k && p[-1] != '.' && isdigit((unsigned char)p[1])) {
            while (isdigit((unsigned char)p[1]))
                p++;
            if (p[1] != ']' || p[2] != '.' || !p[3])
                return false;
            p++;
            continue;
        }
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
              (*p == '.' && p[1] && p[1] != '.')))
            return false;
    }
    return true;
}

const char *scn_doc_missing_item(const struct ytree *root, const char *path, char *buf,
                                 size_t len)
{
    char segs[256];
    snprintf(segs, sizeof segs, "%s", path);
    const struct ytree *cur = root;
    for (char *seg = segs, *next; seg; seg = next) {
        next = strchr(seg, '.');
        if (next)
            *next++ = '\0';
        char *bracket = strchr(seg, '[');
        if (bracket)
            *bracket = '\0';
        const struct ytree *v = cur && cur->kind == YTREE_MAP ? ytree_get(cur, seg) : NULL;
        if (!bracket) {
            cur = v;
            continue;
        }
        long item = strtol(bracket + 1, NULL, 10);
        size_t n = v && v->kind == YTREE_SEQ ? v->n : 0;
        if ((size_t)item >= n) {
            snprintf(buf, len, "%.*s has %zu item%s: there is no %.*s[%ld]; write the item "
                     "in the scenario first", (int)(seg - segs + strlen(seg)), path, n,
                     n == 1 ? "" : "s", (int)(seg - segs + strlen(seg)), path, item);
            return buf;
        }
        cur = v->kid[item];
    }
    return NULL;
}

int scn_set(struct scn_doc *d, const char *assignment, char *err, size_t errlen)
{
    char key[256];
    const char *eq = strchr(assignment, '=');
    char *where = alloc(strlen(assignment) + 7, "a --set override");
    sprintf(where, "--set %s", assignment);
    if (!eq || (size_t)(eq - assignment) >= sizeof key) {
        scn_fail_at(d, where, 0, 0, err, errlen, "expected KEY=VALUE, e.g. --set nodes=2000 or "
                "--set protocols.chord.successors=8");
        free(where);
        return -1;
    }
    snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
    if (!valid_key_path(key) || strlen(key) >= AXIS_PATH_MAX) {
        scn_fail_at(d, where, 0, 0, err, errlen, "\"%s\" is not a key path: write dotted keys such as "
                "protocols.chord.successors", key);
        free(where);
        return -1;
    }
    /* Kept from here on, even on error: nodes made from the value point at it. */
    char **sets = realloc(d->sets, (d->n_sets + 1) * sizeof *sets);
    if (sets)
        d->sets = sets;
    char **paths = sets ? realloc(d->set_paths, (d->n_sets + 1) * sizeof *paths) : NULL;
    if (!paths) {
        fprintf(stderr, "p2plab: out of memory allocating a --set override\n");
        abort();
    }
    d->set_paths = paths;
    d->sets[d->n_sets] = where;
    d->set_paths[d->n_sets++] = NULL;

    char missing[256];
    if (scn_doc_missing_item(d->root, key, missing, sizeof missing))
        return scn_fail_at(d, where, 0, 0, err, errlen, "%s", missing);
    struct ytree *value;
    if (parse(d, eq + 1, where, &value, err, errlen) != 0)
        return -1;
    struct ytree origin = { .origin = where };
    if (!value)
        value = ytree_scalar("", true, &origin);
    const struct ytree *blocker;
    char blocked[256];
    bool scalar = value->kind == YTREE_SCALAR;
    if (scn_doc_put(d->root, key, value, &origin, &blocker, blocked, sizeof blocked) != 0) {
        ytree_free(value);
        if (blocker->kind == YTREE_SEQ)
            return scn_fail_at(d, where, 0, 0, err, errlen, "%s is a list: replace it whole, e.g. "
                           "--set '%s=[...]'", blocked, blocked);
        return scn_fail_at(d, where, 0, 0, err, errlen, "%s is a single value, not a mapping with "
                       "keys: set %s itself", blocked, blocked);
    }
    bool count = strcmp(key, "nodes") == 0 && scalar;
    d->set_paths[d->n_sets - 1] = dup(count ? "nodes.count" : key);
    return scn_sweep_read(d, err, errlen);
}

/* ==== loading ============================================================================= */

void scn_free(struct scn_doc *d)
{
    if (!d)
        return;
    ytree_free(d->root);
    for (size_t i = 0; i < d->n_sets; i++) {
        free(d->sets[i]);
        free(d->set_paths[i]);
    }
    free(d->sets);
    free(d->set_paths);
    free(d->path);
    free(d->dir);
    free(d->defname);
    free(d->text);
    free(d);
}

/* A results folder's summary.yaml ("p2plab: VERSION", "scenario:", "cells:") runs again as
 * the scenario it echoes: the scenario: block, every default filled, becomes the document, with
 * its marks in summary.yaml for messages. 0, or -1 with the message. */
static int from_summary(struct scn_doc *d, char *err, size_t errlen)
{
    long i = ytree_index(d->root, "scenario");
    const struct ytree *s = i >= 0 ? d->root->kid[i + 1] : NULL;
    if (!s || s->kind != YTREE_MAP) {
        const struct ytree *at = s ? s : d->root->kid[ytree_index(d->root, "p2plab")];
        return scn_fail_at(d, NULL, at->line, at->col, err, errlen, "this looks like a results "
                           "summary (p2plab:), but it has no scenario: mapping to run again; "
                           "give the summary.yaml that 'p2plab run' wrote, or a scenario file");
    }
    struct ytree *root = ytree_copy(s);
    ytree_free(d->root);
    d->root = root;
    d->summary = true;
    return 0;
}

static struct scn_doc *load_text(char *text, const char *path, char *err, size_t errlen)
{
    struct scn_doc *d = alloc(sizeof *d, "a scenario");
    d->text = text;
    d->path = dup(path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    d->dir = alloc(dirlen + 1, "a directory name");
    memcpy(d->dir, path, dirlen);
    d->defname = dup(path + dirlen);
    size_t n = strlen(d->defname);
    if (n > 5 && strcmp(d->defname + n - 5, ".yaml") == 0)
        d->defname[n - 5] = '\0';
    else if (n > 4 && strcmp(d->defname + n - 4, ".yml") == 0)
        d->defname[n - 4] = '\0';

    if (parse(d, text, NULL, &d->root, err, errlen) != 0)
        goto fail;
    if (!d->root || ytree_null(d->root)) {
        ytree_free(d->root);
        d->root = ytree_new(YTREE_MAP, 1, 1, NULL);
    }
    if (d->root->kind != YTREE_MAP) {
        scn_fail_at(d, NULL, d->root->line, d->root->col, err, errlen, "a scenario is a mapping of "
                "keys such as name, nodes and protocols, not %s", ytree_kind_name(d->root));
        goto fail;
    }
    if (ytree_index(d->root, "p2plab") >= 0 && from_summary(d, err, errlen) != 0)
        goto fail;
    if (scn_sweep_read(d, err, errlen) != 0 || scn_check(d, err, errlen) != 0)
        goto fail;
    return d;
fail:
    scn_free(d);
    return NULL;
}

struct scn_doc *scn_load_string(const char *text, const char *name, char *err, size_t errlen)
{
    return load_text(dup(text), name, err, errlen);
}

struct scn_doc *scn_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = alloc(MAX_TEXT + 1, "the scenario text");
    errno = 0;
    size_t n = fread(text, 1, MAX_TEXT + 1, f);
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad || n > MAX_TEXT) {
        snprintf(err, errlen, "%s: error: %s%s", path, bad ? "cannot read: " : "",
                 bad ? strerror(bad) : "the file is larger than 16 MiB: is it really a scenario?");
        free(text);
        return NULL;
    }
    if (memchr(text, '\0', n)) {
        snprintf(err, errlen, "%s: error: the file contains a NUL byte: is it really a "
                 "scenario (YAML text)?", path);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    char *fit = realloc(text, n + 1);
    return load_text(fit ? fit : text, path, err, errlen);
}
