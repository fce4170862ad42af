/* figure.c — a figure's data file and gnuplot script.
 *
 * The data file is tidy CSV, one block per line of the figure (series, x, y, ci95[, label]),
 * blocks separated by two blank lines so that gnuplot addresses them as `index i`. The script
 * sets the terminal twice, pngcairo then svg, and replots: one script, both formats. Nothing in
 * either file depends on the time or the machine, so the same results give the same files. */
#include "plots/figure.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"
#include "sim/output.h"

#define FIG_WIDTH 960                 /* pixels (png) and points (svg) */
#define FIG_HEIGHT 500

struct plot_figure *plot_figure_new(const char *name, const char *title)
{
    struct plot_figure *f = mem_calloc(1, sizeof *f, "a figure");
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->title, sizeof f->title, "%s", title);
        snprintf(f->xcol, sizeof f->xcol, "x");
    snprintf(f->ycol, sizeof f->ycol, "y");
    return f;
}

void plot_figure_free(struct plot_figure *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_s; i++) {
        struct plot_series *s = &f->s[i];
        if (s->text)
            for (size_t k = 0; k < s->n; k++)
                free(s->text[k]);
        free(s->text);
        free(s->x);
        free(s->y);
        free(s->ci);
    }
    free(f->s);
    free(f->xtic);
    free(f);
}

struct plot_series *plot_series_add(struct plot_figure *f, const char *title, const char *rgb,
                                    int pt, enum plot_style style)
{
    if (f->n_s == f->cap_s) {
        f->cap_s = f->cap_s ? 2 * f->cap_s : 8;
        f->s = mem_realloc(f->s, f->cap_s, sizeof *f->s, "figure series");
    }
    struct plot_series *s = &f->s[f->n_s++];
    memset(s, 0, sizeof *s);
    snprintf(s->title, sizeof s->title, "%s", title);
    for (char *p = s->title; *p; p++)     /* the title is also the data file's first column */
        if (*p == ',' || *p == '"' || *p == '\\' || *p == '\n')
            *p = *p == ',' ? ';' : *p == '\n' ? ' ' : '\'';
    snprintf(s->rgb, sizeof s->rgb, "%s", rgb);
    s->pt = pt;
    s->dt = 1;
    s->style = style;
    return s;
}

void plot_series_point(struct plot_series *s, double x, double y, double ci, const char *text)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->x = mem_realloc(s->x, s->cap, sizeof *s->x, "figure points");
        s->y = mem_realloc(s->y, s->cap, sizeof *s->y, "figure points");
        s->ci = mem_realloc(s->ci, s->cap, sizeof *s->ci, "figure points");
        if (s->style == PLOT_LABELS)
            s->text = mem_realloc(s->text, s->cap, sizeof *s->text, "figure labels");
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->ci[s->n] = isfinite(ci) ? ci : NAN;
    if (s->style == PLOT_LABELS) {
        const char *t = text ? text : "";
        s->text[s->n] = mem_calloc(strlen(t) + 1, 1, "a figure label");
        for (size_t k = 0; t[k]; k++)
            s->text[s->n][k] = t[k] == ',' ? ';' : t[k] == '"' ? '\'' : t[k];
    }
    s->n++;
}

void plot_curve_add(struct plot_figure *f, const char *expr, const char *title, const char *rgb)
{
    if (f->n_curve == PLOT_MAX_CURVES)
        return;
    struct plot_curve *c = &f->curve[f->n_curve++];
    snprintf(c->expr, sizeof c->expr, "%s", expr);
    snprintf(c->title, sizeof c->title, "%s", title);
    snprintf(c->rgb, sizeof c->rgb, "%s", rgb);
}

void plot_mark_add(struct plot_figure *f, double x, const char *text)
{
    if (f->n_mark == PLOT_MAX_MARKS || !isfinite(x))
        return;
    f->mark[f->n_mark] = x;
    snprintf(f->mark_text[f->n_mark], sizeof f->mark_text[0], "%s", text);
    f->n_mark++;
}

void plot_xtic_add(struct plot_figure *f, const char *label, double x)
{
    f->xtic = mem_realloc(f->xtic, f->n_xtic + 1, sizeof *f->xtic, "figure tics");
    snprintf(f->xtic[f->n_xtic].label, sizeof f->xtic[0].label, "%s", label);
    f->xtic[f->n_xtic].x = x;
    f->n_xtic++;
}

static size_t series_shown(const struct plot_figure *f, const struct plot_series *s);

size_t plot_figure_points(const struct plot_figure *f)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_s; i++)
        n += series_shown(f, &f->s[i]);
    return n;
}

