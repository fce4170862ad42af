/* figures.c — the list of figures and what the figure builders share. */
#include "plots/figures.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

void plot_figs_add(struct plot_figs *l, struct plot_figure *f)
{
    if (!f)
        return;
    if (plot_figure_points(f) == 0) {
        plot_figure_free(f);
        return;
    }
    l->f = mem_realloc(l->f, l->n + 1, sizeof *l->f, "the figures");
    l->f[l->n++] = f;
}

void plot_figs_free(struct plot_figs *l)
{
    for (size_t i = 0; i < l->n; i++)
        plot_figure_free(l->f[i]);
    free(l->f);
    l->f = NULL;
    l->n = 0;
}

void plot_tavg_add(struct plot_tavg *t, double x, double v)
{
    if (!isfinite(x) || !isfinite(v))
        return;
    size_t lo = 0, hi = t->len;       /* the first slot with x >= the new x */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->x[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->len || t->x[lo] != x) {
        if (t->len == t->cap) {
            t->cap = t->cap ? 2 * t->cap : 64;
            t->x = mem_realloc(t->x, t->cap, sizeof *t->x, "a time series");
            t->sum = mem_realloc(t->sum, t->cap, sizeof *t->sum, "a time series");
            t->n = mem_realloc(t->n, t->cap, sizeof *t->n, "a time series");
        }
        memmove(t->x + lo + 1, t->x + lo, (t->len - lo) * sizeof *t->x);
        memmove(t->sum + lo + 1, t->sum + lo, (t->len - lo) * sizeof *t->sum);
        memmove(t->n + lo + 1, t->n + lo, (t->len - lo) * sizeof *t->n);
        t->x[lo] = x;
        t->sum[lo] = 0;
        t->n[lo] = 0;
        t->len++;
    }
    t->sum[lo] += v;
    t->n[lo]++;
}

void plot_tavg_free(struct plot_tavg *t)
{
    free(t->x);
    free(t->sum);
    free(t->n);
    memset(t, 0, sizeof *t);
}

size_t plot_crashes(const struct plot_results *r, double *at_s, char (*text)[48], size_t max)
{
    const struct ytree *ev = plot_yaml_get(r->scenario, "churn.events");
    size_t n = 0;
    for (size_t i = 0; ev && ev->kind == YTREE_SEQ && i < ev->n && n < max; i++) {
        const char *share = plot_yaml_text(ev->kid[i], "crash", NULL);
        const char *restart = plot_yaml_text(ev->kid[i], "restart", NULL);
        double at = plot_seconds(plot_yaml_text(ev->kid[i], "at", ""));
        if ((!share && !restart) || isnan(at))
            continue;
        at_s[n] = at;
        if (restart)
            snprintf(text[n], 48, "servers restart");
        else if (strcmp(share, "servers") == 0)
            snprintf(text[n], 48, "servers crash");
        else
            snprintf(text[n], 48, "crash of %.4g%%", strtod(share, NULL) * 100);
        n++;
    }
    return n;
}

const char *plot_time_unit(double span_s, double *unit_s)
{
    if (span_s >= 3 * 86400) {
        *unit_s = 86400;
        return "d";
    }
    if (span_s >= 3 * 3600) {
        *unit_s = 3600;
        return "h";
    }
    if (span_s >= 3 * 60) {
        *unit_s = 60;
        return "min";
    }
    *unit_s = 1;
    return "s";
}

void plot_stem(const char *in, char *out, size_t len)
{
    size_t n = 0;
    for (; *in && n + 1 < len; in++) {
        unsigned char c = (unsigned char)*in;
        if (isalnum(c))
            out[n++] = (char)tolower(c);
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}
