/* yaml.c — libyaml's parser events built into a plain tree; aliases are not followed (the
 * summary writer emits none). */
#include "plots/yaml.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "sim/mem.h"

#define MAX_DEPTH 64

static struct plot_yaml *node_new(enum plot_yaml_kind kind)
{
    struct plot_yaml *y = mem_calloc(1, sizeof *y, "a YAML node");
    y->kind = kind;
    return y;
}

static void node_add(struct plot_yaml *parent, struct plot_yaml *kid)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 8;
        parent->kid = mem_realloc(parent->kid, parent->cap, sizeof *parent->kid, "YAML nodes");
    }
    parent->kid[parent->n++] = kid;
}

void plot_yaml_free(struct plot_yaml *y)
{
    if (!y)
        return;
    for (size_t i = 0; i < y->n; i++)
        plot_yaml_free(y->kid[i]);
    free(y->kid);
    free(y->text);
    free(y);
}

struct plot_yaml *plot_yaml_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: error: cannot read it", path);
        return NULL;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fclose(f);
        snprintf(err, errlen, "%s: error: out of memory for the YAML parser", path);
        return NULL;
    }
    yaml_parser_set_input_file(&p, f);
    struct plot_yaml *stack[MAX_DEPTH], *root = NULL;
    int depth = 0;
    bool done = false, bad = false;
    while (!done && !bad) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(err, errlen, "%s:%zu:%zu: error: %s; the results folder is damaged, run "
                     "the scenario again", path, p.problem_mark.line + 1,
                     p.problem_mark.column + 1, p.problem ? p.problem : "malformed YAML");
            bad = true;
            break;
        }
        struct plot_yaml *made = NULL;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            made = node_new(PLOT_YAML_SCALAR);
            made->text = mem_calloc(ev.data.scalar.length + 1, 1, "a YAML scalar");
            memcpy(made->text, ev.data.scalar.value, ev.data.scalar.length);
            break;
        case YAML_SEQUENCE_START_EVENT:
            made = node_new(PLOT_YAML_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            made = node_new(PLOT_YAML_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!made)
            continue;
        if (depth > 0) {
            node_add(stack[depth - 1], made);
        } else if (!root) {
            root = made;
        } else {                      /* a second document: not ours to read */
            plot_yaml_free(made);
            break;
        }
        if (made->kind != PLOT_YAML_SCALAR) {
            if (depth == MAX_DEPTH) {
                snprintf(err, errlen, "%s: error: nested too deeply", path);
                bad = true;
            } else {
                stack[depth++] = made;
            }
        }
    }
    yaml_parser_delete(&p);
    fclose(f);
    if (!bad && (!root || root->kind != PLOT_YAML_MAP)) {
        snprintf(err, errlen, "%s: error: not a p2plab summary (no mapping at the top); run "
                 "the scenario again", path);
        bad = true;
    }
    if (bad) {
        plot_yaml_free(root);
        return NULL;
    }
    return root;
}

const struct plot_yaml *plot_yaml_get(const struct plot_yaml *y, const char *path)
{
    while (y && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        const struct plot_yaml *next = NULL;
        if (y->kind == PLOT_YAML_MAP)
            for (size_t i = 0; i + 1 < y->n && !next; i += 2)
                if (y->kid[i]->text && strlen(y->kid[i]->text) == len &&
                    strncmp(y->kid[i]->text, path, len) == 0)
                    next = y->kid[i + 1];
        y = next;
        path += len + (dot ? 1 : 0);
    }
    return y;
}

const char *plot_yaml_text(const struct plot_yaml *y, const char *path, const char *def)
{
    const struct plot_yaml *n = plot_yaml_get(y, path);
    return n && n->kind == PLOT_YAML_SCALAR ? n->text : def;
}
