/* test_bench_scale.c — `p2plab bench scale`: its options and their errors, a tiny series end
 * to end (scale.csv against each run's own perf.csv), and runs stopped by a CPU or memory
 * limit, which must be reported as such and never as numbers. It runs the p2plab binary. */
#include <math.h>
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

#include "tests/harness.h"

#define SCENARIO "tests/scenarios/bench-scale.yaml"

static bool exists(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", harness_dir, rel);
    return access(path, F_OK) == 0;
}

/* Field `col` (0-based) of CSV line `row` (0 = the header) of text, into buf ("" when absent).
 * Handles the double-quoted command field. */
static const char *csv_cell(const char *text, int row, int col, char *buf, size_t len)
{
    const char *p = text;
    for (int r = 0; r < row && p; r++) {
        bool quoted = false;
        while (*p && (quoted || *p != '\n')) {
            if (*p == '"')
                quoted = !quoted;
            p++;
        }
        p = *p ? p + 1 : NULL;
    }
    buf[0] = '\0';
    if (!p || !*p)
        return buf;
    for (int c = 0; c < col; c++) {
        bool quoted = false;
        while (*p && *p != '\n' && (quoted || *p != ',')) {
            if (*p == '"')
                quoted = !quoted;
            p++;
        }
        if (*p != ',')
            return buf;
        p++;
    }
    size_t n = 0;
    bool quoted = false;
    while (*p && *p != '\n' && (quoted || *p != ',') && n + 1 < len) {
        if (*p == '"')
            quoted = !quoted;
        else
            buf[n++] = *p;
        p++;
    }
    buf[n] = '\0';
    return buf;
}

static int csv_col(const char *text, const char *name)
{
    char buf[64];
    for (int c = 0; c < 32; c++)
        if (strcmp(csv_cell(text, 0, c, buf, sizeof buf), name) == 0)
            return c;
    fail_msg("no column %s", name);
    return -1;
}

