/* test_cli.c — the command line itself: help for every command, a "did you mean" for a
 * mistyped command or list name, the bad-input catalogue (tests/bad-scenarios/) through
 * p2plab check and p2plab run, a results folder run again from its summary.yaml, and runs.csv's
 * seconds beside a swept duration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sim/help.h"
#include "tests/harness.h"

/* Every command of the table answers `p2plab NAME --help` and `p2plab help NAME` alike: its
 * usage, options and one example; `p2plab --help` lists them all. A --help anywhere on the
 * line asks for help, not a run; a benchmark (`bench NAME --help`) answers for itself. */
static void test_cli_help_for_every_command(void **state)
{
    (void)state;
    assert_int_equal(harness_cli("--help"), 0);
    char *usage = harness_cli_out();
    assert_non_null(strstr(usage, "usage: p2plab COMMAND"));
    size_t n = 0;
    for (const struct help_command *c = help_commands; c->name; c++, n++) {
        char args[128], want[128];
        snprintf(want, sizeof want, "\n  %-8s %s\n", c->name, c->summary);
        if (!strstr(usage, want))
            fail_msg("p2plab --help does not list %s", c->name);
        snprintf(args, sizeof args, "%s --help", c->name);
        assert_int_equal(harness_cli(args), 0);
        char *o = harness_cli_out();
        snprintf(want, sizeof want, "usage: p2plab %s ", c->name);
        if (strncmp(o, want, strlen(want)) != 0)
            fail_msg("p2plab %s --help begins \"%.60s\"", c->name, o);
        snprintf(want, sizeof want, "\nexample:\n  p2plab %s ", c->name);
        assert_non_null(strstr(o, "\noptions:\n  -"));
        assert_non_null(strstr(o, want));
        snprintf(args, sizeof args, "help %s", c->name);
        assert_int_equal(harness_cli(args), 0);
        char *h = harness_cli_out();
        assert_string_equal(h, o);
        free(h);
        free(o);
    }
    assert_int_equal(n, 8);
    const char *same[][2] = { { "run scenarios/quickstart.yaml --help", "run --help" },
                              { "check -h", "check --help" }, { "help", "--help" },
                              { "help --help", "help help" } };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(harness_cli(same[i][0]), 0);
        char *a = harness_cli_out();
        assert_int_equal(harness_cli(same[i][1]), 0);
        char *b = harness_cli_out();
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    free(usage);
    assert_int_equal(harness_cli("help rnu"), 2);
    char *o = harness_cli_out();
    assert_non_null(strstr(o, "did you mean 'run'?"));
    free(o);
    assert_int_equal(harness_cli("bench phold --help"), 0);
    o = harness_cli_out();
    assert_non_null(strstr(o, "usage: p2plab bench phold"));
    free(o);
}

/* A typo gets the nearest name; a word near nothing gets none; both exit 2. */
static void test_cli_did_you_mean(void **state)
{
    (void)state;
    assert_int_equal(harness_cli("list chrod"), 2);
    char *o = harness_cli_out();
    assert_non_null(strstr(o, "did you mean 'chord'?"));
    free(o);
    assert_int_equal(harness_cli("list metrcs"), 2);
    o = harness_cli_out();
    assert_non_null(strstr(o, "did you mean 'metrics'?"));
    free(o);
    assert_int_equal(harness_cli("rnu x.yaml"), 2);
    o = harness_cli_out();
    assert_non_null(strstr(o, "did you mean 'run'?"));
    free(o);
    assert_int_equal(harness_cli("list zzzzzz"), 2);
    o = harness_cli_out();
    assert_null(strstr(o, "did you mean"));
    free(o);
}

/* The first line of the output, in a static buffer. */
static const char *first_line(const char *text)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(text, "\n"), text);
    return buf;
}

/* Whether the first line of the output is what the case expects: FILE + its "# expect: "
 * text ({DIR}: the file's folder; a text beginning with {DIR} is the whole line; a text
 * ending in "..." is a prefix, for a message that names this machine's memory). */
