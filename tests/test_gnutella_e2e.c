/* test_gnutella_e2e.c — Gnutella 0.4 end to end: the cost of a flood against
 * sum_h d(d-1)^(h-1), success against TTL, replication and firewalls against the
 * reached-population model, joining versus a converged start, churn, and the power-law
 * overlay; each against a stated expectation and tolerance. Scenarios are in
 * tests/scenarios/gnutella-*.yaml. */
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

static double counter(const struct harness_cell *c, const char *name)
{
    assert_non_null(c->r.counter_name);
    for (size_t k = 0; c->r.counter_name[k]; k++)
        if (strcmp(c->r.counter_name[k], name) == 0)
            return (double)c->r.counter[k];
    fail_msg("no counter %s", name);
    return NAN;
}

static double gauge(const struct harness_cell *c, const char *name)
{
    assert_non_null(c->r.gauge_name);
    for (size_t k = 0; c->r.gauge_name[k]; k++)
        if (strcmp(c->r.gauge_name[k], name) == 0)
            return c->r.gauge_mean[k];
    fail_msg("no gauge %s", name);
    return NAN;
}

/* Peers a flood of TTL t reaches on a d-regular graph without cycles, the origin left out:
 * sum_{h=1..t} d (d-1)^(h-1) (Lv, Cao, Cohen, Li & Shenker, ICS 2002), which is also the
 * number of Query transmissions, every reached peer receiving the Query exactly once. */
static double flood_reach(double d, int ttl)
{
    double sum = 0, level = d;
    for (int h = 1; h <= ttl; h++) {
        sum += level;
        level *= d - 1;
    }
    return sum;
}

/* The share of searches that reach a holder when each reached peer holds the file with
 * probability p: 1 - (1 - p)^R. */
static double reach_success(double p, double reach) { return 1 - pow(1 - p, reach); }

/* N = 20,000, d = 4, TTL 4: the flood reaches 160 of 20,000 peers, a tree-like regime where
 * duplicates are rare. Query transmissions per search (counter query_sent over the searches)
 * and lookup.messages.mean (every message carrying the search's id, QueryHits included,
 * which are rare here) must both be within 10% of 4 + 12 + 36 + 108 = 160; duplicates under
 * 3% of the transmissions. */
static void test_gnutella_e2e_flood_cost(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/gnutella-flood.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    double expect = flood_reach(4, 4), lookups = metric(cells, M_LOOKUPS);
    double per = counter(cells, "query_sent") / lookups;
    double dup = counter(cells, "query_duplicates") / counter(cells, "query_sent");
    print_message("gnutella flood: %.0f searches, %.2f Query transmissions/search, "
                  "%.2f messages/search (expected %.0f), duplicates %.4f\n", lookups, per,
                  metric(cells, M_MSGS_MEAN), expect, dup);
    assert_true(lookups > 400);
    assert_true(fabs(per - expect) <= 0.10 * expect);
    assert_true(fabs(metric(cells, M_MSGS_MEAN) - expect) <= 0.10 * expect);
    assert_true(dup < 0.03);
    harness_free(cells, n);
}

/* N = 4,000, d = 4, each file on 10/2,000 = 0.5% of the peers (uniform replication and
 * popularity): success must rise strictly with TTL 1, 2, 3, 4 and match
 * 1 - (1 - 0.005)^R(TTL) (R = 4, 16, 52, 160) within 12%. */
static void test_gnutella_e2e_ttl(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/gnutella-ttl.yaml", NULL, 0, &cells);
    assert_int_equal(n, 4);
    double prev = -1;
    for (size_t i = 0; i < n; i++) {
        int ttl = (int)harness_param(&cells[i], "ttl");
        double ok = metric(&cells[i], M_SUCCESS), expect = reach_success(0.005, flood_reach(4, ttl));
        print_message("gnutella TTL %d: success %.4f (expected %.4f), messages %.1f, hops %.2f\n",
                      ttl, ok, expect, metric(&cells[i], M_MSGS_MEAN), metric(&cells[i], M_HOPS_MEAN));
        assert_int_equal(ttl, (int)i + 1);
        assert_true(ok > prev);
        assert_true(fabs(ok - expect) <= 0.12 * expect);
        prev = ok;
    }
    harness_free(cells, n);
}

/* The expected success with Zipf(alpha) queries over F files, k files per peer drawn with
 * weights r_i (uniform 1, proportional q_i, square-root sqrt(q_i); Cohen & Shenker 2002), a
 * flood reaching R peers: sum_i q_i (1 - (1 - h_i)^R), h_i = 1 - (1 - r_i/sum r)^k the share
 * of peers holding file i. */
