/* test_kademlia_e2e.c — Kademlia end to end: path length against N, lookups under churn,
 * recovery after a mass crash, and joining versus a converged start; each against its
 * published expectation, with the tolerance stated. Scenarios: tests/scenarios/kademlia-*.yaml. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/harness.h"

static double metric(const struct harness_cell *c, enum metric m) { return c->r.metric[m]; }

/* Kademlia's iterative lookup halves the distance to the key at least once per round and,
 * with k = 20 contacts per bucket, usually gains about log2 k bits (IPTPS 2002 §2.3 and the
 * §3 proof sketch: O(log N) rounds with a small constant). The bound checked here, mean rounds
 * <= ½·log2 N, is Chord's mean path length (Stoica et al., SIGCOMM 2001 §6.3), which
 * Kademlia, gaining several bits a round, must not exceed. Nothing fails, so every
 * FIND_VALUE must return the value from one of the k closest nodes. */
static void test_kademlia_e2e_path_length(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-pathlen.yaml", NULL, 0, &cells);
    assert_int_equal(n, 3);                           /* N in {2^10, 2^12, 2^14} */
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        const struct harness_cell *c = &cells[i];
        double N = c->sc.nodes.count, hops = metric(c, M_HOPS_MEAN);
        print_message("kademlia N=%6.0f: hops %.3f (1/2 log2 N = %.1f), messages %.1f, "
                      "success %.4f\n", N, hops, 0.5 * log2(N), metric(c, M_MSGS_MEAN),
                      metric(c, M_SUCCESS));
        assert_true(metric(c, M_LOOKUPS) > 1000);
        assert_true(metric(c, M_SUCCESS) == 1.0);
        assert_true(hops <= 0.5 * log2(N));
        assert_true(hops >= last);                    /* grows with N */
        last = hops;
    }
    harness_free(cells, n);
}

/* Churn with a one-hour median session, half of the departures crashes, default maintenance:
 * k = 20 replicas and α = 3 parallel lookups keep lookups succeeding (IPTPS 2002 §2.3, §4;
 * the paper's premise that nodes' uptimes make LRS buckets robust). Success >= 99%. */
static void test_kademlia_e2e_churn(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-churn.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    print_message("kademlia churn: success %.5f, hops %.3f, timeouts/lookup %.3f, wrong %.5f, "
                  "departures %.0f\n", metric(cells, M_SUCCESS), metric(cells, M_HOPS_MEAN),
                  metric(cells, M_TIMEOUTS_MEAN), metric(cells, M_FAIL_WRONG),
                  metric(cells, M_DEPARTURES));
    assert_true(metric(cells, M_DEPARTURES) > 300);   /* the churn really happened */
    assert_true(metric(cells, M_SUCCESS) >= 0.99);
    harness_free(cells, n);
}

/* Churn with a 30-minute median session, half of the departures crashes, one hour. A holder
 * keeps a value until it expires, re-publishes it hourly and hands it to every newcomer among
 * the k closest it knows (IPTPS 2002 §2.5), so some of the k = 20 copies stay live: the lookups
 * find the value (>= 99%; before values were dropped on hearing of k closer, possibly dead,
 * contacts, the reviewer measured 98.0%, all NOT_FOUND with no live holder). */
static void test_kademlia_e2e_churn_short_sessions(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-churn30.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    print_message("kademlia churn (30 min): success %.5f, hops %.3f, not found %.5f, wrong %.5f, "
                  "departures %.0f\n", metric(cells, M_SUCCESS), metric(cells, M_HOPS_MEAN),
                  metric(cells, M_FAIL_NOTFOUND), metric(cells, M_FAIL_WRONG),
                  metric(cells, M_DEPARTURES));
    assert_true(metric(cells, M_DEPARTURES) > 500);
    assert_true(metric(cells, M_SUCCESS) >= 0.99);
    harness_free(cells, n);
}

/* Joining under 5% message loss: the introducer's question or answer may be lost, and a
 * joining node asks again after an RPC timeout, with back-off (a node learns of a loss only
 * by a timeout). Every node joins: as many lookups are issued as without loss (within 3%; a
 * node issues lookups only once joined) and the routing tables are as full (within 10%). */
