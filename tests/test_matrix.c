/* test_matrix.c — latency matrix files: symmetric filling, comments, every kind of bad line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/matrix.h"

/* Writes text to a fresh file in the working directory; its name goes into path. */
static void write_file(char *path, size_t len, const char *text)
{
    snprintf(path, len, "test_matrix_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads text as a matrix file: 0 or -1, with err holding the message's first line, the path
 * replaced by "FILE". */
static int load(const char *text, struct latency_matrix *m, char *first, size_t len)
{
    char path[64], err[512];
    write_file(path, sizeof path, text);
    err[0] = '\0';
    int rc = matrix_load(path, m, err, sizeof err);
    unlink(path);
    first[0] = '\0';
    if (rc != 0) {
        assert_memory_equal(err, path, strlen(path));
        snprintf(first, len, "FILE%.*s", (int)strcspn(err + strlen(path), "\n"),
                 err + strlen(path));
    }
    return rc;
}

static float at(const struct latency_matrix *m, uint32_t i, uint32_t j)
{
    return m->ms[(size_t)i * m->hosts + j];
}

static void test_matrix_symmetric_fill(void **state)
{
    (void)state;
    struct latency_matrix m;
    char first[256];
    assert_int_equal(load("# three hosts\n"
                          "0 1 10\n"
                          "\n"
                          "   1 2 20.5   # a comment after the fields\n"
                          "2 0 30\r\n"
                          "\t# indented comment\n",
                          &m, first, sizeof first), 0);
    assert_int_equal(m.hosts, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_true(at(&m, i, i) == 0);
    assert_true(at(&m, 0, 1) == 10 && at(&m, 1, 0) == 10);
    assert_true(at(&m, 1, 2) == 20.5f && at(&m, 2, 1) == 20.5f);
    assert_true(at(&m, 0, 2) == 30 && at(&m, 2, 0) == 30);
    matrix_free(&m);
    assert_null(m.ms);
    assert_int_equal(m.hosts, 0);
}

static void test_matrix_both_directions_kept(void **state)
{
    (void)state;
    struct latency_matrix m;
    char first[256];
    assert_int_equal(load("0 1 10\n1 0 12\n0 0 0\n", &m, first, sizeof first), 0);
    assert_int_equal(m.hosts, 2);
    assert_true(at(&m, 0, 1) == 10);
    assert_true(at(&m, 1, 0) == 12);
    matrix_free(&m);
}

static void test_matrix_bad_lines(void **state)
{
    (void)state;
    static const struct { const char *text, *first; } cases[] = {
        { "0 1 10\nx 1 5\n",
          "FILE:2:1: error: a host index must be a whole number from 0 (got \"x\")" },
        { "0 -1 5\n", "FILE:1:3: error: a host index must be a whole number from 0 (got \"-1\")" },
        { "0 1.5 5\n",
          "FILE:1:3: error: a host index must be a whole number from 0 (got \"1.5\")" },
        { "0 1\n", "FILE:1:4: error: expected \"i j ms\": two host indices and a latency in "
                   "milliseconds" },
        { "0 1 # no latency\n", "FILE:1:5: error: expected \"i j ms\": two host indices and a "
                                "latency in milliseconds" },
        { "0 1 5 6\n", "FILE:1:7: error: expected \"i j ms\" and nothing more on the line" },
        { "0 1 -5\n", "FILE:1:5: error: the latency must be a number of milliseconds, 0 or more "
                      "(got \"-5\")" },
        { "0 1 fast\n", "FILE:1:5: error: the latency must be a number of milliseconds, 0 or "
                        "more (got \"fast\")" },
        { "0 1 inf\n", "FILE:1:5: error: the latency must be a number of milliseconds, 0 or "
                       "more (got \"inf\")" },
        { "0 1 5\n1 1 3\n", "FILE:2:5: error: a host's latency to itself is 0 (got 3)" },
        { "0 1 5\n# again\n0 1 6\n",
          "FILE:3:1: error: the pair 0 1 is given twice (first at line 1)" },
        { "0 16384 5\n", "FILE:1:3: error: host index 16384 is too large: at most 16384 hosts" },
        { "0 99999999999999999999999 5\n", "FILE:1:3: error: a host index must be a whole "
                                           "number from 0 (got \"99999999999999999999999\")" },
        { "0 1 5\n1 2 5\n", "FILE: error: no latency between hosts 0 and 2: add a line "
                            "\"0 2 MS\" (every pair of the 3 hosts is needed)" },
        { "# nothing\n\n", "FILE: error: no latencies: expected lines of \"i j ms\" (0-based "
                           "host indices, milliseconds)" },
        { "", "FILE: error: no latencies: expected lines of \"i j ms\" (0-based host indices, "
              "milliseconds)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct latency_matrix m;
        char first[256];
        assert_int_equal(load(cases[i].text, &m, first, sizeof first), -1);
        assert_string_equal(first, cases[i].first);
        assert_null(m.ms);
    }
}

static void test_matrix_echoes_the_line(void **state)
{
    (void)state;
    char path[64], err[512];
    struct latency_matrix m;
    write_file(path, sizeof path, "0 1 10\n0 2 oops\n");
    assert_int_equal(matrix_load(path, &m, err, sizeof err), -1);
    unlink(path);
    const char *nl = strchr(err, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "   >>> 0 2 oops");
}

static void test_matrix_missing_file(void **state)
{
    (void)state;
    char err[256];
    struct latency_matrix m;
    assert_int_equal(matrix_load("no-such-matrix.txt", &m, err, sizeof err), -1);
    assert_string_equal(err, "no-such-matrix.txt: error: cannot open: No such file or directory");
    assert_null(m.ms);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_symmetric_fill),
        cmocka_unit_test(test_matrix_both_directions_kept),
        cmocka_unit_test(test_matrix_bad_lines),
        cmocka_unit_test(test_matrix_echoes_the_line),
        cmocka_unit_test(test_matrix_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
