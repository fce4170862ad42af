/* figures_sweep.c — metrics against a swept key: scaling with N (with the theoretical path
 * lengths), success under churn, and the cost-performance plane of Li et al., "A performance vs.
 * cost framework for evaluating DHT design tradeoffs under churn", INFOCOM 2005. */
#include "plots/figures.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/labels.h"
#include "sim/mem.h"

static const int point_types[] = { 7, 5, 9, 11, 13, 15, 4, 6 };
#define N_POINT_TYPES (sizeof point_types / sizeof point_types[0])

/* ==== one metric against one swept key ==================================================== */

struct plot_figure *plot_fig_vs_axis(const struct plot_results *r, int axis, const char *metric,
                                     const bool *mask, const char *name, const char *title,
                                     double logx, double logy)
{
    int m = plot_metric(r, metric);
    if (!plot_metric_present(r, m))
        return NULL;
    const struct plot_axis *ax = &r->axis[axis];
    struct plot_figure *f = plot_figure_new(name, title);
    plot_axis_label(r, axis, f->xlabel, sizeof f->xlabel);
    double scale = plot_metric_label(metric, f->ylabel, sizeof f->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "%s", ax->path);
    snprintf(f->ycol, sizeof f->ycol, "%s", metric);
    bool positive = !ax->categorical;
    for (size_t i = 0; i < ax->n_value; i++)
        positive &= ax->x[i] > 0;
    if (logx < 0)
        logx = axis == r->nodes_axis && positive ? 2 : 0;
    f->logx = ax->categorical ? 0 : logx;
    f->logy = logy;
    if (ax->categorical || ax->n_value <= 12)
        for (size_t i = 0; i < ax->n_value; i++)
            plot_xtic_add(f, ax->value[i], ax->x[i]);

    size_t *group = mem_calloc(r->n_cell, sizeof *group, "figure groups");
    size_t *cells = mem_calloc(r->n_cell, sizeof *cells, "figure groups");
    size_t *lines_of = mem_calloc(r->n_proto, sizeof *lines_of, "figure groups");
    size_t n_groups = plot_group(r, axis, mask, group);
    for (size_t g = 0; g < n_groups; g++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_cell; i++)
            if (group[i] == g) {
                /* in order of x, so that the line runs left to right */
                size_t k = n++;
                double x = ax->x[r->cell[i].vi[axis]];
                for (; k > 0 && ax->x[r->cell[cells[k - 1]].vi[axis]] > x; k--)
                    cells[k] = cells[k - 1];
                cells[k] = i;
            }
        const struct plot_cell *c0 = &r->cell[cells[0]];
        char label[160];
        plot_cell_label(r, cells[0], axis, mask, label, sizeof label);
        size_t nth = lines_of[c0->proto]++;
        struct plot_series *s = plot_series_add(f, label, plot_color(r->proto[c0->proto],
                                                c0->proto), point_types[nth % N_POINT_TYPES],
                                                PLOT_MEANS);
        s->dt = 1 + (int)(nth % 5);     /* a protocol's lines apart by their dashes and points */
        for (size_t k = 0; k < n; k++) {
            const struct plot_cell *c = &r->cell[cells[k]];
            plot_series_point(s, ax->x[c->vi[axis]], c->mean[m] * scale, c->ci[m] * scale, NULL);
        }
    }
    free(lines_of);
    free(cells);
    free(group);
    return f;
}

/* ==== scaling with N ====================================================================== */

