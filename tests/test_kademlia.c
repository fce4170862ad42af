/* test_kademlia.c — Kademlia's pure parts: XOR buckets, random ids in a bucket, wire sizes,
 * the parameter table and the documented bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/kademlia_internal.h"
#include "protocols/kit.h"

static void test_kademlia_bucket_index(void **state)
{
    (void)state;
    assert_int_equal(kad_bucket_index(0, 1), 0);
    assert_int_equal(kad_bucket_index(0, 2), 1);
    assert_int_equal(kad_bucket_index(0, 3), 1);
    assert_int_equal(kad_bucket_index(0, UINT64_MAX), 63);
    assert_int_equal(kad_bucket_index(UINT64_C(1) << 63, 0), 63);
    assert_int_equal(kad_bucket_index(0xF0, 0xF1), 0);
    assert_int_equal(kad_bucket_index(0xF0, 0x70), 7);
}

static void test_kademlia_xor_closer(void **state)
{
    (void)state;
    assert_true(kad_closer(0x10, 0x20, 0x11));       /* 0x01 < 0x31 */
    assert_false(kad_closer(0x20, 0x10, 0x11));
    assert_false(kad_closer(7, 7, 3));                /* strict */
    /* XOR is not numeric distance: 8 is numerically nearer 7 than 0 is, but farther in XOR */
    assert_true(kad_closer(0, 8, 7));
}

static void test_kademlia_bucket_random(void **state)
{
    (void)state;
    uint64_t self = UINT64_C(0x0123456789ABCDEF);
    for (unsigned i = 0; i < 64; i++)
        for (uint64_t r = 0; r < 4; r++) {
            uint64_t id = kad_bucket_random(self, i, r * UINT64_C(0x9E3779B97F4A7C15));
            assert_int_equal(kad_bucket_index(self, id), i);
        }
}

/* Sizes from the opening comment of kademlia.c: 28 B IPv4+UDP, 17 B header, contacts 14 B. */
static void test_kademlia_wire_sizes(void **state)
{
    (void)state;
    assert_int_equal(kad_wire_size(KAD_MSG_PING_REQ, 0), 45);
    assert_int_equal(kad_wire_size(KAD_MSG_FIND_NODE_REQ, 0), 53);
    assert_int_equal(kad_wire_size(KAD_MSG_FIND_VALUE_REQ, 0), 53);
    assert_int_equal(kad_wire_size(KAD_MSG_NODES_REP, 20), 45 + 1 + 20 * 14);
    assert_int_equal(kad_wire_size(KAD_MSG_VALUE_REP, 0), 45 + 16);
    assert_int_equal(kad_wire_size(KAD_MSG_STORE_REQ, 0), 45 + 20);
    assert_string_equal(kad_msg_name[KAD_MSG_NODES_REP], "KAD_MSG_NODES_REP");
    assert_string_equal(kad_msg_name[KAD_MSG_STORE_REP], "KAD_MSG_STORE_REP");
}

static void test_kademlia_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, kademlia_protocol.params), 0);
    const struct param *p = kademlia_protocol.params;
    assert_int_equal(cfg.v[param_find(p, "k")].i, 20);
    assert_int_equal(cfg.v[param_find(p, "alpha")].i, 3);
    assert_int_equal(cfg.v[param_find(p, "refresh")].i, INT64_C(3600000000));
    assert_int_equal(cfg.v[param_find(p, "republish")].i, INT64_C(3600000000));
    assert_int_equal(cfg.v[param_find(p, "publish")].i, INT64_C(86400000000));
    assert_int_equal(cfg.v[param_find(p, "expire")].i, INT64_C(86400000000));
    for (size_t k = 0; p[k].name; k++)
        assert_non_null(p[k].doc);
    /* the largest body: a NODES_REP with k contacts */
    assert_true(kademlia_protocol.msg_body_max(&cfg) >= 16 + 20 * sizeof(struct peer));
}

/* The opening comment of kademlia.c: 480 bytes of slab per node, all of its state but the
 * buffers of its vectors, and no state_size hook (no table sized from the configuration). */
static void test_kademlia_bytes_per_node(void **state)
{
    (void)state;
    assert_int_equal(kademlia_protocol.node_state_size, 480);
    assert_null(kademlia_protocol.state_size);
    assert_non_null(kademlia_protocol.down);
    assert_int_equal(kademlia_protocol.keys, KEYS_XOR);
    assert_non_null(kademlia_protocol.converge);
    assert_non_null(kademlia_protocol.insert);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kademlia_bucket_index),
        cmocka_unit_test(test_kademlia_xor_closer),
        cmocka_unit_test(test_kademlia_bucket_random),
        cmocka_unit_test(test_kademlia_wire_sizes),
        cmocka_unit_test(test_kademlia_params),
        cmocka_unit_test(test_kademlia_bytes_per_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
