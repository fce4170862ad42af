/* report.c — report.md from the results and the figures drawn from them. */
#include "plots/report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plots/figures.h"
#include "plots/labels.h"
#include "sim/mem.h"

/* The metrics that get a table, when the results hold them. */
static const char *const key_metrics[] = {
    "lookup.success_rate", "lookup.answerable", "keys.lost", "lookup.hops.mean", "lookup.latency_ms.mean", "lookup.messages.mean",
    "maint.bytes_per_node_s", "state.entries.mean", "download.time_s.mean", "download.completed",
};
#define N_KEY_METRICS (sizeof key_metrics / sizeof key_metrics[0])

/* ==== text helpers ======================================================================== */

/* Characters on screen of UTF-8 text (continuation bytes do not count). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Appends s to buf (of capacity cap, grown as needed), with '|' escaped for a table cell. */
static void cat(char **buf, size_t *len, size_t *cap, const char *s, bool cell)
{
    for (; *s; s++) {
        if (*len + 3 > *cap) {
            *cap = *cap ? 2 * *cap : 128;
            *buf = mem_realloc(*buf, *cap, 1, "report text");
        }
        if (cell && *s == '|')
            (*buf)[(*len)++] = '\\';
        (*buf)[(*len)++] = *s == '\n' ? ' ' : *s;
    }
    if (*buf)
        (*buf)[*len] = '\0';
}

/* A YAML node on one line: "latency: {model: euclidean, mean: 80ms}, loss: 0". */
static void inline_yaml(const struct ytree *y, char **buf, size_t *len, size_t *cap, bool top)
{
    if (y->kind == YTREE_SCALAR) {
        cat(buf, len, cap, y->text && y->text[0] ? y->text : "\"\"", true);
        return;
    }
    bool map = y->kind == YTREE_MAP;
    if (!top)
        cat(buf, len, cap, map ? "{" : "[", true);
    for (size_t i = 0; i < y->n; i += map ? 2 : 1) {
        if (i)
            cat(buf, len, cap, ", ", true);
        if (map) {
            inline_yaml(y->kid[i], buf, len, cap, false);
            cat(buf, len, cap, ": ", true);
            if (i + 1 < y->n)
                inline_yaml(y->kid[i + 1], buf, len, cap, false);
        } else {
            inline_yaml(y->kid[i], buf, len, cap, false);
        }
    }
    if (!top)
        cat(buf, len, cap, map ? "}" : "]", true);
}

/* ==== tables with aligned columns ========================================================= */

struct table {
    size_t cols, rows;                /* rows include the header */
    char **cell;                      /* rows x cols, owned; NULL prints as "" */
    bool *right;                      /* per column: numbers, aligned right */
};

static void table_init(struct table *t, size_t cols)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->right = mem_calloc(cols, sizeof *t->right, "a report table");
}

/* Adds an empty row; returns its index. */
static size_t table_row(struct table *t)
{
    t->cell = mem_realloc(t->cell, (t->rows + 1) * t->cols, sizeof *t->cell, "a report table");
    memset(&t->cell[t->rows * t->cols], 0, t->cols * sizeof *t->cell);
    return t->rows++;
}

static void table_set(struct table *t, size_t row, size_t col, const char *text)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    cat(&buf, &len, &cap, text, true);
    free(t->cell[row * t->cols + col]);
    t->cell[row * t->cols + col] = buf;
}

static void table_print(struct table *t, FILE *out)
{
    size_t *w = mem_calloc(t->cols, sizeof *w, "a report table");
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            const char *s = t->cell[r * t->cols + c] ? t->cell[r * t->cols + c] : "";
            if (width(s) > w[c])
                w[c] = width(s);
        }
    for (size_t c = 0; c < t->cols; c++)
        if (w[c] < 3)
            w[c] = 3;
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->cols; c++) {
            const char *s = t->cell[r * t->cols + c] ? t->cell[r * t->cols + c] : "";
            size_t pad = w[c] - width(s);
            fputs(c ? " | " : "| ", out);
            if (t->right[c] && r > 0)
                fprintf(out, "%*s%s", (int)pad, "", s);
            else
                fprintf(out, "%s%*s", s, (int)pad, "");
        }
        fputs(" |\n", out);
        if (r == 0) {
            for (size_t c = 0; c < t->cols; c++) {
                fputs(c ? " | " : "| ", out);
                for (size_t k = 0; k + 1 < w[c]; k++)
                    fputc('-', out);
                fputc(t->right[c] ? ':' : '-', out);
            }
            fputs(" |\n", out);
        }
    }
    free(w);
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cell[i]);
    free(t->cell);
    free(t->right);
}

/* ==== sections ============================================================================ */

