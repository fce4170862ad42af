/* results.c — a results folder read back: the scenario from summary.yaml, the cells and their
 * means and confidence intervals from runs.csv. */
#include "plots/results.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/mem.h"
#include "sim/output.h"
#include "sim/units.h"

static char *dup_text(const char *s)
{
    char *d = mem_calloc(strlen(s) + 1, 1, "a name");
    strcpy(d, s);
    return d;
}

double plot_seconds(const char *text)
{
    int64_t us;
    const char *e;
    if (units_duration(text, &us, &e) != 0)
        return NAN;
    return (double)us / 1e6;
}

/* ==== axes ================================================================================ */

static size_t axis_value(struct plot_axis *a, const char *v)
{
    for (size_t i = 0; i < a->n_value; i++)
        if (strcmp(a->value[i], v) == 0)
            return i;
    a->value = mem_realloc(a->value, a->n_value + 1, sizeof *a->value, "sweep values");
    a->value[a->n_value] = dup_text(v);
    return a->n_value++;
}

/* Numbers stay numbers; durations become numbers in the unit that suits the largest; anything
 * else is a category, placed at its index. An empty value (a protocol's parameter axis, in
 * another protocol's rows) has no place: NaN. */
static void axis_place(struct plot_axis *a)
{
    a->x = mem_calloc(a->n_value, sizeof *a->x, "sweep positions");
    bool numbers = true, durations = true;
    double big = 0;
    for (size_t i = 0; i < a->n_value; i++) {
        if (a->value[i][0] == '\0')
            continue;
        char *end;
        double v = strtod(a->value[i], &end);
        if (*end != '\0' || end == a->value[i] || !isfinite(v))
            numbers = false;
        double s = plot_seconds(a->value[i]);
        if (isnan(s))
            durations = false;
        else if (s > big)
            big = s;
    }
    static const struct { const char *unit; double s; } units[] = {
        { "d", 86400 }, { "h", 3600 }, { "min", 60 }, { "s", 1 }, { "ms", 1e-3 },
    };
    double scale = 1;
    if (!numbers && durations) {
        size_t u = 0;
        while (u + 1 < sizeof units / sizeof units[0] && big < 2 * units[u].s)
            u++;
        scale = units[u].s;
        snprintf(a->unit, sizeof a->unit, "%s", units[u].unit);
    }
    a->categorical = !numbers && !durations;
    for (size_t i = 0; i < a->n_value; i++)
        a->x[i] = a->value[i][0] == '\0' ? NAN
                : a->categorical ? (double)i
                : numbers ? strtod(a->value[i], NULL) : plot_seconds(a->value[i]) / scale;
}

int plot_axis_find(const struct plot_results *r, const char *path)
{
    const char *want = strcmp(path, "nodes.count") == 0 ? "nodes" : path;
    for (size_t a = 0; a < r->n_axes; a++) {
        const char *p = strcmp(r->axis[a].path, "nodes.count") == 0 ? "nodes" : r->axis[a].path;
        if (strcmp(p, want) == 0)
            return (int)a;
    }
    return -1;
}

size_t plot_axis_max(const struct plot_results *r, int a)
{
    size_t best = 0;
    for (size_t i = 1; i < r->axis[a].n_value; i++)
        if (r->axis[a].x[i] > r->axis[a].x[best])
            best = i;
    return best;
}

/* ==== cells =============================================================================== */

struct cell_rows {                    /* replica values while runs.csv is read */
    double *v;                        /* n_rep x n_metric */
    size_t n_rep, cap;
};

static size_t cell_of(struct plot_results *r, struct cell_rows **rows, size_t proto,
                      const size_t *vi)
{
    for (size_t i = 0; i < r->n_cell; i++)
        if (r->cell[i].proto == proto &&
            memcmp(r->cell[i].vi, vi, r->n_axes * sizeof *vi) == 0)
            return i;
    r->cell = mem_realloc(r->cell, r->n_cell + 1, sizeof *r->cell, "the cells");
    *rows = mem_realloc(*rows, r->n_cell + 1, sizeof **rows, "the cells");
    struct plot_cell *c = &r->cell[r->n_cell];
    memset(c, 0, sizeof *c);
    memset(&(*rows)[r->n_cell], 0, sizeof **rows);
    c->proto = proto;
    memcpy(c->vi, vi, r->n_axes * sizeof *vi);
    return r->n_cell++;
}

int plot_proto_find(const struct plot_results *r, const char *name)
{
    for (size_t i = 0; i < r->n_proto; i++)
        if (strcmp(r->proto[i], name) == 0)
            return (int)i;
    return -1;
}

