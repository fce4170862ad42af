/* test_napster.c — Napster's pure parts: the parameter table and its ranges, the wire sizes of
 * the message table, the results body it sizes the event records for, and the documented
 * bytes per node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/napster_internal.h"

static void test_napster_params(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, napster_protocol.params), 0);
    const char *names[] = { "servers", "keepalive", "rpc_timeout", "retry", "max_results",
                            "ping_candidates" };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        assert_int_equal(param_find(napster_protocol.params, names[k]), (int)k);
    assert_null(napster_protocol.params[sizeof names / sizeof names[0]].name);
    assert_int_equal(cfg.v[0].i, 1);                /* one central server */
    assert_int_equal(cfg.v[1].i, 60 * 1000000);     /* keep-alive every 60 s */
    assert_int_equal(cfg.v[2].i, 5 * 1000000);
    assert_int_equal(cfg.v[3].i, 30 * 1000000);
    assert_int_equal(cfg.v[4].i, 100);              /* MAX_RESULTS 100 */
    assert_int_equal(cfg.v[5].i, 4);                /* P = 4 candidates pinged */
    /* the servers hook asks for exactly `servers` dedicated nodes */
    assert_non_null(napster_protocol.servers);
    assert_int_equal(napster_protocol.servers(&cfg), 1);
    cfg.v[0].i = 3;
    assert_int_equal(napster_protocol.servers(&cfg), 3);
    assert_int_equal(napster_protocol.keys, KEYS_FILES);
    assert_non_null(napster_protocol.converge);
    assert_non_null(napster_protocol.leave);
    assert_null(napster_protocol.insert);           /* files are uploaded at login, not inserted */
}

/* Out-of-range values are refused with the range in the message. */
static void test_napster_param_ranges(void **state)
{
    (void)state;
    const struct param *p = napster_protocol.params;
    union pval v;
    const char *err = NULL;
    assert_int_equal(param_parse(&p[0], "0", &v, &err), -1);          /* no server */
    assert_non_null(err);
    assert_int_equal(param_parse(&p[0], "65", &v, &err), -1);
    assert_int_equal(param_parse(&p[0], "64", &v, &err), 0);
    assert_int_equal(v.i, 64);
    assert_int_equal(param_parse(&p[4], "0", &v, &err), -1);          /* max_results >= 1 */
    assert_int_equal(param_parse(&p[4], "1001", &v, &err), -1);
    assert_int_equal(param_parse(&p[5], "0", &v, &err), -1);          /* ping at least one */
    assert_int_equal(param_parse(&p[1], "2min", &v, &err), 0);
    assert_int_equal(v.i, 120 * 1000000);
}

/* Sizes from the OpenNap description of the protocol: 40 B TCP/IP, 4 B <length><type>, login
 * 44 B, a shared-file notification 125 B, search 64 B, a result 151 B, ping/pong 16 B, and
 * 84 B ICMP echoes between clients. */
static void test_napster_wire_sizes(void **state)
{
    (void)state;
    assert_int_equal(napster_wire_size(NAPSTER_MSG_UPLOAD_REQ, 0), 40 + 4 + 44);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_UPLOAD_REQ, 20), 88 + 20 * 125);   /* ∝ the list */
    assert_int_equal(napster_wire_size(NAPSTER_MSG_UPLOAD_REQ, 64) - napster_wire_size(NAPSTER_MSG_UPLOAD_REQ, 63), 125);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_UPLOAD_REP, 0), 40 + 4 + 20);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_GOODBYE, 0), 44);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_KEEPALIVE_REQ, 0), 56);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_KEEPALIVE_REP, 0), 56);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_QUERY_REQ, 0), 108);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_QUERY_REP, 0), 44);                /* end of search */
    assert_int_equal(napster_wire_size(NAPSTER_MSG_QUERY_REP, 100), 44 + 100 * 151);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_FORWARD_REQ, 0), 120);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_FORWARD_REP, 3), 44 + 3 * 151);
    assert_int_equal(napster_wire_size(NAPSTER_MSG_PING_REQ, 0), 84);                 /* no TCP */
    assert_int_equal(napster_wire_size(NAPSTER_MSG_PING_REP, 5), 84);                 /* no list */
    assert_string_equal(napster_msg_name[NAPSTER_MSG_UPLOAD_REQ], "NAPSTER_MSG_UPLOAD_REQ");
    assert_string_equal(napster_msg_name[NAPSTER_MSG_PING_REP], "NAPSTER_MSG_PING_REP");
    for (unsigned t = 0; t < NAPSTER_MSG_COUNT; t++)
        assert_non_null(napster_msg_name[t]);
}

/* The largest body is a results list of max_results addresses (8 B each, after a 8 B head),
 * or an upload batch of 64 file ids: it grows with max_results and nothing else. */
static void test_napster_body_max(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, napster_protocol.params), 0);
    size_t b100 = napster_protocol.msg_body_max(&cfg);
    assert_true(b100 >= 8 + 100 * 8);
    assert_true(b100 >= 16 + 64 * 8);
    cfg.v[4].i = 1000;
    size_t b1000 = napster_protocol.msg_body_max(&cfg);
    assert_int_equal(b1000 - b100, 900 * 8);
    assert_true(b1000 < 16384);
}

/* The figure in napster.c's opening comment: 72 bytes of slab per node (a server's directory
 * header; a client uses 32 of them). */
static void test_napster_node_bytes(void **state)
{
    (void)state;
    assert_int_equal(napster_protocol.node_state_size, 72);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_napster_params),
        cmocka_unit_test(test_napster_param_ranges),
        cmocka_unit_test(test_napster_wire_sizes),
        cmocka_unit_test(test_napster_body_max),
        cmocka_unit_test(test_napster_node_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
