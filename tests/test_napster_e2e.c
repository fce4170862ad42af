/* test_napster_e2e.c — Napster end to end: a complete central directory answers every search
 * for a file some other live client shares, in 2 hops; it stays so under churn; the server is a
 * single point of failure (every search fails while it is down, and the directory refills when
 * it returns); joining reaches the converged start; and a directory partitioned over 3 servers
 * still answers every answerable search. Scenarios are in tests/scenarios/napster-*.yaml. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/harness.h"

static double metric(const struct harness_cell *c, enum metric m) { return c->r.metric[m]; }

static uint64_t counter(const struct harness_cell *c, const char *name)
{
    assert_non_null(c->r.counter_name);
    for (size_t k = 0; c->r.counter_name[k]; k++)
        if (strcmp(c->r.counter_name[k], name) == 0)
            return c->r.counter[k];
    fail_msg("napster has no counter %s", name);
    return 0;
}

/* The conventions shared by the unstructured systems: hops = 2 for Napster (the server, then
 * the holder pinged), for every successful search. */
static void assert_two_hops(const struct harness_cell *c)
{
    assert_true(metric(c, M_HOPS_MEAN) == 2.0);
    assert_true(metric(c, M_HOPS_P50) == 2.0);
    assert_true(metric(c, M_HOPS_P99) == 2.0);
}

/* Napster (Saroiu et al., MMCN 2002 §2): the server's directory lists every file of every
 * logged-in client, so a search fails only if no other client shares the file. Without churn:
 * success among answerable searches must be 100% but for the searches whose only holder is the
 * searcher itself (the server leaves it out; ~1 in 10^4 here), so >= 99.9%, success equal to
 * the answerable share within 0.5%, no timeout and no wrong answer; hops exactly 2. The server
 * holds N x files per node = 1,000 x 20 tuples and receives one search per lookup plus one
 * keep-alive reply per client per 60 s (within 3%); a client's state is its one connection. */
static void test_napster_e2e_server_alive(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/napster-basic.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    double ok = metric(c, M_SUCCESS), ans = metric(c, M_ANSWERABLE);
    double window_s = (double)(c->sc.duration_us - c->sc.warmup_us) / 1e6;
    double expect_rate = metric(c, M_LOOKUPS) / window_s + 1000.0 / 60;
    print_message("napster: %.0f searches, success %.5f, answerable %.5f, hops %.2f/%.2f/%.2f, "
                  "latency %.1f ms, msgs/search %.2f, server entries %.1f, server msgs/s %.2f "
                  "(expected %.2f)\n", metric(c, M_LOOKUPS), ok, ans, metric(c, M_HOPS_MEAN),
                  metric(c, M_HOPS_P50), metric(c, M_HOPS_P99), metric(c, M_LAT_MEAN),
                  metric(c, M_MSGS_MEAN), metric(c, M_SERVER_STATE), metric(c, M_SERVER_MSGS),
                  expect_rate);
    assert_true(metric(c, M_LOOKUPS) > 5000);
    assert_true(ans > 0.9 && ans < 1.0);             /* some files have no holder at all */
    assert_true(ok / ans >= 0.999);
    assert_true(fabs(ok - ans) <= 0.005);
    assert_true(metric(c, M_FAIL_TIMEOUT) == 0.0);
    assert_true(metric(c, M_FAIL_WRONG) == 0.0);
    assert_two_hops(c);
    assert_true(metric(c, M_SERVER_STATE) == 1000.0 * 20);
    assert_true(metric(c, M_STATE_MEAN) == 1.0);
    assert_true(fabs(metric(c, M_SERVER_MSGS) - expect_rate) <= 0.03 * expect_rate);
    /* a search: query + results, then P = 4 pings and pongs (fewer for rarer files) */
    assert_true(metric(c, M_MSGS_MEAN) > 8.0 && metric(c, M_MSGS_MEAN) <= 10.0);
    harness_free(cells, n);
}

/* Churn (30 min median sessions, half crashes): leaving clients say goodbye, crashed ones are
 * dropped after a silent keep-alive (60 s + 5 s), rejoining ones log in and upload afresh.
 * Stale tuples of crashed holders cost a ping timeout and the next candidates, not the search:
 * success must equal the answerable share within 0.5%, in 2 hops, and the directory must hold
 * the live clients' tuples (live nodes x 20) within 3%. */
static void test_napster_e2e_churn(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/napster-churn.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    double ok = metric(c, M_SUCCESS), ans = metric(c, M_ANSWERABLE);
    double expect = metric(c, M_LIVE_MEAN) * 20;
    print_message("napster churn: success %.5f answerable %.5f departures %.0f goodbyes %llu "
                  "keep-alive drops %llu dead candidates %llu; server entries %.1f (live x 20 = "
                  "%.1f)\n", ok, ans, metric(c, M_DEPARTURES),
                  (unsigned long long)counter(c, "goodbyes"),
                  (unsigned long long)counter(c, "keepalive_drops"),
                  (unsigned long long)counter(c, "dead_candidates"), metric(c, M_SERVER_STATE),
                  expect);
    assert_true(metric(c, M_DEPARTURES) > 100);      /* the churn really happened */
    assert_true(counter(c, "goodbyes") > 30);
    assert_true(counter(c, "keepalive_drops") > 30);
    assert_true(fabs(ok - ans) <= 0.005);
    assert_two_hops(c);
    assert_true(fabs(metric(c, M_SERVER_STATE) - expect) <= 0.03 * expect);
    harness_free(cells, n);
}

