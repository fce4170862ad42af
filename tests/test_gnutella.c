/* test_gnutella.c — Gnutella's pure parts: wire sizes from the 0.4 specification, the
 * descriptor-ID cache (duplicates, expiry, eviction, reverse routes), the converged-start graph
 * builders (random d-regular, power law), the parameter table and the bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "protocols/gnutella_internal.h"
#include "protocols/kit.h"

static void test_gnutella_wire_sizes(void **state)
{
    (void)state;
    /* TCP/IP 40 + descriptor header 23 (0.4 spec: ID 16, type 1, TTL 1, hops 1, length 4) */
    assert_int_equal(gnut_wire_size(GNUT_MSG_PING, 0), 63);
    /* Pong: port 2, IP 4, files 4, KB 4 = 14, + 2 B neighbour count */
    assert_int_equal(gnut_wire_size(GNUT_MSG_PONG, 0), 63 + 16);
    /* Query: min speed 2 + 20 B of criteria */
    assert_int_equal(gnut_wire_size(GNUT_MSG_QUERY, 0), 63 + 22);
    /* QueryHit: 11 + one result (4 + 4 + 30 + 2) + servent ID 16 */
    assert_int_equal(gnut_wire_size(GNUT_MSG_QUERYHIT, 0), 63 + 11 + 40 + 16);
    /* Push: servent ID 16, index 4, IP 4, port 2 */
    assert_int_equal(gnut_wire_size(GNUT_MSG_PUSH, 0), 63 + 26);
    /* handshakes are text: "GNUTELLA CONNECT/0.4\n\n" + 4 B, 6 B per listed address */
    assert_int_equal(gnut_wire_size(GNUT_MSG_CONNECT_REQ, 0), 40 + 22 + 4);
    assert_int_equal(gnut_wire_size(GNUT_MSG_CONNECT_REQ, 4), 40 + 22 + 4 + 24);
    /* "GNUTELLA OK\n\n" + 4 B + the split partner 6 B; X-Try hosts: address, degree, hops */
    assert_int_equal(gnut_wire_size(GNUT_MSG_CONNECT_REP, 2), 40 + 13 + 4 + 6 + 2 * 9);
    assert_int_equal(gnut_wire_size(GNUT_MSG_BYE, 0), 40);
    assert_int_equal(gnut_wire_size(GNUT_MSG_GIV, 0), 40 + 80);
    assert_string_equal(gnut_msg_name[GNUT_MSG_QUERYHIT], "GNUT_MSG_QUERYHIT");
    assert_string_equal(gnut_msg_name[GNUT_MSG_PROBE_REP], "GNUT_MSG_PROBE_REP");
}

#define CACHE 64
static void cache_clear(struct gnut_desc *t, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        t[i] = (struct gnut_desc){ .from = { NODE_NONE, 0 } };
}

/* A descriptor seen once is a duplicate the second time, whoever sends it; the cache remembers
 * the first sender (the reverse route). */
static void test_gnutella_desc_duplicates(void **state)
{
    (void)state;
    struct gnut_desc t[CACHE];
    cache_clear(t, CACHE);
    bool ev;
    struct addr a = { 3, 1 }, b = { 9, 2 };
    assert_int_equal(gnut_desc_add(t, CACHE, 0x1234, a, 1000, 5000, false, &ev), 1);
    assert_false(ev);
    assert_int_equal(gnut_desc_add(t, CACHE, 0x1234, b, 1100, 5000, false, &ev), 0);
    const struct gnut_desc *e = gnut_desc_find(t, CACHE, 0x1234, 1200, 5000);
    assert_non_null(e);
    assert_true(addr_eq(e->from, a));         /* not overwritten by the duplicate */
    assert_null(gnut_desc_find(t, CACHE, 0x1235, 1200, 5000));
    assert_int_equal(gnut_desc_add(t, CACHE, 0x1235, b, 1200, 5000, false, &ev), 1);
    /* overwrite: a servent ID's route follows its latest QueryHit */
    assert_int_equal(gnut_desc_add(t, CACHE, 0x1234, b, 1300, 5000, true, &ev), 0);
    assert_true(addr_eq(gnut_desc_find(t, CACHE, 0x1234, 1300, 5000)->from, b));
}

