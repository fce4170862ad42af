/* test_fasttrack_e2e.c — FastTrack end to end: the tiers joining builds against the capacity
 * rule, search cost against Gnutella on the same catalogue, joining versus a converged start,
 * and re-attachment after supernodes crash; each against its expectation, tolerance stated.
 * Scenarios are in tests/scenarios/fasttrack-*.yaml and unstructured-compare.yaml. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "protocols/fasttrack_internal.h"
#include "tests/harness.h"

static double metric(const struct harness_cell *c, enum metric m) { return c->r.metric[m]; }

static double gauge(const struct harness_cell *c, const char *name)
{
    for (size_t k = 0; c->r.gauge_name && c->r.gauge_name[k]; k++)
        if (strcmp(c->r.gauge_name[k], name) == 0)
            return c->r.gauge_mean[k];
    fail_msg("no gauge %s", name);
    return NAN;
}

static double counter(const struct harness_cell *c, const char *name)
{
    for (size_t k = 0; c->r.counter_name && c->r.counter_name[k]; k++)
        if (strcmp(c->r.counter_name[k], name) == 0)
            return (double)c->r.counter[k];
    fail_msg("no counter %s", name);
    return NAN;
}

static const union pval *param(const struct harness_cell *c, const char *name)
{
    const struct proto_config *cfg = &c->sc.protocols[c->proto].cfg;
    int k = param_find(cfg->params, name);
    assert_true(k >= 0);
    return &cfg->v[k];
}

/* The tiers that joining builds (Liang, Kumar & Ross 2006: supernodes are the capable nodes;
 * each child uploads its file list to its supernode(s)). Each node is a supernode with
 * probability P = P(capacity > threshold), so the fraction among N = 3,000 joined nodes must be
 * within 3 binomial standard deviations of P (lognormal: P = 2.29%, sd 0.27 points; pareto:
 * 0.56%, sd 0.14), with no promotion. Every ordinary node holds `parents` links, so children per
 * supernode must be parents x (1 - f) / f for the measured fraction f, within 3%; and a
 * supernode's index holds its own and its children's files: (children + 1) x 20, within 3%. */
static void test_fasttrack_e2e_tiers(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/fasttrack-tiers.yaml", NULL, 0, &cells);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        const struct harness_cell *c = &cells[i];
        unsigned dist = (unsigned)param(c, "capacity")->i;
        double P = ftrack_super_probability(dist, param(c, "capacity_median")->d,
                                            param(c, "capacity_shape")->d,
                                            param(c, "super_threshold")->d);
        double N = c->sc.nodes.count, per = c->sc.workload.files_per_node;
        double parents = (double)param(c, "parents")->i;
        double f = gauge(c, "super.fraction"), ch = gauge(c, "super.children.mean");
        double idx = gauge(c, "super.index.mean");
        double sd = sqrt(P * (1 - P) / N);
        print_message("fasttrack tiers %s parents=%.0f: fraction %.4f (P %.4f +- %.4f), "
                      "children %.2f (expected %.2f), index %.1f (expected %.1f), "
                      "orphans %.4f, success %.4f\n", dist ? "pareto" : "lognormal", parents,
                      f, P, 3 * sd, ch, parents * (1 - f) / f, idx, (ch + 1) * per,
                      gauge(c, "ordinary.orphans"), metric(c, M_SUCCESS));
        assert_true(fabs(f - P) <= 3 * sd);
        assert_true(counter(c, "promotions") == 0);
        assert_true(fabs(ch - parents * (1 - f) / f) <= 0.03 * ch);
        assert_true(fabs(idx - (ch + 1) * per) <= 0.03 * idx);
        assert_true(gauge(c, "ordinary.orphans") <= 0.001);
    }
    harness_free(cells, n);
}

/* What the second tier is for: FastTrack finds as much as Gnutella for far fewer messages.
 * Same 1,000 nodes, catalogue (20,000 files, 10 per node, square-root replication: many rare
 * files) and query sequence; Gnutella with its defaults (random 4-regular overlay, TTL 7)
 * floods ~d(d-1)^(TTL-1) descriptors until the graph saturates, FastTrack one message to the
 * parent plus a TTL-2 flood of a ~23-supernode tier that indexes every file. FastTrack's success must be at least
 * Gnutella's (the same searches, so no tolerance) and its messages per search at most a fifth. */
