/* test_stats.c — lookup bookkeeping, percentiles, bandwidth per node and the time series. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/stats.h"

#define S INT64_C(1000000)

static const struct addr A = { 1, 1 };

static void test_stats_outcomes_and_percentiles(void **state)
{
    (void)state;
    struct stats st;
    assert_int_equal(stats_init(&st, 0, 100 * S, 10 * S), 0);
    /* 100 successful lookups with hops 0..99 and latency = hops ms, one timeout, one whose
     * origin left (not judged). A message a lookup causes after its outcome and before its
     * deadline (a late reply) is its cost too; one after the deadline is not. A timeout after
     * its outcome no longer delays it and is not counted. */
    for (uint32_t h = 0; h < 100; h++) {
        uint32_t id = stats_lookup_start(&st, 0, A, h);
        stats_message(&st, 0, CAT_LOOKUP, 100, id);
        stats_lookup_end(&st, id, (int64_t)h * 1000, OUTCOME_OK, h, 1.0, NAN);
        stats_message(&st, (int64_t)h * 1000, CAT_LOOKUP, 100, id);
        stats_timeout(&st, id);
        stats_lookup_retire(&st, id);
        stats_message(&st, (int64_t)h * 1000, CAT_LOOKUP, 100, id);
    }
    uint32_t t = stats_lookup_start(&st, 0, A, 7);
    stats_timeout(&st, t);
    stats_lookup_end(&st, t, 5 * S, OUTCOME_TIMEOUT, 0, NAN, NAN);
    stats_lookup_retire(&st, t);
    uint32_t gone = stats_lookup_start(&st, 0, A, 8);
    stats_lookup_end(&st, gone, 5 * S, OUTCOME_ORIGIN_LEFT, 0, NAN, NAN);
    stats_lookup_retire(&st, gone);
    double m[M_COUNT];
    stats_finish(&st, 1234, m);
    assert_float_equal(m[M_LOOKUPS], 102, 0);
    assert_float_equal(m[M_SUCCESS], 100.0 / 101, 1e-12);
    assert_float_equal(m[M_FAIL_TIMEOUT], 1.0 / 101, 1e-12);
    assert_float_equal(m[M_ORIGIN_LEFT], 1.0 / 102, 1e-12);
    assert_float_equal(m[M_HOPS_MEAN], 49.5, 1e-12);
    assert_float_equal(m[M_HOPS_P50], 49.5, 1e-12);        /* GSL's interpolated median */
    assert_float_equal(m[M_HOPS_P99], 98.01, 1e-9);
    assert_float_equal(m[M_LAT_MEAN], 49.5, 1e-12);
    assert_float_equal(m[M_MSGS_MEAN], 200.0 / 101, 1e-12);
    assert_float_equal(m[M_TIMEOUTS_MEAN], 1.0 / 101, 1e-12);
    assert_float_equal(m[M_EVENTS], 1234, 0);
    assert_int_equal(st.hop_hist[3], 1);
    stats_free(&st);
}

/* lookup.route_ratio: the route steps' delays summed per lookup (steps after the outcome are
 * not counted), the ratio given at the end averaged over the lookups that have one. */
static void test_stats_route_ratio(void **state)
{
    (void)state;
    struct stats st;
    assert_int_equal(stats_init(&st, 0, 100 * S, 10 * S), 0);
    uint32_t a = stats_lookup_start(&st, 0, A, 1);
    stats_route_step(&st, a, 30000);
    stats_route_step(&st, a, 20000);
    struct lookup_rec *r = stats_lookup(&st, a);
    assert_int_equal(r->route_steps, 2);
    assert_int_equal(r->route_us, 50000);
    stats_lookup_end(&st, a, 100000, OUTCOME_OK, 2, 1.5, 2.0);
    stats_route_step(&st, a, 40000);          /* late: the lookup has ended */
    uint32_t b = stats_lookup_start(&st, 0, A, 2);
    stats_lookup_end(&st, b, 100000, OUTCOME_OK, 1, 1.0, 1.0);
    uint32_t c = stats_lookup_start(&st, 0, A, 3);   /* answered by its origin: no ratio */
    stats_lookup_end(&st, c, 0, OUTCOME_OK, 0, 1.0, NAN);
    double m[M_COUNT];
    stats_finish(&st, 1, m);
    assert_float_equal(m[M_ROUTE_MEAN], 1.5, 1e-12);
    assert_float_equal(m[M_STRETCH_MEAN], 3.5 / 3, 1e-12);
    stats_free(&st);
}

static void test_stats_warmup_excludes_early_lookups(void **state)
{
    (void)state;
    struct stats st;
    stats_init(&st, 10 * S, 100 * S, 10 * S);
    uint32_t early = stats_lookup_start(&st, 5 * S, A, 1);
    uint32_t late = stats_lookup_start(&st, 15 * S, A, 2);
    stats_lookup_end(&st, early, 20 * S, OUTCOME_TIMEOUT, 0, NAN, NAN);
    stats_lookup_end(&st, late, 20 * S, OUTCOME_OK, 2, 1.0, NAN);
    double m[M_COUNT];
    stats_finish(&st, 0, m);
    assert_float_equal(m[M_LOOKUPS], 1, 0);
    assert_float_equal(m[M_SUCCESS], 1, 0);
    /* but the time series shows both, in the intervals they were issued in */
    assert_int_equal(st.ts[0].judged, 1);
    assert_int_equal(st.ts[0].ok, 0);
    assert_int_equal(st.ts[1].ok, 1);
    stats_free(&st);
}

static void test_stats_ring_grows_with_many_in_flight(void **state)
{
    (void)state;
    struct stats st;
    stats_init(&st, 0, 1000 * S, 10 * S);
    enum { N = 50000 };
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(stats_lookup_start(&st, 1, A, i), i);
    for (uint32_t i = 0; i < N; i++) {
        struct lookup_rec *r = stats_lookup(&st, i);
        assert_non_null(r);
        assert_true(r->key == i);
    }
    for (uint32_t i = 0; i < N; i += 2)
        stats_lookup_end(&st, i, 2, OUTCOME_OK, 1, 1.0, NAN);
    assert_null(stats_lookup(&st, 0));
    assert_non_null(stats_lookup(&st, 1));
    assert_null(stats_lookup(&st, N + 5));                  /* never issued */
    stats_free(&st);
}

static void test_stats_bandwidth_per_live_node(void **state)
{
    (void)state;
    struct stats st;
    stats_init(&st, 0, 10 * S, 5 * S);
    stats_live(&st, 0, 100);                                /* 100 nodes for 10 s */
    for (int i = 0; i < 1000; i++)
        stats_message(&st, i * 10000, CAT_MAINT, 50, LOOKUP_NONE);
    double m[M_COUNT];
    stats_finish(&st, 0, m);
    assert_float_equal(m[M_MAINT_MSGS], 1000.0 / (100 * 10), 1e-9);
    assert_float_equal(m[M_MAINT_BYTES], 50000.0 / (100 * 10), 1e-9);
    assert_float_equal(m[M_LIVE_MEAN], 100, 1e-9);
    assert_float_equal(st.ts[0].live_integral_s, 500, 1e-9);
    assert_int_equal(st.ts[0].maint_msgs, 500);
    stats_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_outcomes_and_percentiles),
        cmocka_unit_test(test_stats_route_ratio),
        cmocka_unit_test(test_stats_warmup_excludes_early_lookups),
        cmocka_unit_test(test_stats_ring_grows_with_many_in_flight),
        cmocka_unit_test(test_stats_bandwidth_per_live_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
