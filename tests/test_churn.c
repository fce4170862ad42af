/* test_churn.c — each session/downtime distribution's sample mean matches its configured mean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim/churn.h"
#include "sim/rng.h"
#include "sim/scenario.h"

/* Resolves `session` as written in a scenario, so the parser's mean/median derivation is part
 * of what is checked. */
static struct dist parse_session(const char *session)
{
    char text[512], err[2048];
    snprintf(text, sizeof text,
             "duration: 1h\nnodes: 10\nchurn:\n  session: %s\nprotocols: { chord: {} }\n", session);
    struct scn_doc *d = scn_load_string(text, "churn-test.yaml", err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    struct scenario sc;
    if (scn_resolve(d, 0, &sc, err, sizeof err) != 0)
        fail_msg("%s", err);
    scn_free(d);
    return sc.churn.session;
}

/* Sample mean of n draws, in seconds. */
static double sample_mean(const struct dist *d, int n)
{
    gsl_rng *r = rng_stream(7, "churn-test");
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)churn_sample(r, d) / 1e6;
    gsl_rng_free(r);
    return sum / n;
}

/* With 10^6 draws the standard error of the mean is CV/1000 of it; CV <= 2.3 for every case
 * below (weibull k = 0.5 has CV = sqrt(5)), so 1.5% is over six standard errors. */
static void check(const char *session, double mean_s)
{
    struct dist d = parse_session(session);
    assert_true(d.mean_us > 0 && d.median_us > 0);
    double got = sample_mean(&d, 1000000);
    if (got < mean_s * 0.985 || got > mean_s * 1.015)
        fail_msg("%s: sample mean %.2f s, configured mean %.2f s", session, got, mean_s);
}

static void test_churn_exponential_mean(void **state)
{
    (void)state;
    check("{ dist: exponential, mean: 30min }", 1800);
    check("{ dist: exponential, median: 1h }", 3600 / 0.6931471805599453);
}

static void test_churn_weibull_mean(void **state)
{
    (void)state;
    check("{ dist: weibull, shape: 0.5, mean: 30min }", 1800);
    check("{ dist: weibull, shape: 2, mean: 1h }", 3600);
}

static void test_churn_pareto_mean(void **state)
{
    (void)state;
    check("{ dist: pareto, shape: 3, mean: 10min }", 600);
}

static void test_churn_lognormal_mean(void **state)
{
    (void)state;
    check("{ dist: lognormal, shape: 1, mean: 20min }", 1200);
}

static void test_churn_constant_mean(void **state)
{
    (void)state;
    check("{ dist: constant, mean: 90s }", 90);
}

static void test_churn_median_is_median(void **state)
{
    (void)state;
    /* weibull given by median: half the draws fall below it */
    struct dist d = parse_session("{ dist: weibull, shape: 0.5, median: 1h }");
    gsl_rng *r = rng_stream(3, "median");
    int below = 0, n = 200000;
    for (int i = 0; i < n; i++)
        below += churn_sample(r, &d) < 3600 * INT64_C(1000000);
    gsl_rng_free(r);
    assert_in_range(below, n / 2 - n / 100, n / 2 + n / 100);
}

static void test_churn_none_never_ends(void **state)
{
    (void)state;
    struct dist d = { .kind = DIST_NONE };
    gsl_rng *r = rng_stream(1, "none");
    assert_true(churn_sample(r, &d) == CHURN_NEVER);
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_churn_exponential_mean),
        cmocka_unit_test(test_churn_weibull_mean),
        cmocka_unit_test(test_churn_pareto_mean),
        cmocka_unit_test(test_churn_lognormal_mean),
        cmocka_unit_test(test_churn_constant_mean),
        cmocka_unit_test(test_churn_median_is_median),
        cmocka_unit_test(test_churn_none_never_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
