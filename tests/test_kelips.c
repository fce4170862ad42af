/* test_kelips.c — Kelips's pure parts: the ring distance and its tie rule, wire sizes, the
 * parameter table and the documented bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/kelips_internal.h"
#include "protocols/kit.h"

static void test_kelips_ring_distance(void **state)
{
    (void)state;
    assert_true(kelips_ring_dist(10, 20) == 10);
    assert_true(kelips_ring_dist(20, 10) == 10);
    assert_true(kelips_ring_dist(UINT64_MAX, 1) == 2);          /* through zero */
    assert_true(kelips_ring_dist(0, UINT64_C(1) << 63) == UINT64_C(1) << 63);
    assert_true(kelips_closer(18, 25, 20));
    assert_false(kelips_closer(25, 18, 20));
    assert_true(kelips_closer(2, UINT64_MAX - 5, 0));            /* wrap-around */
    /* a tie goes to the id above the key, as the oracle's numeric rule */
    assert_true(kelips_closer(25, 15, 20));
    assert_false(kelips_closer(15, 25, 20));
}

static void test_kelips_wire_sizes(void **state)
{
    (void)state;
    /* IPv4 + UDP 28, Kelips header 8, member 18, contact 14, tuple 26, address 6 */
    assert_int_equal(kelips_wire_size(KELIPS_MSG_PING_REQ, 0, 0, 0, 0), 36);
    assert_int_equal(kelips_wire_size(KELIPS_MSG_PING_REP, 0, 0, 0, 0), 36 + 4);   /* heartbeat */
    assert_int_equal(kelips_wire_size(KELIPS_MSG_GOSSIP, 0, 0, 0, 0), 36 + 18 + 2);
    assert_int_equal(kelips_wire_size(KELIPS_MSG_GOSSIP, 10, 0, 2, 0), 56 + 180 + 52);
    assert_int_equal(kelips_wire_size(KELIPS_MSG_TUPLE, 0, 0, 1, 0), 36 + 1 + 26);
    assert_int_equal(kelips_wire_size(KELIPS_MSG_FIND_REP, 0, 3, 0, 0), 36 + 2 + 14 + 1 + 42);
    assert_int_equal(kelips_wire_size(KELIPS_MSG_HOME_REQ, 0, 0, 0, 4), 36 + 9 + 24);
    assert_string_equal(kelips_msg_name[KELIPS_MSG_GOSSIP], "KELIPS_MSG_GOSSIP");
    assert_string_equal(kelips_msg_name[KELIPS_MSG_PING_REP], "KELIPS_MSG_PING_REP");
}

/* The figures in kelips.c's opening comment: 176 bytes of slab per node slot; per node up, 28
 * bytes per contact slot and 1 per group (the slots held), 32 per group member and 4 per bucket
 * of its index (256 buckets for 127 members, at most 3/4 full), and 32 per tuple: about 16 KB at
 * N = 16,384 (k = 128 groups, c = 2, one key per node: 256 contact slots, 127 members, 128
 * tuples). */
static void test_kelips_node_bytes(void **state)
{
    (void)state;
    assert_int_equal(kelips_protocol.node_state_size, 176);
    assert_int_equal(KELIPS_NODE_BYTES, 176);
    assert_int_equal(KELIPS_CONTACT_BYTES, 28);
    assert_int_equal(KELIPS_MEMBER_BYTES, 32);
    assert_int_equal(KELIPS_TUPLE_BYTES, 32);
    size_t bytes = KELIPS_NODE_BYTES + 128 * 2 * KELIPS_CONTACT_BYTES + 128 +
                   127 * KELIPS_MEMBER_BYTES + 256 * 4 + 128 * KELIPS_TUPLE_BYTES;
    assert_int_equal(bytes, 16656);
    /* the estimate before a run (sim/scncost.c) is that sum, and grows as sqrt(N) */
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, kelips_protocol.params), 0);
    assert_true(kelips_node_estimate(&cfg, 16384, 16384) == 16656.0);
    double at100k = kelips_node_estimate(&cfg, 100000, 10000);
    assert_true(at100k > 31300 && at100k < 31400);   /* k = 317: 18,069 B of contacts, 314.5 members */
}

/* Gossip's own uniform draws give exactly gsl_rng_uniform_int's numbers, consuming the same
 * generator outputs (the next draw after them agrees too), for small and large n. */
static void test_kelips_draws_match_gsl(void **state)
{
    (void)state;
    const unsigned long ns[] = { 1, 2, 3, 7, 100, 317, 1000, 65537, 2147483649UL, 4294967295UL };
    enum { COUNT = 2000 };
    static unsigned long got[COUNT];
    for (int how = 0; how < 3; how++)
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
            gsl_rng_set(a, 42 + k);
            gsl_rng_set(b, 42 + k);
            kelips_draws(a, ns[k], got, COUNT, how);
            for (size_t j = 0; j < COUNT; j++) {
                unsigned long want = gsl_rng_uniform_int(b, ns[k]);
                assert_int_equal(got[j], how == 2 ? want == 0 : want);
            }
            assert_int_equal(gsl_rng_get(a), gsl_rng_get(b));
            gsl_rng_free(a);
            gsl_rng_free(b);
        }
}

