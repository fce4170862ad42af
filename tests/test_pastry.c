/* test_pastry.c — Pastry's pure parts: digits (with a short last digit), shared prefixes,
 * numeric distance and its tie rule, wire sizes, the parameter table and the documented
 * bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/pastry_internal.h"

static void test_pastry_digits(void **state)
{
    (void)state;
    uint64_t id = UINT64_C(0x0123456789abcdef);
    for (unsigned r = 0; r < 16; r++)
        assert_int_equal(pastry_digit(id, r, 4), r);        /* hex digits, most significant first */
    assert_int_equal(pastry_digit(id, 0, 8), 0x01);
    assert_int_equal(pastry_digit(id, 7, 8), 0xef);
    assert_int_equal(pastry_digit(UINT64_C(1) << 63, 0, 1), 1);
    assert_int_equal(pastry_digit(1, 63, 1), 1);
    /* b = 3: 22 digits, the last one a single bit padded with two zero bits */
    assert_int_equal(pastry_digit(1, 21, 3), 4);
    assert_int_equal(pastry_digit(0, 21, 3), 0);
    assert_int_equal(pastry_digit(UINT64_MAX, 20, 3), 7);
    assert_int_equal(pastry_digit(UINT64_MAX, 21, 3), 4);
    /* b = 5: 13 digits, the last has 4 bits */
    assert_int_equal(pastry_digit(UINT64_C(0xF), 12, 5), 0x1E);
}

static void test_pastry_shared_prefix(void **state)
{
    (void)state;
    assert_int_equal(pastry_shl(UINT64_C(0x1234000000000000), UINT64_C(0x1235000000000000), 4), 3);
    assert_int_equal(pastry_shl(UINT64_C(0x1234000000000000), UINT64_C(0x9234000000000000), 4), 0);
    assert_int_equal(pastry_shl(42, 42, 4), 16);
    assert_int_equal(pastry_shl(42, 42, 3), 22);
    assert_int_equal(pastry_shl(0, 1, 4), 15);
    assert_int_equal(pastry_shl(0, 1, 3), 21);                 /* differ in the short last digit */
    assert_int_equal(pastry_shl(0, 1, 1), 63);
}

static void test_pastry_distance(void **state)
{
    (void)state;
    assert_true(pastry_dist(10, 20) == 10);
    assert_true(pastry_dist(20, 10) == 10);
    assert_true(pastry_dist(UINT64_MAX, 1) == 2);             /* across zero */
    assert_true(pastry_dist(0, UINT64_C(1) << 63) == UINT64_C(1) << 63);
    assert_true(pastry_closer(12, 20, 10));
    assert_false(pastry_closer(20, 12, 10));
    assert_true(pastry_closer(UINT64_MAX, 5, 0));
    /* a tie goes to the id clockwise of the key, as the oracle's numeric metric decides */
    assert_true(pastry_closer(15, 5, 10));
    assert_false(pastry_closer(5, 15, 10));
    assert_false(pastry_closer(7, 7, 3));
}

static void test_pastry_wire_sizes(void **state)
{
    (void)state;
    /* 28 B IPv4 + UDP, 8 B Pastry header, 14 B per contact, 8 B key, 1 B flags and counts */
    assert_int_equal(pastry_wire_size(PASTRY_MSG_FWD_REQ, 0), 36 + 8 + 14 + 1);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_FWD_ACK, 0), 36);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_DONE, 0), 36 + 14);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_JOIN_STATE, 16), 36 + 2 + 16 * 14);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_LEAF_REP, 16), 36 + 1 + 16 * 14);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_ROW_REQ, 0), 37);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_ENTRY_REQ, 0), 38);
    assert_int_equal(pastry_wire_size(PASTRY_MSG_ENTRY_REP, 1), 36 + 1 + 14);
    assert_string_equal(pastry_msg_name[PASTRY_MSG_FWD_REQ], "PASTRY_MSG_FWD_REQ");
    assert_string_equal(pastry_msg_name[PASTRY_MSG_ENTRY_REP], "PASTRY_MSG_ENTRY_REP");
    assert_int_equal(pastry_wire_size(PASTRY_MSG_DONE_ACK, 0), 36);
    assert_string_equal(pastry_msg_name[PASTRY_MSG_DONE_ACK], "PASTRY_MSG_DONE_ACK");
}

/* The figures in pastry.c's opening comment: a fixed part of 216 bytes, and a slab record of
 * 6,264 bytes per node with its tables for b = 4, l = 16, M = 32. */
static void test_pastry_node_bytes(void **state)
{
    (void)state;
    assert_int_equal(pastry_protocol.node_state_size, 216);
    assert_int_equal(pastry_bytes_per_node(4, 16, 32), 6264);
    assert_int_equal(pastry_bytes_per_node(4, 16, 32), 216 + 16 * 16 * 20 + 16 * 16 + 32 * 21);
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, pastry_protocol.params), 0);
    assert_non_null(pastry_protocol.state_size);
    assert_int_equal(pastry_protocol.state_size(&cfg), 6264);
    assert_non_null(pastry_protocol.down);
}

static void test_pastry_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, pastry_protocol.params), 0);
    const char *names[] = { "b", "leaf_set", "neighbourhood", "keepalive", "table_maintenance",
                            "timeout", "converge_candidates", "retries", "dead_memory" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        assert_int_equal(param_find(pastry_protocol.params, names[k]), (int)k);
    assert_int_equal(cfg.v[0].i, 4);                 /* b = 4 */
    assert_int_equal(cfg.v[1].i, 16);                /* l = 16 */
    assert_int_equal(cfg.v[2].i, 32);                /* M = 32 */
    assert_int_equal(cfg.v[3].i, 30 * 1000000);      /* keep-alive 30 s */
    assert_int_equal(cfg.v[7].i, 0);                 /* no re-sends: the paper's reliable network,
                                                        as Chord's default */
    assert_int_equal(cfg.v[8].i, 60 * 1000000);      /* dead contacts remembered 60 s */
    /* the largest body is the M = 32 neighbours (a row is 2^b contacts and the sender) */
    size_t max = pastry_protocol.msg_body_max(&cfg);
    assert_true(max >= 32 * 16 && max < 33 * 16 + 16);
    cfg.v[0].i = 6;
    assert_true(pastry_protocol.msg_body_max(&cfg) >= 65 * 16);
    assert_int_equal(pastry_protocol.keys, KEYS_NUMERIC);
    assert_non_null(pastry_protocol.converge);
    assert_null(pastry_protocol.insert);
    assert_null(pastry_protocol.leave);              /* Pastry treats a leave as a failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pastry_digits),
        cmocka_unit_test(test_pastry_shared_prefix),
        cmocka_unit_test(test_pastry_distance),
        cmocka_unit_test(test_pastry_wire_sizes),
        cmocka_unit_test(test_pastry_node_bytes),
        cmocka_unit_test(test_pastry_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
