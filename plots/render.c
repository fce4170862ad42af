/* render.c — a results folder to DIR/plots/ and DIR/report.md: build the figures, write their
 * data and scripts into a staging folder, draw them by piping each script into gnuplot, then
 * rename every file into place. */
#include "plots/plot.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots/figures.h"
#include "plots/report.h"
#include "plots/results.h"

static const char *const drawn_ext[] = { "png", "svg" };
static const char *const written_ext[] = { "csv", "gp" };

bool plot_gnuplot_found(void)
{
    return system("gnuplot --version >/dev/null 2>&1") == 0;
}

/* Writes one file through `fill`, checking for a full disk. */
static int write_file(const char *path, void (*fill)(const void *, FILE *), const void *arg,
                      char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: error: cannot write it: %s", path, strerror(errno));
        return -1;
    }
    fill(arg, f);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "%s: error: writing it failed (disk full?)", path);
        return -1;
    }
    return 0;
}

static void fill_data(const void *f, FILE *out)
{
    plot_figure_write_data(f, out);
}

static void fill_script(const void *f, FILE *out)
{
    plot_figure_write_script(f, out);
}

int plot_figure_draw(const char *stage, const struct plot_figure *f)
{
    FILE *p = popen("gnuplot", "w");
    if (!p)
        return -2;
    fputs("cd '", p);
    for (const char *s = stage; *s; s++) {   /* in single quotes, '' is a quote */
        if (*s == '\'')
            fputc('\'', p);
        fputc(*s, p);
    }
    fputs("'\n", p);
    plot_figure_write_script(f, p);
    int st = pclose(p);
    return st == 0 ? 0 : -1;
}

static void unlink_stage(const char *stage, const struct plot_figs *figs)
{
    char path[1400];
    for (size_t i = 0; i < figs->n; i++)
        for (size_t e = 0; e < 2; e++) {
            snprintf(path, sizeof path, "%s/%s.%s", stage, figs->f[i]->name, written_ext[e]);
            unlink(path);
            snprintf(path, sizeof path, "%s/%s.%s", stage, figs->f[i]->name, drawn_ext[e]);
            unlink(path);
        }
    rmdir(stage);
}

static int move(const char *stage, const char *dest, const char *name, const char *ext,
                bool must, char *err, size_t errlen)
{
    char from[1400], to[1400];
    snprintf(from, sizeof from, "%s/%s.%s", stage, name, ext);
    snprintf(to, sizeof to, "%s/%s.%s", dest, name, ext);
    if (!must && access(from, F_OK) != 0)
        return 0;
    if (rename(from, to) != 0) {
        snprintf(err, errlen, "%s: error: cannot move it into place: %s", to, strerror(errno));
        return -1;
    }
    return 0;
}

struct report_args {
    const struct plot_results *r;
    const struct plot_figs *figs;
    bool drawn;
};

static void fill_report(const void *arg, FILE *out)
{
    const struct report_args *a = arg;
    plot_report_write(a->r, a->figs, a->drawn, out);
}

/* The companions' folders (also:) are drawn first, so the report can show their figures. */
static enum plot_status render_companions(const struct plot_results *r, char *err, size_t errlen)
{
    const struct ytree *also = plot_yaml_get(r->scenario, "also");
    enum plot_status worst = PLOT_OK;
    for (size_t i = 0; also && also->kind == YTREE_SEQ && i < also->n; i++) {
        char folder[128], dir[1200];
        if (!also->kid[i]->text ||
            plot_companion_folder(also->kid[i]->text, folder, sizeof folder) == 0)
            continue;
        snprintf(dir, sizeof dir, "%s/%s", r->dir, folder);
        struct stat st;
        char path[1300];
        snprintf(path, sizeof path, "%s/summary.yaml", dir);
        if (stat(path, &st) != 0)
            continue;                 /* not run (yet): the report says so */
        enum plot_status rc = plot_render(dir, NULL, err, errlen);
        if (rc == PLOT_FAILED || rc == PLOT_NOT_RESULTS)
            return PLOT_FAILED;
        if (rc == PLOT_NO_GNUPLOT)
            worst = rc;
    }
    return worst;
}

