/* figures_time.c — distributions and time: the lookup latency CDF (cdf.csv), success over time
 * around a mass crash (timeseries.csv), BitTorrent's download-time CDF and gauges (cdf.csv,
 * gauges.csv) and Kelips's group views over time (gauges.csv). At the largest N when N is
 * swept. */
#include "plots/figures.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/labels.h"
#include "sim/mem.h"

/* The cells of the largest N (all cells when N is not swept), of one protocol if `only`. */
static bool *largest_n(const struct plot_results *r, const char *only)
{
    bool *mask = mem_calloc(r->n_cell, sizeof *mask, "a cell mask");
    size_t top = r->nodes_axis >= 0 ? plot_axis_max(r, r->nodes_axis) : 0;
    for (size_t i = 0; i < r->n_cell; i++)
        mask[i] = (r->nodes_axis < 0 || r->cell[i].vi[r->nodes_axis] == top) &&
                  (!only || strcmp(r->proto[r->cell[i].proto], only) == 0);
    return mask;
}

/* " (N = 64000)" when N is swept. */
static void at_n(const struct plot_results *r, char *buf, size_t len)
{
    buf[0] = '\0';
    if (r->nodes_axis >= 0 && r->axis[r->nodes_axis].n_value > 1)
        snprintf(buf, len, " (N = %s)",
                 r->axis[r->nodes_axis].value[plot_axis_max(r, r->nodes_axis)]);
}

/* One line per cell in mask; returns the series index of each cell (SIZE_MAX outside). */
static size_t *series_per_cell(const struct plot_results *r, const bool *mask,
                               struct plot_figure *f, enum plot_style style)
{
    size_t *group = mem_calloc(r->n_cell, sizeof *group, "figure groups");
    size_t n = plot_group(r, -1, mask, group);
    size_t *lines_of = mem_calloc(r->n_proto, sizeof *lines_of, "figure groups");
    static const int point_types[] = { 7, 5, 9, 11, 13 };
    for (size_t g = 0; g < n; g++)
        for (size_t i = 0; i < r->n_cell; i++)
            if (group[i] == g) {
                char label[160];
                plot_cell_label(r, i, -1, mask, label, sizeof label);
                size_t p = r->cell[i].proto, k = lines_of[p]++;
                struct plot_series *s = plot_series_add(f, label, plot_color(r->proto[p], p),
                                                        point_types[k % 5], style);
                s->dt = 1 + (int)(k % 5);    /* a protocol's lines apart by their dashes */
                break;
            }
    free(lines_of);
    return group;
}

/* ==== distributions ======================================================================= */

static struct plot_figure *cdf_figure(const struct plot_results *r, const char *metric,
                                      const char *only, const char *name, const char *title,
                                      const char *xlabel)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/cdf.csv", r->dir);
    struct plot_csv c;
    if (plot_csv_open(&c, path) != 0)
        return NULL;
    struct plot_rowkey key;
    int mcol = plot_csv_col(&c, "metric"), qcol = plot_csv_col(&c, "quantile");
    int vcol = plot_csv_col(&c, "value");
    if (plot_rowkey_init(r, &c, &key) != 0 || mcol < 0 || qcol < 0 || vcol < 0) {
        plot_csv_close(&c);
        return NULL;
    }
    char full[300], n_text[64];
    at_n(r, n_text, sizeof n_text);
    snprintf(full, sizeof full, "%s%s", title, n_text);
    struct plot_figure *f = plot_figure_new(name, full);
    snprintf(f->xlabel, sizeof f->xlabel, "%s", xlabel);
    snprintf(f->ylabel, sizeof f->ylabel, "fraction at or below x");
    snprintf(f->xcol, sizeof f->xcol, "%s", metric);
    snprintf(f->ycol, sizeof f->ycol, "quantile");
    f->y_fixed = true;
    f->y_lo = 0;
    f->y_hi = 1;
    bool *mask = largest_n(r, only);
    size_t *series = series_per_cell(r, mask, f, PLOT_CURVE);
    double lo = INFINITY, hi = 0;
    while (plot_csv_next(&c)) {
        if (strcmp(plot_csv_str(&c, mcol), metric) != 0)
            continue;
        int cell = plot_rowkey_cell(r, &key, &c);
        if (cell < 0 || !mask[cell])
            continue;
        double v = plot_csv_num(&c, vcol);
        plot_series_point(&f->s[series[cell]], v, plot_csv_num(&c, qcol), NAN, NULL);
        if (isfinite(v) && v > 0) {
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
    }
    plot_csv_close(&c);
    free(series);
    free(mask);
    if (lo > 0 && hi / lo > 100)      /* spans orders of magnitude: see them all */
        f->logx = 10;
    return f;
}

/* ==== time series ======================================================================== */