int plot_metric(const struct plot_results *r, const char *name)
{
    for (size_t i = 0; i < r->n_metric; i++)
        if (strcmp(r->metric[i], name) == 0)
            return (int)i;
    return -1;
}

bool plot_metric_present(const struct plot_results *r, int m)
{
    if (m < 0)
        return false;
    for (size_t i = 0; i < r->n_cell; i++)
        if (isfinite(r->cell[i].mean[m]))
            return true;
    return false;
}

/* ==== strict reading ====================================================================== *
 *
 * Every file p2plab run writes is read as strictly as a scenario: a damaged row (cut short, a
 * word where a number belongs, a swept value the scenario never had) is one error at
 * file:line:col that says to run the scenario again, never a partial report. */

#define DAMAGED "the results folder is damaged: run the scenario again"

/* Column `col` of the current row, 1-based, for messages. */
static size_t column_of(const struct plot_csv *c, int col)
{
    size_t at = 1;
    for (int k = 0; k < col && (size_t)k < c->n_field; k++)
        at += strlen(c->field[k]) + 1;          /* p2plab writes these fields unquoted */
    return at;
}

/* Whether s is a number as p2plab writes one ("12.5", "1e-05", "nan", "inf"). */
static bool is_number(const char *s)
{
    if (!*s)
        return false;
    char *end;
    strtod(s, &end);
    return *end == '\0';
}

