/* test_chord.c — Chord's pure parts: ring intervals, finger starts, wire sizes, the parameter
 * table and the documented bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/chord_internal.h"


static void test_chord_interval_half_open(void **state)
{
    (void)state;
    /* (10, 20]: plain */
    assert_false(chord_in_oc(10, 10, 20));
    assert_true(chord_in_oc(11, 10, 20));
    assert_true(chord_in_oc(20, 10, 20));
    assert_false(chord_in_oc(21, 10, 20));
    assert_false(chord_in_oc(5, 10, 20));
    /* (2^64 - 10, 5]: wraps through zero */
    uint64_t a = UINT64_MAX - 9;
    assert_false(chord_in_oc(a, a, 5));
    assert_true(chord_in_oc(UINT64_MAX, a, 5));
    assert_true(chord_in_oc(0, a, 5));
    assert_true(chord_in_oc(5, a, 5));
    assert_false(chord_in_oc(6, a, 5));
    assert_false(chord_in_oc(a - 1, a, 5));
    /* (a, a] is the whole ring: a node alone succeeds every key */
    assert_true(chord_in_oc(7, 7, 7));
    assert_true(chord_in_oc(8, 7, 7));
    assert_true(chord_in_oc(0, 7, 7));
    assert_true(chord_in_oc(UINT64_MAX, 7, 7));
    /* the extremes of the ring */
    assert_true(chord_in_oc(UINT64_MAX, 0, UINT64_MAX));
    assert_false(chord_in_oc(0, 0, UINT64_MAX));
    assert_true(chord_in_oc(0, UINT64_MAX, 0));
    assert_false(chord_in_oc(1, UINT64_MAX, 0));
}

static void test_chord_interval_open(void **state)
{
    (void)state;
    assert_false(chord_in_oo(10, 10, 20));
    assert_true(chord_in_oo(15, 10, 20));
    assert_false(chord_in_oo(20, 10, 20));
    /* adjacent ends: empty */
    assert_false(chord_in_oo(10, 10, 11));
    assert_false(chord_in_oo(11, 10, 11));
    /* wrap-around */
    uint64_t a = UINT64_MAX - 9;
    assert_true(chord_in_oo(0, a, 5));
    assert_true(chord_in_oo(4, a, 5));
    assert_false(chord_in_oo(5, a, 5));
    assert_false(chord_in_oo(a, a, 5));
    assert_false(chord_in_oo(100, a, 5));
    /* (a, a) is the ring less a */
    assert_false(chord_in_oo(7, 7, 7));
    assert_true(chord_in_oo(6, 7, 7));
    assert_true(chord_in_oo(8, 7, 7));
}

static void test_chord_finger_targets(void **state)
{
    (void)state;
    assert_int_equal(chord_finger_target(100, 0), 101);
    assert_int_equal(chord_finger_target(100, 10), 100 + 1024);
    assert_true(chord_finger_target(0, 63) == UINT64_C(1) << 63);
    /* wraps modulo 2^64 */
    assert_true(chord_finger_target(UINT64_MAX, 0) == 0);
    assert_true(chord_finger_target(UINT64_C(3) << 62, 63) == UINT64_C(1) << 62);
    /* finger starts lie ever farther clockwise: (id, start_j] grows with j */
    uint64_t id = UINT64_C(0xdeadbeefcafef00d);
    for (unsigned j = 1; j < 64; j++)
        assert_true(chord_in_oc(chord_finger_target(id, j - 1), id, chord_finger_target(id, j)));
}

