/* bench_scale.c — the two figures of `p2plab bench scale`: CPU seconds and peak RSS against N,
 * both axes logarithmic (a power law N^k is a straight line of slope k), one line per protocol
 * in the order the protocols first appear. Drawn like every other figure (figure.c). */
#include "plots/bench_scale.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "plots/figure.h"

/* Which measured quantity a figure shows. */
struct scale_fig {
    const char *name, *title, *ylabel, *ycol;
    double (*y)(const struct plot_scale_point *);
};

static double cpu_of(const struct plot_scale_point *p)
{
    return p->cpu_s;
}

static double rss_of(const struct plot_scale_point *p)
{
    return p->rss_mb;
}

static const struct scale_fig scale_figs[] = {
    { "scale-cpu", "CPU time of one run against the number of nodes", "CPU seconds", "cpu_s",
      cpu_of },
    { "scale-rss", "Peak memory of one run against the number of nodes", "peak RSS (MB)",
      "peak_rss_mb", rss_of },
};
_Static_assert(sizeof scale_figs / sizeof scale_figs[0] ==
               sizeof((const char *const[]){ PLOT_SCALE_FIGURES }) / sizeof(const char *),
               "one description per figure");

/* gnuplot's filled circle, square, triangles, diamond, pentagon, then open ones */
static const int scale_pt[] = { 7, 5, 9, 11, 13, 15, 6, 4 };

static struct plot_figure *scale_figure(const struct scale_fig *d,
                                        const struct plot_scale_point *p, size_t n,
                                        const char *note)
{
    struct plot_figure *f = plot_figure_new(d->name, d->title);
    snprintf(f->note, sizeof f->note, "%s", note);
    snprintf(f->xlabel, sizeof f->xlabel, "nodes");
    snprintf(f->ylabel, sizeof f->ylabel, "%s", d->ylabel);
    snprintf(f->xcol, sizeof f->xcol, "nodes");
    snprintf(f->ycol, sizeof f->ycol, "%s", d->ycol);
    f->logx = 10;
    f->logy = 10;
    snprintf(f->key, sizeof f->key, "left top");
    /* a tic at each N when there are few, and a y range from the decade below the points to the
     * one above (with gnuplot's room around the points it would add a decade at each end) */
    double lo = INFINITY, hi = -INFINITY;
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        double y = d->y(&p[i]);
        if (y > 0) {
            lo = fmin(lo, y);
            hi = fmax(hi, y);
        }
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = p[k].nodes == p[i].nodes;
        distinct += !seen;
    }
    if (lo <= hi) {
        f->y_fixed = true;
        f->y_lo = pow(10, floor(log10(lo / 1.6)));
        f->y_hi = pow(10, ceil(log10(hi * 1.6)));
    }
    for (size_t i = 0; i < n && distinct <= 12; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = p[k].nodes == p[i].nodes;
        if (!seen) {
            char label[32];
            snprintf(label, sizeof label, "%.0f", p[i].nodes);
            plot_xtic_add(f, label, p[i].nodes);
        }
    }
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(p[k].proto, p[i].proto) == 0;
        if (seen)
            continue;
        struct plot_series *s = plot_series_add(f, p[i].proto, plot_color(p[i].proto, f->n_s),
                                                scale_pt[f->n_s % (sizeof scale_pt / sizeof scale_pt[0])], PLOT_MEANS);
        for (size_t k = i; k < n; k++)
            if (strcmp(p[k].proto, p[i].proto) == 0)
                plot_series_point(s, p[k].nodes, d->y(&p[k]), NAN, NULL);
    }
    return f;
}

static int write_to(const char *dir, const char *name, const char *ext,
                    void (*fill)(const struct plot_figure *, FILE *), const struct plot_figure *f,
                    char *err, size_t errlen)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *out = fopen(path, "w");
    if (!out) {
        snprintf(err, errlen, "%s: error: cannot write it: %s", path, strerror(errno));
        return -1;
    }
    fill(f, out);
    bool bad = ferror(out) != 0;
    if (fclose(out) != 0 || bad) {
        snprintf(err, errlen, "%s: error: writing it failed (disk full?)", path);
        return -1;
    }
    return 0;
}

int plot_scale_write(const char *dir, const struct plot_scale_point *p, size_t n,
                     const char *note, bool draw, char *err, size_t errlen)
{
    int rc = 0;
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);    /* a gnuplot that dies early must not kill us */
    for (size_t i = 0; i < sizeof scale_figs / sizeof scale_figs[0] && rc >= 0; i++) {
        struct plot_figure *f = scale_figure(&scale_figs[i], p, n, note);
        if (write_to(dir, f->name, "csv", plot_figure_write_data, f, err, errlen) != 0 ||
            write_to(dir, f->name, "gp", plot_figure_write_script, f, err, errlen) != 0) {
            rc = -1;
        } else if (draw && rc == 0 && plot_figure_points(f) > 0) {
            int drawn = plot_figure_draw(dir, f);
            if (drawn == -2) {
                rc = 1;
            } else if (drawn == -1) {
                snprintf(err, errlen, "%s/%s.gp: error: gnuplot failed on it (its message is "
                         "above)", dir, f->name);
                rc = -1;
            }
        }
        plot_figure_free(f);
    }
    sigaction(SIGPIPE, &old, NULL);
    return rc;
}
