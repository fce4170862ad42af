/* test_workload.c — key popularity: Zipf by rejection-inversion against exact probabilities. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/rng.h"
#include "sim/workload.h"

/* Frequencies of the first ranks vs p(r) = r^-a / H(n, a); 10^6 draws, 4 standard errors. */
static void check_zipf(uint64_t n, double alpha)
{
    struct zipf z;
    zipf_init(&z, n, alpha);
    gsl_rng *r = rng_stream(11, "zipf");
    enum { DRAWS = 1000000, TOP = 20 };
    uint64_t count[TOP + 1] = { 0 };
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = zipf_sample(&z, r);
        assert_true(k >= 1 && k <= n);
        if (k <= TOP)
            count[k]++;
    }
    gsl_rng_free(r);
    double norm = 0;
    for (uint64_t k = 1; k <= n; k++)
        norm += pow((double)k, -alpha);
    for (int k = 1; k <= TOP; k++) {
        double p = pow(k, -alpha) / norm;
        double se = sqrt(p * (1 - p) / DRAWS);
        double got = (double)count[k] / DRAWS;
        if (fabs(got - p) > 4 * se + 1e-5)
            fail_msg("zipf(n=%llu, a=%.2f) rank %d: %.5f drawn vs %.5f expected",
                     (unsigned long long)n, alpha, k, got, p);
    }
}

static void test_workload_zipf_08(void **state) { (void)state; check_zipf(10000, 0.8); }
static void test_workload_zipf_1(void **state) { (void)state; check_zipf(1000, 1.0); }
static void test_workload_zipf_12(void **state) { (void)state; check_zipf(100000, 1.2); }

static void test_workload_uniform_keys(void **state)
{
    (void)state;
    struct scn_workload cfg = { .keys = 100, .popularity = POP_UNIFORM };
    struct workload w;
    assert_int_equal(workload_init(&w, &cfg, cfg.keys, 5), 0);
    int hits = 0;
    for (int i = 0; i < 100000; i++)
        hits += workload_pick(&w) == 0;
    assert_in_range(hits, 1000 - 130, 1000 + 130);          /* 1% of draws, +-4 sd */
    workload_free(&w);
}

static void test_workload_keys_depend_on_seed_only(void **state)
{
    (void)state;
    struct scn_workload cfg = { .keys = 10, .popularity = POP_UNIFORM };
    struct workload a, b;
    workload_init(&a, &cfg, cfg.keys, 9);
    workload_init(&b, &cfg, cfg.keys, 9);
    assert_memory_equal(a.keys, b.keys, 10 * sizeof a.keys[0]);
    workload_free(&a);
    workload_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload_zipf_08),
        cmocka_unit_test(test_workload_zipf_1),
        cmocka_unit_test(test_workload_zipf_12),
        cmocka_unit_test(test_workload_uniform_keys),
        cmocka_unit_test(test_workload_keys_depend_on_seed_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
