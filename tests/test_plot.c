/* test_plot.c — figures and report.md from a results folder: a real multi-protocol sweep drawn
 * after `p2plab run` and re-drawn byte for byte by `p2plab plot`; a hand-made folder with files
 * the structured overlays do not produce (BitTorrent's download CDF and gauges, a churn sweep)
 * and a cost-performance frontier known in advance; gnuplot missing; a folder that holds no
 * results; run --no-plots; the CSV reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "plots/csv.h"
#include "plots/plot.h"
#include "tests/harness.h"

/* ==== helpers ============================================================================= */

/* Runs the p2plab binary with `args` (after an optional environment prefix such as
 * "PATH=/nowhere"); stderr goes to harness_dir/stderr. The exit status. */
static int p2plab(const char *env, const char *args)
{
    const char *bin = getenv("P2PLAB_BINARY");
    assert_non_null(bin);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s '%s' %s >/dev/null 2>'%s/stderr'", env ? env : "", bin, args,
             harness_dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool exists(const char *dir, const char *name, const char *ext)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s%s", dir, name, ext ? "." : "", ext ? ext : "");
    return access(path, F_OK) == 0;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static bool gnuplot_here(void)
{
    return system("gnuplot --version >/dev/null 2>&1") == 0;
}

/* ==== a real sweep ======================================================================== */

static const char *const sweep_protocols[] = { "chord", "pastry", "kelips", "kademlia" };

/* What tests/scenarios/plot-sweep.yaml must give: a sweep over nodes, a crash, replicas, three
 * plots: entries. latency-cdf only when the run wrote cdf.csv. */
static const char *const sweep_figures[] = {
    "hops-mean-vs-nodes", "hops-p99-vs-nodes", "messages-vs-nodes", "maint-bytes-vs-nodes",
    "state-vs-nodes", "success-vs-nodes", "cost-performance", "success-over-time",
    "scenario-1-lookup-latency-ms-p99-vs-nodes", "scenario-2-lookup-messages-mean-vs-protocol",
    "scenario-3-lookup-hops-mean-vs-time",
    "kelips-views",                   /* Kelips's gauges: its group views over time */
};
#define N_SWEEP_FIGURES (sizeof sweep_figures / sizeof sweep_figures[0])

static const char *const sweep_tables[] = {
    "### lookup.success_rate", "### lookup.hops.mean", "### lookup.latency_ms.mean",
    "### lookup.messages.mean", "### maint.bytes_per_node_s", "### state.entries.mean",
    "### lookup.latency_ms.p99",     /* asked for by the scenario's plots: */
};

static void test_plot_sweep_renders_and_redraws_identically(void **state)
{
    (void)state;
    char dir[256], plots[300], args[1024];
    snprintf(dir, sizeof dir, "%s/run", harness_dir);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    snprintf(args, sizeof args, "run '%s' -q -o '%s'",
             harness_path("tests/scenarios/plot-sweep.yaml"), dir);
    assert_int_equal(p2plab(NULL, args), 0);
    bool drawn = gnuplot_here();

    const char *names[N_SWEEP_FIGURES + 1];
    size_t n_names = 0;
    for (size_t i = 0; i < N_SWEEP_FIGURES; i++)
        names[n_names++] = sweep_figures[i];
    if (exists(dir, "cdf.csv", NULL))
        names[n_names++] = "latency-cdf";
    for (size_t i = 0; i < n_names; i++) {
        if (!exists(plots, names[i], "gp") || !exists(plots, names[i], "csv"))
            fail_msg("no %s.gp or %s.csv in %s", names[i], names[i], plots);
        if (drawn && (!exists(plots, names[i], "png") || !exists(plots, names[i], "svg")))
            fail_msg("gnuplot is here, but %s.png or %s.svg is missing", names[i], names[i]);
    }

    /* Kelips's views: members and, of them, crashed ones, named in words, at the largest N */
    char path[512];
    snprintf(path, sizeof path, "%s/kelips-views.csv", plots);
    char *views = harness_slurp(path, NULL);
    assert_non_null(strstr(views, "members in a group view"));
    assert_non_null(strstr(views, "of them crashed"));
    free(views);

    /* report.md names every figure (image and SVG link) and every table */
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = harness_slurp(path, NULL);
    assert_non_null(strstr(report, "# plot-sweep"));
    for (size_t i = 0; i < n_names; i++) {
        char want[256];
        snprintf(want, sizeof want, "](plots/%s.png)", names[i]);
        if (!strstr(report, want))
            fail_msg("report.md does not show %s", names[i]);
        snprintf(want, sizeof want, "(plots/%s.svg)", names[i]);
        if (!strstr(report, want))
            fail_msg("report.md does not link %s.svg", names[i]);
    }
    for (size_t i = 0; i < sizeof sweep_tables / sizeof sweep_tables[0]; i++)
        if (!strstr(report, sweep_tables[i]))
            fail_msg("report.md has no table %s", sweep_tables[i]);
    assert_non_null(strstr(report, " ± "));   /* two replicas: confidence intervals */
    for (size_t p = 0; p < 4; p++) {
        char row[64];
        snprintf(row, sizeof row, "| %s ", sweep_protocols[p]);
        assert_non_null(strstr(report, row));
    }

    /* the data file carries the theory-free measurements; the script reads it by name */
    snprintf(path, sizeof path, "%s/hops-mean-vs-nodes.gp", plots);
    char *gp = harness_slurp(path, NULL);
    assert_non_null(strstr(gp, "data = \"hops-mean-vs-nodes.csv\""));
    assert_non_null(strstr(gp, "set output \"hops-mean-vs-nodes.svg\""));
    assert_non_null(strstr(gp, "0.5*log(x)/log(2)"));      /* Chord's ½·log₂N */
    assert_non_null(strstr(gp, "log(x)/log(16)"));         /* Pastry's log₁₆N at b = 4 */
    free(gp);

    /* the hops figure has a legend entry for every protocol */
    char *svg = NULL;
    if (drawn) {
        snprintf(path, sizeof path, "%s/hops-mean-vs-nodes.svg", plots);
        svg = harness_slurp(path, NULL);
        for (size_t p = 0; p < 4; p++) {
            char want[64];
            snprintf(want, sizeof want, "<title>%s</title>", sweep_protocols[p]);
            if (!strstr(svg, want))
                fail_msg("hops-mean-vs-nodes.svg has no legend entry for %s", sweep_protocols[p]);
        }
    }

    /* p2plab plot re-draws every file byte for byte */
    const char *ext[] = { "gp", "csv", "svg" };
    size_t n_ext = drawn ? 3 : 2;
    char **before = calloc(n_names * 3 + 1, sizeof *before);
    size_t *len = calloc(n_names * 3 + 1, sizeof *len);
    assert_non_null(before);
    assert_non_null(len);
    for (size_t i = 0; i < n_names; i++)
        for (size_t e = 0; e < n_ext; e++) {
            snprintf(path, sizeof path, "%s/%s.%s", plots, names[i], ext[e]);
            before[i * 3 + e] = harness_slurp(path, &len[i * 3 + e]);
            unlink(path);             /* so that a file not written again shows */
        }
    snprintf(path, sizeof path, "%s/report.md", dir);
    unlink(path);
    snprintf(args, sizeof args, "plot '%s' -q", dir);
    assert_int_equal(p2plab(NULL, args), 0);
    for (size_t i = 0; i < n_names; i++)
        for (size_t e = 0; e < n_ext; e++) {
            size_t n;
            snprintf(path, sizeof path, "%s/%s.%s", plots, names[i], ext[e]);
            char *after = harness_slurp(path, &n);
            if (n != len[i * 3 + e] || memcmp(after, before[i * 3 + e], n) != 0)
                fail_msg("p2plab plot drew %s.%s differently", names[i], ext[e]);
            free(after);
            free(before[i * 3 + e]);
        }
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *again = harness_slurp(path, NULL);
    assert_string_equal(again, report);
    free(again);
    free(before);
    free(len);
    free(svg);
    free(report);

    /* no staging leftovers */
    snprintf(args, sizeof args, "test -z \"$(ls -A '%s' | grep '^\\.')\"", plots);
    assert_int_equal(system(args), 0);
    if (!drawn)
        skip();                       /* the SVG checks need gnuplot */
}

/* ==== a hand-made folder: BitTorrent, churn, the cost-performance frontier ================= */

static const char synthetic_summary[] =
    "p2plab: 0.1.0\n"
    "scenario:\n"
    "  name: synthetic\n"
    "  seed: 1\n"
    "  duration: 1h\n"
    "  sample: 1min\n"
    "  replicas: 2\n"
    "  churn:\n"
    "    session: {dist: exponential, median: 30min}\n"
    "    events: []\n"
    "  protocols:\n"
    "    chord: {successors: 16}\n"
    "    bittorrent: {}\n"
    "  sweep:\n"
    "    churn.session.median: [30min, 1h]\n"
    "    protocols.chord.successors: [4, 8]\n"
    "  plots:\n"
    "  - {x: protocol, y: download.time_s.mean, by: protocol, logx: 0, logy: 0, title: ''}\n";

/* Chord's four cells sit at (maintenance B/s, latency ms) = (10, 100), (20, 50), (25, 48) and
 * (30, 45): all four are Pareto-optimal, but (25, 48) lies above the segment from (20, 50) to
 * (30, 45) (47.5 at x = 25), so the lower-left convex hull is the other three. */
static const char synthetic_runs[] =
    "protocol,churn.session.median,protocols.chord.successors,replica,seed,lookup.success_rate,"
    "lookup.latency_ms.mean,maint.bytes_per_node_s,download.time_s.mean,download.completed\n"
    "chord,30min,4,0,1,0.90,100,10,nan,nan\n"
    "chord,30min,4,1,2,0.92,100,10,nan,nan\n"
    "chord,30min,8,0,1,0.95,50,20,nan,nan\n"
    "chord,30min,8,1,2,0.97,50,20,nan,nan\n"
    "chord,1h,4,0,1,0.98,48,25,nan,nan\n"
    "chord,1h,4,1,2,0.98,48,25,nan,nan\n"
    "chord,1h,8,0,1,0.99,45,30,nan,nan\n"
    "chord,1h,8,1,2,0.99,45,30,nan,nan\n"
    "bittorrent,30min,4,0,1,nan,nan,5,300,40\n"
    "bittorrent,30min,4,1,2,nan,nan,5,320,41\n"
    "bittorrent,30min,8,0,1,nan,nan,5,300,40\n"
    "bittorrent,30min,8,1,2,nan,nan,5,320,41\n"
    "bittorrent,1h,4,0,1,nan,nan,6,250,45\n"
    "bittorrent,1h,4,1,2,nan,nan,6,260,46\n"
    "bittorrent,1h,8,0,1,nan,nan,6,250,45\n"
    "bittorrent,1h,8,1,2,nan,nan,6,260,46\n";

static void write_synthetic(const char *dir)
{
    assert_int_equal(mkdir(dir, 0777), 0);
    /* one cell per (protocol, sweep point) of runs.csv, each with every metric, as p2plab
     * writes them (plot checks the summary against runs.csv; the values come from runs.csv) */
    char summary[8192];
    size_t n = (size_t)snprintf(summary, sizeof summary, "%scells:\n", synthetic_summary);
    const char *protos[] = { "chord", "bittorrent" }, *points[][2] = {
        { "30min", "4" }, { "30min", "8" }, { "1h", "4" }, { "1h", "8" } };
    for (int p = 0; p < 2; p++)
        for (int k = 0; k < 4; k++)
            n += (size_t)snprintf(summary + n, sizeof summary - n, "- protocol: %s\n"
                    "  churn.session.median: %s\n  protocols.chord.successors: %s\n"
                    "  replicas: 2\n  metrics:\n    lookup.success_rate: {mean: 0}\n"
                    "    lookup.latency_ms.mean: {mean: 0}\n    maint.bytes_per_node_s: {mean: 0}\n"
                    "    download.time_s.mean: {mean: 0}\n    download.completed: {mean: 0}\n",
                    protos[p], points[k][0], points[k][1]);
    assert_true(n < sizeof summary);
    put(dir, "summary.yaml", summary);
    put(dir, "runs.csv", synthetic_runs);
    put(dir, "timeseries.csv", "protocol,churn.session.median,protocols.chord.successors,"
        "replica,t_s,success_rate\n");
    /* cdf.csv and gauges.csv in the format the simulator writes them, columns shuffled
     * around the keys (they are read by name) */
    FILE *f;
    char path[512];
    snprintf(path, sizeof path, "%s/cdf.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs("protocol,churn.session.median,protocols.chord.successors,metric,quantile,value\n", f);
    const char *sess[] = { "30min", "1h" }, *succ[] = { "4", "8" };
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++)
            for (int q = 0; q <= 100; q++) {
                fprintf(f, "chord,%s,%s,lookup.latency_ms,%.2f,%g\n", sess[s], succ[k], q / 100.0,
                        50.0 + 5.0 * q + 20 * s);
                fprintf(f, "bittorrent,%s,%s,download.time_s,%.2f,%g\n", sess[s], succ[k],
                        q / 100.0, 100.0 + 4.0 * q - 30 * s);
            }
    assert_int_equal(fclose(f), 0);
    snprintf(path, sizeof path, "%s/gauges.csv", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs("protocol,churn.session.median,protocols.chord.successors,replica,t_s,gauge,value\n", f);
    for (int r = 0; r < 2; r++)
        for (int t = 0; t < 60; t++) {
            fprintf(f, "bittorrent,1h,4,%d,%d,pieces.min_copies,%d\n", r, t * 60, 1 + t / 10);
            fprintf(f, "bittorrent,1h,4,%d,%d,pieces.mean_copies,%d\n", r, t * 60, 2 + t / 5 + r);
        }
    assert_int_equal(fclose(f), 0);
}

static void test_plot_synthetic_bittorrent_churn_frontier(void **state)
{
    (void)state;
    char dir[256], plots[300], args[512], path[512];
    snprintf(dir, sizeof dir, "%s/synthetic", harness_dir);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    write_synthetic(dir);
    snprintf(args, sizeof args, "plot '%s' -q", dir);
    assert_int_equal(p2plab(NULL, args), 0);
    static const char *const want[] = {
        "success-vs-churn-session-median", "cost-performance", "latency-cdf", "download-cdf",
        "piece-availability", "scenario-1-download-time-s-mean-vs-protocol",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!exists(plots, want[i], "gp") || !exists(plots, want[i], "csv"))
            fail_msg("no %s.gp or .csv", want[i]);
    assert_false(exists(plots, "hops-mean-vs-nodes", "gp"));    /* no sweep over nodes */
    assert_false(exists(plots, "success-over-time", "gp"));     /* no crash */

    snprintf(path, sizeof path, "%s/cost-performance.csv", plots);
    char *cost = harness_slurp(path, NULL);
    assert_non_null(strstr(cost, "chord frontier,10,100,nan,\nchord frontier,20,50,nan,\n"
                                 "chord frontier,30,45,nan,\n"));
    assert_null(strstr(cost, "chord frontier,25,48"));
    free(cost);

    snprintf(path, sizeof path, "%s/piece-availability.csv", plots);
    char *gauges = harness_slurp(path, NULL);
    assert_non_null(strstr(gauges, "pieces.min_copies,"));
    assert_non_null(strstr(gauges, "pieces.mean_copies,0,2.5,nan\n"));   /* mean of 2 and 3 */
    free(gauges);

    snprintf(path, sizeof path, "%s/download-cdf.csv", plots);
    char *dl = harness_slurp(path, NULL);
    assert_null(strstr(dl, "\nchord"));           /* BitTorrent's alone */
    assert_non_null(strstr(dl, "\nbittorrent"));
    free(dl);

    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = harness_slurp(path, NULL);
    assert_non_null(strstr(report, "### download.time_s.mean"));
    assert_non_null(strstr(report, "### lookup.success_rate"));
    assert_non_null(strstr(report, "churn.session.median=30min; protocols.chord.successors=4"));
    assert_non_null(strstr(report, "91 ± 13"));  /* 0.90 and 0.92: t(0.975, 1) x 0.01 = 12.7 */
    free(report);
}

/* ==== gnuplot missing, no results ========================================================= */

static void test_plot_without_gnuplot_writes_data_and_says_so(void **state)
{
    (void)state;
    char dir[256], plots[300], args[512], path[512];
    snprintf(dir, sizeof dir, "%s/synthetic", harness_dir);
    snprintf(plots, sizeof plots, "%s/plots", dir);
    write_synthetic(dir);
    snprintf(args, sizeof args, "plot '%s'", dir);
    assert_int_equal(p2plab("PATH=/nonexistent", args), 0);
    snprintf(path, sizeof path, "%s/stderr", harness_dir);
    char *err = harness_slurp(path, NULL);
    assert_non_null(strstr(err, "gnuplot not found: install gnuplot-nox; data and .gp scripts "
                                "are in"));
    assert_non_null(strstr(err, plots));
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);   /* one line */
    free(err);
    assert_true(exists(plots, "cost-performance", "gp"));
    assert_true(exists(plots, "cost-performance", "csv"));
    assert_false(exists(plots, "cost-performance", "png"));
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *report = harness_slurp(path, NULL);
    assert_non_null(strstr(report, "gnuplot was not found"));
    free(report);
}

static void test_plot_bad_folder_is_one_clear_error(void **state)
{
    (void)state;
    char args[512], path[512];
    snprintf(path, sizeof path, "%s/stderr", harness_dir);
    snprintf(args, sizeof args, "plot '%s/none'", harness_dir);
    assert_int_equal(p2plab(NULL, args), 2);
    char *err = harness_slurp(path, NULL);
    assert_non_null(strstr(err, "error: no such folder"));
    free(err);
    snprintf(args, sizeof args, "plot '%s'", harness_dir);       /* a folder, but no results */
    assert_int_equal(p2plab(NULL, args), 2);
    err = harness_slurp(path, NULL);
    assert_non_null(strstr(err, "not a results folder"));
    free(err);
    assert_false(exists(harness_dir, "plots", NULL));
    assert_int_equal(p2plab(NULL, "plot"), 2);
}

/* Replaces the first `from` in dir/name by `to`, or, with to NULL, cuts the file at from. */
static void damage(const char *dir, const char *name, const char *from, const char *to)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = harness_slurp(path, NULL);
    assert_non_null(text);
    char *at = strstr(text, from);
    assert_non_null(at);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(text, 1, (size_t)(at - text), f);
    if (to)
        fprintf(f, "%s%s", to, at + strlen(from));
    assert_int_equal(fclose(f), 0);
    free(text);
}