static void test_chord_wire_sizes(void **state)
{
    (void)state;
    /* 28 B IPv4 + UDP, 8 B Chord header, 14 B per contact, 6 B per address, 8 B key */
    assert_int_equal(chord_wire_size(CHORD_MSG_FIND_REQ, 0), 28 + 8 + 8 + 1);
    assert_int_equal(chord_wire_size(CHORD_MSG_FIND_REQ, 2), 28 + 8 + 8 + 1 + 2 * 6);
    assert_int_equal(chord_wire_size(CHORD_MSG_FIND_REP, 4), 28 + 8 + 2 + 4 * 14);
    assert_int_equal(chord_wire_size(CHORD_MSG_STAB_REQ, 0), 36);
    assert_int_equal(chord_wire_size(CHORD_MSG_STAB_REP, 16), 36 + 14 + 1 + 16 * 14);
    assert_int_equal(chord_wire_size(CHORD_MSG_NOTIFY, 0), 36 + 14);
    assert_int_equal(chord_wire_size(CHORD_MSG_FWD_REQ, 0), 36 + 8 + 6);
    assert_int_equal(chord_wire_size(CHORD_MSG_LEAVE_PRED, 3), 36 + 1 + 3 * 14);
    assert_string_equal(chord_msg_name[CHORD_MSG_FIND_REQ], "CHORD_MSG_FIND_REQ");
    assert_string_equal(chord_msg_name[CHORD_MSG_LEAVE_SUCC], "CHORD_MSG_LEAVE_SUCC");
    /* stored data: a fetch's answer carries the value, a STORE each key's, beyond the table */
    assert_int_equal(chord_wire_size(CHORD_MSG_GET_REQ, 0), 36 + 8);
    assert_int_equal(chord_wire_size(CHORD_MSG_GET_REP, 0), 36 + 1);
    assert_int_equal(chord_wire_size(CHORD_MSG_STORE, 3), 36 + 2 + 3 * 8);
    assert_int_equal(chord_wire_size(CHORD_MSG_SYNC_REQ, 2), 36 + 16 + 1 + 2 * 8);
    assert_int_equal(CHORD_MSG_COUNT, 21);
}

/* The figures in chord.c's opening comment: 472 + 16·r bytes of slab per node, 728 with the
 * default r = 16 (24 finger runs inline; more live in the node's own buffer). */
static void test_chord_node_bytes(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, chord_protocol.params), 0);
    assert_int_equal(chord_protocol.node_state_size, 472);
    assert_int_equal(chord_protocol.state_size(&cfg), 728);
    cfg.v[param_find(chord_protocol.params, "successors")].i = 64;
    assert_int_equal(chord_protocol.state_size(&cfg), 472 + 64 * 16);
    assert_int_equal(sizeof(struct chord_fingers), 8 + 16 + CHORD_RUNS_INLINE * 16);
}

static struct peer fpeer(uint64_t id, uint32_t slot)
{
    return (struct peer){ .id = id, .addr = { slot, 1 } };
}

static bool fsame(struct peer a, struct peer b)
{
    return a.id == b.id && a.addr.slot == b.addr.slot && a.addr.inc == b.addr.inc;
}

/* The table holds exactly the 64 fingers f: loading gives f back, and its runs are f with each
 * repeat of the previous finger left out, in order. */
static void assert_fingers_are(const struct chord_fingers *t, const struct peer f[CHORD_FINGERS])
{
    struct peer g[CHORD_FINGERS];
    chord_fingers_load(t, g);
    unsigned k = 0;
    for (unsigned i = 0; i < CHORD_FINGERS; i++) {
        assert_true(fsame(g[i], f[i]));
        if (i == 0 || !fsame(f[i], f[i - 1])) {
            assert_true(k < chord_fingers_nruns(t));
            assert_true(fsame(chord_fingers_run(t, k), f[i]));
            k++;
        }
    }
    assert_int_equal(chord_fingers_nruns(t), k);
    assert_int_equal(t->more.n, k > CHORD_RUNS_INLINE ? k - CHORD_RUNS_INLINE : 0);
}

/* Runs of equal fingers: a cleared table is one run of "none"; the low fingers naming the
 * successor are one run; 64 distinct fingers overflow into the node's buffer and come back
 * inline when a range is set; equal neighbours merge; the same address under another
 * identifier (a rejoin) is another contact. */
static void test_chord_fingers_runs(void **state)
{
    (void)state;
    struct chord_fingers t = { 0 };
    struct peer f[CHORD_FINGERS];
    struct peer none = { .id = 0, .addr = { NODE_NONE, 0 } };

    chord_fingers_clear(&t);
    for (unsigned i = 0; i < CHORD_FINGERS; i++)
        f[i] = none;
    assert_int_equal(chord_fingers_nruns(&t), 1);
    assert_fingers_are(&t, f);

    /* a ring of about 2^20 nodes: fingers 0..43 the successor, then 20 distinct */
    for (unsigned i = 0; i < CHORD_FINGERS; i++)
        f[i] = fpeer(i < 44 ? 7 : 1000 + i, i < 44 ? 3 : 100 + i);
    chord_fingers_store(&t, f);
    assert_int_equal(chord_fingers_nruns(&t), 21);
    assert_fingers_are(&t, f);

    /* 64 distinct fingers: 24 runs inline, 40 in the buffer */
    for (unsigned i = 0; i < CHORD_FINGERS; i++)
        f[i] = fpeer(500 + i, 200 + i);
    chord_fingers_store(&t, f);
    assert_int_equal(chord_fingers_nruns(&t), 64);
    assert_int_equal(t.more.n, 40);
    assert_fingers_are(&t, f);
    chord_fingers_set(&t, 0, 50, fpeer(9, 9));
    for (unsigned i = 0; i < 50; i++)
        f[i] = fpeer(9, 9);
    assert_int_equal(chord_fingers_nruns(&t), 15);
    assert_fingers_are(&t, f);

    /* setting the runs between two equal ones merges all three */
    chord_fingers_set(&t, 50, 60, fpeer(9, 9));
    for (unsigned i = 50; i < 60; i++)
        f[i] = fpeer(9, 9);
    assert_int_equal(chord_fingers_nruns(&t), 5);
    assert_fingers_are(&t, f);

    /* the same address with another identifier is a run of its own */
    chord_fingers_set(&t, 20, 21, fpeer(10, 9));
    f[20] = fpeer(10, 9);
    assert_int_equal(chord_fingers_nruns(&t), 7);
    assert_fingers_are(&t, f);

    chord_fingers_free(&t);
    assert_null(t.more.v);
}

