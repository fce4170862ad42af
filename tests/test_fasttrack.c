/* test_fasttrack.c — FastTrack's pure parts: the capacity distributions and the supernode
 * share they give, wire sizes, the parameter table and the documented bytes per node. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "protocols/fasttrack_internal.h"

/* Each distribution's median is `median`, and P(capacity > t) computed in closed form matches
 * the share of 200,000 quantile draws above t within 4 standard deviations. */
static void test_fasttrack_capacity_distributions(void **state)
{
    (void)state;
    const struct { unsigned dist; double shape, t; } c[] = {
        { FTRACK_LOGNORMAL, 1.5, 20000 }, { FTRACK_LOGNORMAL, 1.5, 35000 },
        { FTRACK_PARETO, 1.5, 20000 }, { FTRACK_PARETO, 1.1, 5000 },
        { FTRACK_UNIFORM, 0.5, 1200 }, { FTRACK_UNIFORM, 1.0, 1900 },
    };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        assert_true(fabs(ftrack_capacity_quantile(c[i].dist, 1000, c[i].shape, 0.5) - 1000) < 1e-6);
        const int n = 200000;
        int above = 0;
        for (int k = 0; k < n; k++)
            above += ftrack_capacity_quantile(c[i].dist, 1000, c[i].shape,
                                              gsl_rng_uniform_pos(r)) > c[i].t;
        double p = ftrack_super_probability(c[i].dist, 1000, c[i].shape, c[i].t);
        double sd = sqrt(p * (1 - p) / n);
        assert_true(fabs((double)above / n - p) <= 4 * sd + 1e-9);
    }
    gsl_rng_free(r);
    /* the documented default: 2.3% supernodes; 35 Mbit/s gives the study's ~1% */
    const unsigned ln = FTRACK_LOGNORMAL;
    assert_true(fabs(ftrack_super_probability(ln, 1000, 1.5, 20000) - 0.0229) < 0.0005);
    assert_true(fabs(ftrack_super_probability(ln, 1000, 1.5, 35000) - 0.0089) < 0.0005);
    assert_true(ftrack_super_probability(FTRACK_UNIFORM, 1000, 0.5, 400) == 1.0);
    assert_true(ftrack_super_probability(FTRACK_UNIFORM, 1000, 0.5, 1600) == 0.0);
}

static void test_fasttrack_wire_sizes(void **state)
{
    (void)state;
    /* TCP/IP 40 + Gnutella descriptor header 23 = 63 per message */
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_SN_REQ, 0), 63);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_SN_REP, 8), 63 + 1 + 8 * 12);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_UPLOAD, 20), 63 + 2 + 20 * 64);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_QUERY, 0), 63 + 22);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_QUERYHIT, 3), 63 + 27 + 3 * 52);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_PING_REP, 0), 63 + 14);
    assert_int_equal(ftrack_wire_size(FTRACK_MSG_KEEP_REP, 8), 63 + 2 + 96);
    assert_string_equal(ftrack_msg_name[FTRACK_MSG_SN_REQ], "FTRACK_MSG_SN_REQ");
    assert_string_equal(ftrack_msg_name[FTRACK_MSG_QUERYHIT], "FTRACK_MSG_QUERYHIT");
    assert_string_equal(ftrack_msg_name[FTRACK_MSG_PING_REP], "FTRACK_MSG_PING_REP");
}

/* The figure in fasttrack.c's opening comment: 448 bytes of slab per node, whatever the
 * configuration (no tables sized from it follow the fixed part). */
static void test_fasttrack_node_bytes(void **state)
{
    (void)state;
    assert_int_equal(fasttrack_protocol.node_state_size, 448);
    assert_null(fasttrack_protocol.state_size);
}

static void test_fasttrack_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, fasttrack_protocol.params), 0);
    const char *names[] = { "capacity", "capacity_median", "capacity_shape", "super_threshold",
                            "parents", "super_degree", "ttl", "window", "ping_candidates",
                            "keepalive", "rpc_timeout" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        assert_int_equal(param_find(fasttrack_protocol.params, names[k]), (int)k);
    assert_int_equal(cfg.v[0].i, FTRACK_LOGNORMAL);
    assert_true(cfg.v[1].d == 1000 && cfg.v[2].d == 1.5 && cfg.v[3].d == 20000);
    assert_int_equal(cfg.v[4].i, 1);               /* one parent (the study) */
    assert_int_equal(cfg.v[5].i, 8);
    assert_int_equal(cfg.v[6].i, 2);               /* TTL 2 among supernodes */
    assert_int_equal(cfg.v[7].i, 5 * 1000000);     /* 5 s window, as gnutella's */
    assert_int_equal(cfg.v[8].i, 4);
    assert_int_equal(cfg.v[9].i, 30 * 1000000);
    assert_true(fasttrack_protocol.msg_body_max(&cfg) < 512);
    assert_int_equal(fasttrack_protocol.keys, KEYS_FILES);
    assert_non_null(fasttrack_protocol.converge);
    assert_non_null(fasttrack_protocol.leave);
    assert_non_null(fasttrack_protocol.gauges);
    assert_string_equal(fasttrack_protocol.gauges[0], "super.fraction");
    assert_string_equal(fasttrack_protocol.gauges[1], "super.children.mean");
    assert_string_equal(fasttrack_protocol.gauges[2], "super.index.mean");
    assert_string_equal(fasttrack_protocol.counters[0], "query_msgs");
    assert_string_equal(fasttrack_protocol.counters[1], "query_dups");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fasttrack_capacity_distributions),
        cmocka_unit_test(test_fasttrack_wire_sizes),
        cmocka_unit_test(test_fasttrack_node_bytes),
        cmocka_unit_test(test_fasttrack_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
