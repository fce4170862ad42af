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

/* The figures in chord.c's opening comment: 1,088 + 16·r bytes of slab per node, 1,344 with the
 * default r = 16. */
static void test_chord_node_bytes(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, chord_protocol.params), 0);
    assert_int_equal(chord_protocol.node_state_size, 1088);
    assert_int_equal(chord_protocol.state_size(&cfg), 1344);
    cfg.v[param_find(chord_protocol.params, "successors")].i = 64;
    assert_int_equal(chord_protocol.state_size(&cfg), 1088 + 64 * 16);
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
        cmocka_unit_test(test_chord_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
