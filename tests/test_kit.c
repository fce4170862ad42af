/* test_kit.c — the protocol kit: pools, message tables, vectors, and the join back-off and
 * watchdog run inside a small protocol made for the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"
#include "sim/run.h"
#include "sim/scenario.h"

/* ---- pools --------------------------------------------------------------------------- */

struct test_rec {
    struct kit_op op;
    uint64_t payload;
};

static void test_kit_pool_contexts_name_one_record_of_one_node(void **state)
{
    (void)state;
    struct kit_pool p;
    kit_pool_init(&p, sizeof(struct test_rec), 2, 4, "test records");
    uint32_t a = kit_pool_alloc(&p, 1);
    ((struct test_rec *)kit_pool_at(&p, a))->payload = 42;
    uint64_t ctx = kit_pool_ctx(&p, a);
    assert_int_equal(kit_pool_get(&p, 1, ctx), a);
    assert_int_equal(kit_pool_get(&p, 2, ctx), KIT_NONE);        /* another node's record */
    assert_int_equal(kit_pool_get(&p, 1, ctx ^ ((uint64_t)1 << 32)), KIT_NONE);  /* other gen */
    assert_int_equal(kit_pool_get(&p, 1, 99), KIT_NONE);         /* out of range */
    kit_pool_release(&p, a);
    assert_int_equal(kit_pool_get(&p, 1, ctx), KIT_NONE);        /* freed: stale */
    uint32_t b = kit_pool_alloc(&p, 1);
    assert_int_equal(b, a);                                       /* reused, last freed first */
    assert_int_equal(((struct test_rec *)kit_pool_at(&p, b))->payload, 0);  /* zeroed */
    assert_int_equal(kit_pool_get(&p, 1, ctx), KIT_NONE);        /* reused: still stale */
    assert_int_equal(kit_pool_get(&p, 1, kit_pool_ctx(&p, b)), b);
    kit_pool_free(&p);
}

static void test_kit_pool_grows_and_frees_what_a_node_owned(void **state)
{
    (void)state;
    struct kit_pool p;
    kit_pool_init(&p, sizeof(struct test_rec), 1, 3, "test records");
    uint32_t mine[5];
    uint64_t ctx[5];
    for (int k = 0; k < 5; k++) {
        mine[k] = kit_pool_alloc(&p, (node_t)(k % 2));           /* nodes 0 and 1 alternate */
        ctx[k] = kit_pool_ctx(&p, mine[k]);
    }
    assert_true(p.cap >= 5);
    assert_int_equal(p.in_use, 5);
    for (int k = 0; k < 5; k++)
        assert_int_equal(kit_pool_get(&p, (node_t)(k % 2), ctx[k]), mine[k]);
    uint32_t walked = 0;
    for (uint32_t i = kit_pool_first(&p, 1); i != KIT_NONE; i = kit_pool_next(&p, i), walked++)
        assert_int_equal(((struct kit_op *)kit_pool_at(&p, i))->owner, 1);
    assert_int_equal(walked, 2);                                  /* mine[1], mine[3] */
    uint32_t parked = KIT_NONE;                                   /* park two, take them back */
    kit_park(&p, &parked, mine[0]);
    kit_park(&p, &parked, mine[4]);
    assert_int_equal(kit_unpark(&p, &parked), mine[4]);
    assert_int_equal(kit_unpark(&p, &parked), mine[0]);
    assert_int_equal(kit_unpark(&p, &parked), KIT_NONE);
    kit_pool_release(&p, mine[2]);                                /* node 0's middle record */
    kit_pool_node_down(&p, 0);
    assert_int_equal(p.in_use, 2);
    for (int k = 0; k < 5; k++)
        assert_int_equal(kit_pool_get(&p, (node_t)(k % 2), ctx[k]), k % 2 ? mine[k] : KIT_NONE);
    kit_pool_node_down(&p, 1);
    kit_pool_node_down(&p, 2);                                    /* owns nothing */
    assert_int_equal(p.in_use, 0);
    kit_pool_free(&p);
}

/* ---- message tables ------------------------------------------------------------------- */

#define TEST_OVERHEAD 36
#define TEST_MESSAGES(X)                                                                       \
    X(TEST_MSG_PING, 0, 0)                                                                     \
    X(TEST_MSG_LIST, 3, 14)
KIT_MSG_TABLE(test, TEST, TEST_MESSAGES, TEST_OVERHEAD);

static void test_kit_msg_table_names_and_sizes(void **state)
{
    (void)state;
    assert_int_equal(TEST_MSG_COUNT, 2);
    assert_int_equal(test_msgs.count, 2);
    assert_string_equal(test_msg_name[TEST_MSG_LIST], "TEST_MSG_LIST");
    assert_int_equal(kit_wire_size(&test_msgs, TEST_MSG_PING, 0), 36);
    assert_int_equal(kit_wire_size(&test_msgs, TEST_MSG_LIST, 5), 36 + 3 + 5 * 14);
}

/* ---- vectors ---------------------------------------------------------------------------- */

struct keyed {
    uint64_t key;
    uint32_t v;
};