static double replication_success(int rule, double alpha, int files, int k, double reach)
{
    double hq = 0, hr = 0, ok = 0;
    for (int i = 1; i <= files; i++) {
        double q = pow(i, -alpha);
        hq += q;
        hr += rule == 0 ? 1 : rule == 1 ? q : sqrt(q);
    }
    for (int i = 1; i <= files; i++) {
        double q = pow(i, -alpha), r = rule == 0 ? 1 : rule == 1 ? q : sqrt(q);
        double held = 1 - pow(1 - r / hr, k);
        ok += q / hq * reach_success(held, reach);
    }
    return ok;
}

/* Zipf(0.8) queries, TTL 3 (R = 52), 2,000 files. Proportional and square-root replication
 * put the popular files within reach: success must be at least 1.5x that of uniform, and
 * each within 10% of the model above (22.9%, 49.9%, 44.1% for 10 files per peer). More files
 * per peer (5, 10, 20, uniform) must raise success, each within 10% of the model. */
static void test_gnutella_e2e_replication(void **state)
{
    (void)state;
    const int per_node[] = { 10, 5, 20 };
    double uni[3];
    for (int v = 0; v < 3; v++) {
        char set[64];
        snprintf(set, sizeof set, "workload.files.per_node=%d", per_node[v]);
        const char *sets[] = { set };
        struct harness_cell *cells;
        size_t n = harness_run("tests/scenarios/gnutella-replication.yaml", sets, 1, &cells);
        assert_int_equal(n, 3);
        for (int rule = 0; rule < 3; rule++) {
            double ok = metric(&cells[rule], M_SUCCESS);
            double expect = replication_success(rule, 0.8, 2000, per_node[v], flood_reach(4, 3));
            print_message("gnutella %d files/peer, %s: success %.4f (expected %.4f)\n", per_node[v],
                          rule == 0 ? "uniform" : rule == 1 ? "proportional" : "square-root", ok,
                          expect);
            if (v == 0 || rule == 0)
                assert_true(fabs(ok - expect) <= 0.10 * expect);
        }
        uni[v] = metric(&cells[0], M_SUCCESS);
        if (v == 0) {
            assert_true(metric(&cells[1], M_SUCCESS) >= 1.5 * uni[0]);
            assert_true(metric(&cells[2], M_SUCCESS) >= 1.5 * uni[0]);
        }
        harness_free(cells, n);
    }
    assert_true(uni[1] < uni[0] && uni[0] < uni[2]);
}

/* The converged start must lay down what the protocol's own join and maintenance reach:
 * 2,000 peers joining through the introducer over 3 min (CONNECTs to hosts from the
 * introducer, Pongs and cached Pongs; link splits keep the degree at 4) must reach
 * the converged random 4-regular overlay's statistics: every peer in one component, mean
 * degree within 5% of 4, search success within 4 points (about 10%) of the converged start
 * and hops within 5%. The joined overlay has more short cycles (more duplicate Queries), so
 * its floods reach a few peers fewer. */
static void test_gnutella_e2e_join_matches_converged(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/gnutella-join.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *conv = &cells[0], *join = &cells[1];
    assert_int_equal(conv->sc.nodes.start, START_CONVERGED);
    assert_int_equal(join->sc.nodes.start, START_JOIN);
    print_message("gnutella converged: success %.4f hops %.3f degree %.3f dup %.4f; join: success "
                  "%.4f hops %.3f degree %.3f dup %.4f component %.4f\n",
                  metric(conv, M_SUCCESS), metric(conv, M_HOPS_MEAN), metric(conv, M_STATE_MEAN),
                  counter(conv, "query_duplicates") / counter(conv, "query_sent"),
                  metric(join, M_SUCCESS), metric(join, M_HOPS_MEAN), metric(join, M_STATE_MEAN),
                  counter(join, "query_duplicates") / counter(join, "query_sent"),
                  gauge(join, "overlay.largest_component"));
    assert_true(metric(join, M_LOOKUPS) > 5000);
    assert_true(gauge(join, "overlay.largest_component") >= 0.999);
    assert_true(fabs(metric(join, M_STATE_MEAN) - 4) <= 0.2);
    assert_true(fabs(metric(join, M_SUCCESS) - metric(conv, M_SUCCESS)) <= 0.04);
    assert_true(fabs(metric(join, M_HOPS_MEAN) - metric(conv, M_HOPS_MEAN)) <=
                0.05 * metric(conv, M_HOPS_MEAN));
    harness_free(cells, n);
}

/* Churn: 20-min median sessions, 5-min downtimes, half crashes, on the 2,000-peer overlay.
 * Dead neighbours are found by keep-alive timeouts and replaced: the overlay must stay one
 * component (largest component >= 99% of the live peers on average), keep its mean degree
 * within 5% of 4, and searches must succeed within 3 points of the same overlay without
 * churn. */