static void subscript(unsigned v, char *buf, size_t len)
{
    static const char *const digit[] = { "₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉" };
    char tmp[16];
    snprintf(tmp, sizeof tmp, "%u", v);
    buf[0] = '\0';
    for (const char *p = tmp; *p; p++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s", digit[*p - '0']);
}

/* The published path lengths, dashed in each protocol's colour: Chord ½·log₂N (Stoica et al.
 * 2001, §6.2), Pastry log_{2^b}N (Rowstron and Druschel 2001, §2.3), Kelips one to two hops
 * (Gupta et al. 2003, §2), Napster two (client to server, then to a holder). */
static void theory_hops(const struct plot_results *r, struct plot_figure *f, const char *lead)
{
    char more[160] = "";
    for (size_t p = 0; p < r->n_proto; p++) {
        const char *name = r->proto[p], *rgb = plot_color(name, p);
        if (strcmp(name, "chord") == 0) {
            plot_curve_add(f, "0.5*log(x)/log(2)", "chord theory: ½·log₂N", rgb);
        } else if (strcmp(name, "pastry") == 0) {
            int b = atoi(plot_yaml_text(r->scenario, "protocols.pastry.b", "4"));
            if (b < 1 || b > 16)
                b = 4;
            char expr[64], title[96], sub[32];
            snprintf(expr, sizeof expr, "log(x)/log(%u)", 1u << b);
            subscript(1u << b, sub, sizeof sub);
            snprintf(title, sizeof title, "pastry theory: log%sN (b = %d)", sub, b);
            plot_curve_add(f, expr, title, rgb);
        } else if (strcmp(name, "kelips") == 0) {
            plot_curve_add(f, "2", "kelips theory: 1 to 2 hops", rgb);
            f->band = true;
            f->band_lo = 1;
            f->band_hi = 2;
            snprintf(f->band_rgb, sizeof f->band_rgb, "%s", rgb);
        } else if (strcmp(name, "napster") == 0) {
            plot_curve_add(f, "2", "napster theory: 2 (server, then holder)", rgb);
        } else if (strcmp(name, "gnutella") == 0 || strcmp(name, "fasttrack") == 0) {
            char path[64];
            snprintf(path, sizeof path, "protocols.%s.ttl", name);
            const char *ttl = plot_yaml_text(r->scenario, path, NULL);
            size_t n = strlen(more);
            snprintf(more + n, sizeof more - n, "%s%s floods: no closed form, its TTL%s%s "
                     "bounds the search", n ? "; " : "", name, ttl ? " = " : "", ttl ? ttl : "");
        }
    }
    snprintf(f->note, sizeof f->note, "%.80s%s%.159s", f->n_curve ? lead : "",
             f->n_curve && more[0] ? "; " : "", more);
}

static void nodes_figures(const struct plot_results *r, struct plot_figs *out)
{
    int a = r->nodes_axis;
    if (a < 0)
        return;
    struct plot_figure *f;
    f = plot_fig_vs_axis(r, a, "lookup.hops.mean", NULL, "hops-mean-vs-nodes",
                         "Lookup path length against network size (mean)", -1, 0);
    if (f) {
        f->from_zero = true;
        theory_hops(r, f, "dashed: theory");
    }
    plot_figs_add(out, f);
    f = plot_fig_vs_axis(r, a, "lookup.hops.p99", NULL, "hops-p99-vs-nodes",
                         "Lookup path length against network size (99th percentile)", -1, 0);
    if (f) {                          /* the published figures are for the mean path */
        f->from_zero = true;
        theory_hops(r, f, "dashed: the theoretical mean path, for scale");
    }
    plot_figs_add(out, f);
    plot_figs_add(out, plot_fig_vs_axis(r, a, "lookup.messages.mean", NULL, "messages-vs-nodes",
                                        "Messages per lookup against network size", -1, 10));
    f = plot_fig_vs_axis(r, a, "maint.bytes_per_node_s", NULL, "maint-bytes-vs-nodes",
                         "Maintenance traffic per node against network size", -1, 0);
    if (f)
        f->from_zero = true;
    plot_figs_add(out, f);
    f = plot_fig_vs_axis(r, a, "state.entries.mean", NULL, "state-vs-nodes",
                         "Routing state per node against network size", -1, 10);
    if (f) {
        plot_curve_add(f, "sqrt(x)", "reference: √N", "gray50");
        plot_curve_add(f, "log(x)/log(2)", "reference: log₂N", "gray20");
        snprintf(f->note, sizeof f->note, "dashed: reference curves");
    }
    plot_figs_add(out, f);
    f = plot_fig_vs_axis(r, a, "lookup.success_rate", NULL, "success-vs-nodes",
                         "Lookup success against network size", -1, 0);
    plot_figs_add(out, f);
}

/* ==== success under churn ================================================================= */

static void churn_figures(const struct plot_results *r, struct plot_figs *out)
{
    for (size_t a = 0; a < r->n_axes; a++) {
        if (strncmp(r->axis[a].path, "churn.session", 13) != 0)
            continue;
        char stem[128], name[160], title[256];
        plot_stem(r->axis[a].path, stem, sizeof stem);
        snprintf(name, sizeof name, "success-vs-%s", stem);
        snprintf(title, sizeof title, "Lookup success against %s", r->axis[a].path);
        struct plot_figure *f = plot_fig_vs_axis(r, (int)a, "lookup.success_rate", NULL, name,
                                                 title, 0, 0);
        plot_figs_add(out, f);
    }
}

/* ==== the cost-performance plane ========================================================== */

/* The lower-left convex hull of points sorted by x: first the points no other beats on both
 * axes (the Pareto frontier), then of those the ones on the convex hull (monotone chain). */
static size_t frontier(const double *x, const double *y, size_t n, size_t *keep)
{
    size_t k = 0;
    double best = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (y[i] < best) {
            best = y[i];
            keep[k++] = i;
        }
    size_t h = 0;
    for (size_t i = 0; i < k; i++) {
        size_t c = keep[i];
        while (h >= 2) {
            size_t o = keep[h - 2], a = keep[h - 1];
            double cross = (x[a] - x[o]) * (y[c] - y[o]) - (y[a] - y[o]) * (x[c] - x[o]);
            if (cross > 0)
                break;
            h--;
        }
        keep[h++] = c;
    }
    return h;
}

/* The values of the swept keys that vary, as a point's label: "1000", or with the keys' last
 * words when several vary ("median=30min; successors=8"). */
static void point_label(const struct plot_results *r, const struct plot_cell *c, char *buf,
                        size_t len)
{
    size_t varying = 0;
    for (size_t a = 0; a < r->n_axes; a++)
        varying += r->axis[a].n_value > 1;
    buf[0] = '\0';
    for (size_t a = 0, n = 0; a < r->n_axes && n < len; a++) {
        if (r->axis[a].n_value < 2)
            continue;
        const char *word = strrchr(r->axis[a].path, '.');
        word = word ? word + 1 : r->axis[a].path;
        if (varying == 1)
            n += (size_t)snprintf(buf + n, len - n, "%s", r->axis[a].value[c->vi[a]]);
        else
            n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? "; " : "", word,
                                  r->axis[a].value[c->vi[a]]);
    }
}