static bool matches(const char *path, const char *expect, const char *line)
{
    char want[4096];
    size_t dirlen = (size_t)(strrchr(path, '/') - path) + 1;
    const char *mark = strstr(expect, "{DIR}");
    int w = mark ? snprintf(want, sizeof want, "%s%.*s%.*s%s", mark == expect ? "" : path,
                            (int)(mark - expect), expect, (int)dirlen, path, mark + 5)
                 : snprintf(want, sizeof want, "%s%s", path, expect);
    assert_true(w > 0 && (size_t)w < sizeof want);
    size_t n = strlen(want);
    if (n > 3 && strcmp(want + n - 3, "...") == 0)
        return strncmp(line, want, n - 3) == 0;
    return strcmp(line, want) == 0;
}

/* Every file of the catalogue is refused by check and by run, with exit 2, its message (at
 * file:line:col) first, and no results folder left behind. */
static void test_cli_bad_scenarios(void **state)
{
    (void)state;
    char dirpath[1024];
    snprintf(dirpath, sizeof dirpath, "%s/tests/bad-scenarios", getenv("P2PLAB_SOURCE_DIR"));
    DIR *dir = opendir(dirpath);
    assert_non_null(dir);
    struct dirent *e;
    size_t cases = 0;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[1280], expect[1024], args[4096], res[512];
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        char *text = harness_slurp(path, NULL);
        assert_non_null(text);
        if (strncmp(text, "# expect: ", 10) != 0)
            fail_msg("%s: the first line must be \"# expect: MESSAGE\"", e->d_name);
        snprintf(expect, sizeof expect, "%.*s", (int)strcspn(text + 10, "\n"), text + 10);
        free(text);
        /* the place: file:line:col, or another file's (a matrix) with its own */
        assert_true(expect[0] == ':' || strncmp(expect, "{DIR}", 5) == 0);
        snprintf(res, sizeof res, "%s/results", harness_dir);
        const char *cmds[] = { "check '%s'", "run '%s' -q --no-plots -o '%s'" };
        for (int k = 0; k < 2; k++) {
            snprintf(args, sizeof args, cmds[k], path, res);
            int rc = harness_cli(args);
            char *o = harness_cli_out();
            if (rc != 2 || !matches(path, expect, first_line(o)))
                fail_msg("%s: %s\n  exit %d (want 2)\n  got  %s\n  want %s", e->d_name,
                         k ? "run" : "check", rc, first_line(o), expect);
            free(o);
            struct stat st;
            if (stat(res, &st) == 0)
                fail_msg("%s: run left %s behind", e->d_name, res);
        }
        cases++;
    }
    closedir(dir);
    assert_true(cases >= 80);
}

/* What only the command line can say: a --set value is refused at the assignment, and
 * --force lifts the memory estimate (check only: nothing is allocated). */
static void test_cli_set_and_force(void **state)
{
    (void)state;
    char args[1024];
    const char *src = getenv("P2PLAB_SOURCE_DIR");
    snprintf(args, sizeof args, "check '%s/tests/scenarios/determinism.yaml' --set "
             "workload.lookups.rate=1e9/s", src);
    assert_int_equal(harness_cli(args), 2);
    char *o = harness_cli_out();
    assert_string_equal(first_line(o), "--set workload.lookups.rate=1e9/s: error: "
                        "workload.lookups.rate: more than one lookup a microsecond, the clock's "
                        "resolution: at most 1000000/s (got \"1e9/s\")");
    free(o);
    snprintf(args, sizeof args, "check '%s/tests/bad-scenarios/too_big_for_memory.yaml' --force",
             src);
    assert_int_equal(harness_cli(args), 0);
    o = harness_cli_out();
    assert_non_null(strstr(o, ": ok: "));
    free(o);
}

/* ---- a results folder runs again ---------------------------------------------------------- */

/* Runs a shell command made as printf makes it; its exit status. */
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `p2plab run DIR/summary.yaml` runs the same scenario again, companions included (from their
 * own summaries), and writes the same files but perf.csv: data, figures and report. */