static void test_fasttrack_e2e_beats_gnutella(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/unstructured-compare.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *gn = NULL, *ft = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cells[i].sc.protocols[cells[i].proto].name, "gnutella") == 0)
            gn = &cells[i];
        else if (strcmp(cells[i].sc.protocols[cells[i].proto].name, "fasttrack") == 0)
            ft = &cells[i];
    }
    assert_non_null(gn);
    assert_non_null(ft);
    print_message("gnutella: success %.4f (answerable %.4f), messages/search %.1f, hops %.2f\n",
                  metric(gn, M_SUCCESS), metric(gn, M_ANSWERABLE), metric(gn, M_MSGS_MEAN),
                  metric(gn, M_HOPS_MEAN));
    print_message("fasttrack: success %.4f (answerable %.4f), messages/search %.1f, hops %.2f, "
                  "query dups %.0f of %.0f\n", metric(ft, M_SUCCESS), metric(ft, M_ANSWERABLE),
                  metric(ft, M_MSGS_MEAN), metric(ft, M_HOPS_MEAN), counter(ft, "query_dups"),
                  counter(ft, "query_msgs"));
    assert_true(metric(ft, M_LOOKUPS) > 3000);
    assert_true(metric(ft, M_SUCCESS) >= metric(gn, M_SUCCESS));
    assert_true(metric(ft, M_MSGS_MEAN) * 5 <= metric(gn, M_MSGS_MEAN));
    harness_free(cells, n);
}

/* The converged start may use global knowledge only to lay down the state the protocol's own
 * join and maintenance would reach: so joining through the introducer (refresh lists, attach,
 * upload) must reach the search statistics of the converged start: success within 1 point,
 * mean hops and messages per search within 5%. */
static void test_fasttrack_e2e_join_matches_converged(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/fasttrack-join.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *conv = &cells[0], *join = &cells[1];
    assert_int_equal(conv->sc.nodes.start, START_CONVERGED);
    assert_int_equal(join->sc.nodes.start, START_JOIN);
    print_message("fasttrack converged: success %.4f hops %.3f msgs %.1f fraction %.4f degree "
                  "%.2f; join: success %.4f hops %.3f msgs %.1f fraction %.4f degree %.2f\n",
                  metric(conv, M_SUCCESS), metric(conv, M_HOPS_MEAN), metric(conv, M_MSGS_MEAN),
                  gauge(conv, "super.fraction"), gauge(conv, "super.degree.mean"),
                  metric(join, M_SUCCESS), metric(join, M_HOPS_MEAN), metric(join, M_MSGS_MEAN),
                  gauge(join, "super.fraction"), gauge(join, "super.degree.mean"));
    assert_true(metric(conv, M_SUCCESS) >= 0.9);
    assert_true(fabs(metric(join, M_SUCCESS) - metric(conv, M_SUCCESS)) <= 0.01);
    assert_true(fabs(metric(join, M_HOPS_MEAN) - metric(conv, M_HOPS_MEAN)) <=
                0.05 * metric(conv, M_HOPS_MEAN));
    assert_true(fabs(metric(join, M_MSGS_MEAN) - metric(conv, M_MSGS_MEAN)) <=
                0.05 * metric(conv, M_MSGS_MEAN));
    harness_free(cells, n);
}

/* 20% of the nodes crash at once, supernodes among them. Children of a dead supernode find out
 * at their next keep-alive (30 s mean period + 2 s RPC timeout) and re-attach to a backup from
 * their refresh lists (the study: children switch to another supernode of their cached list).
 * Success must come back to >= 95% of its pre-crash mean in every interval from 2 min after the
 * crash, and children must really have re-attached. */
static void test_fasttrack_e2e_reattach_after_crash(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/fasttrack-crash.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    double crash_s = (double)c->sc.churn.events[0].at_us / 1e6;
    double warm_s = (double)c->sc.warmup_us / 1e6, sample_s = (double)c->sc.sample_us / 1e6;
    double end_s = (double)c->sc.duration_us / 1e6, before = 0, k = 0;
    for (double t = warm_s; t + sample_s <= crash_s; t += sample_s, k++)
        before += harness_ts_success(c, t);
    before /= k;
    print_message("fasttrack crash: success before %.4f, re-attachments %.0f\n", before,
                  counter(c, "reattach"));
    assert_true(before >= 0.95);
    assert_true(counter(c, "reattach") >= 20);
    for (double t = crash_s; t + sample_s <= end_s; t += sample_s) {
        double ok = harness_ts_success(c, t);
        print_message("fasttrack crash: t = %4.0f s  success %.4f\n", t, ok);
        assert_false(isnan(ok));
        if (t >= crash_s + 120)
            assert_true(ok >= 0.95 * before);
    }
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fasttrack_e2e_tiers),
        cmocka_unit_test(test_fasttrack_e2e_beats_gnutella),
        cmocka_unit_test(test_fasttrack_e2e_join_matches_converged),
        cmocka_unit_test(test_fasttrack_e2e_reattach_after_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
