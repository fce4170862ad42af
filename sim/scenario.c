/* scenario.c — YAML scenario files: a tree with marks, --set and sweep overrides, and the
 * schema walk that resolves a sweep point into a struct scenario with every default filled.
 *
 * libyaml's events are built into a small tree (struct yn) that remembers where each node came
 * from: a 1-based line and column in the file, or the --set assignment that made it. --set
 * rewrites the tree; a sweep point is a copy of the tree with each axis's value (a copy of the
 * node in the sweep list, marks included) put at the axis's path. Resolution then walks the
 * tree against the schema; every error is one message at the node it is about. */
#include "sim/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "protocols/protocol.h"
#include "sim/matrix.h"

#define MAX_DEPTH 64                  /* nesting of YAML collections */
#define MAX_NODES 100000              /* tree nodes, aliases expanded */
#define MAX_TEXT (16u << 20)          /* bytes of scenario text */
#define MAX_NODE_COUNT 100000000      /* nodes.count and join events */
#define MAX_VNODES 64                 /* nodes.vnodes */
#define MAX_DURATION_US (INT64_C(365) * 86400 * US_PER_S)
#define MAX_SAMPLES 1000000           /* duration / sample */
#define MAX_LATENCY_US (INT64_C(3600) * US_PER_S)
#define LN2 0.69314718055994530942
#define AXIS_PATH_MAX sizeof ((struct scn_axis *)0)->path
#define AXIS_VALUE_MAX sizeof ((struct scn_axis *)0)->values[0]

/* ==== the tree ============================================================================ */

enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP };

struct yn {
    enum yn_kind kind;
    bool plain;                       /* a plain (unquoted) scalar: "~" and "" mean null */
    char *text;                       /* scalars */
    struct yn **kid;                  /* SEQ: the items; MAP: key, value, key, value, ... */
    size_t n, cap;                    /* entries in kid */
    int line, col;                    /* 1-based place in the file */
    const char *set;                  /* or the "--set K=V" it came from (owned by the doc) */
};

struct doc_axis {
    const struct yn *key;             /* in the doc's tree */
    const struct yn *list;            /* its values */
};

struct scn_doc {
    char *path;                       /* as given: the FILE of messages */
    char *dir;                        /* its directory with a trailing '/', or "" */
    char *defname;                    /* base name without .yaml: the default name */
    char *text;                       /* the source, to echo lines */
    struct yn *root;                  /* always a mapping */
    char **sets;                      /* "--set K=V", one per scn_set */
    char **set_paths;                 /* the key path each set, "nodes" read as "nodes.count" */
    size_t n_sets;
    struct doc_axis axes[SCN_MAX_SWEEP];
    size_t n_axes;
};

static void *xalloc(size_t n, const char *what)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "p2plab: out of memory allocating %s (%zu bytes)\n", what, n);
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xalloc(n, "a scenario string"), s, n);
}

static struct yn *yn_new(enum yn_kind kind, int line, int col, const char *set)
{
    struct yn *n = xalloc(sizeof *n, "a scenario node");
    n->kind = kind;
    n->line = line;
    n->col = col;
    n->set = set;
    return n;
}

static struct yn *yn_scalar(const char *text, bool plain, const struct yn *at)
{
    struct yn *n = yn_new(YN_SCALAR, at->line, at->col, at->set);
    n->text = xstrdup(text);
    n->plain = plain;
    return n;
}

static void yn_push(struct yn *parent, struct yn *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? 2 * parent->cap : 8;
        struct yn **k = realloc(parent->kid, cap * sizeof *k);
        if (!k) {
            fprintf(stderr, "p2plab: out of memory allocating a scenario list\n");
            abort();
        }
        parent->kid = k;
        parent->cap = cap;
    }
    parent->kid[parent->n++] = kid;
}

static void yn_free(struct yn *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        yn_free(n->kid[i]);
    free(n->kid);
    free(n->text);
    free(n);
}

static struct yn *yn_copy(const struct yn *n)
{
    struct yn *c = yn_new(n->kind, n->line, n->col, n->set);
    c->plain = n->plain;
    c->text = n->text ? xstrdup(n->text) : NULL;
    for (size_t i = 0; i < n->n; i++)
        yn_push(c, yn_copy(n->kid[i]));
    return c;
}

static size_t yn_count(const struct yn *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->n; i++)
        c += yn_count(n->kid[i]);
    return c;
}

static bool yn_null(const struct yn *n)
{
    return !n || (n->kind == YN_SCALAR && n->plain &&
                  (!n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
                   !strcmp(n->text, "Null") || !strcmp(n->text, "NULL")));
}

/* Index of the pair whose key is `key` in a mapping, or -1. */
static long map_index(const struct yn *map, const char *key)
{
    if (!map || map->kind != YN_MAP)
        return -1;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (strcmp(map->kid[i]->text, key) == 0)
            return (long)i;
    return -1;
}

static const struct yn *map_get(const struct yn *map, const char *key)
{
    long i = map_index(map, key);
    return i < 0 ? NULL : map->kid[i + 1];
}

static const struct yn *map_key(const struct yn *map, const char *key)
{
    long i = map_index(map, key);
    return i < 0 ? NULL : map->kid[i];
}

/* ==== messages ============================================================================ */

/* Writes "FILE:LINE:COL: error: MSG\n   >>> LINE" (or "--set K=V: error: MSG", or
 * "FILE: error: MSG" without a place) into err. Returns -1. */
