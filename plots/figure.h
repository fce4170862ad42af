/* figure.h — one figure: its series of points, reference curves and decorations, written out as
 * a tidy data file NAME.csv and a standalone gnuplot script NAME.gp that draws NAME.png and
 * NAME.svg from it (run from the plots folder: cd plots && gnuplot NAME.gp). */
#ifndef P2PLAB_PLOT_FIGURE_H
#define P2PLAB_PLOT_FIGURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum plot_style {
    PLOT_MEANS,                       /* means over replicas, joined, with 95% CI bars when
                                         known; a lone point is drawn as a point */
    PLOT_POINTS,                      /* the same, never joined */
    PLOT_CURVE,                       /* a distribution or a time series: a plain line */
    PLOT_FRONTIER,                    /* a Pareto frontier: a line with no legend entry */
    PLOT_LABELS,                      /* each point's text beside it, no legend entry */
};

struct plot_series {
    char title[160];                  /* legend entry; "" for none */
    char rgb[8];                      /* "#1f77b4" */
    int pt;                           /* gnuplot point type */
    int dt;                           /* gnuplot dash type: 1 solid, 2.. dashed */
    enum plot_style style;
    double *x, *y, *ci;               /* ci NaN: not known */
    char **text;                      /* PLOT_LABELS: one per point */
    size_t n, cap;
};

/* A reference curve y = f(x), drawn dashed: "0.5*log(x)/log(2)". */
struct plot_curve {
    char expr[128];
    char title[128];
    char rgb[8];
};

/* A labelled tic on the x axis: a swept value, or a category such as a protocol. */
struct plot_tic {
    char label[64];
    double x;
};

#define PLOT_MAX_CURVES 12
#define PLOT_MAX_MARKS 8

struct plot_figure {
    char name[96];                    /* file stem: NAME.csv, NAME.gp, NAME.png, NAME.svg */
    char title[256];
    char note[256];                   /* a second, smaller title line; "" for none */
    char xlabel[160], ylabel[160];    /* with units */
    char xcol[128], ycol[128];        /* the data file's column names */
    double logx, logy;                /* logarithmic axis of this base; 0: linear */
    char key[32];                     /* legend position (gnuplot); "": beside the plot, or
                                         under it when its entries are long */
    bool from_zero;                   /* y axis starts at 0 (unless logarithmic) */
    bool y_fixed;                     /* y axis is exactly [y_lo, y_hi] */
    double y_lo, y_hi;
    struct plot_series *s;
    size_t n_s, cap_s;
    struct plot_curve curve[PLOT_MAX_CURVES];
    size_t n_curve;
    struct plot_tic *xtic;            /* x tics where the axis has few values; NULL: gnuplot's */
    size_t n_xtic;
    double mark[PLOT_MAX_MARKS];      /* vertical lines at these x (e.g. a mass crash) */
    char mark_text[PLOT_MAX_MARKS][48];
    size_t n_mark;
    bool band;                        /* a shaded band band_lo <= y <= band_hi */
    double band_lo, band_hi;
    char band_rgb[8];
};

struct plot_figure *plot_figure_new(const char *name, const char *title);
void plot_figure_free(struct plot_figure *f);
struct plot_series *plot_series_add(struct plot_figure *f, const char *title, const char *rgb,
                                    int pt, enum plot_style style);
/* Non-finite x or y are left out. text may be NULL. */
void plot_series_point(struct plot_series *s, double x, double y, double ci, const char *text);
void plot_curve_add(struct plot_figure *f, const char *expr, const char *title, const char *rgb);
void plot_mark_add(struct plot_figure *f, double x, const char *text);
void plot_xtic_add(struct plot_figure *f, const char *label, double x);
/* Points in every series that the figure shows (none <= 0 on a logarithmic axis). */
size_t plot_figure_points(const struct plot_figure *f);

/* The colour of a protocol (the same in every figure), or of the i-th line of another kind. */
const char *plot_color(const char *proto, size_t i);

/* Writes NAME.csv and NAME.gp. The script reads and writes in its own folder. */
void plot_figure_write_data(const struct plot_figure *f, FILE *out);
void plot_figure_write_script(const struct plot_figure *f, FILE *out);
/* Pipes the figure's script into gnuplot, run in folder `dir`, which then holds NAME.png and
 * NAME.svg (render.c). 0; -1 when gnuplot reported an error (its message is already on
 * stderr); -2 when it could not be started. */
int plot_figure_draw(const char *dir, const struct plot_figure *f);

#endif