/* Random range writes from a palette of 48 contacts and "none" agree with a plain array of 64
 * fingers after every write, through overflow and back. */
static void test_chord_fingers_random_writes(void **state)
{
    (void)state;
    struct chord_fingers t = { 0 };
    struct peer f[CHORD_FINGERS];
    struct peer none = { .id = 0, .addr = { NODE_NONE, 0 } };
    chord_fingers_clear(&t);
    for (unsigned i = 0; i < CHORD_FINGERS; i++)
        f[i] = none;
    uint64_t x = 88172645463325252u;
    unsigned most = 0;
    for (unsigned step = 0; step < 20000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned lo = (unsigned)(x % CHORD_FINGERS);
        unsigned len = (unsigned)(x >> 8) % (step % 3 ? 2 : 20);
        unsigned hi = lo + len > CHORD_FINGERS ? CHORD_FINGERS : lo + len;
        unsigned c = (unsigned)(x >> 20) % 49;
        struct peer p = c == 48 ? none : fpeer(c, c % 40);
        chord_fingers_set(&t, lo, hi, p);
        for (unsigned i = lo; i < hi; i++)
            f[i] = p;
        assert_fingers_are(&t, f);
        if (chord_fingers_nruns(&t) > most)
            most = chord_fingers_nruns(&t);
    }
    assert_true(most > CHORD_RUNS_INLINE);              /* the buffer was used */
    chord_fingers_free(&t);
}

static void test_chord_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, chord_protocol.params), 0);
    const char *names[] = { "successors", "stabilize", "fix_fingers", "check_predecessor",
                            "mode", "timeout", "retries" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        assert_int_equal(param_find(chord_protocol.params, names[k]), (int)k);
    assert_int_equal(cfg.v[0].i, 16);               /* r = 16 */
    assert_int_equal(cfg.v[1].i, 30 * 1000000);     /* stabilize 30 s */
    assert_int_equal(cfg.v[4].i, 0);                /* iterative */
    assert_int_equal(cfg.v[6].i, 0);                /* no re-sends: the paper's reliable network */
    /* routing only by default (store: off); with store: on, one copy of 8 KB per key */
    assert_int_equal(cfg.v[param_find(chord_protocol.params, "store")].i, 0);
    assert_int_equal(cfg.v[param_find(chord_protocol.params, "replicas")].i, 1);
    assert_int_equal(cfg.v[param_find(chord_protocol.params, "value_size")].i, 8192);
    /* the largest body holds a successor list of r + 1 contacts of 16 bytes */
    size_t small = chord_protocol.msg_body_max(&cfg);
    assert_true(small >= 17 * 16 && small < 18 * 16 + 16);
    cfg.v[0].i = 64;
    assert_true(chord_protocol.msg_body_max(&cfg) >= 65 * 16);
    assert_int_equal(chord_protocol.keys, KEYS_SUCCESSOR);
    assert_non_null(chord_protocol.converge);
    assert_non_null(chord_protocol.leave);
    assert_non_null(chord_protocol.down);           /* frees the lookups a node was running */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chord_interval_half_open),
        cmocka_unit_test(test_chord_interval_open),
        cmocka_unit_test(test_chord_finger_targets),
        cmocka_unit_test(test_chord_wire_sizes),
        cmocka_unit_test(test_chord_node_bytes),
        cmocka_unit_test(test_chord_fingers_runs),
        cmocka_unit_test(test_chord_fingers_random_writes),
        cmocka_unit_test(test_chord_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