static void test_cli_summary_reruns(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "run tests/scenarios/rerun.yaml -q -o '%s/a'", harness_dir);
    assert_int_equal(harness_cli(args), 0);
    snprintf(args, sizeof args, "check '%s/a/summary.yaml'", harness_dir);
    assert_int_equal(harness_cli(args), 0);
    snprintf(args, sizeof args, "run '%s/a/summary.yaml' -q -o '%s/b'", harness_dir, harness_dir);
    if (harness_cli(args) != 0) {
        char *o = harness_cli_out();
        fail_msg("the rerun failed: %s", o);
    }
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", harness_dir);
    snprintf(b, sizeof b, "%s/b", harness_dir);
    assert_int_equal(sh("test -s '%s/rerun-companion/summary.yaml' && test -s "
                        "'%s/rerun-companion/runs.csv'", b, b), 0);
    if (sh("diff -r -x perf.csv '%s' '%s' >/dev/null", a, b) != 0) {
        sh("diff -r -q -x perf.csv '%s' '%s' >&2", a, b);
        fail_msg("the rerun's files differ from the first run's (above)");
    }
    /* a summary whose scenario: block is gone says so, at its place */
    snprintf(args, sizeof args, "%s/broken.yaml", harness_dir);
    FILE *f = fopen(args, "w");
    assert_non_null(f);
    fputs("p2plab: 0.1.0\ncells: []\n", f);
    fclose(f);
    snprintf(args, sizeof args, "check '%s/broken.yaml'", harness_dir);
    assert_int_equal(harness_cli(args), 2);
    char *o = harness_cli_out(), want[256];
    snprintf(want, sizeof want, "%s/broken.yaml:1:1: error: this looks like a results summary "
             "(p2plab:), but it has no scenario: mapping to run again", harness_dir);
    if (strncmp(o, want, strlen(want)) != 0)
        fail_msg("got %s", o);
    free(o);
}

/* A swept duration is in runs.csv as written ("10min") and, beside it, in seconds (600); plot
 * reads that file, and one without the seconds (older runs) the same way, and refuses a
 * seconds value that is not the duration's. */
static void test_cli_runs_csv_seconds(void **state)
{
    (void)state;
    char args[1024], path[256];
    snprintf(args, sizeof args, "run tests/scenarios/rerun.yaml -q --no-plots -o '%s/a'",
             harness_dir);
    assert_int_equal(harness_cli(args), 0);
    snprintf(path, sizeof path, "%s/a/runs.csv", harness_dir);
    char *csv = harness_slurp(path, NULL);
    assert_non_null(csv);
    assert_int_equal(strncmp(csv, "protocol,churn.session.mean,churn.session.mean_s,replica,seed,"
                             "lookup.count,", 68), 0);
    assert_non_null(strstr(csv, "\nchord,10min,600,0,3,"));
    assert_non_null(strstr(csv, "\nkademlia,1h,3600,1,4,"));
    free(csv);

    /* the same folder as an older p2plab wrote it: no seconds column; and one damaged */
    char a[128];
    snprintf(a, sizeof a, "%s/a", harness_dir);
    assert_int_equal(sh("mkdir '%s/../old' '%s/../bad'", a, a), 0);
    assert_int_equal(sh("cp -R '%s/.' '%s/../old/' && cut -d, -f1,2,4- '%s/runs.csv' > "
                        "'%s/../old/runs.csv'", a, a, a, a), 0);
    assert_int_equal(sh("cp -R '%s/.' '%s/../bad/' && sed '3s/,600,/,601,/' '%s/runs.csv' > "
                        "'%s/../bad/runs.csv'", a, a, a, a), 0);
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "plot -q '%s/%s'", harness_dir, k ? "old" : "a");
        assert_int_equal(harness_cli(args), 0);
    }
    if (sh("diff -r -q -x runs.csv '%s' '%s/../old' >&2", a, a) != 0)
        fail_msg("%s", "the figures and report from runs.csv without seconds differ (above)");
    snprintf(args, sizeof args, "plot -q '%s/bad'", harness_dir);
    assert_int_equal(harness_cli(args), 2);
    char *o = harness_cli_out(), want[512];
    snprintf(want, sizeof want, "p2plab: %s/bad/runs.csv:3:13: error: churn.session.mean_s is "
             "\"601\", which is not 10min in seconds; the results folder is damaged", harness_dir);
    if (strncmp(o, want, strlen(want)) != 0)
        fail_msg("got %s", o);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cli_help_for_every_command, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_did_you_mean, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_bad_scenarios, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_set_and_force, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_summary_reruns, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_runs_csv_seconds, harness_dir_make,
                                        harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