static void test_gnutella_e2e_churn(void **state)
{
    (void)state;
    struct harness_cell *churn, *calm;
    size_t n1 = harness_run("tests/scenarios/gnutella-churn.yaml", NULL, 0, &churn);
    const char *off[] = { "churn.session.dist=none" };
    size_t n2 = harness_run("tests/scenarios/gnutella-churn.yaml", off, 1, &calm);
    assert_int_equal(n1, 1);
    assert_int_equal(n2, 1);
    print_message("gnutella churn: success %.4f (static %.4f), departures %.0f, neighbour "
                  "failures %.0f, degree %.3f, largest component %.4f, isolated %.4f\n",
                  metric(churn, M_SUCCESS), metric(calm, M_SUCCESS), metric(churn, M_DEPARTURES),
                  counter(churn, "neighbour_failures"), metric(churn, M_STATE_MEAN),
                  gauge(churn, "overlay.largest_component"), gauge(churn, "overlay.isolated"));
    assert_true(metric(churn, M_DEPARTURES) > 800);   /* the churn really happened */
    assert_true(counter(churn, "neighbour_failures") > 500);
    assert_true(gauge(churn, "overlay.largest_component") >= 0.99);
    assert_true(fabs(metric(churn, M_STATE_MEAN) - 4) <= 0.2);
    assert_true(fabs(metric(churn, M_SUCCESS) - metric(calm, M_SUCCESS)) <= 0.03);
    harness_free(churn, n1);
    harness_free(calm, n2);
}

/* 30% of the peers firewalled: success must be within 10% of
 * 0.7 (1 - (1-p)^52) + 0.3 (1 - (1-0.7p)^52) with p = 0.005 (an open searcher uses every
 * holder, a firewalled one only open holders); Pushes must have been sent, and some searches
 * end "not found" because their only holders were firewalled like the searcher. */
static void test_gnutella_e2e_firewalled(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/gnutella-firewall.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    double r = flood_reach(4, 3), p = 0.005;
    double expect = 0.7 * reach_success(p, r) + 0.3 * reach_success(0.7 * p, r);
    print_message("gnutella firewalled 30%%: success %.4f (expected %.4f), pushes %.0f, "
                  "unusable %.0f, not found %.4f\n", metric(cells, M_SUCCESS), expect,
                  counter(cells, "push_sent"), counter(cells, "firewalled_unusable"),
                  metric(cells, M_FAIL_NOTFOUND));
    assert_true(fabs(metric(cells, M_SUCCESS) - expect) <= 0.10 * expect);
    assert_true(counter(cells, "push_sent") > 50);
    assert_true(metric(cells, M_FAIL_NOTFOUND) > 0);
    assert_true(metric(cells, M_FAIL_WRONG) == 0);
    harness_free(cells, n);
}

/* The power-law overlay (preferential attachment, m = 2, cap 40): mean degree within 5% of 4,
 * a heavy tail (the largest degree at least 5x the mean) both converged and joined, floods
 * that cost more messages than on the random graph at the same TTL (hubs; Lv et al. 2002), and
 * success of the joined overlay within 5 points of the converged one. */
static void test_gnutella_e2e_powerlaw(void **state)
{
    (void)state;
    const char *sets[] = { "protocols.gnutella.topology=powerlaw" };
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/gnutella-join.yaml", sets, 1, &cells);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        print_message("gnutella powerlaw %s: success %.4f degree %.3f max %.0f messages %.1f\n",
                      i == 0 ? "converged" : "join", metric(&cells[i], M_SUCCESS),
                      metric(&cells[i], M_STATE_MEAN), metric(&cells[i], M_STATE_MAX),
                      metric(&cells[i], M_MSGS_MEAN));
        assert_true(fabs(metric(&cells[i], M_STATE_MEAN) - 4) <= 0.2);
        assert_true(metric(&cells[i], M_STATE_MAX) >= 5 * metric(&cells[i], M_STATE_MEAN));
        assert_true(metric(&cells[i], M_MSGS_MEAN) > flood_reach(4, 3));
    }
    assert_true(fabs(metric(&cells[1], M_SUCCESS) - metric(&cells[0], M_SUCCESS)) <= 0.05);
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnutella_e2e_flood_cost),
        cmocka_unit_test(test_gnutella_e2e_ttl),
        cmocka_unit_test(test_gnutella_e2e_replication),
        cmocka_unit_test(test_gnutella_e2e_join_matches_converged),
        cmocka_unit_test(test_gnutella_e2e_churn),
        cmocka_unit_test(test_gnutella_e2e_firewalled),
        cmocka_unit_test(test_gnutella_e2e_powerlaw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
