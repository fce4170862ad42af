/* test_invariant.c — protocol invariants in the checked build (sim/invariant.h): Chord's,
 * Pastry's, Kelips' and Kademlia's rules hold through small runs, stable and under churn, and
 * a node whose state is broken on purpose stops the run with a message naming the node and
 * the rule. In other builds the checks compile to nothing and the runs simply pass. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocols/protocol.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "tests/harness.h"

/* 64 nodes, converged, no churn: every rule is judged, Chord's and Pastry's included. */
static const char stable_yaml[] =
    "duration: 20s\nsample: 2s\nnodes: { count: 64, start: converged }\n"
    "workload: { keys: 200, lookups: { rate: 10/s } }\n";
/* 96 nodes under churn (sessions of 30 s median, crashes and graceful leaves), then a crash of
 * a quarter and new joins: the rules that always hold are judged, the ring's are not. */
static const char churn_yaml[] =
    "duration: 60s\nsample: 2s\nnodes: { count: 96, start: converged }\n"
    "churn: { session: { dist: exponential, median: 30s }, downtime: { dist: exponential, "
    "mean: 10s }, crash_fraction: 0.5,\n"
    "         events: [ { at: 20s, crash: 0.25 }, { at: 30s, join: 16 } ] }\n"
    "workload: { keys: 200, lookups: { rate: 10/s } }\n";

static const char *const judged[] = { "chord", "pastry", "kelips", "kademlia" };
#define N_JUDGED (sizeof judged / sizeof judged[0])

/* Loads `yaml` with the protocol `name` appended into sc, or fails the test; free the
 * document it returns once the run is over. */
static struct scn_doc *load(const char *yaml, const char *name, struct scenario *sc)
{
    char text[1024], err[512];
    snprintf(text, sizeof text, "%sprotocols: { %s: {} }\n", yaml, name);
    struct scn_doc *d = scn_load_string(text, "invariant.yaml", err, sizeof err);
    if (!d || scn_resolve(d, 0, sc, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
    return d;
}

static void run_clean(const char *yaml)
{
    for (size_t k = 0; k < N_JUDGED; k++) {
        struct scenario sc;
        struct scn_doc *d = load(yaml, judged[k], &sc);
        struct run_result r;
        char err[512];
        if (run_cell(&sc, 0, 1, NULL, &r, err, sizeof err) != 0)
            fail_msg("%s: %s", judged[k], err);
        run_result_free(&r);
        scn_free(d);
    }
}

static void test_invariant_hold_when_stable(void **state)
{
    (void)state;
    run_clean(stable_yaml);
}

static void test_invariant_hold_under_churn(void **state)
{
    (void)state;
    run_clean(churn_yaml);
}

#ifdef P2PLAB_CHECK
/* The protocol under test with its check wrapped: node 0's state is broken just before the
 * first judgement, through the protocol's own test hook. */
static const struct protocol *breaking;

static void break_then_check(struct sim *s)
{
    breaking->invariant_break(s, 0);
    breaking->check_invariants(s);
}

/* Runs `name` over the stable scenario in a child process with node 0 broken; expects the
 * abort and a message naming the protocol, node 0 and `rule`. */
static void expect_stopped(const char *name, const char *rule)
{
    const struct protocol *p = protocol_find(name);
    assert_non_null(p);
    assert_non_null(p->check_invariants);
    assert_non_null(p->invariant_break);
    char path[128];
    snprintf(path, sizeof path, "%s/stderr", harness_dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(path, "w", stderr))
            _exit(3);
        struct protocol broken = *p;
        breaking = p;
        broken.check_invariants = break_then_check;
        struct scenario sc;
        load(stable_yaml, name, &sc);   /* the child exits without freeing */
        struct run_result r;
        char err[512];
        int rc = run_cell_with(&broken, &sc, 0, 1, NULL, &r, err, sizeof err);
        _exit(rc == 0 ? 0 : 5);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    char *text = harness_slurp(path, NULL);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        fail_msg("%s: not stopped (status %d): %s", name, st, text);
    char head[128];
    snprintf(head, sizeof head, "p2plab: %s: invariant broken at t = 2.000000 s: node 0 (id ", name);
    if (!strstr(text, head) || !strstr(text, rule))
        fail_msg("%s: unexpected message: %s", name, text);
    free(text);
}
#endif

static void test_invariant_broken_state_stops_the_run(void **state)
{
    (void)state;
#ifndef P2PLAB_CHECK
    skip();                           /* the checks are compiled in with -DP2PLAB_CHECK=ON only */
#else
    expect_stopped("chord", "its successor is not the next live node clockwise");
    expect_stopped("pastry", "its leaf set holds");
    expect_stopped("kelips", "its view of group");
    expect_stopped("kademlia", "outside [2^");
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invariant_hold_when_stable),
        cmocka_unit_test(test_invariant_hold_under_churn),
        cmocka_unit_test_setup_teardown(test_invariant_broken_state_stops_the_run,
                                        harness_dir_make, harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
