/* figures_scenario.c — the figures a scenario asks for in plots: (x, y, by, logx, logy, title),
 * read from the resolved scenario echoed in summary.yaml. x is a swept key, protocol or time;
 * y a metric. Lines are split by protocol and by every other swept key; `by` orders nothing
 * more, since a line must not mix cells that differ. */
#include "plots/figures.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/labels.h"
#include "sim/mem.h"

/* y for each protocol, one set of points per sweep point, side by side around each protocol. */
static struct plot_figure *by_protocol(const struct plot_results *r, const char *metric,
                                       const char *name, const char *title, double logy)
{
    int m = plot_metric(r, metric);
    if (!plot_metric_present(r, m))
        return NULL;
    struct plot_figure *f = plot_figure_new(name, title);
    snprintf(f->xlabel, sizeof f->xlabel, "protocol");
    double scale = plot_metric_label(metric, f->ylabel, sizeof f->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "protocol_index");
    snprintf(f->ycol, sizeof f->ycol, "%s", metric);
    f->logy = logy;
    for (size_t p = 0; p < r->n_proto; p++)
        plot_xtic_add(f, r->proto[p], (double)p);
    /* the sweep points, in order of first appearance */
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
    double step = fmin(0.1, 0.6 / (double)n_points);
    for (size_t k = 0; k < n_points; k++) {
        size_t first = 0;
        while (point[first] != k)
            first++;
        char label[160] = "";
        for (size_t a = 0, n = 0; a < r->n_axes && n < sizeof label; a++)
            if (r->axis[a].n_value > 1)
                n += (size_t)snprintf(label + n, sizeof label - n, "%s%s=%s", n ? "; " : "",
                                      r->axis[a].path, r->axis[a].value[r->cell[first].vi[a]]);
        if (!label[0])
            snprintf(label, sizeof label, "%s", metric);
        struct plot_series *s = plot_series_add(f, label, plot_color(NULL, k), 7, PLOT_POINTS);
        double dx = ((double)k - (double)(n_points - 1) / 2) * step;
        for (size_t i = 0; i < r->n_cell; i++)
            if (point[i] == k)
                plot_series_point(s, (double)r->cell[i].proto + dx, r->cell[i].mean[m] * scale,
                                  r->cell[i].ci[m] * scale, NULL);
    }
    free(point);
    return f;
}

void plot_figures_scenario(const struct plot_results *r, struct plot_figs *out)
{
    const struct ytree *list = plot_yaml_get(r->scenario, "plots");
    if (!list || list->kind != YTREE_SEQ)
        return;
    for (size_t i = 0; i < list->n; i++) {
        const struct ytree *e = list->kid[i];
        const char *x = plot_yaml_text(e, "x", ""), *y = plot_yaml_text(e, "y", "");
        double logx = strtod(plot_yaml_text(e, "logx", "0"), NULL);
        double logy = strtod(plot_yaml_text(e, "logy", "0"), NULL);
        if (!(logx > 1))
            logx = 0;
        if (!(logy > 1))
            logy = 0;
        char sx[40], sy[40], name[128], title[256];
        plot_stem(x, sx, sizeof sx);
        plot_stem(y, sy, sizeof sy);
        snprintf(name, sizeof name, "scenario-%zu-%s-vs-%s", i + 1, sy, sx);
        const char *given = plot_yaml_text(e, "title", "");
        if (given[0])
            snprintf(title, sizeof title, "%s", given);
        else
            snprintf(title, sizeof title, "%s against %s", y, x);
        struct plot_figure *f = NULL;
        if (strcmp(x, "time") == 0) {
            f = plot_fig_over_time(r, y, NULL, name, title);
            if (f) {
                f->logx = logx;
                f->logy = logy;
            }
        } else if (strcmp(x, "protocol") == 0) {
            f = by_protocol(r, y, name, title, logy);
        } else {
            int a = plot_axis_find(r, x);
            if (a >= 0)
                f = plot_fig_vs_axis(r, a, y, NULL, name, title, logx, logy);
        }
        plot_figs_add(out, f);
    }
}