static void test_kit_vec_keeps_keys_sorted(void **state)
{
    (void)state;
    struct kit_vec v = { 0 };
    const uint64_t keys[] = { 50, 10, 30, 70, 20, 60, 40, 80, 90, 5 };   /* past the first 8 */
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        uint32_t at = kit_vec_lower_bound(&v, sizeof(struct keyed), keys[k]);
        struct keyed *e = kit_vec_insert(&v, at, sizeof *e, "test vector");
        *e = (struct keyed){ keys[k], (uint32_t)k };
    }
    assert_int_equal(v.n, 10);
    assert_true(v.cap >= 10);
    const struct keyed *e = v.v;
    for (uint32_t k = 1; k < v.n; k++)
        assert_true(e[k - 1].key < e[k].key);
    assert_int_equal(kit_vec_lower_bound(&v, sizeof *e, 30), 3);      /* 5 10 20 [30] */
    assert_int_equal(kit_vec_lower_bound(&v, sizeof *e, 31), 4);
    assert_int_equal(kit_vec_lower_bound(&v, sizeof *e, 1000), 10);
    kit_vec_remove(&v, 0, sizeof *e);
    e = v.v;
    assert_int_equal(v.n, 9);
    assert_int_equal(e[0].key, 10);
    assert_int_equal(e[0].v, 1);
    kit_vec_free(&v);
    assert_null(v.v);
    assert_int_equal(v.n, 0);
}

/* ---- the join back-off and watchdog, inside a run ------------------------------------- */

/* A protocol that only joins: it asks the introducer, drops the first answer on purpose (as if
 * lost), lets the watchdog ask again, and records the back-off delays it draws. */
enum { JOINER_WATCHDOG, JOINER_RETRY };

struct joiner_node {
    struct kit_join join;
    uint32_t answers, watchdogs, stale_watchdogs;
};

static int64_t joiner_delays[16];
static unsigned joiner_n_delays;
static struct joiner_node joiner_seen;

static int joiner_setup(struct sim *s, const struct proto_config *cfg)
{
    (void)s;
    (void)cfg;
    return 0;
}

static void joiner_join(struct sim *s, node_t n)
{
    struct joiner_node *nd = sim_state(s, n);
    if (n == 0)
        kit_join_ask(s, n, &nd->join, JOINER_WATCHDOG, 1000000);
}

static void joiner_on_message(struct sim *s, node_t n, const struct msg *m)
{
    struct joiner_node *nd = sim_state(s, n);
    if (m->type != MSG_INTRODUCER_REPLY)
        return;
    if (nd->watchdogs == 0)
        return;                       /* the first answer is "lost" */
    if (kit_join_answered(&nd->join)) {
        nd->answers++;
        for (unsigned k = 0; k < 10; k++)
            joiner_delays[joiner_n_delays++] = kit_backoff(s, &nd->join, 1000);
        joiner_seen = *nd;
    }
    assert_false(kit_join_answered(&nd->join));                  /* a second answer: dropped */
}

static void joiner_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct joiner_node *nd = sim_state(s, n);
    if (kind != JOINER_WATCHDOG)
        return;
    assert_true(kit_join_unanswered(&nd->join, arg) == (nd->join.asking && arg == nd->join.epoch));
    if (!kit_join_timed_out(&nd->join, arg)) {
        nd->stale_watchdogs++;
        return;
    }
    nd->watchdogs++;
    assert_false(nd->join.asking);                                /* given up */
    kit_join_ask(s, n, &nd->join, JOINER_WATCHDOG, 1000000);
}

static void joiner_on_timeout(struct sim *s, node_t n, const struct rpc *r)
{
    (void)s, (void)n, (void)r;
}

static void joiner_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t id)
{
    (void)origin, (void)key;
    sim_lookup_done(s, id, OUTCOME_NOT_FOUND, ADDR_NONE, 0);
}

static size_t joiner_entries(const struct sim *s, node_t n)
{
    (void)s, (void)n;
    return 0;
}

static const struct protocol joiner_protocol = {
    .name = "joiner", .summary = "test", .keys = KEYS_SUCCESSOR,
    .node_state_size = sizeof(struct joiner_node),
    .setup = joiner_setup, .join = joiner_join, .on_message = joiner_on_message,
    .on_timer = joiner_on_timer, .on_timeout = joiner_on_timeout, .lookup = joiner_lookup,
    .state_entries = joiner_entries,
};

static void test_kit_join_watchdog_asks_again_and_backs_off(void **state)
{
    (void)state;
    char err[512];
    struct scn_doc *d = scn_load_string("duration: 20s\nnodes: { count: 2, start: join, "
                                        "join_over: 1s }\nworkload: { lookups: { rate: 1/min } }\n"
                                        "protocols: { chord: {} }\n", "joiner.yaml", err, sizeof err);
    assert_non_null(d);
    struct scenario sc;
    assert_int_equal(scn_resolve(d, 0, &sc, err, sizeof err), 0);
    struct run_result r;
    joiner_n_delays = 0;
    assert_int_equal(run_cell_with(&joiner_protocol, &sc, 0, 1, NULL, &r, err, sizeof err), 0);
    run_result_free(&r);
    scn_free(d);
    assert_int_equal(joiner_seen.watchdogs, 1);                   /* asked again once */
    assert_int_equal(joiner_seen.answers, 1);
    assert_int_equal(joiner_n_delays, 10);
    /* jittered in [0.5, 1.5] x 1000 us x 2^min(k, 6) */
    for (unsigned k = 0; k < 10; k++) {
        double base = 1000.0 * (double)(1u << (k < KIT_BACKOFF_MAX ? k : KIT_BACKOFF_MAX));
        assert_true(joiner_delays[k] >= 0.5 * base && joiner_delays[k] <= 1.5 * base);
    }
    assert_int_equal(joiner_seen.join.tries, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kit_pool_contexts_name_one_record_of_one_node),
        cmocka_unit_test(test_kit_pool_grows_and_frees_what_a_node_owned),
        cmocka_unit_test(test_kit_msg_table_names_and_sizes),
        cmocka_unit_test(test_kit_vec_keeps_keys_sorted),
        cmocka_unit_test(test_kit_join_watchdog_asks_again_and_backs_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