static bool is_whole(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The values of the summary's sweep over `path` (scenario.sweep), or NULL. */
static const struct ytree *swept_values(const struct plot_results *r, const char *path)
{
    const struct ytree *sweep = plot_yaml_get(r->scenario, "sweep");
    for (size_t i = 0; sweep && sweep->kind == YTREE_MAP && i + 1 < sweep->n; i += 2) {
        const char *k = sweep->kid[i]->text;
        bool same = strcmp(k, path) == 0 ||
                    (strcmp(k, "nodes") == 0 && strcmp(path, "nodes.count") == 0) ||
                    (strcmp(k, "nodes.count") == 0 && strcmp(path, "nodes") == 0);
        if (same && sweep->kid[i + 1]->kind == YTREE_SEQ)
            return sweep->kid[i + 1];
    }
    return NULL;
}

/* Where runs.csv holds each axis's values, and its seconds (PATH_s beside a swept duration,
 * since 0.1; -1 in older files). */
struct run_cols {
    int axis[PLOT_MAX_AXES];
    int secs[PLOT_MAX_AXES];
};

/* Checks one row of runs.csv: as many fields as the header, a protocol, swept values the
 * summary's sweep lists (empty: another protocol's parameter), their seconds where the file
 * has them, whole replica and seed, and a number in every metric. 0, or -1 with the message. */
static int check_run_row(const struct plot_results *r, const struct plot_csv *c,
                         const struct run_cols *rc, const char *path, int scol, char *err,
                         size_t errlen)
{
    if (c->n_field != c->n_head) {
        snprintf(err, errlen, "%s:%zu:1: error: %zu fields where the header has %zu; " DAMAGED,
                 path, c->lineno, c->n_field, c->n_head);
        return -1;
    }
    if (!*c->field[0]) {
        snprintf(err, errlen, "%s:%zu:1: error: no protocol; " DAMAGED, path, c->lineno);
        return -1;
    }
    for (size_t a = 0; a < r->n_axes; a++) {
        const char *v = c->field[rc->axis[a]];
        const struct ytree *list = swept_values(r, r->axis[a].path);
        bool ok = !*v && strncmp(r->axis[a].path, "protocols.", 10) == 0;
        for (size_t k = 0; list && !ok && k < list->n; k++)
            ok = list->kid[k]->text && strcmp(list->kid[k]->text, v) == 0;
        if (!ok) {
            snprintf(err, errlen, "%s:%zu:%zu: error: %s is \"%.40s\", which the scenario in "
                     "summary.yaml does not sweep over; " DAMAGED, path, c->lineno,
                     column_of(c, rc->axis[a]), r->axis[a].path, v);
            return -1;
        }
        if (rc->secs[a] < 0)
            continue;
        const char *sv = c->field[rc->secs[a]];
        double want = *v ? plot_seconds(v) : NAN;
        char *end;
        double got = strtod(sv, &end);
        if (*v ? *end != '\0' || end == sv || fabs(got - want) > 1e-6 * fmax(1, want) : *sv) {
            snprintf(err, errlen, "%s:%zu:%zu: error: %s is \"%.40s\", which is not %s in "
                     "seconds; " DAMAGED, path, c->lineno, column_of(c, rc->secs[a]),
                     c->head[rc->secs[a]], sv, *v ? v : "empty");
            return -1;
        }
    }
    for (int k = scol - 1; k <= scol; k++)
        if (!is_whole(c->field[k])) {
            snprintf(err, errlen, "%s:%zu:%zu: error: %s must be a whole number (got \"%.40s\"); "
                     DAMAGED, path, c->lineno, column_of(c, k), c->head[k], c->field[k]);
            return -1;
        }
    for (size_t k = (size_t)scol + 1; k < c->n_field; k++)
        if (!is_number(c->field[k])) {
            snprintf(err, errlen, "%s:%zu:%zu: error: %s must be a number or nan (got "
                     "\"%.40s\"); " DAMAGED, path, c->lineno, column_of(c, (int)k), c->head[k],
                     c->field[k]);
            return -1;
        }
    return 0;
}

/* summary.yaml against runs.csv: one cell per cell, each with every metric (a summary cut
 * short loses its last cells or metrics, and still parses as YAML). */
static int check_summary(const struct plot_results *r, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.yaml", r->dir);
    const struct ytree *cells = plot_yaml_get(r->summary, "cells");
    if (!cells || cells->kind != YTREE_SEQ) {
        snprintf(err, errlen, "%s: error: no cells: list; " DAMAGED, path);
        return -1;
    }
    if (cells->n != r->n_cell) {
        snprintf(err, errlen, "%s: error: %zu cells where runs.csv has %zu; " DAMAGED, path,
                 cells->n, r->n_cell);
        return -1;
    }
    for (size_t i = 0; i < cells->n; i++) {
        const struct ytree *cell = cells->kid[i];
        const struct ytree *m = cell->kind == YTREE_MAP ? plot_yaml_get(cell, "metrics") : NULL;
        if (!m || m->kind != YTREE_MAP) {
            snprintf(err, errlen, "%s:%d:%d: error: cells[%zu] has no metrics: mapping; " DAMAGED,
                     path, cell->line, cell->col, i);
            return -1;
        }
        for (size_t k = 0; k < r->n_metric; k++)
            if (ytree_index(m, r->metric[k]) < 0) {
                snprintf(err, errlen, "%s:%d:%d: error: cells[%zu].metrics has no %s; " DAMAGED,
                         path, m->line, m->col, i, r->metric[k]);
                return -1;
            }
    }
    return 0;
}

static int read_runs(struct plot_results *r, const char *path, char *err, size_t errlen)
{
    struct plot_csv c;
    if (plot_csv_open(&c, path) != 0) {
        snprintf(err, errlen, "%s: error: not a results folder (cannot read runs.csv); give "
                 "the folder that 'p2plab run' wrote", r->dir);
        return -1;
    }
    int pcol = plot_csv_col(&c, "protocol"), rcol = plot_csv_col(&c, "replica");
    int scol = plot_csv_col(&c, "seed");
    if (pcol != 0 || rcol < 1 || scol != rcol + 1 || (size_t)rcol - 1 > PLOT_MAX_AXES) {
        snprintf(err, errlen, "%s/runs.csv: error: the header is not protocol, swept keys..., "
                 "replica, seed, metrics...; run the scenario again", r->dir);
        plot_csv_close(&c);
        return -1;
    }
    struct run_cols rc;
    r->n_axes = 0;
    for (int k = 1; k < rcol; k++) {
        size_t last = r->n_axes - 1, n = r->n_axes ? strlen(r->axis[last].path) : 0;
        if (n && rc.secs[last] < 0 && strncmp(c.head[k], r->axis[last].path, n) == 0 &&
            strcmp(c.head[k] + n, "_s") == 0) {
            rc.secs[last] = k;                    /* the previous axis in seconds */
            continue;
        }
        rc.axis[r->n_axes] = k;
        rc.secs[r->n_axes] = -1;
        snprintf(r->axis[r->n_axes].path, sizeof r->axis[r->n_axes].path, "%s", c.head[k]);
        r->n_axes++;
    }
    r->n_metric = c.n_head - (size_t)scol - 1;
    r->metric = mem_calloc(r->n_metric + 1, sizeof *r->metric, "the metric names");
    for (size_t m = 0; m < r->n_metric; m++)
        r->metric[m] = dup_text(c.head[(size_t)scol + 1 + m]);

    struct cell_rows *rows = NULL;
    while (plot_csv_next(&c)) {
        if (check_run_row(r, &c, &rc, path, scol, err, errlen) != 0) {
            for (size_t i = 0; i < r->n_cell; i++)
                free(rows[i].v);
            free(rows);
            plot_csv_close(&c);
            return -1;
        }
        const char *proto = plot_csv_str(&c, pcol);
        int p = plot_proto_find(r, proto);
        if (p < 0) {
            r->proto = mem_realloc(r->proto, r->n_proto + 1, sizeof *r->proto, "protocol names");
            r->proto[r->n_proto] = dup_text(proto);
            p = (int)r->n_proto++;
        }
        size_t vi[PLOT_MAX_AXES] = { 0 };
        for (size_t a = 0; a < r->n_axes; a++)
            vi[a] = axis_value(&r->axis[a], plot_csv_str(&c, rc.axis[a]));
        size_t k = cell_of(r, &rows, (size_t)p, vi);
        struct cell_rows *cr = &rows[k];
        if (cr->n_rep == cr->cap) {
            cr->cap = cr->cap ? 2 * cr->cap : 4;
            cr->v = mem_realloc(cr->v, cr->cap * (r->n_metric + 1), sizeof *cr->v,
                                "replica values");
        }
        for (size_t m = 0; m < r->n_metric; m++)
            cr->v[cr->n_rep * r->n_metric + m] = plot_csv_num(&c, scol + 1 + (int)m);
        cr->n_rep++;
    }
    plot_csv_close(&c);

    double *col = NULL;
    for (size_t i = 0; i < r->n_cell; i++) {
        struct plot_cell *cell = &r->cell[i];
        cell->n_rep = rows[i].n_rep;
        cell->mean = mem_calloc(r->n_metric + 1, sizeof *cell->mean, "cell means");
        cell->ci = mem_calloc(r->n_metric + 1, sizeof *cell->ci, "cell intervals");
        col = mem_realloc(col, cell->n_rep + 1, sizeof *col, "replica values");
        for (size_t m = 0; m < r->n_metric; m++) {
            for (size_t k = 0; k < cell->n_rep; k++)
                col[k] = rows[i].v[k * r->n_metric + m];
            size_t n;
            out_ci(col, cell->n_rep, &cell->mean[m], &cell->ci[m], &n);
        }
        free(rows[i].v);
    }
    free(col);
    free(rows);
    if (r->n_cell == 0) {
        snprintf(err, errlen, "%s/runs.csv: error: holds no runs; run the scenario again", r->dir);
        return -1;
    }
    for (size_t a = 0; a < r->n_axes; a++)
        axis_place(&r->axis[a]);
    r->nodes_axis = plot_axis_find(r, "nodes");
    return 0;
}

int plot_results_load(struct plot_results *r, const char *dir, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->nodes_axis = -1;
    if (snprintf(r->dir, sizeof r->dir, "%s", dir) >= (int)sizeof r->dir) {
        snprintf(err, errlen, "%s: error: path too long", dir);
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: error: no such folder; give the folder that 'p2plab run' "
                 "wrote (results/NAME by default)", dir);
        return -1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/summary.yaml", dir);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: error: not a results folder (no summary.yaml); give the "
                 "folder that 'p2plab run' wrote", dir);
        return -1;
    }
    r->summary = plot_yaml_load(path, err, errlen);
    if (!r->summary)
        return -1;
    r->scenario = plot_yaml_get(r->summary, "scenario");
    if (!r->scenario || r->scenario->kind != YTREE_MAP) {
        snprintf(err, errlen, "%s: error: no scenario: mapping in it; run the scenario again",
                 path);
        plot_results_free(r);
        return -1;
    }
    snprintf(r->name, sizeof r->name, "%s", plot_yaml_text(r->scenario, "name", "results"));
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    if (read_runs(r, path, err, errlen) != 0 || check_summary(r, err, errlen) != 0) {
        plot_results_free(r);
        return -1;
    }
    return 0;
}

