/* test_cli.c — the command line itself: help for every command, a "did you mean" for a
 * mistyped command or list name, and the bad-input catalogue (tests/bad-scenarios/) through
 * p2plab check and p2plab run. */
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

#include "tests/harness.h"

/* `p2plab CMD --help` prints the usage and succeeds, for every command, as `p2plab --help`. */
static void test_cli_help_for_every_command(void **state)
{
    (void)state;
    assert_int_equal(harness_cli("--help"), 0);
    char *usage = harness_cli_out();
    assert_non_null(strstr(usage, "usage: p2plab"));
    const char *cmds[] = { "run --help", "check -h", "plot --help", "trace --help", "list --help",
                           "run scenarios/quickstart.yaml --help" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        assert_int_equal(harness_cli(cmds[i]), 0);
        char *o = harness_cli_out();
        assert_string_equal(o, usage);
        free(o);
    }
    free(usage);
    /* bench answers for itself: the list of benchmarks, or one benchmark's options */
    assert_int_equal(harness_cli("bench --help"), 0);
    char *o = harness_cli_out();
    assert_non_null(strstr(o, "benchmarks:"));
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