/* Entries expire: a descriptor seen again after the expiry is new (and forwarded again). */
static void test_gnutella_desc_expiry(void **state)
{
    (void)state;
    struct gnut_desc t[CACHE];
    cache_clear(t, CACHE);
    bool ev;
    struct addr a = { 1, 1 };
    assert_int_equal(gnut_desc_add(t, CACHE, 42, a, 0, 1000, false, &ev), 1);
    assert_non_null(gnut_desc_find(t, CACHE, 42, 999, 1000));
    assert_int_equal(gnut_desc_add(t, CACHE, 42, a, 999, 1000, false, &ev), 0);
    assert_null(gnut_desc_find(t, CACHE, 42, 1000, 1000));
    assert_int_equal(gnut_desc_add(t, CACHE, 42, a, 1000, 1000, false, &ev), 1);
    assert_false(ev);                         /* an expired slot is reused, not evicted */
    /* past 2^32 ms (49.7 days; a scenario may last a year) the clock does not wrap: an entry
     * stored just before is fresh just after, and one stored at 0 has long expired */
    cache_clear(t, CACHE);
    const int64_t wrap = INT64_C(1) << 32;
    assert_int_equal(gnut_desc_add(t, CACHE, 7, a, wrap - 10, 1000, false, &ev), 1);
    assert_non_null(gnut_desc_find(t, CACHE, 7, wrap + 50, 1000));
    assert_int_equal(gnut_desc_add(t, CACHE, 8, a, 0, 1000, false, &ev), 1);
    assert_null(gnut_desc_find(t, CACHE, 8, wrap + 500, 1000));
}

/* The cache is bounded: with every probed slot fresh, the oldest entry is evicted and its
 * descriptor then looks new. A cache of GNUT_PROBE (8) slots is one probe window. */
static void test_gnutella_desc_eviction(void **state)
{
    (void)state;
    _Static_assert(GNUT_PROBE == 8, "one probe window");
    struct gnut_desc t[8];
    cache_clear(t, 8);
    bool ev;
    struct addr a = { 1, 1 };
    for (uint64_t k = 1; k <= 8; k++) {
        assert_int_equal(gnut_desc_add(t, 8, k * 1000003, a, (int64_t)k, 60000, false, &ev), 1);
        assert_false(ev);
    }
    assert_int_equal(gnut_desc_add(t, 8, 99, a, 20, 60000, false, &ev), 1);
    assert_true(ev);
    assert_null(gnut_desc_find(t, 8, 1 * 1000003, 20, 60000));    /* the oldest went */
    for (uint64_t k = 2; k <= 8; k++)
        assert_non_null(gnut_desc_find(t, 8, k * 1000003, 20, 60000));
    assert_non_null(gnut_desc_find(t, 8, 99, 20, 60000));
}

static bool row_has(const uint32_t *adj, const uint32_t *deg, uint32_t w, uint32_t a, uint32_t b)
{
    for (uint32_t k = 0; k < deg[a]; k++)
        if (adj[(size_t)a * w + k] == b)
            return true;
    return false;
}

/* A simple undirected graph: no self-loop, no multi-edge, symmetric rows, no firewalled pair. */
static void check_simple(const uint32_t *adj, const uint32_t *deg, uint32_t n, uint32_t w,
                         const uint8_t *fw)
{
    for (uint32_t a = 0; a < n; a++) {
        assert_true(deg[a] <= w);
        for (uint32_t k = 0; k < deg[a]; k++) {
            uint32_t b = adj[(size_t)a * w + k];
            assert_true(b < n && b != a);
            assert_true(row_has(adj, deg, w, b, a));
            assert_false(fw && fw[a] && fw[b]);
            for (uint32_t j = k + 1; j < deg[a]; j++)
                assert_true(adj[(size_t)a * w + j] != b);
        }
    }
}

