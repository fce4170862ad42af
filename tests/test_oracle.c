/* test_oracle.c — the judge's key ownership against brute force, for all three metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* Members by the thousand, added and removed in random order so that chunks of the sorted set
 * fill, split, empty and merge (ORACLE_CHUNK members each): the successor of every key and
 * the numerically closest members agree with a plain sorted array, after every round. */
#define MANY (5 * ORACLE_CHUNK)

static uint64_t ref[MANY];
static uint32_t n_ref;

static uint32_t ref_lower(uint64_t key)
{
    uint32_t lo = 0, hi = n_ref;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (ref[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void ref_add(uint64_t id)
{
    uint32_t i = ref_lower(id);
    memmove(&ref[i + 1], &ref[i], (n_ref - i) * sizeof ref[0]);
    ref[i] = id;
    n_ref++;
}

static void ref_remove(uint64_t id)
{
    uint32_t i = ref_lower(id);
    assert_true(i < n_ref && ref[i] == id);
    memmove(&ref[i], &ref[i + 1], (n_ref - i - 1) * sizeof ref[0]);
    n_ref--;
}

static void check_against_ref(const struct oracle *o, const struct oracle *num, uint64_t salt)
{
    for (uint64_t k = 0; k < 300; k++) {
        uint64_t key = rng_mix(k ^ salt);
        uint32_t i = ref_lower(key);
        for (uint32_t r = 0; r < 3; r++)          /* the slot is the id's low bits */
            assert_int_equal(oracle_owner(o, key, r), (node_t)(ref[(i + r) % n_ref] & 0xffffff));
        uint32_t succ = i % n_ref, pred = (i + n_ref - 1) % n_ref;
        uint64_t ds = ref[succ] - key, dp = key - ref[pred];
        node_t closest = (node_t)((ds < dp ? ref[succ] : ref[pred]) & 0xffffff);
        assert_int_equal(oracle_owner(num, key, 0), closest);
    }
}

static void test_oracle_many(void **state)
{
    (void)state;
    static uint64_t id[MANY];
    static bool in[MANY];
    struct oracle o, num;
    assert_int_equal(oracle_init(&o, KEYS_SUCCESSOR, MANY), 0);
    assert_int_equal(oracle_init(&num, KEYS_NUMERIC, MANY), 0);
    n_ref = 0;
    /* ids carry their slot in the low 24 bits, so that the answer names the id */
    for (uint32_t j = 0; j < MANY; j++)
        id[j] = (rng_mix(j + 12345) & ~(uint64_t)0xffffff) | j;
    oracle_bulk_begin(&o);                            /* a converged start: the first half */
    oracle_bulk_begin(&num);
    for (uint32_t j = 0; j < MANY / 2; j++) {
        oracle_add(&o, id[j], j);
        oracle_add(&num, id[j], j);
        ref_add(id[j]);
        in[j] = true;
    }
    oracle_bulk_end(&o);
    oracle_bulk_end(&num);
    check_against_ref(&o, &num, 1);
    /* churn: rounds of random joins and departures, growing the set, then shrinking it to a
     * few members, then growing it again */
    for (uint32_t round = 0; round < 12; round++) {
        uint32_t want = round < 4 ? MANY * 9 / 10 : round < 8 ? 40 : MANY * 3 / 4;
        for (uint32_t step = 0; step < MANY; step++) {
            uint32_t j = (uint32_t)(rng_mix((uint64_t)round << 32 | step) % MANY);
            bool add = n_ref < want;
            if (add && !in[j]) {
                oracle_add(&o, id[j], j);
                oracle_add(&num, id[j], j);
                ref_add(id[j]);
                in[j] = true;
            } else if (!add && in[j]) {
                oracle_remove(&o, id[j], j);
                oracle_remove(&num, id[j], j);
                ref_remove(id[j]);
                in[j] = false;
            }
        }
        check_against_ref(&o, &num, round + 2);
    }
    oracle_free(&o);
    oracle_free(&num);
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
        cmocka_unit_test(test_oracle_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
