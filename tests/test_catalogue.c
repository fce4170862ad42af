/* test_catalogue.c — who shares which file: the replication rules of Cohen & Shenker (2002). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "sim/catalogue.h"
#include "sim/workload.h"

enum { FILES = 1000, NODES = 400000 };

/* NODES nodes share one file each. The copies of ranks 0-9 over those of ranks 90-99 must be
 * the ratio of their weights r: 1 (uniform), sum q / sum q ~ 27.9 (proportional, zipf alpha 1)
 * or its square-root analogue. The smaller group gets >= 4,000 copies in every case (standard
 * error of the ratio <= 2.3%), so 8% is over three standard errors. */
static void check_rule(enum replication rule)
{
    struct scn_workload w = { .keys = FILES, .popularity = POP_ZIPF, .alpha = 1.0,
                              .files = FILES, .files_per_node = 1, .replication = rule };
    struct workload wl;
    assert_int_equal(workload_init(&wl, &w, FILES, 1), 0);
    struct catalogue c;
    assert_int_equal(catalogue_init(&c, &w, wl.keys, NODES, 1), 0);
    for (node_t n = 0; n < NODES; n++) {
        catalogue_draw(&c, n);
        catalogue_count(&c, n, +1);
    }
    double top = 0, tail = 0, want_top = 0, want_tail = 0;
    for (uint32_t i = 0; i < 10; i++) {
        top += c.holders[i];
        tail += c.holders[90 + i];
        want_top += catalogue_weight(&w, i);
        want_tail += catalogue_weight(&w, 90 + i);
    }
    double ratio = top / tail, want = want_top / want_tail;
    if (fabs(ratio - want) > 0.08 * want)
        fail_msg("rule %d: copies of ranks 0-9 / ranks 90-99 = %.3f, want %.3f", rule, ratio, want);
    catalogue_free(&c);
    workload_free(&wl);
}

static void test_catalogue_uniform(void **state) { (void)state; check_rule(REPL_UNIFORM); }
static void test_catalogue_proportional(void **state) { (void)state; check_rule(REPL_PROPORTIONAL); }
static void test_catalogue_square_root(void **state) { (void)state; check_rule(REPL_SQRT); }

static void test_catalogue_weights(void **state)
{
    (void)state;
    /* zipf alpha 1: q_0 / q_9 = 10 */
    struct scn_workload w = { .popularity = POP_ZIPF, .alpha = 1.0 };
    w.replication = REPL_UNIFORM;
    assert_float_equal(catalogue_weight(&w, 0) / catalogue_weight(&w, 9), 1.0, 1e-12);
    w.replication = REPL_PROPORTIONAL;
    assert_float_equal(catalogue_weight(&w, 0) / catalogue_weight(&w, 9), 10.0, 1e-9);
    w.replication = REPL_SQRT;
    assert_float_equal(catalogue_weight(&w, 0) / catalogue_weight(&w, 9), sqrt(10.0), 1e-9);
}

static void test_catalogue_lists_are_distinct_and_counted(void **state)
{
    (void)state;
    struct scn_workload w = { .keys = 50, .popularity = POP_ZIPF, .alpha = 2.0, .files = 50,
                              .files_per_node = 40, .replication = REPL_PROPORTIONAL };
    struct workload wl;
    workload_init(&wl, &w, 50, 3);
    struct catalogue c;
    catalogue_init(&c, &w, wl.keys, 100, 3);
    for (node_t n = 0; n < 100; n++) {
        catalogue_draw(&c, n);               /* 40 of 50 files under a steep skew */
        for (uint32_t i = 0; i < 40; i++)
            for (uint32_t j = i + 1; j < 40; j++)
                assert_true(c.shared_rank[n * 40 + i] != c.shared_rank[n * 40 + j]);
        assert_true(catalogue_shares(&c, n, c.shared_id[n * 40 + 7]));
        catalogue_count(&c, n, +1);
    }
    uint64_t copies = 0;
    for (uint32_t f = 0; f < 50; f++)
        copies += c.holders[f];
    assert_int_equal(copies, 100 * 40);
    for (node_t n = 0; n < 100; n++)
        catalogue_count(&c, n, -1);
    for (uint32_t f = 0; f < 50; f++)
        assert_int_equal(c.holders[f], 0);
    catalogue_free(&c);
    workload_free(&wl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_uniform),
        cmocka_unit_test(test_catalogue_proportional),
        cmocka_unit_test(test_catalogue_square_root),
        cmocka_unit_test(test_catalogue_weights),
        cmocka_unit_test(test_catalogue_lists_are_distinct_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