static void settings(const struct plot_results *r, FILE *out)
{
    fputs("## Settings\n\nThe resolved scenario, every default filled in (in full in "
          "[summary.yaml](summary.yaml)):\n\n", out);
    const struct ytree *s = r->scenario;
    struct table t;
    table_init(&t, 2);
    table_row(&t);
    table_set(&t, 0, 0, "key");
    table_set(&t, 0, 1, "value");
    for (size_t i = 0; i + 1 < s->n; i += 2) {
        const char *key = s->kid[i]->text ? s->kid[i]->text : "";
        const struct ytree *v = s->kid[i + 1];
        if (strcmp(key, "name") == 0 || strcmp(key, "plots") == 0 || strcmp(key, "expect") == 0)
            continue;                 /* the title above; the figures and the paper below */
        bool protocols = strcmp(key, "protocols") == 0 && v->kind == YTREE_MAP;
        for (size_t k = 0; protocols && k + 1 < v->n; k += 2) {
            char name[160], *buf = NULL;
            size_t len = 0, cap = 0;
            snprintf(name, sizeof name, "protocols.%s", v->kid[k]->text ? v->kid[k]->text : "");
            size_t row = table_row(&t);
            table_set(&t, row, 0, name);
            inline_yaml(v->kid[k + 1], &buf, &len, &cap, true);
            table_set(&t, row, 1, buf ? buf : "");
            free(buf);
        }
        if (protocols)
            continue;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        inline_yaml(v, &buf, &len, &cap, v->kind == YTREE_MAP);
        size_t row = table_row(&t);
        table_set(&t, row, 0, key);
        table_set(&t, row, 1, buf ? buf : "");
        free(buf);
    }
    table_print(&t, out);
    fputc('\n', out);
}

static void format_mean(double mean, double ci, char *buf, size_t len)
{
    if (!isfinite(mean)) {
        snprintf(buf, len, "—");
        return;
    }
    int n = fabs(mean) >= 1e4 ? snprintf(buf, len, "%.0f", mean) : snprintf(buf, len, "%.4g", mean);
    if (isfinite(ci) && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, fabs(ci) >= 100 ? " ± %.0f" : " ± %.2g", ci);
}

/* One table: protocols down, sweep points across. */
static void metric_table(const struct plot_results *r, int m, const size_t *point,
                         size_t n_points, FILE *out)
{
    const char *metric = r->metric[m];
    char label[160];
    double scale = plot_metric_label(metric, label, sizeof label);
    fprintf(out, "### %s\n\n%s.\n\n", metric, label);
    /* a protocol without a value anywhere (a DHT in lookup.answerable) gets no row */
    size_t *row = mem_calloc(r->n_proto, sizeof *row, "table rows"), rows = 0;
    for (size_t i = 0; i < r->n_cell; i++)
        if (isfinite(r->cell[i].mean[m]))
            row[r->cell[i].proto] = 1;
    for (size_t p = 0; p < r->n_proto; p++)
        row[p] = row[p] ? ++rows : 0;
    struct table t;
    table_init(&t, n_points + 1);
    for (size_t p = 0; p <= rows; p++)
        table_row(&t);
    table_set(&t, 0, 0, "protocol");
    for (size_t k = 0; k < n_points; k++) {
        size_t first = 0;
        while (point[first] != k)
            first++;
        char head[256] = "";
        for (size_t a = 0, n = 0; a < r->n_axes && n < sizeof head; a++)
            if (r->axis[a].n_value > 1)
                n += (size_t)snprintf(head + n, sizeof head - n, "%s%s=%s", n ? "; " : "",
                                      r->axis[a].path, r->axis[a].value[r->cell[first].vi[a]]);
        table_set(&t, 0, k + 1, head[0] ? head : "mean ± ci95");
        t.right[k + 1] = true;
    }
    for (size_t p = 0; p < r->n_proto; p++) {
        if (!row[p])
            continue;
        table_set(&t, row[p], 0, r->proto[p]);
        for (size_t k = 0; k < n_points; k++)
            table_set(&t, row[p], k + 1, "—");
    }
    for (size_t i = 0; i < r->n_cell; i++) {
        const struct plot_cell *c = &r->cell[i];
        if (!row[c->proto])
            continue;
        char text[96];
        format_mean(c->mean[m] * scale, c->ci[m] * scale, text, sizeof text);
        table_set(&t, row[c->proto], point[i] + 1, text);
    }
    free(row);
    table_print(&t, out);
    fputc('\n', out);
}