struct plot_figure *plot_fig_over_time(const struct plot_results *r, const char *metric,
                                       const bool *mask, const char *name, const char *title)
{
    const char *column = plot_ts_column(metric);
    char path[1200];
    snprintf(path, sizeof path, "%s/timeseries.csv", r->dir);
    struct plot_csv c;
    if (plot_csv_open(&c, path) != 0)
        return NULL;
    struct plot_rowkey key;
    int tcol = plot_csv_col(&c, "t_s"), ycol = plot_csv_col(&c, column ? column : metric);
    if (plot_rowkey_init(r, &c, &key) != 0 || tcol < 0 || ycol < 0) {
        plot_csv_close(&c);
        return NULL;
    }
    double duration = plot_seconds(plot_yaml_text(r->scenario, "duration", ""));
    double sample = plot_seconds(plot_yaml_text(r->scenario, "sample", ""));
    if (isnan(sample))
        sample = 0;
    double unit;
    const char *uname = plot_time_unit(isnan(duration) ? 0 : duration, &unit);
    struct plot_figure *f = plot_figure_new(name, title);
    snprintf(f->note, sizeof f->note, "lookups counted in the interval they were issued; mean "
             "over replicas");
    snprintf(f->xlabel, sizeof f->xlabel, "simulated time (%s)", uname);
    double scale = plot_metric_label(metric, f->ylabel, sizeof f->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "t_%s", uname);
    snprintf(f->ycol, sizeof f->ycol, "%s%s", metric, scale == 100 ? "_pct" : "");
    double at[PLOT_MAX_MARKS];
    char text[PLOT_MAX_MARKS][48];
    size_t n_crash = plot_crashes(r, at, text, PLOT_MAX_MARKS);
    for (size_t k = 0; k < n_crash; k++)
        plot_mark_add(f, at[k] / unit, text[k]);
    size_t *series = series_per_cell(r, mask, f, PLOT_CURVE);
    struct plot_tavg *avg = mem_calloc(f->n_s + 1, sizeof *avg, "time series");
    while (plot_csv_next(&c)) {
        int cell = plot_rowkey_cell(r, &key, &c);
        if (cell >= 0 && (!mask || mask[cell]))
            plot_tavg_add(&avg[series[cell]], plot_csv_num(&c, tcol), plot_csv_num(&c, ycol));
    }
    plot_csv_close(&c);
    for (size_t s = 0; s < f->n_s; s++) {
        /* each interval at its middle: a lookup issued at 20:10 sits in [20, 21) */
        for (size_t k = 0; k < avg[s].len; k++)
            plot_series_point(&f->s[s], (avg[s].x[k] + sample / 2) / unit,
                              scale * avg[s].sum[k] / (double)avg[s].n[k], NAN, NULL);
        plot_tavg_free(&avg[s]);
    }
    free(avg);
    free(series);
    return f;
}

/* Success over time when the scenario crashes many nodes at once, with the crash marked. */
static void crash_figure(const struct plot_results *r, struct plot_figs *out)
{
    double at[PLOT_MAX_MARKS];
    char text[PLOT_MAX_MARKS][48];
    if (plot_crashes(r, at, text, PLOT_MAX_MARKS) == 0)
        return;
    char title[300], n_text[64];
    at_n(r, n_text, sizeof n_text);
    snprintf(title, sizeof title, "Lookup success over time%s", n_text);
    bool *mask = largest_n(r, NULL);
    struct plot_figure *f = plot_fig_over_time(r, "lookup.success_rate", mask,
                                               "success-over-time", title);
    free(mask);
    plot_figs_add(out, f);
}

/* ==== protocols' gauges =================================================================== */

/* A figure of one protocol's gauges whose names start with `prefix` (gauges of one unit), one
 * line per gauge and cell; `words` names a gauge's line (NULL: its own name). */
struct gauge_fig {
    const char *proto, *prefix, *name, *title, *ylabel;
    const char *(*words)(const char *gauge);
};

static const char *kelips_gauge_words(const char *g)
{
    if (strcmp(g, "view.size") == 0)
        return "members in a group view";
    if (strcmp(g, "view.dead") == 0)
        return "of them crashed";
    return g;
}

static const struct gauge_fig gauge_figs[] = {
    { "bittorrent", "pieces.", "piece-availability", "BitTorrent: piece availability over time",
      "copies of a piece among live peers and seeds", NULL },
    { "kelips", "view.", "kelips-views", "Kelips: group views over time",
      "entries per node (mean over live nodes)", kelips_gauge_words },
};

