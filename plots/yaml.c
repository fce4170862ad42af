/* yaml.c — summary.yaml read into the scenario's YAML tree (sim/yamltree.c), with the plots'
 * messages: a summary that does not read is a damaged results folder. */
#include "plots/yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

/* The whole file as text; NULL if it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *text = mem_calloc(cap, 1, "a summary's text");
    for (size_t got; (got = fread(text + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) {
            text = mem_realloc(text, 2 * cap, 1, "a summary's text");
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        return NULL;
    }
    text[n] = '\0';
    *len = n;
    return text;
}

struct ytree *plot_yaml_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = read_all(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: error: cannot read it", path);
        return NULL;
    }
    struct ytree *root;
    struct ytree_error e;
    int rc = ytree_parse(text, len, NULL, 0, &root, &e);
    free(text);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d:%d: error: %s; the results folder is damaged, run the "
                 "scenario again", path, e.line, e.col, e.syntax ? e.problem : e.msg);
        return NULL;
    }
    if (!root || root->kind != YTREE_MAP) {
        snprintf(err, errlen, "%s: error: not a p2plab summary (no mapping at the top); run "
                 "the scenario again", path);
        ytree_free(root);
        return NULL;
    }
    return root;
}

void plot_yaml_free(struct ytree *y)
{
    ytree_free(y);
}

const struct ytree *plot_yaml_get(const struct ytree *y, const char *path)
{
    return ytree_path(y, path);
}

const char *plot_yaml_text(const struct ytree *y, const char *path, const char *def)
{
    const struct ytree *n = plot_yaml_get(y, path);
    return n && n->kind == YTREE_SCALAR ? n->text : def;
}

double plot_yaml_number(const struct ytree *y, const char *path)
{
    const char *t = plot_yaml_text(y, path, "");
    char *end;
    double v = strtod(t, &end);
    return t[0] && *end == '\0' ? v : NAN;
}
