/* test_oracle.c — the judge's key ownership against brute force, for all three metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/oracle.h"
#include "sim/rng.h"

#define N 300

static uint64_t ids[N];

static uint64_t dist(enum key_metric m, uint64_t id, uint64_t key)
{
    switch (m) {
    case KEYS_SUCCESSOR: return id - key;                     /* clockwise from key */
    case KEYS_NUMERIC: return id - key < key - id ? id - key : key - id;
    case KEYS_XOR: return id ^ key;
    case KEYS_GROUP: return (id % 7 == key % 7) ? (id - key < key - id ? id - key : key - id)
                                                : UINT64_MAX - 1;
    case KEYS_FILES: break;                                   /* not judged by the oracle */
    }
    return 0;
}

/* The slot of the r-th closest id by brute force (ties by the oracle's rules do not occur with
 * random 64-bit ids). */
static node_t brute(enum key_metric m, uint64_t key, uint32_t rank, node_t live)
{
    uint64_t prev = 0;
    node_t who = NODE_NONE;
    for (uint32_t r = 0; r <= rank; r++) {
        uint64_t best = UINT64_MAX;
        for (node_t i = 0; i < live; i++) {
            uint64_t d = dist(m, ids[i], key);
            if ((r == 0 || d > prev) && d <= best) {
                best = d;
                who = i;
            }
        }
        prev = best;
    }
    return who;
}

/* bulk: the members are loaded between oracle_bulk_begin and _end, as a converged start does */
static void check_metric(enum key_metric m, bool bulk)
{
    struct oracle o;
    assert_int_equal(oracle_init(&o, m, N), 0);
    if (m == KEYS_GROUP)
        assert_int_equal(oracle_set_groups(&o, 7), 0);
    if (bulk)
        oracle_bulk_begin(&o);
    for (node_t i = 0; i < N; i++) {
        ids[i] = rng_mix(i * 7919u + (uint64_t)m);
        oracle_add(&o, ids[i], i);
    }
    if (bulk)
        oracle_bulk_end(&o);
    /* remove the last 100 again: membership changes must keep the order */
    for (node_t i = N - 100; i < N; i++)
        oracle_remove(&o, ids[i], i);
    node_t live = N - 100;
    for (uint64_t k = 0; k < 2000; k++) {
        uint64_t key = rng_mix(k ^ 0xabcdef);
        if (k < 50)
            key = ids[k];                     /* a key equal to an id is owned by that node */
        for (uint32_t r = 0; r < (m == KEYS_GROUP ? 2u : 3u); r++)
            assert_int_equal(oracle_owner(&o, key, r), brute(m, key, r, live));
        /* "among the first 5 owners" agrees with the ranking, node by node */
        for (node_t i = 0; i < live; i += 7) {
            bool in = false;
            for (uint32_t r = 0; r < 5; r++)
                in |= brute(m, key, r, live) == i;
            assert_int_equal(oracle_owns(&o, key, i, ids[i], 5), in);
        }
    }
    oracle_free(&o);
}

static void test_oracle_successor(void **state) { (void)state; check_metric(KEYS_SUCCESSOR, false); }
static void test_oracle_numeric(void **state) { (void)state; check_metric(KEYS_NUMERIC, false); }
static void test_oracle_xor(void **state) { (void)state; check_metric(KEYS_XOR, false); }
static void test_oracle_group(void **state) { (void)state; check_metric(KEYS_GROUP, false); }

/* Loading in bulk gives the same answers as one member at a time, for every metric. */
static void test_oracle_bulk(void **state)
{
    (void)state;
    check_metric(KEYS_SUCCESSOR, true);
    check_metric(KEYS_GROUP, true);
    check_metric(KEYS_XOR, true);
}

static void test_oracle_replicas(void **state)
{
    (void)state;
    struct oracle o;
    assert_int_equal(oracle_init(&o, KEYS_SUCCESSOR, 4), 0);
    oracle_add(&o, 100, 0);
    oracle_add(&o, 200, 1);
    oracle_add(&o, 300, 2);
    assert_int_equal(oracle_owner(&o, 150, 0), 1);
    assert_int_equal(oracle_owner(&o, 350, 0), 0);        /* wraps around */
    assert_true(oracle_owns(&o, 150, 2, 300, 2));
    assert_false(oracle_owns(&o, 150, 2, 300, 1));
    assert_false(oracle_owns(&o, 150, 0, 100, 2));
    oracle_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_successor),
        cmocka_unit_test(test_oracle_numeric),
        cmocka_unit_test(test_oracle_xor),
        cmocka_unit_test(test_oracle_group),
        cmocka_unit_test(test_oracle_replicas),
        cmocka_unit_test(test_oracle_bulk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