static void gauge_figure(const struct plot_results *r, const struct gauge_fig *gf,
                         struct plot_figs *out)
{
    if (plot_proto_find(r, gf->proto) < 0)
        return;
    char path[1200];
    snprintf(path, sizeof path, "%s/gauges.csv", r->dir);
    struct plot_csv c;
    if (plot_csv_open(&c, path) != 0)
        return;
    struct plot_rowkey key;
    int tcol = plot_csv_col(&c, "t_s"), gcol = plot_csv_col(&c, "gauge");
    int vcol = plot_csv_col(&c, "value");
    if (plot_rowkey_init(r, &c, &key) != 0 || tcol < 0 || gcol < 0 || vcol < 0) {
        plot_csv_close(&c);
        return;
    }
    bool *mask = largest_n(r, gf->proto);
    size_t *group = mem_calloc(r->n_cell, sizeof *group, "figure groups");
    plot_group(r, -1, mask, group);
    /* one line per (gauge, cell), in order of first appearance in the file */
    struct line { char gauge[64]; size_t group; struct plot_tavg avg; } *lines = NULL;
    size_t n_lines = 0;
    double t_max = 0;
    while (plot_csv_next(&c)) {
        int cell = plot_rowkey_cell(r, &key, &c);
        if (cell < 0 || !mask[cell])
            continue;
        const char *g = plot_csv_str(&c, gcol);
        if (strncmp(g, gf->prefix, strlen(gf->prefix)) != 0)
            continue;                 /* other gauges have other units: summary.yaml has them */
        size_t k = 0;
        while (k < n_lines && (lines[k].group != group[cell] || strcmp(lines[k].gauge, g) != 0))
            k++;
        if (k == n_lines) {
            lines = mem_realloc(lines, n_lines + 1, sizeof *lines, "gauge lines");
            memset(&lines[k], 0, sizeof lines[k]);
            snprintf(lines[k].gauge, sizeof lines[k].gauge, "%s", g);
            lines[k].group = group[cell];
            n_lines++;
        }
        double t = plot_csv_num(&c, tcol);
        plot_tavg_add(&lines[k].avg, t, plot_csv_num(&c, vcol));
        if (isfinite(t))
            t_max = fmax(t_max, t);
    }
    plot_csv_close(&c);
    if (n_lines == 0) {               /* results written before the protocol had these gauges */
        free(group);
        free(mask);
        return;
    }
    double unit;
    const char *uname = plot_time_unit(t_max, &unit);
    char title[300], n_text[64];
    at_n(r, n_text, sizeof n_text);
    snprintf(title, sizeof title, "%s%s", gf->title, n_text);
    struct plot_figure *f = plot_figure_new(gf->name, title);
    snprintf(f->note, sizeof f->note, "mean over replicas");
    snprintf(f->xlabel, sizeof f->xlabel, "simulated time (%s)", uname);
    snprintf(f->ylabel, sizeof f->ylabel, "%s", gf->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "t_%s", uname);
    snprintf(f->ycol, sizeof f->ycol, "value");
    bool several = false;             /* cells with gauges: name the cell only if several */
    for (size_t k = 1; k < n_lines; k++)
        several |= lines[k].group != lines[0].group;
    f->from_zero = true;              /* counts and times; unless a gauge goes negative */
    for (size_t k = 0; k < n_lines; k++)
        for (size_t i = 0; i < lines[k].avg.len; i++)
            if (lines[k].avg.sum[i] < 0)
                f->from_zero = false;
    for (size_t k = 0; k < n_lines; k++) {
        char label[256], cell_label[160] = "";
        size_t first = 0;
        while (first < r->n_cell && group[first] != lines[k].group)
            first++;
        if (several)
            plot_cell_label(r, first, -1, mask, cell_label, sizeof cell_label);
        snprintf(label, sizeof label, "%s%s%s", gf->words ? gf->words(lines[k].gauge) : lines[k].gauge,
                 several ? " " : "", cell_label);
        struct plot_series *s = plot_series_add(f, label, plot_color(NULL, k), 7, PLOT_CURVE);
        for (size_t i = 0; i < lines[k].avg.len; i++)
            plot_series_point(s, lines[k].avg.x[i] / unit,
                              lines[k].avg.sum[i] / (double)lines[k].avg.n[i], NAN, NULL);
        plot_tavg_free(&lines[k].avg);
    }
    free(lines);
    free(group);
    free(mask);
    plot_figs_add(out, f);
}

void plot_figures_time(const struct plot_results *r, struct plot_figs *out)
{
    plot_figs_add(out, cdf_figure(r, "lookup.latency_ms", NULL, "latency-cdf",
                                  "Lookup latency distribution", "lookup latency (ms)"));
    crash_figure(r, out);
    if (plot_proto_find(r, "bittorrent") >= 0)
        plot_figs_add(out, cdf_figure(r, "download.time_s", "bittorrent", "download-cdf",
                                      "BitTorrent: download time distribution",
                                      "download time (s)"));
    for (size_t k = 0; k < sizeof gauge_figs / sizeof gauge_figs[0]; k++)
        gauge_figure(r, &gauge_figs[k], out);
}