/* The configuration model with swap repair gives every vertex exactly d links even with 30% of
 * the vertices firewalled (no link between two of them); an odd number of stubs leaves one. */
static void test_gnutella_regular_graph(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 5);
    const uint32_t n = 2000, d = 4;
    uint32_t *adj = malloc((size_t)n * d * sizeof *adj), *deg = malloc(n * sizeof *deg);
    uint8_t *fw = malloc(n);
    for (uint32_t i = 0; i < n; i++)
        fw[i] = gsl_rng_uniform(r) < 0.3;
    assert_int_equal(gnut_regular_graph(n, d, fw, r, adj, deg), 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(deg[i], d);
    check_simple(adj, deg, n, d, fw);
    /* n·d odd: one stub stays unpaired */
    uint32_t left = gnut_regular_graph(101, 3, NULL, r, adj, deg), sum = 0;
    for (uint32_t i = 0; i < 101; i++)
        sum += deg[i];
    assert_int_equal(left, 1);
    assert_int_equal(sum, 101 * 3 - 1);
    check_simple(adj, deg, 101, 3, NULL);
    free(adj);
    free(deg);
    free(fw);
    gsl_rng_free(r);
}

/* Preferential attachment with m = 2: mean degree 2m = 4 (every vertex after the first brings
 * m links), a heavy tail (Barabási–Albert: the largest degree grows as m·√n, ~140 here; at
 * least 10x the mean), degrees bounded by the cap. */
static void test_gnutella_powerlaw_graph(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 9);
    const uint32_t n = 5000, m = 2, cap = 200;
    uint32_t *adj = malloc((size_t)n * cap * sizeof *adj), *deg = malloc(n * sizeof *deg);
    uint32_t links = gnut_powerlaw_graph(n, m, cap, NULL, r, adj, deg);
    assert_true(links >= (n - 1) * m - 2 && links <= (n - 1) * m);
    uint32_t max = 0, sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum += deg[i];
        if (deg[i] > max)
            max = deg[i];
    }
    double mean = (double)sum / n;
    assert_true(mean > 3.95 && mean <= 4.0);
    assert_true(max >= 40 && max <= cap);
    check_simple(adj, deg, n, cap, NULL);
    free(adj);
    free(deg);
    gsl_rng_free(r);
}

/* Every default of the parameter table parses; the figures of gnutella.c's opening comment:
 * a node's slab record is 56 bytes of fixed part and its tables, 4,312 bytes with the
 * defaults (d = 4, max_degree 5, host_cache 32, desc_cache 128). */
static void test_gnutella_params_and_bytes(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, gnutella_protocol.params), 0);
    assert_int_equal(cfg.v[param_find(cfg.params, "ttl")].i, 7);
    assert_int_equal(cfg.v[param_find(cfg.params, "degree")].i, 4);
    assert_string_equal(gnutella_protocol.name, "gnutella");
    assert_int_equal(gnutella_protocol.keys, KEYS_FILES);
    assert_int_equal(gnutella_protocol.node_state_size, GNUT_NODE_BYTES);
    assert_int_equal(GNUT_NODE_BYTES, 56);
    assert_int_equal(gnutella_protocol.state_size(&cfg), 56 + 5 * 32 + 32 * 32 + 128 * 24);
    assert_int_equal(gnutella_protocol.state_size(&cfg), 4312);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnutella_wire_sizes),
        cmocka_unit_test(test_gnutella_desc_duplicates),
        cmocka_unit_test(test_gnutella_desc_expiry),
        cmocka_unit_test(test_gnutella_desc_eviction),
        cmocka_unit_test(test_gnutella_regular_graph),
        cmocka_unit_test(test_gnutella_powerlaw_graph),
        cmocka_unit_test(test_gnutella_params_and_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