const char *plot_color(const char *proto, size_t i)
{
    /* one colour per system, fixed, so that a protocol looks the same in every figure */
    static const struct { const char *name, *rgb; } fixed[] = {
        { "chord", "#1f77b4" },   { "pastry", "#ff7f0e" },    { "kelips", "#2ca02c" },
        { "kademlia", "#d62728" }, { "napster", "#9467bd" },  { "gnutella", "#8c564b" },
        { "fasttrack", "#e377c2" }, { "bittorrent", "#17becf" },
    };
    static const char *const other[] = {
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
        "#17becf", "#7f7f7f", "#bcbd22",
    };
    for (size_t k = 0; proto && k < sizeof fixed / sizeof fixed[0]; k++)
        if (strcmp(proto, fixed[k].name) == 0)
            return fixed[k].rgb;
    return other[i % (sizeof other / sizeof other[0])];
}

/* ==== the data file ======================================================================= */

static bool point_shown(const struct plot_figure *f, double x, double y)
{
    return !(f->logx > 0 && x <= 0) && !(f->logy > 0 && y <= 0);
}

static size_t series_shown(const struct plot_figure *f, const struct plot_series *s)
{
    size_t n = 0;
    for (size_t k = 0; k < s->n; k++)
        n += point_shown(f, s->x[k], s->y[k]);
    return n;
}

static void num(FILE *out, double v)
{
    char buf[64];
    out_number(v, buf, sizeof buf);
    fputs(buf, out);
}

void plot_figure_write_data(const struct plot_figure *f, FILE *out)
{
    bool labels = false;
    for (size_t i = 0; i < f->n_s; i++)
        labels |= f->s[i].style == PLOT_LABELS;
    fprintf(out, "# %s.csv: the data of %s.gp (%s)\n", f->name, f->name, f->title);
    fputs("# one block per line of the figure, blocks apart by two blank lines (gnuplot: index "
          "0, 1, ...); ci95 is the 95% confidence half-width across replicas\n", out);
    if (f->logx > 0 || f->logy > 0)
        fputs("# points <= 0 on a logarithmic axis are left out\n", out);
    fprintf(out, "# series,%s,%s,ci95%s\n", f->xcol, f->ycol, labels ? ",label" : "");
    bool first = true;
    for (size_t i = 0; i < f->n_s; i++) {
        const struct plot_series *s = &f->s[i];
        if (!series_shown(f, s))
            continue;
        if (!first)
            fputs("\n\n", out);
        first = false;
        for (size_t k = 0; k < s->n; k++) {
            if (!point_shown(f, s->x[k], s->y[k]))
                continue;
            fprintf(out, "%s,", s->title);
            num(out, s->x[k]);
            fputc(',', out);
            num(out, s->y[k]);
            fputc(',', out);
            num(out, s->ci[k]);
            if (labels)
                fprintf(out, ",%s", s->text ? s->text[k] : "");
            fputc('\n', out);
        }
    }
}

/* ==== the script ========================================================================== */

/* A gnuplot double-quoted string. */
static void gp_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

static void gp_set_text(FILE *out, const char *what, const char *text)
{
    fprintf(out, "set %s ", what);
    gp_string(out, text);
    fputs(" noenhanced\n", out);
}

static void gp_num(FILE *out, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.10g", v);
    fputs(buf, out);
}

/* The x range: the points with a little room, so that end points and their error bars show. */
static void gp_xrange(const struct plot_figure *f, FILE *out)
{
    double lo = INFINITY, hi = -INFINITY;
    bool discrete = false;
    for (size_t i = 0; i < f->n_s; i++) {
        const struct plot_series *s = &f->s[i];
        discrete |= s->style == PLOT_MEANS || s->style == PLOT_POINTS;
        for (size_t k = 0; k < s->n; k++)
            if (point_shown(f, s->x[k], s->y[k])) {
                lo = fmin(lo, s->x[k]);
                hi = fmax(hi, s->x[k]);
            }
    }
    for (size_t k = 0; k < f->n_mark; k++) {
        lo = fmin(lo, f->mark[k]);
        hi = fmax(hi, f->mark[k]);
    }
    if (!(lo <= hi))
        return;
    if (f->logx > 0) {
        double pad = hi > lo ? fmax(1.08, pow(hi / lo, 0.05)) : 1.5;
        lo /= pad;
        hi *= pad;
    } else {
        double span = hi > lo ? hi - lo : fmax(fabs(hi), 1.0);
        double pad = discrete || hi == lo ? 0.05 * span : 0;
        if (f->n_xtic && discrete && hi - lo < f->n_xtic)
            pad = 0.5;                /* categories */
        lo -= pad;
        hi += pad;
    }
    fputs("set xrange [", out);
    gp_num(out, lo);
    fputc(':', out);
    gp_num(out, hi);
    fputs("]\n", out);
}