/* plot reads every file strictly: a damaged runs.csv or summary.yaml is one error at
 * file:line:col (or at the file, for a summary cut short), exit 2, and no figures. */
static void test_plot_damaged_files_are_refused(void **state)
{
    (void)state;
    char dir[512], args[1024], path[512];
    snprintf(dir, sizeof dir, "%s/res", harness_dir);
    snprintf(path, sizeof path, "%s/stderr", harness_dir);
    static const struct { const char *file, *from, *to, *want; } cases[] = {
        { "runs.csv", "\nchord,64,1,", "\nchord,6x,1,",        /* a swept value never swept */
          "/runs.csv:3:7: error: nodes is \"6x\", which the scenario in summary.yaml does not "
          "sweep over; the results folder is damaged: run the scenario again" },
        { "runs.csv", "\nchord,64,1,4,", "\nchord,64,1,4,many",  /* a word for a number */
          "/runs.csv:3:14: error: lookup.count must be a number or nan (got \"many323\"); the "
          "results folder is damaged: run the scenario again" },
        { "runs.csv", "\nchord,128,0,", NULL,                  /* cut after row 6 */
          "/summary.yaml: error: 12 cells where runs.csv has 4; the results folder is damaged: run "
          "the scenario again" },
        { "runs.csv", ",1.900621118,", NULL,                    /* cut inside row 3 */
          "/runs.csv:3:1: error: 6 fields where the header has" },
        { "summary.yaml", "lookup.hops.p99:", NULL,             /* cut inside the first cell */
          "/summary.yaml:" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(args, sizeof args, "run '%s' -q --no-plots --force -o '%s'",
                 harness_path("tests/scenarios/plot-sweep.yaml"), dir);
        if (i == 0)
            assert_int_equal(p2plab(NULL, args), 0);
        else {                        /* the run's files again, without re-running */
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "cp '%s/keep/runs.csv' '%s/keep/summary.yaml' '%s/'",
                     harness_dir, harness_dir, dir);
            assert_int_equal(system(cmd), 0);
        }
        if (i == 0) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "mkdir '%s/keep' && cp '%s/runs.csv' '%s/summary.yaml' "
                     "'%s/keep/'", harness_dir, dir, dir, harness_dir);
            assert_int_equal(system(cmd), 0);
        }
        damage(dir, cases[i].file, cases[i].from, cases[i].to);
        snprintf(args, sizeof args, "plot '%s' -q", dir);
        assert_int_equal(p2plab(NULL, args), 2);
        char *err = harness_slurp(path, NULL), want[1024];
        snprintf(want, sizeof want, "p2plab: %s%s", dir, cases[i].want);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("case %zu:\n  got  %s  want %s", i, err, want);
        free(err);
        assert_false(exists(dir, "plots", NULL));
        assert_false(exists(dir, "report", "md"));
    }
}