void plot_results_free(struct plot_results *r)
{
    plot_yaml_free(r->summary);
    for (size_t i = 0; i < r->n_proto; i++)
        free(r->proto[i]);
    free(r->proto);
    for (size_t a = 0; a < r->n_axes; a++) {
        for (size_t i = 0; i < r->axis[a].n_value; i++)
            free(r->axis[a].value[i]);
        free(r->axis[a].value);
        free(r->axis[a].x);
    }
    for (size_t m = 0; m < r->n_metric; m++)
        free(r->metric[m]);
    free(r->metric);
    for (size_t i = 0; i < r->n_cell; i++) {
        free(r->cell[i].mean);
        free(r->cell[i].ci);
    }
    free(r->cell);
    memset(r, 0, sizeof *r);
    r->nodes_axis = -1;
}

/* ==== series ============================================================================== */

static bool same_series(const struct plot_results *r, const struct plot_cell *a,
                        const struct plot_cell *b, int skip)
{
    if (a->proto != b->proto)
        return false;
    for (size_t x = 0; x < r->n_axes; x++)
        if ((int)x != skip && a->vi[x] != b->vi[x])
            return false;
    return true;
}

size_t plot_group(const struct plot_results *r, int skip_axis, const bool *mask, size_t *group)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_cell; i++) {
        group[i] = SIZE_MAX;
        if (mask && !mask[i])
            continue;
        for (size_t j = 0; j < i && group[i] == SIZE_MAX; j++)
            if (group[j] != SIZE_MAX && same_series(r, &r->cell[i], &r->cell[j], skip_axis))
                group[i] = group[j];
        if (group[i] == SIZE_MAX)
            group[i] = n++;
    }
    return n;
}