static bool wanted(const struct plot_results *r, const char *metric)
{
    for (size_t k = 0; k < N_KEY_METRICS; k++)
        if (strcmp(key_metrics[k], metric) == 0)
            return true;
    const struct ytree *list = plot_yaml_get(r->scenario, "plots");
    for (size_t i = 0; list && list->kind == YTREE_SEQ && i < list->n; i++)
        if (strcmp(plot_yaml_text(list->kid[i], "y", ""), metric) == 0)
            return true;
    return false;
}

static void tables(const struct plot_results *r, FILE *out)
{
    size_t lo = SIZE_MAX, hi = 0;
    for (size_t i = 0; i < r->n_cell; i++) {
        lo = r->cell[i].n_rep < lo ? r->cell[i].n_rep : lo;
        hi = r->cell[i].n_rep > hi ? r->cell[i].n_rep : hi;
    }
    fputs("## Results\n\n", out);
    if (hi < 2)
        fputs("Each value is from a single replica (set `replicas:` to 2 or more for confidence "
              "intervals).", out);
    else if (lo == hi)
        fprintf(out, "Mean ± 95%% confidence half-width (Student t) across %zu replicas.", hi);
    else
        fprintf(out, "Mean ± 95%% confidence half-width (Student t) across %zu to %zu replicas.",
                lo, hi);
    fputs(" One row per protocol, one column per sweep point; every metric of every run is in "
          "[runs.csv](runs.csv).\n\n", out);
    size_t *point = mem_calloc(r->n_cell, sizeof *point, "sweep points");
    size_t n_points = 0;
    for (size_t i = 0; i < r->n_cell; i++) {
        point[i] = SIZE_MAX;
        for (size_t j = 0; j < i && point[i] == SIZE_MAX; j++)
            if (memcmp(r->cell[i].vi, r->cell[j].vi, r->n_axes * sizeof r->cell[i].vi[0]) == 0)
                point[i] = point[j];
        if (point[i] == SIZE_MAX)
            point[i] = n_points++;
    }
    for (size_t k = 0; k < N_KEY_METRICS; k++) {
        int m = plot_metric(r, key_metrics[k]);
        if (plot_metric_present(r, m))
            metric_table(r, m, point, n_points, out);
    }
    for (size_t m = 0; m < r->n_metric; m++) {   /* the scenario's own plots: metrics */
        bool listed = false;
        for (size_t k = 0; k < N_KEY_METRICS; k++)
            listed |= strcmp(key_metrics[k], r->metric[m]) == 0;
        if (!listed && wanted(r, r->metric[m]) && plot_metric_present(r, (int)m))
            metric_table(r, (int)m, point, n_points, out);
    }
    free(point);
}

/* The scenario's expect: list as judged in summary.yaml: paper against p2plab, cell by cell. */
static void against_paper(const struct plot_results *r, FILE *out)
{
    const struct ytree *list = plot_yaml_get(r->summary, "expect");
    if (!list || list->kind != YTREE_SEQ || list->n == 0)
        return;
    fputs("## Against the paper\n\nThe published figures this scenario states under `expect:`, "
          "each against p2plab's mean over the cell's replicas (± the 95% half-width where there "
          "are two or more). *Within* means the mean lies within the stated tolerance of the "
          "paper's figure.\n\n", out);
    struct table t;
    table_init(&t, 7);
    static const char *const head[] = { "metric", "cell", "paper", "p2plab", "tolerance",
                                        "verdict", "source" };
    size_t within = 0;
    table_row(&t);
    for (size_t k = 0; k < 7; k++)
        table_set(&t, 0, k, head[k]);
    t.right[2] = t.right[3] = true;
    for (size_t i = 0; i < list->n; i++) {
        const struct ytree *x = list->kid[i];
        size_t row = table_row(&t);
        char paper[64], got[96], src[600];
        double mean = plot_yaml_number(x, "p2plab.mean");
        double ci = plot_yaml_number(x, "p2plab.ci95");
        snprintf(paper, sizeof paper, "%s", plot_yaml_text(x, "paper", "?"));
        format_mean(mean, ci, got, sizeof got);
        const char *verdict = plot_yaml_text(x, "verdict", "?");
        within += strcmp(verdict, "within") == 0;
        const char *note = plot_yaml_text(x, "note", "");
        snprintf(src, sizeof src, "%s%s%s", plot_yaml_text(x, "source", ""), note[0] ? "; " : "",
                 note);
        table_set(&t, row, 0, plot_yaml_text(x, "metric", "?"));
        table_set(&t, row, 1, plot_yaml_text(x, "cell", "?"));
        table_set(&t, row, 2, paper);
        table_set(&t, row, 3, got);
        table_set(&t, row, 4, plot_yaml_text(x, "tolerance", "?"));
        table_set(&t, row, 5, strcmp(verdict, "within") == 0 ? "within" : verdict);
        table_set(&t, row, 6, src);
    }
    table_print(&t, out);
    fprintf(out, "\n%zu of %zu within tolerance.\n\n", within, list->n);
}