static int vfail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                    size_t errlen, const char *fmt, va_list ap)
{
    char msg[768];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (!err || errlen == 0)
        return -1;
    if (set) {
        snprintf(err, errlen, "%s: error: %s", set, msg);
        return -1;
    }
    if (line <= 0) {
        snprintf(err, errlen, "%s: error: %s", d->path, msg);
        return -1;
    }
    const char *p = d->text;
    for (int l = 1; p && l < line; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    int n = p ? (int)strcspn(p, "\r\n") : 0;
    bool blank = true;
    for (int i = 0; i < n; i++)
        blank = blank && isspace((unsigned char)p[i]);
    if (blank)
        snprintf(err, errlen, "%s:%d:%d: error: %s", d->path, line, col, msg);
    else
        snprintf(err, errlen, "%s:%d:%d: error: %s\n   >>> %.*s", d->path, line, col, msg, n, p);
    return -1;
}

static int fail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                   size_t errlen, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int fail_at(const struct scn_doc *d, const char *set, int line, int col, char *err,
                   size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(d, set, line, col, err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The resolution context: the document (for places) and where messages go. */
struct ctx {
    const struct scn_doc *d;
    char *err;
    size_t errlen;
};

static int fail(struct ctx *c, const struct yn *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, const struct yn *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (at)
        vfail_at(c->d, at->set, at->line, at->col, c->err, c->errlen, fmt, ap);
    else
        vfail_at(c->d, NULL, 0, 0, c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The user's text for a message: at most 60 characters. */
static const char *shown(const char *text, char *buf, size_t len)
{
    if (strlen(text) > 60)
        snprintf(buf, len, "%.57s...", text);
    else
        snprintf(buf, len, "%s", text);
    return buf;
}

/* A validator's message about `path`: "PATH must be ..." reads as a sentence; anything else
 * ("expected a duration ...") follows "PATH: ". The got text is added unless already there. */
static int fail_value(struct ctx *c, const struct yn *at, const char *path, const char *msg)
{
    static const char *const verbs[] = { "must ", "needs ", "is ", "has " };
    const char *sep = ": ";
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strncmp(msg, verbs[i], strlen(verbs[i])) == 0)
            sep = " ";
    char got[64];
    if (strstr(msg, "(got "))
        return fail(c, at, "%s%s%s", path, sep, msg);
    return fail(c, at, "%s%s%s (got \"%s\")", path, sep, msg, shown(at->text, got, sizeof got));
}

static const char *kind_name(const struct yn *n)
{
    return n->kind == YN_MAP ? "a mapping" : n->kind == YN_SEQ ? "a list" : "a single value";
}

/* ---- did you mean ------------------------------------------------------------------------ */

/* Edits (insert, delete, substitute, swap two neighbours) from a to b, ignoring case: the
 * optimal-string-alignment distance. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t t[64][64];
    for (size_t i = 0; i <= la; i++)
        t[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        t[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t best = t[i - 1][j - 1] + (ai != bj);
            if (t[i - 1][j] + 1 < best)
                best = t[i - 1][j] + 1;
            if (t[i][j - 1] + 1 < best)
                best = t[i][j - 1] + 1;
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj && t[i - 2][j - 2] + 1 < best)
                best = t[i - 2][j - 2] + 1;
            t[i][j] = best;
        }
    return t[la][lb];
}

/* The closest candidate, if it is close enough to be a likely typo; else NULL. */
static const char *closest(const char *given, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(given, cands[i]);
        size_t limit = strlen(cands[i]) / 3 > 1 ? strlen(cands[i]) / 3 : 1;
        if (dist <= limit && dist < strlen(given) && dist < bestd) {
            best = cands[i];
            bestd = dist;
        }
    }
    return best;
}

/* "unknown key "x" in PATH (did you mean "y"?)" or "(expected one of a, b, c)", at `at`. */
static int fail_unknown(struct ctx *c, const struct yn *at, const char *text, const char *what,
                        const char *path, const char *const *cands, size_t n)
{
    char in[160] = "", got[64];
    if (path[0])
        snprintf(in, sizeof in, " in %s", path);
    const char *near = closest(text, cands, n);
    if (near)
        return fail(c, at, "unknown %s \"%s\"%s (did you mean \"%s\"?)", what,
                    shown(text, got, sizeof got), in, near);
    char list[512];
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", cands[i]);
    return fail(c, at, "unknown %s \"%s\"%s (expected one of %s)", what,
                shown(text, got, sizeof got), in, list);
}

/* ==== reading YAML ======================================================================== */

struct anchor {
    char *name;
    const struct yn *node;
};

struct builder {
    yaml_parser_t parser;
    struct scn_doc *d;
    const char *set;                  /* parsing a --set value: every node comes from it */
    char *err;
    size_t errlen;
    struct anchor *anchors;
    size_t n_anchors;
    size_t nodes;                     /* budget against alias bombs */
};

/* Whether the character at line:col (1-based) of text is a tab. */
static bool at_tab(const char *text, int line, int col)
{
    for (int l = 1; text && l < line; l++) {
        text = strchr(text, '\n');
        if (text)
            text++;
    }
    return text && (int)strcspn(text, "\n") >= col && text[col - 1] == '\t';
}

static int syntax_error(struct builder *b)
{
    yaml_parser_t *p = &b->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR && !b->set) {
        line = 1, col = 1;           /* the reader gives a byte offset, not a mark */
        for (size_t i = 0; i < p->problem_offset && b->d->text[i]; i++) {
            if (b->d->text[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
    }
    if (p->error == YAML_SCANNER_ERROR && !b->set && at_tab(b->d->text, line, col))
        return fail_at(b->d, NULL, line, col, b->err, b->errlen, "invalid YAML: a tab; indent "
                       "with spaces");
    char context[160] = "";
    if (p->context && (p->context_mark.line != p->problem_mark.line ||
                       p->context_mark.column != p->problem_mark.column))
        snprintf(context, sizeof context, " (%s that starts at %d:%d)", p->context,
                 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return fail_at(b->d, b->set, line, col, b->err, b->errlen, "invalid YAML: %s%s", problem,
                   context);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return syntax_error(b);
    return 0;
}

static int build_fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int build_fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_at(b->d, b->set, (int)m->line + 1, (int)m->column + 1, b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void child_path(char *out, size_t len, const char *parent, const char *key)
{
    if (parent[0])
        snprintf(out, len, "%s.%s", parent, key);
    else
        snprintf(out, len, "%s", key);
}

/* Builds the node that starts with *ev (consumed), or NULL after an error. */
static struct yn *build_node(struct builder *b, yaml_event_t *ev, int depth, const char *path)
{
    struct yn *n = NULL;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (++b->nodes > MAX_NODES) {
        build_fail(b, &ev->start_mark, "the scenario has more than %d YAML nodes (are aliases "
                   "nested inside each other?)", MAX_NODES);
        goto fail;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = b->n_anchors; i-- > 0;)
            if (strcmp(b->anchors[i].name, name) == 0) {
                n = yn_copy(b->anchors[i].node);
                break;
            }
        if (!n) {
            build_fail(b, &ev->start_mark, "unknown alias *%s: define &%s before using it",
                       name, name);
            goto fail;
        }
        b->nodes += yn_count(n);
        if (b->nodes > MAX_NODES) {
            build_fail(b, &ev->start_mark, "the scenario has more than %d YAML nodes (are "
                       "aliases nested inside each other?)", MAX_NODES);
            goto fail;
        }
        yaml_event_delete(ev);
        return n;
    }
    case YAML_SCALAR_EVENT:
        n = yn_new(YN_SCALAR, line, col, b->set);
        n->text = xalloc(ev->data.scalar.length + 1, "a scenario value");
        memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        if (depth >= MAX_DEPTH) {
            build_fail(b, &ev->start_mark, "nested more than %d levels deep", MAX_DEPTH);
            goto fail;
        }
        n = yn_new(map ? YN_MAP : YN_SEQ, line, col, b->set);
        for (;;) {
            yaml_event_t kev;
            if (next_event(b, &kev) != 0)
                goto fail;
            if (kev.type == YAML_SEQUENCE_END_EVENT || kev.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&kev);
                break;
            }
            char sub[256];
            if (!map)
                snprintf(sub, sizeof sub, "%s[%zu]", path, n->n);
            struct yn *k = build_node(b, &kev, depth + 1, map ? path : sub);
            if (!k)
                goto fail;
            yn_push(n, k);
            if (!map)
                continue;
            if (k->kind != YN_SCALAR) {
                fail_at(b->d, k->set, k->line, k->col, b->err, b->errlen,
                        "a key must be a single word, not %s", kind_name(k));
                goto fail;
            }
            for (size_t i = 0; i + 1 < n->n; i += 2)
                if (strcmp(n->kid[i]->text, k->text) == 0) {
                    char in[300] = "";
                    if (path[0])
                        snprintf(in, sizeof in, " in %s", path);
                    fail_at(b->d, k->set, k->line, k->col, b->err, b->errlen,
                            "duplicate key \"%s\"%s (first at line %d): give each key once",
                            k->text, in, n->kid[i]->line);
                    goto fail;
                }
            yaml_event_t vev;
            if (next_event(b, &vev) != 0)
                goto fail;
            child_path(sub, sizeof sub, path, k->text);
            struct yn *v = build_node(b, &vev, depth + 1, sub);
            if (!v)
                goto fail;
            yn_push(n, v);
        }
        break;
    }
    default:
        build_fail(b, &ev->start_mark, "unexpected YAML event");
        goto fail;
    }
    const yaml_char_t *anchor =
        ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
        : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
        : ev->data.mapping_start.anchor;
    if (anchor) {
        struct anchor *a = realloc(b->anchors, (b->n_anchors + 1) * sizeof *a);
        if (!a) {
            fprintf(stderr, "p2plab: out of memory allocating a YAML anchor\n");
            abort();
        }
        b->anchors = a;
        b->anchors[b->n_anchors].name = xstrdup((const char *)anchor);
        b->anchors[b->n_anchors++].node = n;
    }
    yaml_event_delete(ev);
    return n;
fail:
    yaml_event_delete(ev);
    yn_free(n);
    return NULL;
}

/* Parses text (one YAML document) into *root; an empty text gives NULL. 0 or -1. */
static int parse_yaml(struct scn_doc *d, const char *text, const char *set, struct yn **root,
                      char *err, size_t errlen)
{
    struct builder b = { .d = d, .set = set, .err = err, .errlen = errlen };
    *root = NULL;
    if (!yaml_parser_initialize(&b.parser)) {
        fprintf(stderr, "p2plab: out of memory allocating a YAML parser\n");
        abort();
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, strlen(text));
    int rc = -1;
    yaml_event_t ev;
    bool done = false;
    while (!done) {
        if (next_event(&b, &ev) != 0)
            goto out;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (*root) {
                build_fail(&b, &ev.start_mark, "a scenario is one YAML document: remove this "
                           "second one (or the \"---\" before it)");
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        default:
            *root = build_node(&b, &ev, 0, "");
            if (!*root)
                goto out;
            continue;                 /* build_node consumed the event */
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
out:
    if (rc != 0) {
        yn_free(*root);
        *root = NULL;
    }
    for (size_t i = 0; i < b.n_anchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    yaml_parser_delete(&b.parser);
    return rc;
}

/* ==== the schema ========================================================================== */

const struct scn_key_doc scn_key_docs[] = {
    { "name", "(file name)", "text", "names the results directory and the plots" },
    { "seed", "1", "whole number", "root of every random stream; replicas use seed, seed+1, ..." },
    { "duration", "1h", "duration",
      "simulated time; lookups and churn run in [0, duration), at most 365d" },
    { "warmup", "0", "duration",
      "lookups issued before this are left out of the statistics; less than duration" },
    { "sample", "1min", "duration",
      "time-series sampling interval (at most 1000000 samples per run)" },
    { "replicas", "1", "whole number",
      "independent runs per cell with seeds seed..seed+replicas-1, 1..1000; results carry 95% "
      "CIs" },
    { "network.latency.model", "constant", "constant|uniform|lognormal|euclidean|matrix",
      "how one-way delays are drawn" },
    { "network.latency.mean", "80ms", "duration", "mean one-way delay (constant: the delay)" },
    { "network.latency.min", "0.5 x mean", "duration", "uniform: lowest delay" },
    { "network.latency.max", "1.5 x mean", "duration", "uniform: highest delay" },
    { "network.latency.sigma", "0.5", "number", "lognormal: sigma of ln(delay)" },
    { "network.latency.access", "5ms", "duration",
      "euclidean: mean access-link delay added at each end" },
    { "network.latency.file", "(none)", "path",
      "matrix: file of \"i j ms\" lines, relative to the scenario file; required for model "
      "matrix" },
    { "network.loss", "0", "fraction", "probability that a message is lost, in [0, 1)" },
    { "network.bandwidth", "[ { share: 1, up: 10Mbit/s, down: 10Mbit/s } ]", "list",
      "access-link classes for bulk transfers (BitTorrent blocks): each peer host draws one by "
      "its share when it comes up; a transfer's rate is the smaller of the sender's upload and "
      "the receiver's download, each shared equally among that host's transfers" },
    { "network.bandwidth[].share", "1 if there is one class", "fraction",
      "share of the peer hosts in this class, > 0; the shares add up to 1" },
    { "network.bandwidth[].up", "(required)", "bandwidth",
      "upload capacity, e.g. 1Mbit/s, 512kbit/s, 2MB/s (k, M, G = 1000^n; Ki, Mi = 1024^n)" },
    { "network.bandwidth[].down", "(required)", "bandwidth", "download capacity" },
    { "network.server_bandwidth", "the first class of network.bandwidth", "mapping",
      "the capacities of the protocol's server hosts (BitTorrent's tracker and initial seeds)" },
    { "network.server_bandwidth.up", "the first class's up", "bandwidth",
      "a server's upload capacity" },
    { "network.server_bandwidth.down", "the first class's down", "bandwidth",
      "a server's download capacity" },
    { "nodes", "1000", "whole number or mapping", "shorthand for nodes.count" },
    { "nodes.count", "1000", "whole number", "nodes at t = 0, 1..100000000" },
    { "nodes.start", "converged", "converged|join",
      "converged: routing state built at t = 0; join: every node joins through the introducer" },
    { "nodes.join_over", "10min", "duration", "start: join spreads the joins uniformly over this" },
    { "nodes.vnodes", "1", "whole number", "virtual nodes: overlay nodes each host runs, 1..64, with their own identifiers; they share the host's network position and come and go together (Chord's load balancing, SIGCOMM 2001 §6.2); per-node metrics are per host" },
    { "churn.session", "{ dist: none }", "distribution",
      "time a node stays up; none: nodes never leave on their own" },
    { "churn.session.dist", "none", "none|constant|exponential|weibull|pareto|lognormal",
      "the distribution's family" },
    { "churn.session.mean", "(derived)", "duration",
      "mean session; give mean or median, not both" },
    { "churn.session.median", "(derived)", "duration",
      "median session; give mean or median, not both" },
    { "churn.session.shape", "weibull 1, pareto 2, lognormal 1", "number",
      "weibull k (> 0), pareto alpha (> 1), lognormal sigma (> 0)" },
    { "churn.downtime", "{ dist: exponential, mean: 10min } with churn, else none", "distribution",
      "time a departed node stays away before it rejoins" },
    { "churn.downtime.dist", "exponential", "none|constant|exponential|weibull|pareto|lognormal",
      "the distribution's family" },
    { "churn.downtime.mean", "10min", "duration", "mean downtime; give mean or median, not both" },
    { "churn.downtime.median", "(derived)", "duration",
      "median downtime; give mean or median, not both" },
    { "churn.downtime.shape", "weibull 1, pareto 2, lognormal 1", "number",
      "as for churn.session.shape" },
    { "churn.crash_fraction", "1", "fraction",
      "share of departures that are crashes (no goodbye); the rest leave gracefully" },
    { "churn.events", "[]", "list", "scheduled events, sorted by at" },
    { "churn.events[].at", "(required)", "duration", "when, within [0, duration]" },
    { "churn.events[].crash", "", "fraction|servers",
      "crash this share of the live nodes at once, e.g. 50%; or the protocol's servers" },
    { "churn.events[].restart", "", "servers",
      "bring crashed servers back, with empty state" },
    { "churn.events[].join", "", "whole number", "this many new nodes join at once" },
    { "churn.events[].maintenance", "", "off|on",
      "freeze or resume every protocol's periodic maintenance" },
    { "workload.keys", "10000", "whole number", "keys inserted at t = 0, 1..1000000000" },
    { "workload.popularity.dist", "uniform", "uniform|zipf", "which keys lookups ask for" },
    { "workload.popularity.alpha", "0.8", "number", "zipf exponent, 0..100" },
    { "workload.lookups.rate", "1/node/min", "rate",
      "lookup arrivals (Poisson): N/s, N/min, N/h, or per live node N/node/min" },
    { "workload.files.count", "0", "whole number",
      "files in the catalogue that unstructured systems search (Napster, Gnutella, FastTrack); 0 = none" },
    { "workload.files.per_node", "20", "whole number",
      "distinct files each node shares (at most the catalogue's size)" },
    { "workload.files.replication", "proportional", "uniform|proportional|square-root",
      "copies of a file relative to its query popularity q: equal, ∝ q, or ∝ √q (Cohen & Shenker 2002)" },
    { "workload.lookup_timeout", "2min", "duration",
      "a lookup still running after this ends as a timeout" },
    { "protocols", "(required)", "mapping",
      "the protocols to run side by side, e.g. { chord: {}, pastry: { b: 4 } }" },
    { "protocols.NAME.PARAM", "the protocol's default", "per parameter", "see `p2plab list NAME`" },
    { "sweep.PATH", "", "list",
      "run every combination: PATH is a key path such as nodes or protocols.chord.successors "
      "(which applies to chord only); the first axis varies slowest" },
    { "plots", "[]", "list", "figures drawn after the run" },
    { "also", "[]", "list",
      "companion scenarios (paths from this file's folder) run after this one into subfolders "
      "of its results, and shown in its report" },
    { "plots[].x", "(required)", "text", "a swept key path, protocol or time" },
    { "plots[].y", "(required)", "text", "a metric, e.g. lookup.hops.mean" },
    { "plots[].by", "protocol", "text",
      "one line per value of: protocol, a swept key path, or none" },
    { "plots[].logx", "0", "number", "logarithmic x axis of this base; 0 = linear" },
    { "plots[].logy", "0", "number", "logarithmic y axis of this base; 0 = linear" },
    { "plots[].title", "", "text", "the figure's title" },
    { NULL, NULL, NULL, NULL },
};

static const char *const top_keys[] = { "name", "seed", "duration", "warmup", "sample", "replicas",
    "network", "nodes", "churn", "workload", "protocols", "sweep", "plots", "also" };
static const char *const network_keys[] = { "latency", "loss", "bandwidth", "server_bandwidth" };
static const char *const bw_class_keys[] = { "share", "up", "down" };
static const char *const server_bw_keys[] = { "up", "down" };
static const char *const latency_keys[] = { "model", "mean", "min", "max", "sigma", "access",
    "file" };
static const char *const latency_models[] = { "constant", "uniform", "lognormal", "euclidean",
    "matrix" };
static const char *const nodes_keys[] = { "count", "start", "join_over", "vnodes" };
static const char *const start_modes[] = { "converged", "join" };
static const char *const churn_keys[] = { "session", "downtime", "crash_fraction", "events" };
static const char *const dist_keys[] = { "dist", "mean", "median", "shape" };
static const char *const dist_kinds[] = { "none", "constant", "exponential", "weibull", "pareto",
    "lognormal" };
static const char *const event_keys[] = { "at", "crash", "join", "maintenance", "restart" };
static const char *const workload_keys[] = { "keys", "popularity", "lookups", "lookup_timeout",
                                             "files" };
static const char *const files_keys[] = { "count", "per_node", "replication" };
static const char *const replications[] = { "uniform", "proportional", "square-root" };
static const char *const popularity_keys[] = { "dist", "alpha" };
static const char *const popularities[] = { "uniform", "zipf" };
static const char *const lookups_keys[] = { "rate" };
static const char *const plot_keys[] = { "x", "y", "by", "logx", "logy", "title" };

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

_Static_assert(COUNT(latency_models) == LAT_MATRIX + 1, "latency models follow the enum");
_Static_assert(COUNT(dist_kinds) == DIST_LOGNORMAL + 1, "distributions follow the enum");

/* Types of scn_key_docs rows that hold a single value, and so can be swept. */
static bool scalar_type(const char *type)
{
    return strcmp(type, "mapping") != 0 && strcmp(type, "list") != 0 &&
           strcmp(type, "distribution") != 0 && strcmp(type, "per parameter") != 0;
}

/* ==== typed values ======================================================================== */

/* Checks a mapping's keys against the schema; a null or absent mapping is empty. */
static int check_keys(struct ctx *c, const struct yn *map, const char *path,
                      const char *const *keys, size_t n)
{
    if (!map || map->kind != YN_MAP)
        return 0;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        size_t k = 0;
        while (k < n && strcmp(map->kid[i]->text, keys[k]) != 0)
            k++;
        if (k == n)
            return fail_unknown(c, map->kid[i], map->kid[i]->text, "key", path, keys, n);
    }
    return 0;
}

/* The mapping at map.key: 1 with *out set, 0 if absent or null (an empty mapping), -1 if it is
 * something else. `example` shows the expected shape. */
static int get_map(struct ctx *c, const struct yn *map, const char *key, const char *path,
                   const char *example, const struct yn **out)
{
    const struct yn *v = map_get(map, key);
    *out = NULL;
    if (yn_null(v))
        return 0;
    if (v->kind != YN_MAP) {
        char got[64];
        if (v->kind == YN_SCALAR)
            return fail(c, v, "%s must be a mapping such as %s (got \"%s\")", path, example,
                        shown(v->text, got, sizeof got));
        return fail(c, v, "%s must be a mapping such as %s, not %s", path, example, kind_name(v));
    }
    *out = v;
    return 1;
}

/* The scalar at map.key: 1 with *out set, 0 if absent, -1 if null or a collection. */
static int get_scalar(struct ctx *c, const struct yn *map, const char *key, const char *path,
                      const struct yn **out)
{
    const struct yn *v = map_get(map, key);
    *out = v;
    if (!v)
        return 0;
    if (v->kind != YN_SCALAR)
        return fail(c, v, "%s must be a single value, not %s", path, kind_name(v));
    if (yn_null(v))                   /* point at the key: an empty value has no place */
        return fail(c, map_key(map, key), "%s has no value: give one or remove the key", path);
    return 1;
}

typedef int (*unit_parser)(const char *s, void *out, const char **err);

/* The units_* parsers under one type, so get_value can take any of them. */
#define UNIT_PARSER(name, fn, type) \
    static int name(const char *s, void *out, const char **err) { return fn(s, (type *)out, err); }
UNIT_PARSER(parse_duration, units_duration, int64_t)
UNIT_PARSER(parse_rate, units_rate, struct rate)
UNIT_PARSER(parse_fraction, units_fraction, double)
UNIT_PARSER(parse_int, units_int, int64_t)
UNIT_PARSER(parse_double, units_double, double)
UNIT_PARSER(parse_bool, units_bool, bool)
UNIT_PARSER(parse_bandwidth, units_bandwidth, double)

/* Reads map.key with `parse` into out: 1 if given, 0 if absent (out untouched), -1 on error.
 * *at is the value node, for later range messages. */
static int get_value(struct ctx *c, const struct yn *map, const char *key, const char *parent,
                     unit_parser parse, void *out, const struct yn **at)
{
    char path[256];
    child_path(path, sizeof path, parent, key);
    const struct yn *v;
    int rc = get_scalar(c, map, key, path, &v);
    if (at)
        *at = v;
    if (rc <= 0)
        return rc;
    const char *msg;
    if (parse(v->text, out, &msg) != 0)
        return fail_value(c, v, path, msg);
    return 1;
}

static int get_duration(struct ctx *c, const struct yn *map, const char *key, const char *parent,
                        int64_t *out, const struct yn **at)
{
    return get_value(c, map, key, parent, parse_duration, out, at);
}

/* A whole number in [lo, hi]. */
static int get_int(struct ctx *c, const struct yn *map, const char *key, const char *parent,
                   int64_t lo, int64_t hi, int64_t *out)
{
    const struct yn *at;
    int64_t v;
    int rc = get_value(c, map, key, parent, parse_int, &v, &at);
    if (rc <= 0)
        return rc;
    if (v < lo || v > hi) {
        char path[256];
        child_path(path, sizeof path, parent, key);
        return fail(c, at, "%s must be between %" PRId64 " and %" PRId64 " (got %s)", path, lo,
                    hi, at->text);
    }
    *out = v;
    return 1;
}

/* One of `names`, stored as its index. */
static int get_enum(struct ctx *c, const struct yn *map, const char *key, const char *parent,
                    const char *const *names, size_t n, int *out, const struct yn **at)
{
    char path[256];
    child_path(path, sizeof path, parent, key);
    const struct yn *v;
    int rc = get_scalar(c, map, key, path, &v);
    if (at)
        *at = v;
    if (rc <= 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v->text, names[i]) == 0) {
            *out = (int)i;
            return 1;
        }
    char list[256], got[64];
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", names[i]);
    const char *near = closest(v->text, names, n);
    if (near)
        return fail(c, v, "%s must be one of %s (got \"%s\"; did you mean \"%s\"?)", path, list,
                    shown(v->text, got, sizeof got), near);
    return fail(c, v, "%s must be one of %s (got \"%s\")", path, list,
                shown(v->text, got, sizeof got));
}

/* Text that fits in len bytes. */
static int get_text(struct ctx *c, const struct yn *map, const char *key, const char *parent,
                    char *out, size_t len, const struct yn **at)
{
    char path[256];
    child_path(path, sizeof path, parent, key);
    const struct yn *v;
    int rc = get_scalar(c, map, key, path, &v);
    if (at)
        *at = v;
    if (rc <= 0)
        return rc;
    if (strlen(v->text) >= len)
        return fail(c, v, "%s is too long: at most %zu characters", path, len - 1);
    snprintf(out, len, "%s", v->text);
    return 1;
}

static void fmt_duration(int64_t us, char *buf, size_t len) { units_format_duration(us, buf, len); }

/* ==== resolution ========================================================================== */

/* The run's top-level numbers, needed by later sections. */
static int resolve_run(struct ctx *c, const struct yn *root, struct scenario *out)
{
    const struct yn *at;
    char buf[64], buf2[64];
    snprintf(out->name, sizeof out->name, "%s", c->d->defname);
    if (get_text(c, root, "name", "", out->name, sizeof out->name, &at) < 0)
        return -1;
    bool ok = out->name[0] && strcmp(out->name, ".") != 0 && strcmp(out->name, "..") != 0;
    for (const char *p = out->name; *p; p++)
        ok = ok && *p != '/' && *p != '\\' && !iscntrl((unsigned char)*p);
    if (!ok)
        return fail(c, at, "name must be usable as a directory name, such as dht-scaling: no "
                    "\"/\" or control characters (got \"%s\")", at ? at->text : out->name);

    int64_t seed = 1;
    if (get_int(c, root, "seed", "", 0, INT64_MAX, &seed) < 0)
        return -1;
    out->seed = (uint64_t)seed;

    out->duration_us = INT64_C(3600) * US_PER_S;
    if (get_duration(c, root, "duration", "", &out->duration_us, &at) < 0)
        return -1;
    if (out->duration_us <= 0 || out->duration_us > MAX_DURATION_US)
        return fail(c, at, "duration must be more than 0 and at most 365d (got %s)", at->text);

    if (get_duration(c, root, "warmup", "", &out->warmup_us, &at) < 0)
        return -1;
    if (out->warmup_us >= out->duration_us) {
        fmt_duration(out->duration_us, buf, sizeof buf);
        return fail(c, at, "warmup must be shorter than duration, %s (got %s)", buf, at->text);
    }

    out->sample_us = 60 * US_PER_S;
    if (get_duration(c, root, "sample", "", &out->sample_us, &at) < 0)
        return -1;
    if (out->sample_us <= 0)
        return fail(c, at, "sample must be more than 0 (got %s)", at->text);
    if (out->duration_us / out->sample_us > MAX_SAMPLES) {
        fmt_duration(out->duration_us, buf, sizeof buf);
        fmt_duration((out->duration_us + MAX_SAMPLES - 1) / MAX_SAMPLES, buf2, sizeof buf2);
        return fail(c, at ? at : map_key(root, "duration"), "sample is too short: duration %s "
                    "would take more than %d samples; use sample: %s or more", buf, MAX_SAMPLES,
                    buf2);
    }

    int64_t replicas = 1;
    if (get_int(c, root, "replicas", "", 1, 1000, &replicas) < 0)
        return -1;
    out->replicas = (uint32_t)replicas;
    return 0;
}

#define BW_EXAMPLE "[ { share: 0.5, up: 1Mbit/s, down: 8Mbit/s }, { share: 0.5, up: 10Mbit/s, " \
                   "down: 50Mbit/s } ]"

/* network.bandwidth: a list of classes whose shares add up to 1 (a lone class may omit its
 * share); network.server_bandwidth: { up, down }, by default the first class. */
static int resolve_bandwidth(struct ctx *c, const struct yn *nmap, struct scn_network *net)
{
    const struct yn *list = map_get(nmap, "bandwidth"), *at, *smap;
    net->n_bw = 1;
    net->bw[0] = (struct scn_bw_class){ .share = 1, .up_Bps = 1.25e6, .down_Bps = 1.25e6 };
    if (!yn_null(list)) {
        if (list->kind != YN_SEQ)
            return fail(c, list, "network.bandwidth must be a list of classes such as %s, not %s",
                        BW_EXAMPLE, kind_name(list));
        if (list->n == 0)
            return fail(c, list, "network.bandwidth needs at least one class, e.g. [ { up: "
                        "10Mbit/s, down: 10Mbit/s } ]; or leave the key out for that default");
        if (list->n > SCN_MAX_BW_CLASSES)
            return fail(c, list->kid[SCN_MAX_BW_CLASSES], "network.bandwidth has more than %d "
                        "classes", SCN_MAX_BW_CLASSES);
        double sum = 0;
        for (size_t i = 0; i < list->n; i++) {
            const struct yn *item = list->kid[i];
            struct scn_bw_class *k = &net->bw[i];
            char P[64];
            snprintf(P, sizeof P, "network.bandwidth[%zu]", i);
            if (item->kind != YN_MAP)
                return fail(c, item, "%s must be a mapping such as { share: 0.5, up: 1Mbit/s, "
                            "down: 8Mbit/s }, not %s", P, kind_name(item));
            if (check_keys(c, item, P, bw_class_keys, COUNT(bw_class_keys)) < 0)
                return -1;
            int ru = get_value(c, item, "up", P, parse_bandwidth, &k->up_Bps, NULL);
            if (ru < 0)
                return -1;
            int rd = get_value(c, item, "down", P, parse_bandwidth, &k->down_Bps, NULL);
            if (rd < 0)
                return -1;
            if (ru == 0 || rd == 0)
                return fail(c, item, "%s needs both up: and down:, e.g. { share: 0.5, up: "
                            "1Mbit/s, down: 8Mbit/s }", P);
            k->share = 1;
            int rs = get_value(c, item, "share", P, parse_fraction, &k->share, &at);
            if (rs < 0)
                return -1;
            if (rs == 0 && list->n > 1)
                return fail(c, item, "%s needs share: with several classes, each class gives "
                            "its share of the peers (the shares add up to 1)", P);
            if (rs > 0 && k->share <= 0)
                return fail(c, at, "%s.share must be more than 0 (got %s); drop the class "
                            "instead", P, at->text);
            sum += k->share;
        }
        if (fabs(sum - 1) > 1e-9)
            return fail(c, list, "network.bandwidth: the shares add up to %g; they must add up "
                        "to 1", sum);
        net->n_bw = list->n;
    }
    net->server_bw = net->bw[0];
    net->server_bw.share = 0;
    if (get_map(c, nmap, "server_bandwidth", "network.server_bandwidth",
                "{ up: 10Mbit/s, down: 10Mbit/s }", &smap) < 0 ||
        check_keys(c, smap, "network.server_bandwidth", server_bw_keys,
                   COUNT(server_bw_keys)) < 0 ||
        get_value(c, smap, "up", "network.server_bandwidth", parse_bandwidth,
                  &net->server_bw.up_Bps, NULL) < 0 ||
        get_value(c, smap, "down", "network.server_bandwidth", parse_bandwidth,
                  &net->server_bw.down_Bps, NULL) < 0)
        return -1;
    return 0;
}

static int resolve_network(struct ctx *c, const struct yn *root, struct scn_network *net)
{
    const struct yn *nmap, *lat, *at, *mean_at, *min_at = NULL, *max_at = NULL, *file_at;
    if (get_map(c, root, "network", "network", "{ latency: { model: constant, mean: 80ms } }",
                &nmap) < 0 ||
        check_keys(c, nmap, "network", network_keys, COUNT(network_keys)) < 0 ||
        get_map(c, nmap, "latency", "network.latency", "{ model: lognormal, mean: 80ms }",
                &lat) < 0 ||
        check_keys(c, lat, "network.latency", latency_keys, COUNT(latency_keys)) < 0)
        return -1;
    const char *P = "network.latency";
    int model = LAT_CONSTANT;
    if (get_enum(c, lat, "model", P, latency_models, COUNT(latency_models), &model, NULL) < 0)
        return -1;
    net->model = (enum latency_model)model;

    net->mean_us = 80 * INT64_C(1000);
    if (get_duration(c, lat, "mean", P, &net->mean_us, &mean_at) < 0)
        return -1;
    if (mean_at && (net->mean_us <= 0 || net->mean_us > MAX_LATENCY_US))
        return fail(c, mean_at, "network.latency.mean must be more than 0 and at most 1h (got %s)",
                    mean_at->text);
    net->min_us = net->mean_us / 2;
    net->max_us = net->mean_us + net->mean_us / 2;
    if (get_duration(c, lat, "min", P, &net->min_us, &min_at) < 0 ||
        get_duration(c, lat, "max", P, &net->max_us, &max_at) < 0)
        return -1;
    if (max_at && net->max_us > MAX_LATENCY_US)
        return fail(c, max_at, "network.latency.max must be at most 1h (got %s)", max_at->text);
    if (net->min_us > net->max_us) {
        char lo[40], hi[40];
        fmt_duration(net->min_us, lo, sizeof lo);
        fmt_duration(net->max_us, hi, sizeof hi);
        return fail(c, min_at ? min_at : max_at, "network.latency: min (%s) must not exceed max "
                    "(%s)", lo, hi);
    }

    net->sigma = 0.5;
    if (get_value(c, lat, "sigma", P, parse_double, &net->sigma, &at) < 0)
        return -1;
    if (!(net->sigma > 0 && net->sigma <= 10))
        return fail(c, at, "network.latency.sigma must be more than 0 and at most 10 (got %s)",
                    at->text);

    net->access_us = 5 * INT64_C(1000);
    if (get_duration(c, lat, "access", P, &net->access_us, &at) < 0)
        return -1;
    if (net->access_us > MAX_LATENCY_US)
        return fail(c, at, "network.latency.access must be at most 1h (got %s)", at->text);

    if (get_text(c, lat, "file", P, net->matrix_given, sizeof net->matrix_given, &at) < 0)
        return -1;
    file_at = map_key(lat, "file");
    if (net->matrix_given[0]) {
        const char *dir = net->matrix_given[0] == '/' ? "" : c->d->dir;
        if ((size_t)snprintf(net->matrix, sizeof net->matrix, "%s%s", dir, net->matrix_given) >=
            sizeof net->matrix)
            return fail(c, file_at, "network.latency.file: the path is too long");
        FILE *f = fopen(net->matrix, "r");
        if (!f)
            return fail(c, file_at, "network.latency.file: cannot open \"%s\": %s (a relative "
                        "path is taken from the scenario file's directory)", net->matrix,
                        strerror(errno));
        fclose(f);
    } else if (net->model == LAT_MATRIX) {
        const struct yn *m = map_get(lat, "model");
        return fail(c, m, "network.latency: model matrix needs file: a file of \"i j ms\" lines, "
                    "e.g. file: king.txt");
    }

    net->loss = 0;
    if (get_value(c, nmap, "loss", "network", parse_fraction, &net->loss, &at) < 0)
        return -1;
    if (net->loss >= 1)
        return fail(c, at, "network.loss must be at least 0 and less than 1 (got %s)", at->text);
    return resolve_bandwidth(c, nmap, net);
}

static int resolve_nodes(struct ctx *c, const struct yn *root, struct scn_nodes *nodes)
{
    nodes->count = 1000;
    nodes->start = START_CONVERGED;
    nodes->join_over_us = 10 * 60 * US_PER_S;
    nodes->vnodes = 1;
    const struct yn *v = map_get(root, "nodes"), *map;
    int64_t count = nodes->count;
    if (v && v->kind == YN_SCALAR && !yn_null(v)) {
        if (get_int(c, root, "nodes", "", 1, MAX_NODE_COUNT, &count) < 0)
            return -1;
        nodes->count = (uint32_t)count;
        return 0;
    }
    if (get_map(c, root, "nodes", "nodes", "{ count: 1000, start: join, join_over: 10min } or "
                "a number", &map) < 0 ||
        check_keys(c, map, "nodes", nodes_keys, COUNT(nodes_keys)) < 0 ||
        get_int(c, map, "count", "nodes", 1, MAX_NODE_COUNT, &count) < 0)
        return -1;
    nodes->count = (uint32_t)count;
    int start = START_CONVERGED;
    int64_t vnodes = 1;
    if (get_enum(c, map, "start", "nodes", start_modes, COUNT(start_modes), &start, NULL) < 0 ||
        get_duration(c, map, "join_over", "nodes", &nodes->join_over_us, NULL) < 0 ||
        get_int(c, map, "vnodes", "nodes", 1, MAX_VNODES, &vnodes) < 0)
        return -1;
    nodes->vnodes = (uint32_t)vnodes;
    if ((uint64_t)count * (uint64_t)vnodes > MAX_NODE_COUNT)
        return fail(c, map_get(map, "vnodes"), "nodes.count x nodes.vnodes must be at most %d "
                    "overlay nodes (got %lld x %lld)", MAX_NODE_COUNT, (long long)count,
                    (long long)vnodes);
    nodes->start = (enum start_mode)start;
    return 0;
}

/* { dist: NAME, mean|median: DURATION, shape: X }; the value not given is derived. */
static int resolve_dist(struct ctx *c, const struct yn *parent, const char *key, const char *P,
                        struct dist *out, bool *given)
{
    memset(out, 0, sizeof *out);
    const struct yn *v = map_get(parent, key), *map, *mean_at, *median_at, *shape_at;
    *given = !yn_null(v);
    if (!*given)
        return 0;
    if (v->kind == YN_SCALAR && strcmp(v->text, "none") == 0)
        return 0;                     /* "session: none" reads as { dist: none } */
    if (get_map(c, parent, key, P, "{ dist: exponential, mean: 30min }", &map) < 0 ||
        check_keys(c, map, P, dist_keys, COUNT(dist_keys)) < 0)
        return -1;
    int kind = DIST_NONE;
    int rc = get_enum(c, map, "dist", P, dist_kinds, COUNT(dist_kinds), &kind, NULL);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(c, map, "%s needs dist: one of none, constant, exponential, weibull, pareto, "
                    "lognormal", P);
    out->kind = (enum dist_kind)kind;
    if (out->kind == DIST_NONE)
        return 0;                     /* mean, median and shape mean nothing here */

    int64_t mean = 0, median = 0;
    int has_mean = get_duration(c, map, "mean", P, &mean, &mean_at);
    if (has_mean < 0)
        return -1;
    int has_median = get_duration(c, map, "median", P, &median, &median_at);
    if (has_median < 0)
        return -1;
    if (has_mean && has_median)
        return fail(c, median_at, "%s: give mean or median, not both", P);
    if (!has_mean && !has_median)
        return fail(c, map, "%s needs a mean or a median, e.g. mean: 30min", P);
    const struct yn *given_at = has_mean ? mean_at : median_at;
    if ((has_mean ? mean : median) <= 0)
        return fail(c, given_at, "%s.%s must be more than 0 (got %s)", P,
                    has_mean ? "mean" : "median", given_at->text);

    double shape = out->kind == DIST_WEIBULL ? 1 : out->kind == DIST_PARETO ? 2
                 : out->kind == DIST_LOGNORMAL ? 1 : 0;
    if (get_value(c, map, "shape", P, parse_double, &shape, &shape_at) < 0)
        return -1;
    if (out->kind == DIST_WEIBULL && !(shape > 0))
        return fail(c, shape_at, "%s.shape must be more than 0 for weibull (got %s)", P,
                    shape_at->text);
    if (out->kind == DIST_PARETO && !(shape > 1))
        return fail(c, shape_at, "%s.shape must be more than 1 for pareto, or the mean is "
                    "infinite (got %s)", P, shape_at->text);
    if (out->kind == DIST_LOGNORMAL && !(shape > 0 && shape <= 10))
        return fail(c, shape_at, "%s.shape (sigma) must be more than 0 and at most 10 for "
                    "lognormal (got %s)", P, shape_at->text);

    /* median / mean for this family and shape */
    double ratio = 1;
    switch (out->kind) {
    case DIST_NONE:
    case DIST_CONSTANT:
        ratio = 1;
        break;
    case DIST_EXPONENTIAL:            /* median = mean ln 2 */
        ratio = LN2;
        break;
    case DIST_WEIBULL:                /* mean = l G(1 + 1/k), median = l (ln 2)^(1/k) */
        ratio = exp(log(LN2) / shape - lgamma(1 + 1 / shape));
        break;
    case DIST_PARETO:                 /* mean = a xm / (a - 1), median = xm 2^(1/a) */
        ratio = pow(2, 1 / shape) * (shape - 1) / shape;
        break;
    case DIST_LOGNORMAL:              /* median = e^mu, mean = e^(mu + s^2 / 2) */
        ratio = exp(-shape * shape / 2);
        break;
    }
    double derived = has_mean ? (double)mean * ratio : (double)median / ratio;
    if (!isfinite(derived) || derived >= 9.2e18 || derived < 0.5) {
        const struct yn *blame = shape_at ? shape_at : given_at;
        return fail(c, blame, "%s: with shape %g the %s would be %s; use a %s shape", P, shape,
                    has_mean ? "median" : "mean",
                    derived < 0.5 ? "below 1us" : "beyond 106751991d",
                    out->kind == DIST_LOGNORMAL ? "smaller" : "larger");
    }
    out->mean_us = has_mean ? mean : llround(derived);
    out->median_us = has_mean ? llround(derived) : median;
    out->shape = shape;
    out->by_median = has_median;
    return 0;
}

static int resolve_event(struct ctx *c, const struct yn *item, const char *P, int64_t duration,
                         struct scn_churn_event *e)
{
    const struct yn *at_at, *which[4];
    static const char *const kinds[] = { "crash", "join", "maintenance", "restart" };
    if (item->kind != YN_MAP)
        return fail(c, item, "%s must be a mapping such as { at: 20min, crash: 50%% }, not %s", P,
                    kind_name(item));
    if (check_keys(c, item, P, event_keys, COUNT(event_keys)) < 0)
        return -1;
    int rc = get_duration(c, item, "at", P, &e->at_us, &at_at);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(c, item, "%s needs at: the time of the event, e.g. at: 20min", P);
    if (e->at_us > duration) {
        char d[40];
        fmt_duration(duration, d, sizeof d);
        return fail(c, at_at, "%s.at must be within the run, 0 to %s (got %s)", P, d, at_at->text);
    }
    int n = 0, kind = 0;
    for (int k = 0; k < 4; k++) {
        which[k] = map_key(item, kinds[k]);
        if (which[k]) {
            if (n++ == 1)
                return fail(c, which[k], "%s: give one of crash, join, maintenance or restart per event "
                            "(got %s and %s)", P, kinds[kind], kinds[k]);
            kind = k;
        }
    }
    if (n == 0)
        return fail(c, item, "%s needs one of crash: 50%%, join: 100 or maintenance: off", P);
    if (kind == 3) {
        const struct yn *v = map_get(item, "restart");
        if (v->kind != YN_SCALAR || strcmp(v->text, "servers") != 0)
            return fail(c, v, "%s.restart takes servers: restart: servers brings the protocol's "
                        "crashed servers back", P);
        e->kind = CHURN_RESTART_SERVERS;
        return 0;
    }
    e->kind = (enum churn_event_kind)kind;
    switch (e->kind) {
    case CHURN_CRASH: {
        const struct yn *v = map_get(item, "crash");
        if (v->kind == YN_SCALAR && strcmp(v->text, "servers") == 0) {
            e->kind = CHURN_CRASH_SERVERS;
            return 0;
        }
        return get_value(c, item, "crash", P, parse_fraction, &e->fraction, NULL) < 0 ? -1 : 0;
    }
    case CHURN_JOIN: {
        int64_t count;
        if (get_int(c, item, "join", P, 1, MAX_NODE_COUNT, &count) < 0)
            return -1;
        e->count = (uint32_t)count;
        return 0;
    }
    case CHURN_MAINTENANCE:
        return get_value(c, item, "maintenance", P, parse_bool, &e->on, NULL) < 0 ? -1 : 0;
    case CHURN_CRASH_SERVERS:
    case CHURN_RESTART_SERVERS:
        break;
    }
    return 0;
}

static int resolve_churn(struct ctx *c, const struct yn *root, int64_t duration,
                         struct scn_churn *ch)
{
    const struct yn *map, *at;
    bool session, downtime;
    if (get_map(c, root, "churn", "churn", "{ session: { dist: exponential, mean: 1h } }",
                &map) < 0 ||
        check_keys(c, map, "churn", churn_keys, COUNT(churn_keys)) < 0 ||
        resolve_dist(c, map, "session", "churn.session", &ch->session, &session) < 0 ||
        resolve_dist(c, map, "downtime", "churn.downtime", &ch->downtime, &downtime) < 0)
        return -1;
    if (!downtime && ch->session.kind != DIST_NONE) /* documented default: 10min exponential */
        ch->downtime = (struct dist){ .kind = DIST_EXPONENTIAL, .mean_us = 600 * US_PER_S,
                                      .median_us = llround(600 * US_PER_S * LN2) };
    ch->crash_fraction = 1;
    if (get_value(c, map, "crash_fraction", "churn", parse_fraction, &ch->crash_fraction, &at) < 0)
        return -1;

    const struct yn *events = map_get(map, "events");
    ch->n_events = 0;
    if (yn_null(events))
        return 0;
    if (events->kind != YN_SEQ)
        return fail(c, events, "churn.events must be a list such as "
                    "[ { at: 20min, crash: 50%% } ], not %s", kind_name(events));
    for (size_t i = 0; i < events->n; i++) {
        char P[64];
        snprintf(P, sizeof P, "churn.events[%zu]", i);
        if (i == SCN_MAX_EVENTS)
            return fail(c, events->kid[i], "churn.events has more than %d events", SCN_MAX_EVENTS);
        struct scn_churn_event e = { 0 };
        if (resolve_event(c, events->kid[i], P, duration, &e) < 0)
            return -1;
        size_t j = ch->n_events++;    /* insertion sort: stable, events at one time keep order */
        while (j > 0 && ch->events[j - 1].at_us > e.at_us) {
            ch->events[j] = ch->events[j - 1];
            j--;
        }
        ch->events[j] = e;
    }
    return 0;
}

static int resolve_workload(struct ctx *c, const struct yn *root, struct scn_workload *w)
{
    const struct yn *map, *pop, *lookups, *at;
    if (get_map(c, root, "workload", "workload", "{ keys: 10000, lookups: { rate: 1/node/min } }",
                &map) < 0 ||
        check_keys(c, map, "workload", workload_keys, COUNT(workload_keys)) < 0)
        return -1;
    int64_t keys = 10000;
    if (get_int(c, map, "keys", "workload", 1, 1000000000, &keys) < 0)
        return -1;
    w->keys = (uint32_t)keys;

    if (get_map(c, map, "popularity", "workload.popularity", "{ dist: zipf, alpha: 0.8 }",
                &pop) < 0 ||
        check_keys(c, pop, "workload.popularity", popularity_keys, COUNT(popularity_keys)) < 0)
        return -1;
    int dist = POP_UNIFORM;
    if (get_enum(c, pop, "dist", "workload.popularity", popularities, COUNT(popularities), &dist,
                 NULL) < 0)
        return -1;
    w->popularity = (enum popularity)dist;
    w->alpha = 0.8;
    if (get_value(c, pop, "alpha", "workload.popularity", parse_double, &w->alpha, &at) < 0)
        return -1;
    if (!(w->alpha >= 0 && w->alpha <= 100))
        return fail(c, at, "workload.popularity.alpha must be between 0 and 100 (got %s)",
                    at->text);

    if (get_map(c, map, "lookups", "workload.lookups", "{ rate: 1/node/min }", &lookups) < 0 ||
        check_keys(c, lookups, "workload.lookups", lookups_keys, COUNT(lookups_keys)) < 0)
        return -1;
    w->lookups = (struct rate){ .per_s = 1.0 / 60, .per_node = true };
    if (get_value(c, lookups, "rate", "workload.lookups", parse_rate, &w->lookups, NULL) < 0)
        return -1;

    w->lookup_timeout_us = 120 * US_PER_S;
    if (get_duration(c, map, "lookup_timeout", "workload", &w->lookup_timeout_us, &at) < 0)
        return -1;
    if (w->lookup_timeout_us <= 0)
        return fail(c, at, "workload.lookup_timeout must be more than 0 (got %s)", at->text);

    const struct yn *files;
    if (get_map(c, map, "files", "workload.files",
                "{ count: 10000, per_node: 20, replication: square-root }", &files) < 0 ||
        check_keys(c, files, "workload.files", files_keys, COUNT(files_keys)) < 0)
        return -1;
    int64_t count = 0, per_node = 20;
    int repl = REPL_PROPORTIONAL;
    if (get_int(c, files, "count", "workload.files", 0, 100000000, &count) < 0 ||
        get_int(c, files, "per_node", "workload.files", 1, 100000, &per_node) < 0 ||
        get_enum(c, files, "replication", "workload.files", replications, COUNT(replications),
                 &repl, NULL) < 0)
        return -1;
    w->files = (uint32_t)count;
    w->files_per_node = (uint32_t)(per_node < count || count == 0 ? per_node : count);
    w->replication = (enum replication)repl;
    return 0;
}

static size_t protocol_names(const char **names, size_t max)
{
    size_t n = 0;
    for (const struct protocol *const *p = protocol_registry; *p && n < max; p++)
        names[n++] = (*p)->name;
    return n;
}

static int resolve_protocols(struct ctx *c, const struct yn *root, struct scenario *out)
{
    const struct yn *map;
    const char *names[64];
    size_t n_names = protocol_names(names, COUNT(names));
    int rc = get_map(c, root, "protocols", "protocols", "{ chord: {} }", &map);
    if (rc < 0)
        return -1;
    if (rc == 0 || map->n == 0) {
        return fail(c, rc ? map : map_key(root, "protocols"),
                    "no protocols to run: add e.g. \"protocols: { chord: {} }\"");
    }
    out->n_protocols = 0;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct yn *key = map->kid[i], *params;
        const struct protocol *proto = protocol_find(key->text);
        if (!proto)
            return fail_unknown(c, key, key->text, "protocol", "protocols", names, n_names);
        if (out->n_protocols == SCN_MAX_PROTOCOLS)
            return fail(c, key, "protocols: at most %d protocols per scenario", SCN_MAX_PROTOCOLS);
        struct scn_protocol *sp = &out->protocols[out->n_protocols++];
        snprintf(sp->name, sizeof sp->name, "%s", proto->name);
        char P[64], example[80];
        snprintf(P, sizeof P, "protocols.%s", proto->name);
        snprintf(example, sizeof example, "{ %s: 16 } or {}", proto->params && proto->params[0].name
                 ? proto->params[0].name : "param");
        if (get_map(c, map, key->text, P, example, &params) < 0)
            return -1;
        if (!proto->params || param_defaults(&sp->cfg, proto->params) != 0)
            return fail(c, key, "protocol %s: its parameter table does not load (a bug in "
                        "protocols/%s.c; the test suite checks every table)", proto->name,
                        proto->name);
        const char *pnames[PARAM_MAX];
        for (size_t k = 0; k < sp->cfg.count; k++)
            pnames[k] = proto->params[k].name;
        for (size_t k = 0; params && k + 1 < params->n; k += 2) {
            const struct yn *pk = params->kid[k], *pv;
            int idx = param_find(proto->params, pk->text);
            if (idx < 0)
                return fail_unknown(c, pk, pk->text, "key", P, pnames, sp->cfg.count);
            char path[128];
            snprintf(path, sizeof path, "%s.%s", P, pk->text);
            if (get_scalar(c, params, pk->text, path, &pv) < 0)
                return -1;
            const char *msg;
            if (param_parse(&proto->params[idx], pv->text, &sp->cfg.v[idx], &msg) != 0)
                return fail_value(c, pv, path, msg);
        }
    }
    return 0;
}

/* ---- the sweep -------------------------------------------------------------------------- */

/* Reads the sweep's shape from the doc's tree into d->axes (no schema checks yet). */
static int extract_sweep(struct scn_doc *d, char *err, size_t errlen)
{
    struct ctx cx = { d, err, errlen }, *c = &cx;
    const struct yn *map;
    d->n_axes = 0;
    int rc = get_map(c, d->root, "sweep", "sweep", "{ nodes: [1000, 2000, 4000] }", &map);
    if (rc <= 0)
        return rc;
    size_t points = 1;
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        const struct yn *key = map->kid[i], *list = map->kid[i + 1];
        char P[200];
        snprintf(P, sizeof P, "sweep.%s", key->text);
        if (d->n_axes == SCN_MAX_SWEEP)
            return fail(c, key, "sweep: at most %d axes (swept keys)", SCN_MAX_SWEEP);
        if (strlen(key->text) >= AXIS_PATH_MAX)
            return fail(c, key, "sweep: the key path is too long (at most %zu characters)",
                        AXIS_PATH_MAX - 1);
        if (list->kind != YN_SEQ)
            return fail(c, list, "%s must be a list of values such as [1000, 2000, 4000], not %s",
                        P, kind_name(list));
        if (list->n == 0)
            return fail(c, list, "%s: give at least one value", P);
        if (list->n > SCN_MAX_POINTS)
            return fail(c, list->kid[SCN_MAX_POINTS], "%s: at most %d values", P, SCN_MAX_POINTS);
        for (size_t k = 0; k < list->n; k++) {
            const struct yn *v = list->kid[k];
            if (v->kind != YN_SCALAR)
                return fail(c, v, "%s[%zu] must be a single value, not %s", P, k, kind_name(v));
            if (yn_null(v))
                return fail(c, v, "%s[%zu] has no value", P, k);
            if (strlen(v->text) >= AXIS_VALUE_MAX)
                return fail(c, v, "%s[%zu] is too long: at most %zu characters", P, k,
                            AXIS_VALUE_MAX - 1);
        }
        points *= list->n;
        if (points > SCN_MAX_SWEEP_POINTS)
            return fail(c, key, "sweep: more than %d points in all (the product of the numbers "
                        "of values)", SCN_MAX_SWEEP_POINTS);
        d->axes[d->n_axes++] = (struct doc_axis){ key, list };
    }
    return 0;
}

/* "nodes" stands for "nodes.count". */
static const char *canonical_path(const char *path)
{
    return strcmp(path, "nodes") == 0 ? "nodes.count" : path;
}

/* Checks the axes against the schema, the listed protocols and the --set overrides. */
static int check_axes(struct ctx *c)
{
    const struct scn_doc *d = c->d;
    const char *paths[128];
    size_t n_paths = 0;
    for (const struct scn_key_doc *k = scn_key_docs; k->path && n_paths < COUNT(paths); k++)
        if (scalar_type(k->type) && !strchr(k->path, '['))
            paths[n_paths++] = k->path;
    for (size_t a = 0; a < d->n_axes; a++) {
        const struct yn *key = d->axes[a].key;
        const char *path = key->text;
        bool ok = false;
        for (size_t i = 0; i < n_paths && !ok; i++)
            ok = strcmp(path, paths[i]) == 0;
        if (!ok && strncmp(path, "protocols.", 10) == 0) {
            char name[64];
            const char *dot = strchr(path + 10, '.');
            size_t len = dot ? (size_t)(dot - path - 10) : strlen(path + 10);
            snprintf(name, sizeof name, "%.*s", (int)len, path + 10);
            const struct protocol *proto = protocol_find(name);
            if (!dot)
                return fail(c, key, "sweep: \"%s\" is not a protocol parameter: write "
                            "protocols.NAME.PARAM, e.g. protocols.chord.successors", path);
            if (!proto || !proto->params) {
                const char *names[64];
                return fail_unknown(c, key, name, "protocol", "protocols (in sweep)", names,
                                    protocol_names(names, COUNT(names)));
            }
            if (param_find(proto->params, dot + 1) < 0) {
                const char *pnames[PARAM_MAX];
                size_t n = 0;
                for (; proto->params[n].name && n < PARAM_MAX; n++)
                    pnames[n] = proto->params[n].name;
                char P[128];
                snprintf(P, sizeof P, "protocols.%s (in sweep)", name);
                return fail_unknown(c, key, dot + 1, "key", P, pnames, n);
            }
            if (!map_key(map_get(d->root, "protocols"), name))
                return fail(c, key, "sweep: %s is not under protocols; add \"%s: {}\" there or "
                            "drop this axis", name, name);
            ok = true;
        }
        if (!ok) {
            const char *near = closest(path, paths, n_paths);
            char got[64];
            if (near)
                return fail(c, key, "sweep: unknown key path \"%s\" (did you mean \"%s\"?)",
                            shown(path, got, sizeof got), near);
            return fail(c, key, "sweep: \"%s\" is not a key that holds one value; sweep a key "
                        "such as nodes, churn.session.median or protocols.chord.successors",
                        shown(path, got, sizeof got));
        }
        for (size_t b = 0; b < a; b++)
            if (strcmp(canonical_path(path), canonical_path(d->axes[b].key->text)) == 0)
                return fail(c, key, "sweep: %s is already swept as %s", path,
                            d->axes[b].key->text);
        for (size_t s = 0; s < d->n_sets; s++)
            if (d->set_paths[s] && strcmp(canonical_path(path), d->set_paths[s]) == 0) {
                const char *k = d->sets[s] + strlen("--set ");
                return fail(c, &(struct yn){ .set = d->sets[s] }, "%.*s is swept (sweep.%s); "
                            "override the sweep instead, e.g. --set 'sweep.%s=[...]'",
                            (int)strcspn(k, "="), k, path, path);
            }
    }
    return 0;
}

/* ---- plots ------------------------------------------------------------------------------ */

static bool is_axis(const struct scenario *s, const char *name)
{
    for (size_t a = 0; a < s->n_sweep; a++)
        if (strcmp(canonical_path(s->sweep[a].path), canonical_path(name)) == 0)
            return true;
    return false;
}

static int resolve_plots(struct ctx *c, const struct yn *root, struct scenario *out)
{
    const struct yn *plots = map_get(root, "plots");
    out->n_plots = 0;
    if (yn_null(plots))
        return 0;
    if (plots->kind != YN_SEQ)
        return fail(c, plots, "plots must be a list such as [ { x: nodes, y: lookup.hops.mean } ], "
                    "not %s", kind_name(plots));
    for (size_t i = 0; i < plots->n; i++) {
        const struct yn *item = plots->kid[i], *at;
        char P[32];
        snprintf(P, sizeof P, "plots[%zu]", i);
        if (i == SCN_MAX_PLOTS)
            return fail(c, item, "plots: at most %d plots", SCN_MAX_PLOTS);
        if (item->kind != YN_MAP)
            return fail(c, item, "%s must be a mapping such as { x: nodes, y: lookup.hops.mean }, "
                        "not %s", P, kind_name(item));
        if (check_keys(c, item, P, plot_keys, COUNT(plot_keys)) < 0)
            return -1;
        struct scn_plot *pl = &out->plots[out->n_plots++];
        int rc = get_text(c, item, "x", P, pl->x, sizeof pl->x, &at);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return fail(c, item, "%s needs x: a swept key path, protocol or time", P);
        if (strcmp(pl->x, "protocol") != 0 && strcmp(pl->x, "time") != 0 && !is_axis(out, pl->x))
            return fail(c, at, "%s.x must be a swept key path (under sweep:), protocol or time "
                        "(got \"%s\")", P, pl->x);
        rc = get_text(c, item, "y", P, pl->y, sizeof pl->y, &at);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return fail(c, item, "%s needs y: a metric such as lookup.hops.mean", P);
        snprintf(pl->by, sizeof pl->by, "protocol");
        if (get_text(c, item, "by", P, pl->by, sizeof pl->by, &at) < 0)
            return -1;
        if (strcmp(pl->by, "protocol") != 0 && strcmp(pl->by, "none") != 0 && !is_axis(out, pl->by))
            return fail(c, at, "%s.by must be protocol, none or a swept key path (got \"%s\")", P,
                        pl->by);
        static const char *const logs[] = { "logx", "logy" };
        for (int k = 0; k < 2; k++) {
            double *base = k ? &pl->logy : &pl->logx;
            if (get_value(c, item, logs[k], P, parse_double, base, &at) < 0)
                return -1;
            if (*base != 0 && !(*base > 1 && *base <= 1e6))
                return fail(c, at, "%s.%s must be a logarithm base such as 2 or 10, or 0 for a "
                            "linear axis (got %s)", P, logs[k], at->text);
        }
        if (get_text(c, item, "title", P, pl->title, sizeof pl->title, NULL) < 0)
            return -1;
    }
    return 0;
}

static int resolve_also(struct ctx *c, const struct yn *root, struct scenario *out)
{
    const struct yn *list = map_get(root, "also");
    out->n_also = 0;
    if (yn_null(list))
        return 0;
    if (list->kind != YN_SEQ)
        return fail(c, list, "also must be a list of scenario files such as "
                    "[ bittorrent-flashcrowd.yaml ], not %s", kind_name(list));
    for (size_t i = 0; i < list->n; i++) {
        const struct yn *v = list->kid[i];
        if (i == SCN_MAX_ALSO)
            return fail(c, v, "also: at most %d companion scenarios", SCN_MAX_ALSO);
        if (v->kind != YN_SCALAR || yn_null(v))
            return fail(c, v, "also[%zu] must be the path of a scenario file", i);
        struct scn_also *a = &out->also[out->n_also++];
        if (strlen(v->text) >= sizeof a->given)
            return fail(c, v, "also[%zu]: the path is too long", i);
        snprintf(a->given, sizeof a->given, "%s", v->text);
        const char *dir = v->text[0] == '/' ? "" : c->d->dir;
        snprintf(a->path, sizeof a->path, "%s%s", dir, v->text);
        const char *base = strrchr(a->given, '/');
        base = base ? base + 1 : a->given;
        size_t len = strlen(base);
        if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
            len -= 5;
        else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
            len -= 4;
        if (len == 0 || len >= sizeof a->folder || base[0] == '.')
            return fail(c, v, "also[%zu]: \"%s\" does not name a scenario file", i, a->given);
        snprintf(a->folder, sizeof a->folder, "%.*s", (int)len, base);
        FILE *f = fopen(a->path, "r");
        if (!f)
            return fail(c, v, "also[%zu]: cannot open \"%s\": %s (a relative path is taken from "
                        "the scenario file's directory)", i, a->path, strerror(errno));
        fclose(f);
        for (size_t k = 0; k + 1 < out->n_also; k++)
            if (strcmp(out->also[k].folder, a->folder) == 0)
                return fail(c, v, "also[%zu]: two companions would share the results folder "
                            "\"%s\"", i, a->folder);
    }
    return 0;
}

/* ---- the whole scenario ----------------------------------------------------------------- */

static int resolve_tree(struct ctx *c, const struct yn *root, struct scenario *out)
{
    if (check_keys(c, root, "", top_keys, COUNT(top_keys)) < 0 ||
        resolve_run(c, root, out) < 0 ||
        resolve_network(c, root, &out->network) < 0 ||
        resolve_nodes(c, root, &out->nodes) < 0 ||
        resolve_churn(c, root, out->duration_us, &out->churn) < 0 ||
        resolve_workload(c, root, &out->workload) < 0 ||
        resolve_protocols(c, root, out) < 0)
        return -1;
    const struct scn_doc *d = c->d;
    out->n_sweep = d->n_axes;
    for (size_t a = 0; a < d->n_axes; a++) {
        struct scn_axis *ax = &out->sweep[a];
        snprintf(ax->path, sizeof ax->path, "%s", d->axes[a].key->text);
        ax->n_values = d->axes[a].list->n;
        for (size_t k = 0; k < ax->n_values; k++)
            snprintf(ax->values[k], sizeof ax->values[k], "%s", d->axes[a].list->kid[k]->text);
    }
    return resolve_plots(c, root, out) < 0 ? -1 : resolve_also(c, root, out);
}

/* ==== overrides =========================================================================== */

/* Puts `value` at the dotted `path` under root (a mapping), creating mappings on the way with
 * the place of `origin`. Takes value on success. On -1 *blocker is the node in the way (a
 * single value or a list) and blocked holds its path. */
static int apply_path(struct yn *root, const char *path, struct yn *value, const struct yn *origin,
                      const struct yn **blocker, char *blocked, size_t blen)
{
    char segs[256];
    snprintf(segs, sizeof segs, "%s", path);
    struct yn *cur = root;
    for (char *seg = segs, *next; seg; seg = next) {
        next = strchr(seg, '.');
        if (next)
            *next++ = '\0';
        long i = map_index(cur, seg);
        bool top_nodes = cur == root && strcmp(seg, "nodes") == 0;
        if (!next) {                  /* the last segment: put the value here */
            if (i >= 0 && top_nodes && cur->kid[i + 1]->kind == YN_MAP && value->kind == YN_SCALAR)
                return apply_path(cur->kid[i + 1], "count", value, origin, blocker, blocked, blen);
            if (i >= 0) {
                yn_free(cur->kid[i + 1]);
                cur->kid[i + 1] = value;
            } else {
                yn_push(cur, yn_scalar(seg, true, origin));
                yn_push(cur, value);
            }
            return 0;
        }
        if (i < 0) {
            yn_push(cur, yn_scalar(seg, true, origin));
            yn_push(cur, yn_new(YN_MAP, origin->line, origin->col, origin->set));
            i = (long)cur->n - 2;
        }
        struct yn *v = cur->kid[i + 1];
        if (yn_null(v)) {             /* "chord:" is an empty mapping */
            struct yn *m = yn_new(YN_MAP, v->line, v->col, v->set);
            yn_free(v);
            cur->kid[i + 1] = v = m;
        } else if (top_nodes && v->kind == YN_SCALAR) {   /* nodes: 1000 -> { count: 1000 } */
            struct yn *m = yn_new(YN_MAP, v->line, v->col, v->set);
            yn_push(m, yn_scalar("count", true, v));
            yn_push(m, v);
            cur->kid[i + 1] = v = m;
        }
        if (v->kind != YN_MAP) {
            *blocker = v;
            snprintf(blocked, blen, "%.*s", (int)(seg - segs + strlen(seg)), path);
            return -1;
        }
        cur = v;
    }
    return 0;
}

static bool valid_key_path(const char *k)
{
    if (!*k || *k == '.')
        return false;
    for (const char *p = k; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
              (*p == '.' && p[1] && p[1] != '.')))
            return false;
    return true;
}

int scn_set(struct scn_doc *d, const char *assignment, char *err, size_t errlen)
{
    char key[256];
    const char *eq = strchr(assignment, '=');
    char *where = xalloc(strlen(assignment) + 7, "a --set override");
    sprintf(where, "--set %s", assignment);
    if (!eq || (size_t)(eq - assignment) >= sizeof key) {
        fail_at(d, where, 0, 0, err, errlen, "expected KEY=VALUE, e.g. --set nodes=2000 or "
                "--set protocols.chord.successors=8");
        free(where);
        return -1;
    }
    snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
    if (!valid_key_path(key) || strlen(key) >= AXIS_PATH_MAX) {
        fail_at(d, where, 0, 0, err, errlen, "\"%s\" is not a key path: write dotted keys such as "
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

    struct yn *value;
    if (parse_yaml(d, eq + 1, where, &value, err, errlen) != 0)
        return -1;
    struct yn origin = { .set = where };
    if (!value)
        value = yn_scalar("", true, &origin);
    const struct yn *blocker;
    char blocked[256];
    bool scalar = value->kind == YN_SCALAR;
    if (apply_path(d->root, key, value, &origin, &blocker, blocked, sizeof blocked) != 0) {
        yn_free(value);
        if (blocker->kind == YN_SEQ)
            return fail_at(d, where, 0, 0, err, errlen, "%s is a list: replace it whole, e.g. "
                           "--set '%s=[...]'", blocked, blocked);
        return fail_at(d, where, 0, 0, err, errlen, "%s is a single value, not a mapping with "
                       "keys: set %s itself", blocked, blocked);
    }
    bool count = strcmp(key, "nodes") == 0 && scalar;
    d->set_paths[d->n_sets - 1] = xstrdup(count ? "nodes.count" : key);
    return extract_sweep(d, err, errlen);
}

/* ==== loading ============================================================================= */

void scn_free(struct scn_doc *d)
{
    if (!d)
        return;
    yn_free(d->root);
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

static struct scn_doc *load_text(char *text, const char *path, char *err, size_t errlen)
{
    struct scn_doc *d = xalloc(sizeof *d, "a scenario");
    d->text = text;
    d->path = xstrdup(path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    d->dir = xalloc(dirlen + 1, "a directory name");
    memcpy(d->dir, path, dirlen);
    d->defname = xstrdup(path + dirlen);
    size_t n = strlen(d->defname);
    if (n > 5 && strcmp(d->defname + n - 5, ".yaml") == 0)
        d->defname[n - 5] = '\0';
    else if (n > 4 && strcmp(d->defname + n - 4, ".yml") == 0)
        d->defname[n - 4] = '\0';

    if (parse_yaml(d, text, NULL, &d->root, err, errlen) != 0)
        goto fail;
    if (!d->root || yn_null(d->root)) {
        yn_free(d->root);
        d->root = yn_new(YN_MAP, 1, 1, NULL);
    }
    if (d->root->kind != YN_MAP) {
        fail_at(d, NULL, d->root->line, d->root->col, err, errlen, "a scenario is a mapping of "
                "keys such as name, nodes and protocols, not %s", kind_name(d->root));
        goto fail;
    }
    if (extract_sweep(d, err, errlen) != 0 || scn_check(d, err, errlen) != 0)
        goto fail;
    return d;
fail:
    scn_free(d);
    return NULL;
}

struct scn_doc *scn_load_string(const char *text, const char *name, char *err, size_t errlen)
{
    return load_text(xstrdup(text), name, err, errlen);
}

struct scn_doc *scn_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: error: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = xalloc(MAX_TEXT + 1, "the scenario text");
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

int scn_resolve(const struct scn_doc *d, size_t point, struct scenario *out, char *err,
                size_t errlen)
{
    struct ctx c = { d, err, errlen };
    memset(out, 0, sizeof *out);
    snprintf(out->file, sizeof out->file, "%s", d->path);
    if (point >= scn_points(d))
        return fail(&c, NULL, "sweep point %zu does not exist (there are %zu)", point,
                    scn_points(d));
    if (check_axes(&c) != 0)
        return -1;
    struct yn *tree = yn_copy(d->root);
    for (size_t a = 0; a < d->n_axes; a++) {
        const struct yn *v = d->axes[a].list->kid[value_index(d, point, a)], *blocker;
        struct yn *value = yn_copy(v);
        char blocked[256];
        if (apply_path(tree, d->axes[a].key->text, value, d->axes[a].key, &blocker, blocked,
                       sizeof blocked) != 0)
            yn_free(value);           /* the walk below reports the node in the way */
    }
    int rc = resolve_tree(&c, tree, out);
    yn_free(tree);
    out->point = point;
    return rc;
}

int scn_check(const struct scn_doc *d, char *err, size_t errlen)
{
    struct scenario *s = xalloc(sizeof *s, "a resolved scenario");
    char checked[sizeof s->network.matrix] = "";
    int rc = 0;
    for (size_t p = 0; p < scn_points(d) && rc == 0; p++) {
        rc = scn_resolve(d, p, s, err, errlen);
        if (rc == 0 && s->network.model == LAT_MATRIX && strcmp(checked, s->network.matrix) != 0) {
            struct latency_matrix m;
            rc = matrix_load(s->network.matrix, &m, err, errlen);
            matrix_free(&m);
            snprintf(checked, sizeof checked, "%s", s->network.matrix);
        }
    }
    free(s);
    return rc;
}

/* ==== emitting ============================================================================ */

static int em_event(yaml_emitter_t *e, yaml_event_t *ev)
{
    return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int em_str(yaml_emitter_t *e, const char *s)
{
    yaml_event_t ev;
    /* text that would read back as null is quoted */
    bool nullish = !s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
                   !strcmp(s, "NULL");
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, -1, 1, 1,
                                 nullish ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return em_event(e, &ev);
}

static int em_open(yaml_emitter_t *e, bool map, bool flow)
{
    yaml_event_t ev;
    if (map)
        yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE
                                                                     : YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE
                                                                      : YAML_BLOCK_SEQUENCE_STYLE);
    return em_event(e, &ev);
}

static int em_close(yaml_emitter_t *e, bool map)
{
    yaml_event_t ev;
    if (map)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    return em_event(e, &ev);
}

static int em_kv(yaml_emitter_t *e, const char *k, const char *v)
{
    return em_str(e, k) || em_str(e, v) ? -1 : 0;
}

static int em_dur(yaml_emitter_t *e, const char *k, int64_t us)
{
    char buf[40];
    units_format_duration(us, buf, sizeof buf);
    return em_kv(e, k, buf);
}

static int em_num(yaml_emitter_t *e, const char *k, double v)
{
    char buf[40];
    units_format_double(v, buf, sizeof buf);
    return em_kv(e, k, buf);
}

static int em_int(yaml_emitter_t *e, const char *k, uint64_t v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return em_kv(e, k, buf);
}

static int em_bw(yaml_emitter_t *e, const char *k, double bytes_per_s)
{
    char buf[48];
    units_format_bandwidth(bytes_per_s, buf, sizeof buf);
    return em_kv(e, k, buf);
}

static int em_dist(yaml_emitter_t *e, const char *k, const struct dist *d)
{
    if (em_str(e, k) || em_open(e, true, true) || em_kv(e, "dist", dist_kinds[d->kind]))
        return -1;
    bool shaped = d->kind == DIST_WEIBULL || d->kind == DIST_PARETO || d->kind == DIST_LOGNORMAL;
    if (d->kind != DIST_NONE &&
        (em_dur(e, d->by_median ? "median" : "mean", d->by_median ? d->median_us : d->mean_us) ||
         (shaped && em_num(e, "shape", d->shape))))
        return -1;
    return em_close(e, true);
}

int scn_emit(const struct scenario *s, void *emitter)
{
    yaml_emitter_t *e = emitter;
    char buf[64];
    const struct scn_network *n = &s->network;
    if (em_open(e, true, false) || em_kv(e, "name", s->name) || em_int(e, "seed", s->seed) ||
        em_dur(e, "duration", s->duration_us) || em_dur(e, "warmup", s->warmup_us) ||
        em_dur(e, "sample", s->sample_us) || em_int(e, "replicas", s->replicas))
        return -1;

    if (em_str(e, "network") || em_open(e, true, false) ||
        em_str(e, "latency") || em_open(e, true, false) ||
        em_kv(e, "model", latency_models[n->model]) || em_dur(e, "mean", n->mean_us) ||
        em_dur(e, "min", n->min_us) || em_dur(e, "max", n->max_us) ||
        em_num(e, "sigma", n->sigma) || em_dur(e, "access", n->access_us) ||
        (n->matrix_given[0] && em_kv(e, "file", n->matrix_given)) ||
        em_close(e, true) || em_num(e, "loss", n->loss) ||
        em_str(e, "bandwidth") || em_open(e, false, false))
        return -1;
    for (size_t i = 0; i < n->n_bw; i++)
        if (em_open(e, true, true) || em_num(e, "share", n->bw[i].share) ||
            em_bw(e, "up", n->bw[i].up_Bps) || em_bw(e, "down", n->bw[i].down_Bps) ||
            em_close(e, true))
            return -1;
    if (em_close(e, false) || em_str(e, "server_bandwidth") || em_open(e, true, true) ||
        em_bw(e, "up", n->server_bw.up_Bps) || em_bw(e, "down", n->server_bw.down_Bps) ||
        em_close(e, true) || em_close(e, true))
        return -1;

    if (em_str(e, "nodes") || em_open(e, true, false) || em_int(e, "count", s->nodes.count) ||
        em_kv(e, "start", start_modes[s->nodes.start]) ||
        em_dur(e, "join_over", s->nodes.join_over_us) || em_int(e, "vnodes", s->nodes.vnodes) ||
        em_close(e, true))
        return -1;

    const struct scn_churn *ch = &s->churn;
    if (em_str(e, "churn") || em_open(e, true, false) || em_dist(e, "session", &ch->session) ||
        em_dist(e, "downtime", &ch->downtime) || em_num(e, "crash_fraction", ch->crash_fraction) ||
        em_str(e, "events") || em_open(e, false, ch->n_events == 0))
        return -1;
    for (size_t i = 0; i < ch->n_events; i++) {
        const struct scn_churn_event *ev = &ch->events[i];
        if (em_open(e, true, true) || em_dur(e, "at", ev->at_us))
            return -1;
        int rc = ev->kind == CHURN_CRASH ? em_num(e, "crash", ev->fraction)
               : ev->kind == CHURN_JOIN ? em_int(e, "join", ev->count)
               : ev->kind == CHURN_CRASH_SERVERS ? em_kv(e, "crash", "servers")
               : ev->kind == CHURN_RESTART_SERVERS ? em_kv(e, "restart", "servers")
               : em_kv(e, "maintenance", ev->on ? "on" : "off");
        if (rc || em_close(e, true))
            return -1;
    }
    if (em_close(e, false) || em_close(e, true))
        return -1;

    const struct scn_workload *w = &s->workload;
    units_format_rate(w->lookups, buf, sizeof buf);
    if (em_str(e, "workload") || em_open(e, true, false) || em_int(e, "keys", w->keys) ||
        em_str(e, "popularity") || em_open(e, true, true) ||
        em_kv(e, "dist", popularities[w->popularity]) || em_num(e, "alpha", w->alpha) ||
        em_close(e, true) || em_str(e, "lookups") || em_open(e, true, true) ||
        em_kv(e, "rate", buf) || em_close(e, true) ||
        em_dur(e, "lookup_timeout", w->lookup_timeout_us) || em_str(e, "files") ||
        em_open(e, true, true) || em_int(e, "count", w->files) ||
        em_int(e, "per_node", w->files_per_node) ||
        em_kv(e, "replication", replications[w->replication]) || em_close(e, true) ||
        em_close(e, true))
        return -1;

    if (em_str(e, "protocols") || em_open(e, true, false))
        return -1;
    for (size_t i = 0; i < s->n_protocols; i++) {
        const struct proto_config *cfg = &s->protocols[i].cfg;
        if (em_str(e, s->protocols[i].name) || em_open(e, true, false))
            return -1;
        for (size_t k = 0; k < cfg->count; k++) {
            param_format(&cfg->params[k], cfg->v[k], buf, sizeof buf);
            if (em_kv(e, cfg->params[k].name, buf))
                return -1;
        }
        if (em_close(e, true))
            return -1;
    }
    if (em_close(e, true))
        return -1;

    if (em_str(e, "sweep") || em_open(e, true, s->n_sweep == 0))
        return -1;
    for (size_t a = 0; a < s->n_sweep; a++) {
        if (em_str(e, s->sweep[a].path) || em_open(e, false, true))
            return -1;
        for (size_t k = 0; k < s->sweep[a].n_values; k++)
            if (em_str(e, s->sweep[a].values[k]))
                return -1;
        if (em_close(e, false))
            return -1;
    }
    if (em_close(e, true))
        return -1;

    if (em_str(e, "plots") || em_open(e, false, s->n_plots == 0))
        return -1;
    for (size_t i = 0; i < s->n_plots; i++) {
        const struct scn_plot *p = &s->plots[i];
        if (em_open(e, true, true) || em_kv(e, "x", p->x) || em_kv(e, "y", p->y) ||
            em_kv(e, "by", p->by) || em_num(e, "logx", p->logx) || em_num(e, "logy", p->logy) ||
            em_kv(e, "title", p->title) || em_close(e, true))
            return -1;
    }
    if (em_close(e, false) || em_str(e, "also") || em_open(e, false, true))
        return -1;
    for (size_t i = 0; i < s->n_also; i++)
        if (em_str(e, s->also[i].given))
            return -1;
    return em_close(e, false) || em_close(e, true) ? -1 : 0;
}