static size_t lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* Each bad command line: exit 2, one message saying what is wrong, and no folder made. */
static void test_bench_scale_bad_options(void **state)
{
    (void)state;
    static const struct { const char *args, *says; } cases[] = {
        { "", "needs a scenario file" },
        { SCENARIO " --nodez 100", "unknown option '--nodez'" },
        { SCENARIO " --nodes", "--nodes needs a value" },
        { SCENARIO " --nodes 100,abc", "--nodes takes whole numbers of nodes from 1, such as "
                                       "1000,4000,16000 (got 'abc' in '100,abc')" },
        { SCENARIO " --nodes 0", "--nodes takes whole numbers" },
        { SCENARIO " --nodes 200,100", "--nodes lists each N once, smallest first (got '100' in "
                                       "'200,100')" },
        { SCENARIO " --nodes=100,100", "smallest first" },
        { SCENARIO " --protocol chrod", "--protocol: no protocol named 'chrod'" },
        { SCENARIO " --protocol chord --protocol chord", "--protocol chord is given twice" },
        { SCENARIO " --protocol kelips", "--protocol kelips: " SCENARIO " runs chord, napster" },
        { SCENARIO " --cpu-limit 0", "--cpu-limit takes whole CPU seconds from 1" },
        { SCENARIO " --cpu-limit 1.5s", "--cpu-limit takes whole CPU seconds from 1" },
        { SCENARIO " --mem-limit -1", "--mem-limit takes a size in GB" },
        { SCENARIO " --mem-limit 16GB", "--mem-limit takes a size in GB" },
        { SCENARIO " " SCENARIO, "one scenario file at a time" },
        { "tests/scenarios/no-such-file.yaml", "no-such-file.yaml" },
        { SCENARIO " --set churn.sesion.median=1h", "did you mean" },
        { SCENARIO " --nodes 0x10", "--nodes takes whole numbers" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[512];
        snprintf(args, sizeof args, "bench scale -o '%s/res' %s", harness_dir, cases[i].args);
        int rc = harness_cli(args);
        char *o = harness_cli_out();
        if (rc != 2 || !strstr(o, cases[i].says))
            fail_msg("bench scale %s: exit %d, said:\n%s\n(expected exit 2 and \"%s\")",
                     cases[i].args, rc, o, cases[i].says);
        free(o);
        assert_false(exists("res"));
    }
    assert_int_equal(harness_cli("bench scale --help"), 0);
    char *o = harness_cli_out();
    assert_non_null(strstr(o, "usage: p2plab bench scale FILE"));
    assert_non_null(strstr(o, "--cpu-limit"));
    free(o);
    assert_int_equal(harness_cli("bench"), 0);
    o = harness_cli_out();
    assert_non_null(strstr(o, "  scale "));
    free(o);
}

/* A tiny series end to end: the default N are the scenario's sweep over nodes, every run is
 * one replica of one protocol, and scale.csv's events are those of the run's own perf.csv. */
static void test_bench_scale_series(void **state)
{
    (void)state;
    char args[512];
    snprintf(args, sizeof args, "bench scale " SCENARIO " --protocol chord -o '%s/res'",
             harness_dir);
    int rc = harness_cli(args);
    char *o = harness_cli_out();
    if (rc != 0)
        fail_msg("exit %d:\n%s", rc, o);
    assert_non_null(strstr(o, "events/CPU-s"));
    free(o);

    char path[512];
    snprintf(path, sizeof path, "%s/res/scale.csv", harness_dir);
    char *csv = harness_slurp(path, NULL);
    assert_int_equal(lines(csv), 3);          /* the header, chord at 100 and at 200 */
    char a[4096], b[4096];
    int c_events = csv_col(csv, "events"), c_cpu = csv_col(csv, "cpu_s"),
        c_rss = csv_col(csv, "peak_rss_mb"), c_bpn = csv_col(csv, "bytes_per_node"),
        c_user = csv_col(csv, "user_s"), c_sys = csv_col(csv, "sys_s"),
        c_rate = csv_col(csv, "events_per_cpu_s");
    double events[2];
    for (int row = 1; row <= 2; row++) {
        const int n = row == 1 ? 100 : 200;
        assert_string_equal(csv_cell(csv, row, 0, a, sizeof a), "chord");
        assert_int_equal(atoi(csv_cell(csv, row, 1, a, sizeof a)), n);
        assert_string_equal(csv_cell(csv, row, 2, a, sizeof a), "ok");

        /* the run's own files: one replica of chord alone, with its parameters */
        char run[512];
        snprintf(run, sizeof run, "%s/res/runs/chord-%d/perf.csv", harness_dir, n);
        char *perf = harness_slurp(run, NULL);
        assert_int_equal(lines(perf), 2);
        assert_string_equal(csv_cell(csv, row, c_events, a, sizeof a),
                            csv_cell(perf, 1, csv_col(perf, "events"), b, sizeof b));
        /* the child's peak RSS from wait4 is the one the run measured of itself when it wrote
         * perf.csv (with sanitizers, the leak check at exit adds to it) */
        double self_rss = atof(csv_cell(perf, 1, csv_col(perf, "peak_rss_mb"), b, sizeof b));
        double rss = atof(csv_cell(csv, row, c_rss, a, sizeof a));
        assert_true(self_rss > 1 && rss >= 0.9 * self_rss);
#ifndef __SANITIZE_ADDRESS__
        assert_true(rss <= 1.1 * self_rss);
#endif
        free(perf);
        snprintf(run, sizeof run, "%s/res/runs/chord-%d/summary.yaml", harness_dir, n);
        char *summary = harness_slurp(run, NULL);
        char count[32];
        snprintf(count, sizeof count, "count: %d", n);
        assert_non_null(strstr(summary, count));
        assert_non_null(strstr(summary, "successors: 8"));
        assert_null(strstr(summary, "napster"));
        free(summary);

        events[row - 1] = atof(csv_cell(csv, row, c_events, a, sizeof a));
        double cpu = atof(csv_cell(csv, row, c_cpu, a, sizeof a));
        double user = atof(csv_cell(csv, row, c_user, a, sizeof a));
        double sys = atof(csv_cell(csv, row, c_sys, a, sizeof a));
        double bpn = atof(csv_cell(csv, row, c_bpn, a, sizeof a));
        double rate = atof(csv_cell(csv, row, c_rate, a, sizeof a));
        assert_true(events[row - 1] > 1000);
        assert_true(cpu >= 0 && cpu < 30);
        assert_true(fabs(cpu - (user + sys)) < 0.002);
        if (cpu > 0.05)               /* too coarse below: the clock ticks in 1-10 ms */
            assert_true(fabs(rate * cpu / events[row - 1] - 1) < 0.01);
        /* bytes per node is peak RSS / N: equal up to the columns' rounding (RSS to 0.05 MB,
         * bytes per node to half a byte), which is more than 1% of a few MB */
        assert_true(fabs(bpn * n / 1048576.0 - rss) <= 0.05 + 0.5 * n / 1048576.0 + 1e-9);
        /* the command reproduces the run: chord alone, at N, one thread */
        const char *cmd = csv_cell(csv, row, csv_col(csv, "command"), a, sizeof a);
        char want[128];
        snprintf(want, sizeof want, "--set nodes=%d --set 'protocols={chord: {successors: 8}}'",
                 n);
        assert_non_null(strstr(cmd, want));
        assert_non_null(strstr(cmd, "--set 'sweep={}' --set 'plots=[]' --set replicas=1"));
    }
    /* twice the nodes, at the same lookup rate: more events (churn and maintenance) */
    assert_true(events[1] > 1.3 * events[0]);
    free(csv);

    snprintf(path, sizeof path, "%s/res/scale.md", harness_dir);
    char *md = harness_slurp(path, NULL);
    assert_non_null(strstr(md, "| protocol | N | events | CPU s | events per CPU-s | peak RSS (MB) "
                               "| bytes per node |"));
    assert_non_null(strstr(md, "| chord | 200 | "));
    assert_non_null(strstr(md, "Measured on: "));
    free(md);
    /* the figures' data, whether or not gnuplot is there to draw them */
    snprintf(path, sizeof path, "%s/res/plots/scale-rss.csv", harness_dir);
    char *fig = harness_slurp(path, NULL);
    assert_non_null(strstr(fig, "chord,100,"));
    assert_non_null(strstr(fig, "chord,200,"));
    free(fig);
    snprintf(path, sizeof path, "%s/res/plots/scale-cpu.gp", harness_dir);
    char *gp = harness_slurp(path, NULL);
    assert_non_null(strstr(gp, "set logscale x 10"));
    assert_non_null(strstr(gp, "set logscale y 10"));
    assert_non_null(strstr(gp, "set xlabel \"nodes\""));
    assert_non_null(strstr(gp, "set ylabel \"CPU seconds\""));
    free(gp);

    /* the folder is not replaced without --force, and is with it */
    rc = harness_cli(args);
    o = harness_cli_out();
    assert_int_equal(rc, 2);
    assert_non_null(strstr(o, "already holds results (scale.csv); pass --force"));
    free(o);
    /* (the default N are the swept ones in increasing order, each once) */
    snprintf(args, sizeof args, "bench scale " SCENARIO " --protocol napster --set "
             "'sweep.nodes=[200, 100, 200]' --no-plots --force -o '%s/res'", harness_dir);
    assert_int_equal(harness_cli(args), 0);
    snprintf(path, sizeof path, "%s/res/scale.csv", harness_dir);
    csv = harness_slurp(path, NULL);
    assert_int_equal(lines(csv), 3);
    assert_string_equal(csv_cell(csv, 1, 0, a, sizeof a), "napster");
    assert_string_equal(csv_cell(csv, 1, 1, a, sizeof a), "100");
    assert_string_equal(csv_cell(csv, 2, 1, a, sizeof a), "200");
    free(csv);
    assert_false(exists("res/plots/scale-cpu.csv"));   /* --no-plots leaves no stale figure */
}

/* A run stopped by --cpu-limit is reported as "> 1 s", with no numbers, and the larger N of its
 * protocol are not run; what the killed run had begun to write is gone. (An hour of 100,000
 * nodes takes far more than a CPU second: about a minute in a Release build.) */
static void test_bench_scale_cpu_limit(void **state)
{
    (void)state;
    char args[512];
    snprintf(args, sizeof args, "bench scale " SCENARIO " --protocol chord --nodes 100000,200000 "
             "--set duration=1h --cpu-limit 1 --no-plots -o '%s/res'", harness_dir);
    int rc = harness_cli(args);
    char *o = harness_cli_out();
    if (rc != 0)
        fail_msg("exit %d:\n%s", rc, o);
    assert_non_null(strstr(o, "> 1 s"));
    assert_non_null(strstr(o, "not run: a smaller N hit a limit"));
    free(o);
    char path[512], a[4096];
    snprintf(path, sizeof path, "%s/res/scale.csv", harness_dir);
    char *csv = harness_slurp(path, NULL);
    assert_int_equal(lines(csv), 3);
    assert_string_equal(csv_cell(csv, 1, 2, a, sizeof a), "cpu_limit");
    assert_string_equal(csv_cell(csv, 2, 2, a, sizeof a), "not_run");
    for (int row = 1; row <= 2; row++)
        for (const char *const *col = (const char *const[]){ "events", "cpu_s", "peak_rss_mb",
                                                             "bytes_per_node", NULL }; *col; col++)
            assert_string_equal(csv_cell(csv, row, csv_col(csv, *col), a, sizeof a), "");
    assert_string_equal(csv_cell(csv, 1, csv_col(csv, "cpu_limit_s"), a, sizeof a), "1");
    free(csv);
    snprintf(path, sizeof path, "%s/res/scale.md", harness_dir);
    char *md = harness_slurp(path, NULL);
    assert_non_null(strstr(md, "| chord | 100000 | – | > 1 s |"));
    free(md);
    assert_false(exists("res/runs/chord-100000"));
    assert_false(exists("res/runs/chord-200000"));
}

/* A run that runs out of address space under --mem-limit is reported as "> 0.1 GB". */
static void test_bench_scale_mem_limit(void **state)
{
    (void)state;
#ifdef __SANITIZE_ADDRESS__
    skip();                           /* AddressSanitizer reserves terabytes of address space */
#endif
    char args[512];
    snprintf(args, sizeof args, "bench scale " SCENARIO " --protocol chord --nodes 100,4000000 "
             "--mem-limit 0.1 --no-plots -o '%s/res'", harness_dir);
    int rc = harness_cli(args);
    char *o = harness_cli_out();
    if (rc != 0)
        fail_msg("exit %d:\n%s", rc, o);
    assert_non_null(strstr(o, "> 0.1 GB"));
    free(o);
    char path[512], a[4096];
    snprintf(path, sizeof path, "%s/res/scale.csv", harness_dir);
    char *csv = harness_slurp(path, NULL);
    assert_int_equal(lines(csv), 3);
    assert_string_equal(csv_cell(csv, 1, 2, a, sizeof a), "ok");
    assert_string_equal(csv_cell(csv, 2, 2, a, sizeof a), "mem_limit");
    assert_string_equal(csv_cell(csv, 2, csv_col(csv, "peak_rss_mb"), a, sizeof a), "");
    assert_string_equal(csv_cell(csv, 2, csv_col(csv, "mem_limit_gb"), a, sizeof a), "0.1");
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bench_scale_bad_options, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_bench_scale_series, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_bench_scale_cpu_limit, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_bench_scale_mem_limit, harness_dir_make,
                                        harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
