/* test_net.c — the latency models: stable per pair, symmetric, with the configured mean. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/net.h"

#define HOSTS 2000

/* Mean one-way delay over many distinct pairs, in ms. */
static double mean_ms(const struct net *n)
{
    double sum = 0;
    int k = 0;
    for (uint32_t a = 0; a < HOSTS; a += 3)
        for (uint32_t b = a + 1; b < HOSTS; b += 7, k++)
            sum += (double)net_delay(n, a, b) / 1e3;
    return sum / k;
}

static void init(struct net *n, struct scn_network cfg)
{
    char err[512];
    if (net_init(n, &cfg, HOSTS, 42, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void check_pairs(const struct net *n)
{
    for (uint32_t a = 0; a < 200; a++)
        for (uint32_t b = 0; b < 200; b += 13) {
            assert_true(net_delay(n, a, b) == net_delay(n, b, a));   /* symmetric */
            assert_true(net_delay(n, a, b) == net_delay(n, a, b));   /* stable */
            assert_true(net_delay(n, a, b) >= 0);
        }
}

static void test_net_constant(void **state)
{
    (void)state;
    struct net n;
    init(&n, (struct scn_network){ .model = LAT_CONSTANT, .mean_us = 80000 });
    assert_true(net_delay(&n, 1, 2) == 80000 && net_delay(&n, 5, 900) == 80000);
    net_free(&n);
}

static void test_net_uniform(void **state)
{
    (void)state;
    struct net n;
    init(&n, (struct scn_network){ .model = LAT_UNIFORM, .mean_us = 80000, .min_us = 40000,
                                   .max_us = 120000 });
    check_pairs(&n);
    for (uint32_t a = 0; a < 500; a++) {
        int64_t d = net_delay(&n, a, a + 1);
        assert_true(d >= 40000 && d <= 120000);
    }
    assert_float_equal(mean_ms(&n), 80.0, 1.0);
    net_free(&n);
}

static void test_net_lognormal(void **state)
{
    (void)state;
    struct net n;
    init(&n, (struct scn_network){ .model = LAT_LOGNORMAL, .mean_us = 80000, .sigma = 0.5 });
    check_pairs(&n);
    /* sigma 0.5: CV 0.53; ~190k pairs: the standard error is ~0.1 ms */
    assert_float_equal(mean_ms(&n), 80.0, 1.5);
    net_free(&n);
}

static void test_net_euclidean(void **state)
{
    (void)state;
    struct net n;
    init(&n, (struct scn_network){ .model = LAT_EUCLIDEAN, .mean_us = 80000, .access_us = 5000 });
    check_pairs(&n);
    assert_float_equal(mean_ms(&n), 80.0, 2.0);
    /* triangle inequality holds up to the access links */
    for (uint32_t a = 0; a < 50; a++) {
        uint32_t b = a + 100, c = a + 200;
        double direct = (double)net_delay(&n, a, c);
        double via = (double)net_delay(&n, a, b) + (double)net_delay(&n, b, c);
        assert_true(direct <= via);
    }
    net_free(&n);
}

static void test_net_euclidean_rejects_access_above_mean(void **state)
{
    (void)state;
    struct net n;
    char err[512];
    struct scn_network cfg = { .model = LAT_EUCLIDEAN, .mean_us = 8000, .access_us = 5000 };
    assert_int_equal(net_init(&n, &cfg, 10, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "twice the access delay"));
}

static void test_net_matrix(void **state)
{
    (void)state;
    char path[] = "/tmp/p2plab-matrix-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# three hosts\n0 1 10\n0 2 20\n1 2 30.5\n", f);
    fclose(f);
    struct scn_network cfg = { .model = LAT_MATRIX };
    snprintf(cfg.matrix, sizeof cfg.matrix, "%s", path);
    struct net n;
    init(&n, cfg);
    check_pairs(&n);
    for (uint32_t a = 0; a < 100; a++) {
        int64_t d = net_delay(&n, a, a + 1);
        uint32_t ha = n.matrix_host[a], hb = n.matrix_host[a + 1];
        int64_t want = ha == hb ? 0 : (ha + hb == 1 ? 10000 : ha + hb == 2 ? 20000 : 30500);
        assert_true(d == want);
    }
    net_free(&n);
    remove(path);
}

static void test_net_loss(void **state)
{
    (void)state;
    struct net n;
    init(&n, (struct scn_network){ .model = LAT_CONSTANT, .mean_us = 1000, .loss = 0.1 });
    int lost = 0;
    for (int i = 0; i < 100000; i++)
        lost += net_lost(&n);
    assert_in_range(lost, 9400, 10600);
    net_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_constant),
        cmocka_unit_test(test_net_uniform),
        cmocka_unit_test(test_net_lognormal),
        cmocka_unit_test(test_net_euclidean),
        cmocka_unit_test(test_net_euclidean_rejects_access_above_mean),
        cmocka_unit_test(test_net_matrix),
        cmocka_unit_test(test_net_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