static void test_kademlia_e2e_join_under_loss(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-loss.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *clean = &cells[0], *lossy = &cells[1];
    print_message("kademlia loss 0: lookups %.0f state %.1f; loss 0.05: lookups %.0f state %.1f "
                  "success %.4f\n", metric(clean, M_LOOKUPS), metric(clean, M_STATE_MEAN),
                  metric(lossy, M_LOOKUPS), metric(lossy, M_STATE_MEAN), metric(lossy, M_SUCCESS));
    assert_true(metric(clean, M_LOOKUPS) > 1000);
    assert_true(fabs(metric(lossy, M_LOOKUPS) - metric(clean, M_LOOKUPS)) <=
                0.03 * metric(clean, M_LOOKUPS));
    assert_true(fabs(metric(lossy, M_STATE_MEAN) - metric(clean, M_STATE_MEAN)) <=
                0.10 * metric(clean, M_STATE_MEAN));
    harness_free(cells, n);
}

/* 30% of a stable network crashes at once. About 14 of each value's 20 copies survive and the
 * parallel lookups route around the dead contacts, learning of them only by timeouts (IPTPS
 * 2002 §2.3): every time-series interval from one interval (30 s) after the crash on must
 * show at least 99% success, the interval of the crash itself at least 95%. */
static void test_kademlia_e2e_mass_crash(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-crash.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    double crash_s = (double)c->sc.churn.events[0].at_us / 1e6;
    double sample_s = (double)c->sc.sample_us / 1e6, end_s = (double)c->sc.duration_us / 1e6;
    assert_int_equal(c->r.ts[(size_t)(crash_s / sample_s)].live, 1400);
    for (double t = crash_s; t + sample_s <= end_s; t += sample_s) {
        double ok = harness_ts_success(c, t);
        const struct ts_bucket *b = &c->r.ts[(size_t)(t / sample_s)];
        print_message("kademlia crash: t = %4.0f s  success %.4f  latency %6.0f ms\n", t, ok,
                      b->ok ? b->lat_ms_sum / b->ok : NAN);
        assert_false(isnan(ok));
        assert_true(ok >= (t < crash_s + sample_s ? 0.95 : 0.99));
    }
    harness_free(cells, n);
}

/* Joining through the introducer must reach the lookup statistics of the converged start,
 * which lays down with global knowledge the state the joins would reach: success and mean
 * hops within 5%. converge replays the paper's joins with
 * global knowledge and no messages (random join order; each node's own-id lookup and the
 * refresh of every bucket farther than its closest neighbour, computed over the tables as
 * they stand, both sides of every exchange updating their k-buckets with least-recently-seen
 * eviction), so a far bucket holds, as after a real join, the nodes met by one refresh lookup
 * clustered around its target, not k nodes drawn at random from its range. Measured (seed 2,
 * N = 1,024): converged 1.653, join 1.625 rounds (the former random-fill converge gave 1.29,
 * 26% fewer than the joins). */
static void test_kademlia_e2e_join_matches_converged(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kademlia-join.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *conv = &cells[0], *join = &cells[1];
    assert_int_equal(conv->sc.nodes.start, START_CONVERGED);
    assert_int_equal(join->sc.nodes.start, START_JOIN);
    double half = 0.5 * log2(conv->sc.nodes.count);
    print_message("kademlia converged: hops %.3f success %.5f; join: hops %.3f success %.5f\n",
                  metric(conv, M_HOPS_MEAN), metric(conv, M_SUCCESS), metric(join, M_HOPS_MEAN),
                  metric(join, M_SUCCESS));
    assert_true(metric(conv, M_SUCCESS) >= 0.99);
    assert_true(fabs(metric(join, M_SUCCESS) - metric(conv, M_SUCCESS)) <=
                0.05 * metric(conv, M_SUCCESS));
    assert_true(metric(conv, M_HOPS_MEAN) <= half && metric(join, M_HOPS_MEAN) <= half);
    assert_true(fabs(metric(join, M_HOPS_MEAN) - metric(conv, M_HOPS_MEAN)) <=
                0.05 * metric(conv, M_HOPS_MEAN));
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kademlia_e2e_path_length),
        cmocka_unit_test(test_kademlia_e2e_churn),
        cmocka_unit_test(test_kademlia_e2e_churn_short_sessions),
        cmocka_unit_test(test_kademlia_e2e_join_under_loss),
        cmocka_unit_test(test_kademlia_e2e_mass_crash),
        cmocka_unit_test(test_kademlia_e2e_join_matches_converged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