/* gnuplot widens an empty y range with a warning; give it one when every y is the same. */
static void gp_yrange(const struct plot_figure *f, FILE *out)
{
    if (f->y_fixed) {
        fputs("set yrange [", out);
        gp_num(out, f->y_lo);
        fputc(':', out);
        gp_num(out, f->y_hi);
        fputs("]\n", out);
        return;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < f->n_s; i++) {
        const struct plot_series *s = &f->s[i];
        for (size_t k = 0; k < s->n; k++)
            if (point_shown(f, s->x[k], s->y[k])) {
                double e = isfinite(s->ci[k]) ? s->ci[k] : 0;
                lo = fmin(lo, s->y[k] - e);
                hi = fmax(hi, s->y[k] + e);
            }
    }
    if (f->from_zero && f->logy <= 0) {
        fprintf(out, "set yrange [0:%s]\n", hi > 0 || f->n_curve || f->band ? "*" : "1");
        return;
    }
    if (!(lo <= hi) || f->n_curve || f->band)
        return;
    double span = hi - lo;
    if (span > 1e-9 * fmax(fabs(hi), 1e-300))
        return;
    double pad = f->logy > 0 ? 0 : fmax(fabs(hi) * 0.01, 0.5);
    fputs("set yrange [", out);
    if (f->logy > 0) {
        gp_num(out, lo / 1.5);
        fputc(':', out);
        gp_num(out, hi * 1.5);
    } else {
        gp_num(out, lo - pad);
        fputc(':', out);
        gp_num(out, hi + pad);
    }
    fputs("]\n", out);
}

static bool has_ci(const struct plot_series *s)
{
    for (size_t k = 0; k < s->n; k++)
        if (isfinite(s->ci[k]) && s->ci[k] > 0)
            return true;
    return false;
}

static void gp_series(const struct plot_figure *f, const struct plot_series *s, size_t index,
                      FILE *out)
{
    fprintf(out, "data index %zu ", index);
    bool ci = has_ci(s), lone = series_shown(f, s) == 1;
    switch (s->style) {
    case PLOT_MEANS:
    case PLOT_POINTS:
        if (ci)
            fprintf(out, "using 2:3:($4 == $4 ? $4 : 0) with %s",
                    lone || s->style == PLOT_POINTS ? "yerrorbars" : "yerrorlines");
        else
            fprintf(out, "using 2:3 with %s", lone || s->style == PLOT_POINTS ? "points"
                                                                                : "linespoints");
        fprintf(out, " lw 2 dt %d pt %d ps 1.1 lc rgb \"%s\" title ", s->dt, s->pt, s->rgb);
        gp_string(out, s->title);
        break;
    case PLOT_CURVE:
        fprintf(out, "using 2:3 with lines lw 2 dt %d lc rgb \"%s\" title ", s->dt, s->rgb);
        gp_string(out, s->title);
        break;
    case PLOT_FRONTIER:
        fprintf(out, "using 2:3 with lines lw 1.5 dt 2 lc rgb \"%s\" notitle", s->rgb);
        break;
    case PLOT_LABELS:
        fprintf(out, "using 2:3:5 with labels left offset char 0.6,0.5 font \",8\" "
                "textcolor rgb \"%s\" notitle", s->rgb);
        break;
    }
}