static void figures(const struct plot_figs *figs, bool drawn, FILE *out)
{
    fputs("## Figures\n\n", out);
    if (figs->n == 0) {
        fputs("The results hold nothing to draw.\n", out);
        return;
    }
    fputs("Each figure is a PNG and an SVG, drawn by the gnuplot script beside it from the data "
          "file beside it: edit the script and run `gnuplot NAME.gp` in `plots/` to restyle "
          "one.\n\n", out);
    if (!drawn)
        fputs("> gnuplot was not found when this report was written, so the images are missing. "
              "Install gnuplot (`apt-get install gnuplot-nox`) and run `p2plab plot` on this "
              "folder.\n\n", out);
    for (size_t i = 0; i < figs->n; i++) {
        const struct plot_figure *f = figs->f[i];
        fprintf(out, "### %s\n\n", f->title);
        if (f->note[0])
            fprintf(out, "%s.\n\n", f->note);
        fprintf(out, "![%s](plots/%s.png)\n\n", f->title, f->name);
        fprintf(out, "[SVG](plots/%s.svg) · data [%s.csv](plots/%s.csv) · script "
                "[%s.gp](plots/%s.gp)\n\n", f->name, f->name, f->name, f->name, f->name);
    }
}

size_t plot_companion_folder(const char *given, char *folder, size_t len)
{
    const char *base = strrchr(given, '/');
    base = base ? base + 1 : given;
    size_t n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(base + n - 4, ".yml") == 0)
        n -= 4;
    if (n >= len)
        n = 0;
    snprintf(folder, len, "%.*s", (int)n, base);
    return n;
}

/* The companion scenarios (also:), each in its subfolder: a link to its report and its
 * figures, so that one report shows the whole run. */
static void companions(const struct plot_results *r, bool drawn, FILE *out)
{
    const struct ytree *also = plot_yaml_get(r->scenario, "also");
    if (!also || also->kind != YTREE_SEQ || also->n == 0)
        return;
    fputs("## Companion runs\n\n", out);
    for (size_t i = 0; i < also->n; i++) {
        char folder[128], dir[1200], err[1024];
        const char *given = also->kid[i]->text ? also->kid[i]->text : "";
        if (plot_companion_folder(given, folder, sizeof folder) == 0)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", r->dir, folder);
        struct plot_results c;
        if (plot_results_load(&c, dir, err, sizeof err) != 0) {
            fprintf(out, "### %s\n\n`%s` has no results in `%s/` yet.\n\n", folder, given,
                    folder);
            continue;
        }
        struct plot_figs figs = { 0 };
        plot_figures_sweep(&c, &figs);
        plot_figures_time(&c, &figs);
        plot_figures_scenario(&c, &figs);
        fprintf(out, "### %s\n\nThe scenario `%s`, run with this one: its tables and settings "
                "are in [%s/report.md](%s/report.md).\n\n", c.name, given, folder, folder);
        for (size_t k = 0; k < figs.n; k++) {
            const struct plot_figure *f = figs.f[k];
            fprintf(out, "#### %s\n\n", f->title);
            if (f->note[0])
                fprintf(out, "%s.\n\n", f->note);
            if (drawn)
                fprintf(out, "![%s](%s/plots/%s.png)\n\n", f->title, folder, f->name);
            fprintf(out, "[SVG](%s/plots/%s.svg) · data [%s.csv](%s/plots/%s.csv) · script "
                    "[%s.gp](%s/plots/%s.gp)\n\n", folder, f->name, f->name, folder, f->name,
                    f->name, folder, f->name);
        }
        plot_figs_free(&figs);
        plot_results_free(&c);
    }
}

void plot_report_write(const struct plot_results *r, const struct plot_figs *figs, bool drawn,
                       FILE *out)
{
    fprintf(out, "# %s\n\n", r->name);
    fprintf(out, "Results of the scenario `%s`, run by p2plab %s. Everything below was drawn "
            "from the files in this folder by `p2plab plot`, which re-draws it.\n\n", r->name,
            plot_yaml_text(r->summary, "p2plab", "?"));
    const struct ytree *expect = plot_yaml_get(r->summary, "expect");
    fprintf(out, "- [Settings](#settings)\n- [Results](#results)\n%s- [Figures](#figures)\n\n",
            expect && expect->kind == YTREE_SEQ && expect->n ? "- [Against the paper]"
            "(#against-the-paper)\n" : "");
    settings(r, out);
    tables(r, out);
    against_paper(r, out);
    figures(figs, drawn, out);
    companions(r, drawn, out);
}
