/* yamltree.c — libyaml's parser events built into a tree with marks (struct ytree).
 *
 * The builder reads one document, expands aliases by copying the anchored node (marks
 * included, so an error in an alias points at the anchor's text), rejects duplicate keys, and
 * keeps a budget of nodes against alias bombs. libyaml's marks are 0-based; ours add 1. */
#include "sim/yamltree.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sim/mem.h"

#define MAX_DEPTH 64                  /* nesting of YAML collections */

/* ==== nodes =============================================================================== */

static char *dup_text(const char *s, size_t n)
{
    char *t = mem_calloc(n + 1, 1, "a YAML value");
    memcpy(t, s, n);
    return t;
}

struct ytree *ytree_new(enum ytree_kind kind, int line, int col, const char *origin)
{
    struct ytree *n = mem_calloc(1, sizeof *n, "a YAML node");
    n->kind = kind;
    n->line = line;
    n->col = col;
    n->origin = origin;
    return n;
}

struct ytree *ytree_scalar(const char *text, bool plain, const struct ytree *at)
{
    struct ytree *n = ytree_new(YTREE_SCALAR, at->line, at->col, at->origin);
    n->text = dup_text(text, strlen(text));
    n->plain = plain;
    return n;
}

void ytree_push(struct ytree *parent, struct ytree *kid)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 8;
        parent->kid = mem_realloc(parent->kid, parent->cap, sizeof *parent->kid, "YAML nodes");
    }
    parent->kid[parent->n++] = kid;
}

void ytree_free(struct ytree *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        ytree_free(n->kid[i]);
    free(n->kid);
    free(n->text);
    free(n);
}

struct ytree *ytree_copy(const struct ytree *n)
{
    struct ytree *c = ytree_new(n->kind, n->line, n->col, n->origin);
    c->plain = n->plain;
    c->text = n->text ? dup_text(n->text, strlen(n->text)) : NULL;
    for (size_t i = 0; i < n->n; i++)
        ytree_push(c, ytree_copy(n->kid[i]));
    return c;
}

size_t ytree_count(const struct ytree *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->n; i++)
        c += ytree_count(n->kid[i]);
    return c;
}

/* ==== lookups ============================================================================= */

bool ytree_null(const struct ytree *n)
{
    return !n || (n->kind == YTREE_SCALAR && n->plain &&
                  (!n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null") ||
                   !strcmp(n->text, "Null") || !strcmp(n->text, "NULL")));
}

const char *ytree_kind_name(const struct ytree *n)
{
    return n->kind == YTREE_MAP ? "a mapping" : n->kind == YTREE_SEQ ? "a list" : "a single value";
}

long ytree_index(const struct ytree *map, const char *key)
{
    if (!map || map->kind != YTREE_MAP)
        return -1;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (strcmp(map->kid[i]->text, key) == 0)
            return (long)i;
    return -1;
}

const struct ytree *ytree_get(const struct ytree *map, const char *key)
{
    long i = ytree_index(map, key);
    return i < 0 ? NULL : map->kid[i + 1];
}

const struct ytree *ytree_key(const struct ytree *map, const char *key)
{
    long i = ytree_index(map, key);
    return i < 0 ? NULL : map->kid[i];
}

const struct ytree *ytree_path(const struct ytree *y, const char *path)
{
    while (y && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const struct ytree *next = NULL;
        if (y->kind == YTREE_MAP)
            for (size_t i = 0; i + 1 < y->n && !next; i += 2)
                if (y->kid[i]->text && strlen(y->kid[i]->text) == len &&
                    strncmp(y->kid[i]->text, path, len) == 0)
                    next = y->kid[i + 1];
        y = next;
        path += len + (dot ? 1 : 0);
    }
    return y;
}

/* ==== building ============================================================================ */

struct anchor {
    char *name;
    const struct ytree *node;
};

struct builder {
    yaml_parser_t parser;
    const char *text;                 /* what is parsed, for places libyaml gives as offsets */
    const char *origin;               /* NULL, or the name every node is marked with */
    struct ytree_error *e;
    struct anchor *anchors;
    size_t n_anchors;
    size_t nodes, max_nodes;          /* budget against alias bombs */
};

static int build_fail(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int build_fail(struct builder *b, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->e->msg, sizeof b->e->msg, fmt, ap);
    va_end(ap);
    b->e->line = line;
    b->e->col = col;
    return -1;
}

static int mark_fail(struct builder *b, const yaml_mark_t *m, const char *what)
{
    return build_fail(b, (int)m->line + 1, (int)m->column + 1, "%s", what);
}

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
    b->e->syntax = true;
    snprintf(b->e->problem, sizeof b->e->problem, "%s", problem);
    if (p->error == YAML_READER_ERROR && !b->origin) {
        line = 1, col = 1;           /* the reader gives a byte offset, not a mark */
        for (size_t i = 0; i < p->problem_offset && b->text[i]; i++) {
            if (b->text[i] == '\n')
                line++, col = 1;
            else
                col++;
        }
    }
    if (p->error == YAML_SCANNER_ERROR && !b->origin && at_tab(b->text, line, col))
        return build_fail(b, line, col, "invalid YAML: a tab; indent with spaces");
    char context[160] = "";
    if (p->context && (p->context_mark.line != p->problem_mark.line ||
                       p->context_mark.column != p->problem_mark.column))
        snprintf(context, sizeof context, " (%s that starts at %d:%d)", p->context,
                 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return build_fail(b, line, col, "invalid YAML: %s%s", problem, context);
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return syntax_error(b);
    return 0;
}

