/* test_determinism.c — the same scenario and seed give byte-identical output files, serial or
 * on several threads, and the command line behaves on bad input (one clear error, exit 2,
 * nothing written). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/harness.h"

static int run(const char *args, const char *stderr_file)
{
    const char *bin = getenv("P2PLAB_BINARY");
    assert_non_null(bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >/dev/null 2>'%s'", bin, args, stderr_file);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `rel` with -j 1 and -j 2 into run0/ and run1/ under `tag` and compares every data file. */
static void same_files(const char *rel, const char *tag)
{
    char args[1024], err[128];
    snprintf(err, sizeof err, "%s/stderr", harness_dir);
    const char *scn = harness_path(rel);
    for (int k = 0; k < 2; k++) {
        /* -j 1 and -j 2: threads change the order of work, never the results */
        snprintf(args, sizeof args, "run '%s' -q --no-plots -j %d -o '%s/%s%d'", scn, k + 1,
                 harness_dir, tag, k);
        assert_int_equal(run(args, err), 0);
    }
    const char *files[] = { "summary.yaml", "runs.csv", "timeseries.csv", "hops.csv",
                            "counters.csv", "gauges.csv", "cdf.csv" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char a[256], b[256];
        snprintf(a, sizeof a, "%s/%s0/%s", harness_dir, tag, files[i]);
        snprintf(b, sizeof b, "%s/%s1/%s", harness_dir, tag, files[i]);
        size_t la, lb;
        char *x = harness_slurp(a, &la), *y = harness_slurp(b, &lb);
        assert_true(la > 0);
        if (la != lb || memcmp(x, y, la) != 0)
            fail_msg("%s of %s differs between two runs of the same seed", files[i], rel);
        free(x);
        free(y);
    }
}

static void test_determinism_same_seed_same_files(void **state)
{
    (void)state;
    char args[1024], err[128];
    snprintf(err, sizeof err, "%s/stderr", harness_dir);
    const char *scn = harness_path("tests/scenarios/determinism.yaml");
    same_files("tests/scenarios/determinism.yaml", "run");
    /* every protocol, servers crashing, files, flows */
    same_files("tests/scenarios/determinism-all.yaml", "all");
    /* a different seed gives different numbers */
    snprintf(args, sizeof args, "run '%s' -q --no-plots --seed 99 -o '%s/run2'", scn, harness_dir);
    assert_int_equal(run(args, err), 0);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/run0/runs.csv", harness_dir);
    snprintf(b, sizeof b, "%s/run2/runs.csv", harness_dir);
    size_t la, lb;
    char *x = harness_slurp(a, &la), *y = harness_slurp(b, &lb);
    assert_false(la == lb && memcmp(x, y, la) == 0);
    free(x);
    free(y);
}

static void test_determinism_bad_input_writes_nothing(void **state)
{
    (void)state;
    char args[1024], err[128], out[128];
    snprintf(err, sizeof err, "%s/stderr", harness_dir);
    snprintf(out, sizeof out, "%s/never", harness_dir);
    snprintf(args, sizeof args, "run '%s' -q -o '%s'",
             harness_path("tests/scenarios/cli-unknown-key.yaml"), out);
    assert_int_equal(run(args, err), 2);
    size_t n;
    char *msg = harness_slurp(err, &n);
    assert_non_null(strstr(msg, "cli-unknown-key.yaml:4:1: error:"));
    assert_non_null(strstr(msg, "error:"));
    free(msg);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);               /* no output folder at all */

    /* an existing results folder is not replaced without --force */
    const char *scn = harness_path("tests/scenarios/determinism.yaml");
    snprintf(args, sizeof args, "run '%s' -q -o '%s/once'", scn, harness_dir);
    assert_int_equal(run(args, err), 0);
    assert_int_equal(run(args, err), 2);
    msg = harness_slurp(err, &n);
    assert_non_null(strstr(msg, "--force"));
    free(msg);
}

static void test_determinism_cli_usage(void **state)
{
    (void)state;
    char err[128];
    snprintf(err, sizeof err, "%s/stderr", harness_dir);
    assert_int_equal(run("--version", err), 0);
    assert_int_equal(run("--help", err), 0);
    assert_int_equal(run("list", err), 0);
    assert_int_equal(run("list chord", err), 0);
    assert_int_equal(run("frobnicate", err), 2);
    assert_int_equal(run("run", err), 2);
    assert_int_equal(run("list nosuchprotocol", err), 2);
    char args[512];
    snprintf(args, sizeof args, "check '%s'", harness_path("tests/scenarios/determinism.yaml"));
    assert_int_equal(run(args, err), 0);
    snprintf(args, sizeof args, "check '%s' --set protocols.chord.successors=0",
             harness_path("tests/scenarios/determinism.yaml"));
    assert_int_equal(run(args, err), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_determinism_same_seed_same_files, harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_determinism_bad_input_writes_nothing, harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_determinism_cli_usage, harness_dir_make, harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