static void test_plot_run_no_plots_leaves_them_out(void **state)
{
    (void)state;
    char dir[256], args[1024];
    snprintf(dir, sizeof dir, "%s/bare", harness_dir);
    snprintf(args, sizeof args, "run '%s' -q --no-plots --set replicas=1 --set 'sweep.nodes=[64]' "
             "-o '%s'", harness_path("tests/scenarios/plot-sweep.yaml"), dir);
    assert_int_equal(p2plab(NULL, args), 0);
    assert_true(exists(dir, "runs.csv", NULL));
    assert_false(exists(dir, "plots", NULL));
    assert_false(exists(dir, "report.md", NULL));
}

/* A scenario's companions (also:) run into subfolders, refuse to overwrite without --force,
 * and show up in the top-level report. */
static void test_plot_companions_run_into_subfolders(void **state)
{
    (void)state;
    put(harness_dir, "main.yaml",
        "name: main\nduration: 2min\nnodes: 64\nprotocols: { chord: {} }\n"
        "sweep: { nodes: [32, 64] }\nalso: [side.yaml]\n");
    put(harness_dir, "side.yaml",
        "name: side\nduration: 2min\nnodes: 32\nprotocols: { kademlia: {} }\n"
        "sweep: { nodes: [16, 32] }\n");
    char dir[256], args[1024];
    snprintf(dir, sizeof dir, "%s/out", harness_dir);
    snprintf(args, sizeof args, "run '%s/main.yaml' -q -o '%s'", harness_dir, dir);
    assert_int_equal(p2plab(NULL, args), 0);
    char side[300];
    snprintf(side, sizeof side, "%s/side", dir);
    assert_true(exists(side, "summary.yaml", NULL));
    assert_true(exists(side, "report.md", NULL));
    char path[512];
    snprintf(path, sizeof path, "%s/report.md", dir);
    size_t len;
    char *report = harness_slurp(path, &len);
    assert_non_null(strstr(report, "## Companion runs"));
    assert_non_null(strstr(report, "side/plots/hops-mean-vs-nodes"));
    free(report);
    /* a second run without --force must leave everything as it is */
    assert_int_equal(p2plab(NULL, args), 2);
    snprintf(args, sizeof args, "run '%s/main.yaml' -q --force -o '%s'", harness_dir, dir);
    assert_int_equal(p2plab(NULL, args), 0);
    /* a run refused because its folder holds results of the user's makes no folder at all,
     * not even its companion's */
    char mine[300];
    snprintf(mine, sizeof mine, "%s/mine", harness_dir);
    assert_int_equal(mkdir(mine, 0777), 0);
    put(harness_dir, "mine/report.md", "my notes\n");
    snprintf(args, sizeof args, "run '%s/main.yaml' -q -o '%s'", harness_dir, mine);
    assert_int_equal(p2plab(NULL, args), 2);
    assert_false(exists(mine, "side", NULL));
    assert_false(exists(mine, "summary.yaml", NULL));
}