static void child_path(char *out, size_t len, const char *parent, const char *key)
{
    if (parent[0])
        snprintf(out, len, "%s.%s", parent, key);
    else
        snprintf(out, len, "%s", key);
}

static bool over_budget(struct builder *b)
{
    return b->max_nodes && b->nodes > b->max_nodes;
}

static int budget_fail(struct builder *b, const yaml_mark_t *m)
{
    return build_fail(b, (int)m->line + 1, (int)m->column + 1, "the scenario has more than %zu "
                      "YAML nodes (are aliases nested inside each other?)", b->max_nodes);
}

/* Builds the node that starts with *ev (consumed), or NULL after an error. `path` names it in
 * messages ("churn.events[0]"). */
static struct ytree *build_node(struct builder *b, yaml_event_t *ev, int depth, const char *path)
{
    struct ytree *n = NULL;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    if (++b->nodes, over_budget(b)) {
        budget_fail(b, &ev->start_mark);
        goto fail;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        for (size_t i = b->n_anchors; i-- > 0;)
            if (strcmp(b->anchors[i].name, name) == 0) {
                n = ytree_copy(b->anchors[i].node);
                break;
            }
        if (!n) {
            build_fail(b, line, col, "unknown alias *%s: define &%s before using it", name, name);
            goto fail;
        }
        b->nodes += ytree_count(n);
        if (over_budget(b)) {
            budget_fail(b, &ev->start_mark);
            goto fail;
        }
        yaml_event_delete(ev);
        return n;
    }
    case YAML_SCALAR_EVENT:
        n = ytree_new(YTREE_SCALAR, line, col, b->origin);
        n->text = dup_text((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        if (depth >= MAX_DEPTH) {
            build_fail(b, line, col, "nested more than %d levels deep", MAX_DEPTH);
            goto fail;
        }
        n = ytree_new(map ? YTREE_MAP : YTREE_SEQ, line, col, b->origin);
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
            struct ytree *k = build_node(b, &kev, depth + 1, map ? path : sub);
            if (!k)
                goto fail;
            ytree_push(n, k);
            if (!map)
                continue;
            if (k->kind != YTREE_SCALAR) {
                build_fail(b, k->line, k->col, "a key must be a single word, not %s",
                           ytree_kind_name(k));
                goto fail;
            }
            for (size_t i = 0; i + 1 < n->n; i += 2)
                if (strcmp(n->kid[i]->text, k->text) == 0) {
                    char in[300] = "";
                    if (path[0])
                        snprintf(in, sizeof in, " in %s", path);
                    build_fail(b, k->line, k->col, "duplicate key \"%s\"%s (first at line %d): "
                               "give each key once", k->text, in, n->kid[i]->line);
                    goto fail;
                }
            yaml_event_t vev;
            if (next_event(b, &vev) != 0)
                goto fail;
            child_path(sub, sizeof sub, path, k->text);
            struct ytree *v = build_node(b, &vev, depth + 1, sub);
            if (!v)
                goto fail;
            ytree_push(n, v);
        }
        break;
    }
    default:
        mark_fail(b, &ev->start_mark, "unexpected YAML event");
        goto fail;
    }
    const yaml_char_t *anchor =
        ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
        : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
        : ev->data.mapping_start.anchor;
    if (anchor) {
        b->anchors = mem_realloc(b->anchors, b->n_anchors + 1, sizeof *b->anchors,
                                 "a YAML anchor");
        b->anchors[b->n_anchors].name = dup_text((const char *)anchor,
                                                 strlen((const char *)anchor));
        b->anchors[b->n_anchors++].node = n;
    }
    yaml_event_delete(ev);
    return n;
fail:
    yaml_event_delete(ev);
    ytree_free(n);
    return NULL;
}

int ytree_parse(const char *text, size_t len, const char *origin, size_t max_nodes,
                struct ytree **root, struct ytree_error *e)
{
    struct builder b = { .text = text, .origin = origin, .e = e, .max_nodes = max_nodes };
    memset(e, 0, sizeof *e);
    *root = NULL;
    if (!yaml_parser_initialize(&b.parser)) {
        fprintf(stderr, "p2plab: out of memory allocating a YAML parser\n");
        exit(1);
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
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
                mark_fail(&b, &ev.start_mark, "a scenario is one YAML document: remove this "
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
        ytree_free(*root);
        *root = NULL;
    }
    for (size_t i = 0; i < b.n_anchors; i++)
        free(b.anchors[i].name);
    free(b.anchors);
    yaml_parser_delete(&b.parser);
    return rc;
}