/* An identifier's group by multiplications (group_of) equals id mod k, at the edges of the
 * 64-bit range and for random identifiers, for any number of groups up to 2^32 - 1. */
static void test_kelips_mod_matches_division(void **state)
{
    (void)state;
    const uint32_t ds[] = { 1, 2, 3, 7, 100, 317, 1000, 4096, 65535, 65536, 2147483648u,
                            4294967295u };
    const uint64_t edges[] = { 0, 1, 2, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX,
                               UINT64_MAX - 1, UINT64_MAX / 2, UINT64_MAX / 3 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        for (size_t j = 0; j < sizeof edges / sizeof edges[0]; j++) {
            assert_int_equal(kelips_mod(edges[j], ds[k]), edges[j] % ds[k]);
            /* multiples of d below the edge, and the values just below them */
            for (uint64_t e = 0; e < 4 && e <= edges[j] / ds[k]; e++) {
                uint64_t m = (edges[j] / ds[k] - e) * ds[k];
                assert_int_equal(kelips_mod(m, ds[k]), 0);
                assert_int_equal(kelips_mod(m - 1, ds[k]), (m - 1) % ds[k]);
            }
        }
        for (int j = 0; j < 100000; j++) {
            uint64_t x = (uint64_t)gsl_rng_get(r) << 32 | gsl_rng_get(r);
            assert_int_equal(kelips_mod(x, ds[k]), x % ds[k]);
        }
    }
    gsl_rng_free(r);
}

static void test_kelips_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, kelips_protocol.params), 0);
    const char *names[] = { "groups", "contacts", "gossip", "group_fanout", "contact_fanout",
                            "budget", "timeout", "item_rounds", "rpc_timeout", "fallback",
                            "detect", "contact_timeout" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        assert_int_equal(param_find(kelips_protocol.params, names[k]), (int)k);
    assert_int_equal(cfg.v[0].i, -1);               /* groups: auto */
    assert_int_equal(cfg.v[1].i, 2);                /* c = 2 */
    assert_int_equal(cfg.v[2].i, 2 * 1000000);      /* 2 s rounds */
    assert_int_equal(cfg.v[3].i, 3);
    assert_int_equal(cfg.v[4].i, 3);
    assert_int_equal(cfg.v[5].i, 1632);             /* 6 x 272 B */
    assert_true(cfg.v[11].d == 2);                  /* contacts: 2 x the timeout (p2psim) */
    /* a gossip body holds what 272 B on the wire can carry, and no more than a page */
    size_t body = kelips_protocol.msg_body_max(&cfg);
    assert_true(body >= 24 * 32 && body < 2048);
    assert_int_equal(kelips_protocol.keys, KEYS_GROUP);
    assert_non_null(kelips_protocol.converge);
    assert_non_null(kelips_protocol.insert);
}

/* The heartbeat timeout: detect x (G-1)/(gfan (m+1)) rounds, never below the floor. With the
 * defaults (2 s rounds, fan-out 3, 12 member entries per 272 B message, detect 16) it is
 * p2psim's 25 s for a group of 32, and doubles with the group. */
static void test_kelips_timeout_follows_group(void **state)
{
    (void)state;
    assert_int_equal(kelips_timeout_ms(25000, 16, 2000, 3, 12, 31), 25435);
    assert_int_equal(kelips_timeout_ms(25000, 16, 2000, 3, 12, 10), 25000);   /* the floor */
    assert_int_equal(kelips_timeout_ms(25000, 16, 2000, 3, 12, 125), 102564);
    assert_int_equal(kelips_timeout_ms(25000, 0, 2000, 3, 12, 125), 25000);   /* fixed */
    assert_int_equal(kelips_timeout_ms(25000, 16, 2000, 0, 12, 125), 25000);  /* no gossip */
}

/* The contact timeout: detect mean intervals between two pieces of news about one contact,
 * cfan (m+1) / ((k-1) G) a round by contact gossip plus 1 / ((k-1) c) by the ping. N = 1,000
 * in 30 groups of 33 (defaults): 0.0408 + 0.0172 a round, one every 34.5 s, so 552 s; the
 * floor (2 x 25 s) when detect is 0 or there is one group. */
static void test_kelips_contact_timeout(void **state)
{
    (void)state;
    uint32_t t = kelips_contact_timeout_ms(50000, 16, 2000, 3, 12, 30, 2, 33);
    assert_true(t > 551000 && t < 553000);
    assert_int_equal(kelips_contact_timeout_ms(50000, 0, 2000, 3, 12, 30, 2, 33), 50000);
    assert_int_equal(kelips_contact_timeout_ms(50000, 16, 2000, 3, 12, 1, 2, 33), 50000);
    assert_int_equal(kelips_contact_timeout_ms(50000, 0.5, 2000, 3, 12, 30, 2, 33), 50000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kelips_ring_distance),
        cmocka_unit_test(test_kelips_wire_sizes),
        cmocka_unit_test(test_kelips_node_bytes),
        cmocka_unit_test(test_kelips_draws_match_gsl),
        cmocka_unit_test(test_kelips_mod_matches_division),
        cmocka_unit_test(test_kelips_params),
        cmocka_unit_test(test_kelips_contact_timeout),
        cmocka_unit_test(test_kelips_timeout_follows_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
