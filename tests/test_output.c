/* test_output.c — confidence intervals, number formatting and the results folder's rules. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/output.h"
#include "tests/harness.h"

static void test_output_ci_student_t(void **state)
{
    (void)state;
    /* mean 3, sample sd sqrt(2.5); t(0.975, 4) = 2.776445 → half-width 1.963243 */
    double v[] = { 1, 2, 3, 4, 5 };
    double mean, ci;
    size_t n;
    out_ci(v, 5, &mean, &ci, &n);
    assert_int_equal(n, 5);
    assert_float_equal(mean, 3.0, 1e-12);
    assert_float_equal(ci, 2.776445105 * sqrt(2.5) / sqrt(5.0), 1e-6);
}

static void test_output_ci_skips_nan_and_needs_two(void **state)
{
    (void)state;
    double v[] = { NAN, 7, NAN };
    double mean, ci;
    size_t n;
    out_ci(v, 3, &mean, &ci, &n);
    assert_int_equal(n, 1);
    assert_float_equal(mean, 7.0, 0);
    assert_true(isnan(ci));
}

static void test_output_numbers(void **state)
{
    (void)state;
    char b[64];
    out_number(12345678, b, sizeof b);
    assert_string_equal(b, "12345678");
    out_number(0.25, b, sizeof b);
    assert_string_equal(b, "0.25");
    out_number(NAN, b, sizeof b);
    assert_string_equal(b, "nan");
    out_number(1.0 / 3, b, sizeof b);
    assert_string_equal(b, "0.3333333333");
}

static void test_output_refuses_existing_results(void **state)
{
    (void)state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/runs.csv", harness_dir);
    FILE *f = fopen(path, "w");
    fputs("mine\n", f);
    fclose(f);
    struct out_dir d;
    assert_int_equal(out_begin(&d, harness_dir, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "--force"));
    /* nothing was touched */
    f = fopen(path, "r");
    char line[16] = "";
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "mine\n");
    /* with force it may go ahead; abort leaves no staging folder behind */
    assert_int_equal(out_begin(&d, harness_dir, true, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(d.tmp, &st), 0);
    char tmp[sizeof d.tmp];
    memcpy(tmp, d.tmp, sizeof tmp);
    out_abort(&d);
    assert_int_not_equal(stat(tmp, &st), 0);
}

/* A report.md or plots/ of the user's own is results too: `run` would replace it. */
static void test_output_refuses_own_report_and_plots(void **state)
{
    (void)state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/report.md", harness_dir);
    FILE *f = fopen(path, "w");
    fputs("my notes\n", f);
    fclose(f);
    struct out_dir d;
    assert_int_equal(out_begin(&d, harness_dir, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "report.md"));
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof path, "%s/plots", harness_dir);
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(out_begin(&d, harness_dir, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "(plots)"));
    assert_int_equal(rmdir(path), 0);
}

static void test_output_creates_nested_dirs(void **state)
{
    (void)state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/a/b/c", harness_dir);
    struct out_dir d;
    assert_int_equal(out_begin(&d, path, false, err, sizeof err), 0);
    out_abort(&d);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_output_unwritable_dir(void **state)
{
    (void)state;
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/file", harness_dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    struct out_dir d;
    assert_int_equal(out_begin(&d, path, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_ci_student_t),
        cmocka_unit_test(test_output_ci_skips_nan_and_needs_two),
        cmocka_unit_test(test_output_numbers),
        cmocka_unit_test_setup_teardown(test_output_refuses_existing_results, harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_output_refuses_own_report_and_plots, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_output_creates_nested_dirs, harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_output_unwritable_dir, harness_dir_make, harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