static void cost_figure(const struct plot_results *r, struct plot_figs *out)
{
    int mx = plot_metric(r, "maint.bytes_per_node_s"), my = plot_metric(r, "lookup.latency_ms.mean");
    if (!plot_metric_present(r, mx) || !plot_metric_present(r, my))
        return;
    bool draw = false;
    for (size_t a = 0; a < r->n_axes; a++)
        draw |= strncmp(r->axis[a].path, "protocols.", 10) == 0;
    for (size_t p = 0; p < r->n_proto && !draw; p++) {
        size_t n = 0;
        for (size_t i = 0; i < r->n_cell; i++)
            n += r->cell[i].proto == p;
        draw = n >= 2;
    }
    if (!draw)
        return;
    struct plot_figure *f = plot_figure_new("cost-performance",
                                            "Cost against performance, one point per cell");
    snprintf(f->note, sizeof f->note, "dashed: each protocol's lower-left convex hull, its Pareto "
             "frontier (Li et al., INFOCOM 2005)");
    plot_metric_label("maint.bytes_per_node_s", f->xlabel, sizeof f->xlabel);
    plot_metric_label("lookup.latency_ms.mean", f->ylabel, sizeof f->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "maint.bytes_per_node_s");
    snprintf(f->ycol, sizeof f->ycol, "lookup.latency_ms.mean");
    f->from_zero = true;
    double *x = mem_calloc(r->n_cell, sizeof *x, "figure points");
    double *y = mem_calloc(r->n_cell, sizeof *y, "figure points");
    size_t *idx = mem_calloc(r->n_cell, sizeof *idx, "figure points");
    size_t *keep = mem_calloc(r->n_cell, sizeof *keep, "figure points");
    bool labels = r->n_cell <= 64;
    for (size_t p = 0; p < r->n_proto; p++) {
        const char *rgb = plot_color(r->proto[p], p);
        size_t n = 0;
        for (size_t i = 0; i < r->n_cell; i++) {
            const struct plot_cell *c = &r->cell[i];
            if (c->proto != p || !isfinite(c->mean[mx]) || !isfinite(c->mean[my]))
                continue;
            size_t k = n++;           /* sorted by cost, then latency */
            for (; k > 0 && (x[k - 1] > c->mean[mx] ||
                             (x[k - 1] == c->mean[mx] && y[k - 1] > c->mean[my])); k--) {
                x[k] = x[k - 1];
                y[k] = y[k - 1];
                idx[k] = idx[k - 1];
            }
            x[k] = c->mean[mx];
            y[k] = c->mean[my];
            idx[k] = i;
        }
        struct plot_series *s = plot_series_add(f, r->proto[p], rgb, 7, PLOT_POINTS);
        char title[160];
        snprintf(title, sizeof title, "%s frontier", r->proto[p]);
        struct plot_series *hull = plot_series_add(f, title, rgb, 7, PLOT_FRONTIER);
        snprintf(title, sizeof title, "%s labels", r->proto[p]);
        struct plot_series *text = labels ? plot_series_add(f, title, rgb, 7, PLOT_LABELS) : NULL;
        /* s and hull may move when text is added: take them again by position */
        s = &f->s[f->n_s - (labels ? 3 : 2)];
        hull = &f->s[f->n_s - (labels ? 2 : 1)];
        for (size_t k = 0; k < n; k++) {
            const struct plot_cell *c = &r->cell[idx[k]];
            plot_series_point(s, x[k], y[k], c->ci[my], NULL);
            if (text) {
                char label[160];
                point_label(r, c, label, sizeof label);
                plot_series_point(text, x[k], y[k], NAN, label);
            }
        }
        size_t h = n >= 2 ? frontier(x, y, n, keep) : 0;
        for (size_t k = 0; h >= 2 && k < h; k++)
            plot_series_point(hull, x[keep[k]], y[keep[k]], NAN, NULL);
    }
    free(keep);
    free(idx);
    free(y);
    free(x);
    plot_figs_add(out, f);
}

void plot_figures_sweep(const struct plot_results *r, struct plot_figs *out)
{
    nodes_figures(r, out);
    churn_figures(r, out);
    cost_figure(r, out);
}