void plot_cell_label(const struct plot_results *r, size_t cell, int skip_axis, const bool *mask,
                     char *buf, size_t len)
{
    const struct plot_cell *c = &r->cell[cell];
    size_t n = (size_t)snprintf(buf, len, "%s", r->proto[c->proto]);
    bool first = true;
    for (size_t a = 0; a < r->n_axes && n < len; a++) {
        if ((int)a == skip_axis || r->axis[a].value[c->vi[a]][0] == '\0')
            continue;                 /* another protocol's parameter */
        bool varies = false;
        for (size_t i = 0; i < r->n_cell && !varies; i++)
            if ((!mask || mask[i]) && r->cell[i].vi[a] != c->vi[a])
                varies = true;
        if (!varies)
            continue;
        n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", first ? " (" : "; ", r->axis[a].path,
                              r->axis[a].value[c->vi[a]]);
        first = false;
    }
    if (!first && n < len)
        snprintf(buf + n, len - n, ")");
    for (char *p = buf; *p; p++)      /* labels go into CSV data and gnuplot strings */
        if (*p == ',' || *p == '"' || *p == '\\')
            *p = *p == ',' ? ';' : '\'';
}

/* ==== rows of the other files ============================================================== */

int plot_rowkey_init(const struct plot_results *r, const struct plot_csv *c, struct plot_rowkey *k)
{
    k->last[0] = '\0';
    k->last_cell = -1;
    k->proto_col = plot_csv_col(c, "protocol");
    if (k->proto_col < 0)
        return -1;
    for (size_t a = 0; a < r->n_axes; a++) {
        k->axis_col[a] = plot_csv_col(c, r->axis[a].path);
        if (k->axis_col[a] < 0)
            return -1;
    }
    return 0;
}

static int find_cell(const struct plot_results *r, const struct plot_rowkey *k,
                     const struct plot_csv *c)
{
    int p = plot_proto_find(r, plot_csv_str(c, k->proto_col));
    if (p < 0)
        return -1;
    size_t vi[PLOT_MAX_AXES] = { 0 };
    for (size_t a = 0; a < r->n_axes; a++) {
        const char *v = plot_csv_str(c, k->axis_col[a]);
        size_t i = 0;
        while (i < r->axis[a].n_value && strcmp(r->axis[a].value[i], v) != 0)
            i++;
        if (i == r->axis[a].n_value)
            return -1;
        vi[a] = i;
    }
    for (size_t i = 0; i < r->n_cell; i++)
        if (r->cell[i].proto == (size_t)p &&
            memcmp(r->cell[i].vi, vi, r->n_axes * sizeof *vi) == 0)
            return (int)i;
    return -1;
}

/* The row's key fields joined by '\n' (which no field holds); false if they do not fit. */
static bool row_key(const struct plot_results *r, const struct plot_rowkey *k,
                    const struct plot_csv *c, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "%s", plot_csv_str(c, k->proto_col));
    for (size_t a = 0; a < r->n_axes && n < len; a++)
        n += (size_t)snprintf(buf + n, len - n, "\n%s", plot_csv_str(c, k->axis_col[a]));
    return n < len;
}

int plot_rowkey_cell(const struct plot_results *r, struct plot_rowkey *k,
                     const struct plot_csv *c)
{
    char key[sizeof k->last];
    bool fits = row_key(r, k, c, key, sizeof key);
    if (fits && k->last[0] && strcmp(key, k->last) == 0)
        return k->last_cell;
    k->last[0] = '\0';
    int cell = find_cell(r, k, c);
    if (fits) {
        memcpy(k->last, key, sizeof key);
        k->last_cell = cell;
    }
    return cell;
}