void plot_figure_write_script(const struct plot_figure *f, FILE *out)
{
    fprintf(out, "# %s.gp: %s\n", f->name, f->title);
    fprintf(out, "# Drawn by p2plab from the results folder above this one. To restyle it, edit "
            "this file and run\n#   gnuplot %s.gp\n# in this folder: it reads %s.csv and "
            "writes %s.png and %s.svg.\n", f->name, f->name, f->name, f->name);
    fputs("set encoding utf8\nset datafile separator \",\"\n", out);
    fprintf(out, "data = \"%s.csv\"\n", f->name);
    char title[600];
    snprintf(title, sizeof title, "%s%s%s", f->title, f->note[0] ? "\n" : "", f->note);
    gp_set_text(out, "title", title);
    gp_set_text(out, "xlabel", f->xlabel);
    gp_set_text(out, "ylabel", f->ylabel);
    size_t longest = 0;               /* long legend entries go under the plot, not beside */
    for (size_t i = 0; i < f->n_s; i++)
        if (f->s[i].style != PLOT_FRONTIER && f->s[i].style != PLOT_LABELS &&
            strlen(f->s[i].title) > longest)
            longest = strlen(f->s[i].title);
    for (size_t c = 0; c < f->n_curve; c++)
        if (strlen(f->curve[c].title) > longest)
            longest = strlen(f->curve[c].title);
    int height = FIG_HEIGHT;
    if (f->key[0]) {
        fprintf(out, "set key %s Left reverse box noenhanced\n", f->key);
    } else if (longest <= 32) {
        fputs("set key outside right top Left reverse box noenhanced\n", out);
    } else {
        /* under the plot, in as many columns as fit; gnuplot 5.4 does not leave room for
         * it below the x label by itself */
        size_t entries = f->n_curve;
        for (size_t i = 0; i < f->n_s; i++)
            entries += f->s[i].style != PLOT_FRONTIER && f->s[i].style != PLOT_LABELS &&
                       series_shown(f, &f->s[i]) > 0;
        size_t cols = 130 / (longest + 8);
        cols = cols < 1 ? 1 : cols;
        size_t rows = (entries + cols - 1) / cols;
        fprintf(out, "set key below maxcols %zu Left reverse box noenhanced\n", cols);
        fprintf(out, "set bmargin %zu\n", 5 + rows);
        height += 18 * (int)rows;
    }
    fprintf(out, "set grid\nset offsets 0, 0, graph 0.05, %s   # room around the points\n",
            f->from_zero && f->logy <= 0 ? "0" : "graph 0.05");
    if (f->logx > 0) {
        fputs("set logscale x ", out);
        gp_num(out, f->logx);
        fputc('\n', out);
    }
    if (f->logy > 0) {
        fputs("set logscale y ", out);
        gp_num(out, f->logy);
        fputc('\n', out);
    }
    gp_xrange(f, out);
    gp_yrange(f, out);
    if (f->n_xtic) {
        fputs("set xtics (", out);
        for (size_t i = 0; i < f->n_xtic; i++) {
            if (i)
                fputs(", ", out);
            gp_string(out, f->xtic[i].label);
            fputc(' ', out);
            gp_num(out, f->xtic[i].x);
        }
        fputs(")\n", out);
    }
    if (f->band) {
        fputs("set object 1 rectangle from graph 0, first ", out);
        gp_num(out, f->band_lo);
        fputs(" to graph 1, first ", out);
        gp_num(out, f->band_hi);
        fprintf(out, " behind fillcolor rgb \"%s\" fillstyle transparent solid 0.12 noborder\n",
                f->band_rgb);
    }
    for (size_t k = 0; k < f->n_mark; k++) {
        fprintf(out, "set arrow %zu from ", k + 1);
        gp_num(out, f->mark[k]);
        fputs(", graph 0 to ", out);
        gp_num(out, f->mark[k]);
        fputs(", graph 1 nohead dashtype 2 linewidth 1.5 linecolor rgb \"gray30\"\n", out);
        fprintf(out, "set label %zu ", k + 1);
        gp_string(out, f->mark_text[k]);
        fputs(" at ", out);
        gp_num(out, f->mark[k]);
        fputs(", graph 0.06 offset char 0.5,0 textcolor rgb \"gray20\" noenhanced\n", out);
    }
    fprintf(out, "set terminal pngcairo size %d,%d font \"sans,10\" noenhanced\n", FIG_WIDTH,
            height);
    fprintf(out, "set output \"%s.png\"\n", f->name);
    fputs("plot \\\n", out);
    size_t index = 0, items = 0;
    for (size_t i = 0; i < f->n_s; i++) {
        if (!series_shown(f, &f->s[i]))
            continue;
        fputs(items++ ? ", \\\n     " : "     ", out);
        gp_series(f, &f->s[i], index++, out);
    }
    for (size_t c = 0; c < f->n_curve; c++) {
        fputs(items++ ? ", \\\n     " : "     ", out);
        fprintf(out, "%s with lines dt 2 lw 1.5 lc rgb \"%s\" title ", f->curve[c].expr,
                f->curve[c].rgb[0] ? f->curve[c].rgb : "gray40");
        gp_string(out, f->curve[c].title);
    }
    fputc('\n', out);
    fprintf(out, "set terminal svg size %d,%d font \"sans,10\" noenhanced\n", FIG_WIDTH,
            height);
    fprintf(out, "set output \"%s.svg\"\nreplot\nunset output\n", f->name);
}