/* The single point of failure of a central directory: the server crashes at T1 = 4 min and restarts
 * empty at T2 = 8 min. Every interval whose searches were all issued in (T1, T2) must show 0
 * success (all end in TIMEOUT); before T1 and from the second interval after T2 success must
 * be at least 95% of the answerable share, once every client has noticed the restart and
 * uploaded again: each of the 500 clients exactly once. */
static void test_napster_e2e_server_crash(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/napster-crash.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    assert_int_equal(c->sc.churn.n_events, 2);
    double t1 = (double)c->sc.churn.events[0].at_us / 1e6;
    double t2 = (double)c->sc.churn.events[1].at_us / 1e6;
    double step = (double)c->sc.sample_us / 1e6, end = (double)c->sc.duration_us / 1e6;
    double warm = (double)c->sc.warmup_us / 1e6, ans = metric(c, M_ANSWERABLE);
    for (double t = warm; t + step <= end; t += step) {
        double ok = harness_ts_success(c, t);
        print_message("napster crash: t = %4.0f s  success %.4f (answerable %.4f)\n", t, ok, ans);
        assert_false(isnan(ok));
        if (t > t1 - 1e-9 && t + step < t2 + 1e-9)
            assert_true(ok == 0.0);
        if (t + step <= t1 || t >= t2 + step)
            assert_true(ok >= 0.95 * ans);
    }
    print_message("napster crash: timeouts %.4f, re-uploads %llu\n", metric(c, M_FAIL_TIMEOUT),
                  (unsigned long long)counter(c, "reuploads"));
    assert_true(metric(c, M_FAIL_TIMEOUT) > 0.3);    /* 4 of 11 minutes down */
    assert_int_equal(counter(c, "reuploads"), 500);
    harness_free(cells, n);
}

/* A converged start lays down what the protocol reaches by itself: clients logging in and
 * uploading over 2 min reach the converged start's success within 0.5% (absolute), hops 2 in
 * both, the same directory size (within 0.5%). */
static void test_napster_e2e_join_matches_converged(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/napster-join.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *conv = &cells[0], *join = &cells[1];
    assert_int_equal(conv->sc.nodes.start, START_CONVERGED);
    assert_int_equal(join->sc.nodes.start, START_JOIN);
    print_message("napster converged: success %.5f hops %.2f entries %.1f; join: success %.5f "
                  "hops %.2f entries %.1f\n", metric(conv, M_SUCCESS), metric(conv, M_HOPS_MEAN),
                  metric(conv, M_SERVER_STATE), metric(join, M_SUCCESS),
                  metric(join, M_HOPS_MEAN), metric(join, M_SERVER_STATE));
    assert_true(metric(conv, M_SUCCESS) >= 0.95);
    assert_true(fabs(metric(join, M_SUCCESS) - metric(conv, M_SUCCESS)) <= 0.005);
    assert_two_hops(conv);
    assert_two_hops(join);
    assert_true(fabs(metric(join, M_SERVER_STATE) - metric(conv, M_SERVER_STATE)) <=
                0.005 * metric(conv, M_SERVER_STATE));
    harness_free(cells, n);
}

/* A directory partitioned over 3 servers (clients by id mod 3): each holds about a third of
 * the tuples (within 10%), every search is forwarded to the 2 other servers (forwards = 2 x
 * searches within 2%: the counter runs over [warm-up, end), searches by issue time), and
 * success among answerable searches is still >= 99.9% (see the single-server case), in 2 hops. */
static void test_napster_e2e_three_servers(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/napster-servers.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    assert_int_equal(harness_param(c, "servers"), 3);
    double ok = metric(c, M_SUCCESS), ans = metric(c, M_ANSWERABLE);
    double fw = (double)counter(c, "forwards");
    print_message("napster 3 servers: success %.5f answerable %.5f, entries/server %.1f, "
                  "forwards %.0f for %.0f searches, latency %.1f ms\n", ok, ans,
                  metric(c, M_SERVER_STATE), fw, metric(c, M_LOOKUPS), metric(c, M_LAT_MEAN));
    assert_true(metric(c, M_LOOKUPS) > 4000);
    assert_true(ok / ans >= 0.999);
    assert_true(fabs(ok - ans) <= 0.005);
    assert_two_hops(c);
    assert_true(fabs(metric(c, M_SERVER_STATE) - 20000.0 / 3) <= 0.1 * 20000.0 / 3);
    assert_true(fabs(fw - 2 * metric(c, M_LOOKUPS)) <= 0.02 * 2 * metric(c, M_LOOKUPS));
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_napster_e2e_server_alive),
        cmocka_unit_test(test_napster_e2e_churn),
        cmocka_unit_test(test_napster_e2e_server_crash),
        cmocka_unit_test(test_napster_e2e_join_matches_converged),
        cmocka_unit_test(test_napster_e2e_three_servers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