/* ==== the CSV reader ====================================================================== */

static void test_plot_csv_reads_by_name(void **state)
{
    (void)state;
    put(harness_dir, "t.csv", "a,b,c\r\n# a comment\n1,\"x,\"\"y\"\"\",nan\n\n2,z\n");
    char path[512];
    snprintf(path, sizeof path, "%s/t.csv", harness_dir);
    struct plot_csv c;
    assert_int_equal(plot_csv_open(&c, path), 0);
    int a = plot_csv_col(&c, "a"), b = plot_csv_col(&c, "b"), cc = plot_csv_col(&c, "c");
    assert_int_equal(plot_csv_col(&c, "d"), -1);
    assert_true(plot_csv_next(&c));
    assert_float_equal(plot_csv_num(&c, a), 1, 0);
    assert_string_equal(plot_csv_str(&c, b), "x,\"y\"");
    assert_true(plot_csv_num(&c, cc) != plot_csv_num(&c, cc));      /* NaN */
    assert_true(plot_csv_next(&c));
    assert_string_equal(plot_csv_str(&c, b), "z");
    assert_string_equal(plot_csv_str(&c, cc), "");                 /* a short row */
    assert_false(plot_csv_next(&c));
    plot_csv_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plot_sweep_renders_and_redraws_identically,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_synthetic_bittorrent_churn_frontier,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_without_gnuplot_writes_data_and_says_so,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_bad_folder_is_one_clear_error,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_damaged_files_are_refused, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_run_no_plots_leaves_them_out,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_companions_run_into_subfolders,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_plot_csv_reads_by_name, harness_dir_make,
                                        harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
