/* test_locality.c — "a node reads only its own state" is enforced: in a checked build
 * (P2PLAB_CHECK) a handler that reads another node's state, a pool record another node owns,
 * or another node's identifier, stops the run, while converge and gauges, which may read every
 * node, run through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "tests/harness.h"

struct snoop_node {
    uint64_t id;
    uint32_t ticks;
    uint32_t rec;                     /* its record in the pool */
};

struct snoop_rec {
    struct kit_op op;
    uint32_t ticks;
};

enum snoop_peek { SNOOP_OWN, SNOOP_STATE, SNOOP_RECORD, SNOOP_ID };
static enum snoop_peek snoop_peeks;   /* what of the other node the handler reads */
static struct kit_pool snoop_pool;

static int snoop_setup(struct sim *s, const struct proto_config *cfg)
{
    (void)cfg;
    kit_pool_init(&snoop_pool, sizeof(struct snoop_rec), 4, sim_capacity(s), "snoop records");
    return 0;
}

static void snoop_teardown(struct sim *s)
{
    (void)s;
    kit_pool_free(&snoop_pool);
}

static void snoop_join(struct sim *s, node_t n) { (void)s, (void)n; }

static void snoop_converge(struct sim *s)
{
    node_t live[4];
    node_t k = sim_converge_live(s, live, 4);
    for (node_t i = 0; i < k; i++) {                              /* every node: allowed */
        struct snoop_node *nd = sim_state(s, live[i]);
        nd->id = sim_node_id(s, live[i]);
        nd->rec = kit_pool_alloc(&snoop_pool, live[i]);
        sim_timer(s, live[i], 0, 1000000, 0);
    }
}

static void snoop_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    (void)kind, (void)arg;
    struct snoop_node *nd = sim_state(s, n);                      /* its own: allowed */
    nd->ticks++;
    ((struct snoop_rec *)kit_pool_rec(s, &snoop_pool, nd->rec))->ticks++;   /* its own */
    if (snoop_peeks == SNOOP_STATE) {
        const struct snoop_node *other = sim_state_const(s, n ^ 1);  /* another node's */
        nd->ticks += other->ticks;
    } else if (snoop_peeks == SNOOP_RECORD) {
        uint32_t theirs = nd->rec ^ 1;                            /* converge: n0 got 0, n1 1 */
        nd->ticks += ((struct snoop_rec *)kit_pool_rec(s, &snoop_pool, theirs))->ticks;
    } else if (snoop_peeks == SNOOP_ID) {
        nd->ticks += (uint32_t)(sim_node_id(s, n ^ 1) & 1);     /* another node's identifier */
    }
    sim_timer(s, n, 0, 1000000, 0);
}

static void snoop_on_message(struct sim *s, node_t n, const struct msg *m) { (void)s, (void)n, (void)m; }
static void snoop_on_timeout(struct sim *s, node_t n, const struct rpc *r) { (void)s, (void)n, (void)r; }

static void snoop_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t id)
{
    (void)origin, (void)key;
    sim_lookup_done(s, id, OUTCOME_NOT_FOUND, ADDR_NONE, 0);
}

static size_t snoop_entries(const struct sim *s, node_t n)
{
    return ((const struct snoop_node *)sim_state_const(s, n))->ticks > 0;
}

static const char *const snoop_gauges[] = { "ticks.total", NULL };

static double snoop_gauge(struct sim *s, uint32_t g)
{
    (void)g;
    double sum = 0;
    for (node_t n = 0; n < 2; n++)                                /* every node: allowed */
        sum += ((const struct snoop_node *)sim_state_const(s, n))->ticks;
    return sum;
}

static const struct protocol snoop_protocol = {
    .name = "snoop", .summary = "test", .keys = KEYS_SUCCESSOR,
    .node_state_size = sizeof(struct snoop_node),
    .setup = snoop_setup, .join = snoop_join, .on_message = snoop_on_message,
    .on_timer = snoop_on_timer, .on_timeout = snoop_on_timeout, .lookup = snoop_lookup,
    .state_entries = snoop_entries, .converge = snoop_converge, .teardown = snoop_teardown,
    .gauges = snoop_gauges, .gauge = snoop_gauge,
};

/* Runs the snoop protocol over two nodes for 10 s in a child process; returns its wait status
 * and leaves its standard error in the harness folder. */
static int run_snoop(enum snoop_peek peeks, char *stderr_path, size_t len)
{
    snprintf(stderr_path, len, "%s/stderr", harness_dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(stderr_path, "w", stderr))
            _exit(3);
        snoop_peeks = peeks;
        char err[512];
        struct scn_doc *d = scn_load_string("duration: 10s\nsample: 5s\nnodes: 2\n"
                                            "workload: { lookups: { rate: 1/min } }\n"
                                            "protocols: { chord: {} }\n", "snoop.yaml", err,
                                            sizeof err);
        struct scenario sc;
        if (!d || scn_resolve(d, 0, &sc, err, sizeof err) != 0)
            _exit(4);
        struct run_result r;
        int rc = run_cell_with(&snoop_protocol, &sc, 0, 1, NULL, &r, err, sizeof err);
        _exit(rc == 0 ? 0 : 5);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void test_locality_own_state_converge_and_gauges_pass(void **state)
{
    (void)state;
    char path[128];
    int st = run_snoop(SNOOP_OWN, path, sizeof path);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

#ifdef P2PLAB_CHECK
static void expect_stopped(enum snoop_peek peeks)
{
    char path[128];
    int st = run_snoop(peeks, path, sizeof path);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
    char *text = harness_slurp(path, NULL);
    if (!strstr(text, "snoop: locality violated: a handler running for node 0 read the state of node 1") &&
        !strstr(text, "snoop: locality violated: a handler running for node 1 read the state of node 0"))
        fail_msg("unexpected message: %s", text);
    free(text);
}
#endif

static void test_locality_reading_another_node_is_stopped(void **state)
{
    (void)state;
#ifndef P2PLAB_CHECK
    skip();                           /* the check is compiled in with -DP2PLAB_CHECK=ON only */
#else
    expect_stopped(SNOOP_STATE);      /* its slab record */
    expect_stopped(SNOOP_RECORD);     /* a pool record it owns */
    expect_stopped(SNOOP_ID);         /* its identifier */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_locality_own_state_converge_and_gauges_pass,
                                        harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_locality_reading_another_node_is_stopped,
                                        harness_dir_make, harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