enum plot_status plot_render(const char *dir, struct plot_done *done, char *err, size_t errlen)
{
    struct plot_results r;
    if (done)
        done->figures = 0;
    if (plot_results_load(&r, dir, err, errlen) != 0)
        return PLOT_NOT_RESULTS;
    if (render_companions(&r, err, errlen) == PLOT_FAILED) {
        plot_results_free(&r);
        return PLOT_FAILED;
    }
    struct plot_figs figs = { 0 };
    plot_figures_sweep(&r, &figs);
    plot_figures_time(&r, &figs);
    plot_figures_scenario(&r, &figs);

    char plots[1100], stage[1200];
    snprintf(plots, sizeof plots, "%s/plots", dir);
    snprintf(stage, sizeof stage, "%s/.p2plab-staging-%ld", plots, (long)getpid());
    struct stat st;
    enum plot_status rc = PLOT_OK;
    if (mkdir(plots, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: error: cannot create it: %s", plots, strerror(errno));
        rc = PLOT_FAILED;
    } else if (stat(plots, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: error: exists and is not a folder; move it away", plots);
        rc = PLOT_FAILED;
    } else if (mkdir(stage, 0777) != 0) {
        snprintf(err, errlen, "%s: error: cannot write here: %s", plots, strerror(errno));
        rc = PLOT_FAILED;
    }
    if (rc != PLOT_OK)
        goto out;

    bool gnuplot = plot_gnuplot_found();
    struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, &old);    /* a gnuplot that dies early must not kill us */
    char failed[1024] = "";
    for (size_t i = 0; i < figs.n && rc == PLOT_OK; i++) {
        const struct plot_figure *f = figs.f[i];
        char path[1400];
        snprintf(path, sizeof path, "%s/%s.csv", stage, f->name);
        if (write_file(path, fill_data, f, err, errlen) != 0) {
            rc = PLOT_FAILED;
            break;
        }
        snprintf(path, sizeof path, "%s/%s.gp", stage, f->name);
        if (write_file(path, fill_script, f, err, errlen) != 0) {
            rc = PLOT_FAILED;
            break;
        }
        int drawn = gnuplot ? plot_figure_draw(stage, f) : 0;
        if (drawn == -2)
            gnuplot = false;          /* as good as absent: say so once, below */
        if (drawn == -1) {
            size_t n = strlen(failed);
            snprintf(failed + n, sizeof failed - n, "%s%s.gp", n ? ", " : "", f->name);
            for (size_t e = 0; e < 2; e++) {  /* a half-drawn image is not kept */
                snprintf(path, sizeof path, "%s/%s.%s", stage, f->name, drawn_ext[e]);
                unlink(path);
            }
        }
    }
    sigaction(SIGPIPE, &old, NULL);
    for (size_t i = 0; i < figs.n && rc == PLOT_OK; i++)
        for (size_t e = 0; e < 2 && rc == PLOT_OK; e++)
            if (move(stage, plots, figs.f[i]->name, written_ext[e], true, err, errlen) != 0 ||
                move(stage, plots, figs.f[i]->name, drawn_ext[e], false, err, errlen) != 0)
                rc = PLOT_FAILED;
    unlink_stage(stage, &figs);
    if (rc != PLOT_OK)
        goto out;

    char tmp[1200], report[1100];
    snprintf(tmp, sizeof tmp, "%s/.report.md.%ld", dir, (long)getpid());
    snprintf(report, sizeof report, "%s/report.md", dir);
    struct report_args ra = { .r = &r, .figs = &figs, .drawn = gnuplot };
    if (write_file(tmp, fill_report, &ra, err, errlen) != 0) {
        unlink(tmp);
        rc = PLOT_FAILED;
        goto out;
    }
    if (rename(tmp, report) != 0) {
        snprintf(err, errlen, "%s: error: cannot move it into place: %s", report,
                 strerror(errno));
        unlink(tmp);
        rc = PLOT_FAILED;
        goto out;
    }
    if (done)
        done->figures = figs.n;
    if (failed[0]) {
        snprintf(err, errlen, "%s: error: gnuplot failed on %s (its message is above); the data "
                 "and scripts are in place", plots, failed);
        rc = PLOT_FAILED;
    } else if (!gnuplot) {
        rc = PLOT_NO_GNUPLOT;
    }
out:
    plot_figs_free(&figs);
    plot_results_free(&r);
    return rc;
}
