/* test_cli.c — the command line itself: help for every command, and a "did you mean" for a
 * mistyped command or list name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "tests/harness.h"

/* Runs p2plab with args; its stdout and stderr (together) into harness_dir/out; the exit
 * status. */
static int p2plab(const char *args)
{
    const char *bin = getenv("P2PLAB_BINARY");
    assert_non_null(bin);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/out' 2>&1", bin, args, harness_dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *out(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out", harness_dir);
    return harness_slurp(path, NULL);
}

/* `p2plab CMD --help` prints the usage and succeeds, for every command, as `p2plab --help`. */
static void test_cli_help_for_every_command(void **state)
{
    (void)state;
    assert_int_equal(p2plab("--help"), 0);
    char *usage = out();
    assert_non_null(strstr(usage, "usage: p2plab"));
    const char *cmds[] = { "run --help", "check -h", "plot --help", "trace --help", "list --help",
                           "run scenarios/quickstart.yaml --help" };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        assert_int_equal(p2plab(cmds[i]), 0);
        char *o = out();
        assert_string_equal(o, usage);
        free(o);
    }
    free(usage);
    /* bench answers for itself: the list of benchmarks, or one benchmark's options */
    assert_int_equal(p2plab("bench --help"), 0);
    char *o = out();
    assert_non_null(strstr(o, "benchmarks:"));
    free(o);
    assert_int_equal(p2plab("bench phold --help"), 0);
    o = out();
    assert_non_null(strstr(o, "usage: p2plab bench phold"));
    free(o);
}

/* A typo gets the nearest name; a word near nothing gets none; both exit 2. */
static void test_cli_did_you_mean(void **state)
{
    (void)state;
    assert_int_equal(p2plab("list chrod"), 2);
    char *o = out();
    assert_non_null(strstr(o, "did you mean 'chord'?"));
    free(o);
    assert_int_equal(p2plab("list metrcs"), 2);
    o = out();
    assert_non_null(strstr(o, "did you mean 'metrics'?"));
    free(o);
    assert_int_equal(p2plab("rnu x.yaml"), 2);
    o = out();
    assert_non_null(strstr(o, "did you mean 'run'?"));
    free(o);
    assert_int_equal(p2plab("list zzzzzz"), 2);
    o = out();
    assert_null(strstr(o, "did you mean"));
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cli_help_for_every_command, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_cli_did_you_mean, harness_dir_make,
                                        harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
