/* test_kelips_e2e.c — Kelips end to end: hops and state against N, lookups under churn,
 * recovery after a mass crash, and joining versus a converged start; each against the paper's
 * expectation, with the tolerance stated. Scenarios are in tests/scenarios/kelips-*.yaml. */
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

/* Kelips (IPTPS 2003 §2, §3): k = √N affinity groups; a node keeps its group (N/k − 1 others),
 * c contacts in each of the k − 1 other groups and the tuples of its group (F/k), so
 * O(√N) entries when F ∝ N; a lookup costs O(1) hops: a contact of the key's group answers
 * from its tuples and the home confirms, 2 hops at most without failures. Here F = N (one key
 * per node), c = 2, N = 1,024 ... 16,384: every lookup must succeed with mean hops <= 2, mean
 * state within a factor 2 of N/k + c(k−1) + F/k, and the state of N = 16,384 over that of
 * N = 1,024 within 15% of √16 = 4. */
static void test_kelips_e2e_hops_and_state(void **state)
{
    (void)state;
    const double sizes[] = { 1024, 4096, 16384 };
    double st[3];
    for (size_t i = 0; i < 3; i++) {
        char nodes[32], keys[48];
        snprintf(nodes, sizeof nodes, "nodes=%.0f", sizes[i]);
        snprintf(keys, sizeof keys, "workload.keys=%.0f", sizes[i]);
        const char *sets[] = { nodes, keys };
        struct harness_cell *cells;
        size_t n = harness_run("tests/scenarios/kelips-scaling.yaml", sets, 2, &cells);
        assert_int_equal(n, 1);
        double N = sizes[i], k = ceil(sqrt(N)), c = 2;
        double expect = N / k + c * (k - 1) + N / k;
        st[i] = metric(cells, M_STATE_MEAN);
        print_message("kelips N=%6.0f: hops %.3f success %.4f state %.1f (expected %.1f)\n", N,
                      metric(cells, M_HOPS_MEAN), metric(cells, M_SUCCESS), st[i], expect);
        assert_true(metric(cells, M_LOOKUPS) > 1000);
        assert_true(metric(cells, M_SUCCESS) == 1.0);
        assert_true(metric(cells, M_HOPS_MEAN) <= 2.0);
        assert_true(st[i] >= expect / 2 && st[i] <= expect * 2);
        harness_free(cells, n);
    }
    double ratio = st[2] / st[0];
    print_message("kelips state(16384) / state(1024) = %.3f (sqrt(16) = 4)\n", ratio);
    assert_true(fabs(ratio - 4.0) <= 0.15 * 4.0);
}

/* The index of the run's gauge or counter `name`. */
static size_t name_index(const char *const *names, const char *name)
{
    assert_non_null(names);
    for (size_t k = 0; names[k]; k++)
        if (strcmp(names[k], name) == 0)
            return k;
    fail_msg("no %s", name);
    return 0;
}

/* Churn with a one-hour median session, half crashes, default gossip: the paper's churn
 * experiment (IPTPS 2003 §4) finds lookups almost always reach the file's home, as membership,
 * heartbeats and tuples are re-gossiped within seconds; a file whose home went down is lost
 * (files are not replicated beyond the home, §2), and lookups for it fail. So at least 99% of
 * lookups must either return the file or report it missing, and the share reported missing
 * must be within 25% of keys.lost, the share of files no live node holds. */
static void assert_fails_are_lost_files(const struct harness_cell *c)
{
    double nf = metric(c, M_FAIL_NOTFOUND), lost = metric(c, M_KEYS_LOST);
    print_message("kelips: success %.5f, not found %.5f, keys lost %.5f\n",
                  metric(c, M_SUCCESS), nf, lost);
    assert_true(metric(c, M_SUCCESS) + nf >= 0.99);
    assert_true(fabs(nf - lost) <= 0.25 * lost);
}

static void test_kelips_e2e_churn(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-churn.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    print_message("kelips churn: success %.5f, hops %.3f, timeouts/lookup %.3f, departures %.0f\n",
                  metric(cells, M_SUCCESS), metric(cells, M_HOPS_MEAN),
                  metric(cells, M_TIMEOUTS_MEAN), metric(cells, M_DEPARTURES));
    assert_true(metric(cells, M_DEPARTURES) > 300);   /* the churn really happened */
    assert_fails_are_lost_files(cells);
    /* a file moves to a joiner only if the joiner is the closest member it knows, so it is
     * never handed back to the node that handed it on (before: 4 files, of 654 hand-offs) */
    size_t ho = name_index(cells->r.counter_name, "file_handoffs");
    size_t back = name_index(cells->r.counter_name, "file_returns");
    print_message("kelips churn: %llu file hand-offs, %llu handed back\n",
                  (unsigned long long)cells->r.counter[ho], (unsigned long long)cells->r.counter[back]);
    assert_true(cells->r.counter[ho] > 300);
    assert_true(cells->r.counter[back] == 0);
    harness_free(cells, n);
}

/* The same churn at N = 4,096 (64 groups of ~64): a group message carries 12 member entries
 * besides the sender's, so a node hears of one member only every ~1.6 rounds; with a fixed
 * 25 s timeout live members were dropped and their keys re-homed to the wrong node (98.2%
 * success at N = 4,000 in scenarios/structured-scaling.yaml). The heartbeat timeout follows
 * the group size (`detect`, paper §3: dissemination time grows with the group under a
 * constant budget): lookups must fail only for lost files, as above (paper §4), and heartbeat
 * drops must not exceed what the departures explain. */
static void test_kelips_e2e_churn_large(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-churn-large.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    print_message("kelips churn N=4096: success %.5f, hops %.3f, timeouts/lookup %.3f, "
                  "departures %.0f, lookups %.0f\n", metric(cells, M_SUCCESS),
                  metric(cells, M_HOPS_MEAN), metric(cells, M_TIMEOUTS_MEAN),
                  metric(cells, M_DEPARTURES), metric(cells, M_LOOKUPS));
    assert_true(metric(cells, M_DEPARTURES) > 100);   /* the churn really happened */
    assert_true(metric(cells, M_LOOKUPS) > 5000);
    assert_fails_are_lost_files(cells);
    /* live members are not taken for failed: a departure is dropped by heartbeat timeout at
     * most by the N/k = 64 members of its group (a fixed 25 s timeout: ~6x as many drops) */
    assert_non_null(cells->r.counter_name);
    assert_string_equal(cells->r.counter_name[0], "hb_drops");
    print_message("kelips churn N=4096: %.0f heartbeat drops for %.0f departures\n",
                  (double)cells->r.counter[0], metric(cells, M_DEPARTURES));
    assert_true((double)cells->r.counter[0] <= 64 * metric(cells, M_DEPARTURES));
    harness_free(cells, n);
}

/* 30% of the nodes crash at once. Lookups route around dead contacts and homes by RPC
 * timeouts; within a heartbeat timeout (25 s) plus a few gossip rounds every view has dropped
 * the dead and re-homed their keys (paper §4: Kelips recovers from massive failure by gossip).
 * But the files of the crashed homes are gone (no replication beyond the home, §2): keys.lost
 * must be 0 before the crash and within 0.04 of 0.3 after it; before the crash every interval
 * must show at least 99% success, and from 60 s after it the share of failed lookups must be
 * within 0.04 of keys.lost, as the paper counts lookups for those files as failures. */
static void test_kelips_e2e_mass_crash(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-crash.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    double crash_s = (double)c->sc.churn.events[0].at_us / 1e6;
    double sample_s = (double)c->sc.sample_us / 1e6, end_s = (double)c->sc.duration_us / 1e6;
    double warm_s = (double)c->sc.warmup_us / 1e6, ok_sum = 0, lost_sum = 0;
    unsigned after = 0;
    for (double t = warm_s; t + sample_s <= end_s; t += sample_s) {
        double ok = harness_ts_success(c, t), lost = harness_ts_keys_lost(c, t);
        print_message("kelips crash: t = %4.0f s  success %.4f  keys lost %.4f\n", t, ok, lost);
        assert_false(isnan(ok));
        if (t + sample_s <= crash_s)
            assert_true(ok >= 0.99);
        if (t + sample_s < crash_s)   /* the sample at the crash's instant follows it */
            assert_true(lost == 0.0);
        if (t >= crash_s + 60) {
            assert_true(fabs(lost - 0.3) <= 0.04);
            ok_sum += ok;
            lost_sum += lost;
            after++;
        }
    }
    assert_true(after >= 3);
    print_message("kelips crash: failed %.4f, keys lost %.4f after the crash\n",
                  1 - ok_sum / after, lost_sum / after);
    assert_true(fabs((1 - ok_sum / after) - lost_sum / after) <= 0.04);
    harness_free(cells, n);
}

/* Half of 300 nodes in 15 groups crash at once. Heartbeats (paper §2.1; the gossip failure
 * detector of van Renesse et al. 1998, which Kelips uses): each live node must drop each dead
 * member of its group once, by heartbeat timeout or by an RPC timeout, so the drops number the
 * dead entries the views held right after the crash, within 10% (measured: 1,483 for 1,483;
 * before the fix, stale second-hand gossip brought dead members back and they were dropped
 * again: 2,520, +70%); heartbeat drops alone at least 60% of them (measured 75%). The dead
 * must be gone from the views within 3 heartbeat timeouts (75 s: the timeout runs from the
 * last count each node heard, which spreads a few rounds after the crash) and then never come
 * back: the dead entries per view never rise between two samples after the crash, and are 0
 * from crash + 75 s to the end (before the fix: 0.35 per view 30 s after the crash, 3.7 again
 * 40 s later, once the drops' tombstones were forgotten, and not 0 until the end). */
static void test_kelips_e2e_crash_views(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-crash-views.yaml", NULL, 0, &cells);
    assert_int_equal(n, 1);
    const struct harness_cell *c = cells;
    size_t gdead = name_index(c->r.gauge_name, "view.dead");
    size_t gview = name_index(c->r.gauge_name, "view.size");
    double crash_s = (double)c->sc.churn.events[0].at_us / 1e6;
    double sample_s = (double)c->sc.sample_us / 1e6;
    size_t k0 = 0;
    while (k0 < c->r.n_ts && c->r.ts[k0].live == c->r.ts[0].live)
        k0++;
    assert_true(k0 > 0 && k0 < c->r.n_ts);
    assert_true(c->r.ts[k0 - 1].gauge[gdead] == 0);       /* nobody dead before the crash */
    double live = c->r.ts[k0].live, dead0 = c->r.ts[k0].gauge[gdead];
    double model = dead0 * live;      /* dead entries in live views right after the crash */
    print_message("kelips crash views: %.0f live, %.2f dead of %.2f entries per view after the "
                  "crash: %.0f drops expected\n", live, dead0, c->r.ts[k0].gauge[gview], model);
    assert_true(model > 500);
    for (size_t k = k0; k < c->r.n_ts; k++) {
        double end_s = (double)(k + 1) * sample_s, dead = c->r.ts[k].gauge[gdead];
        print_message("kelips crash views: t = %4.0f s  view %.3f  dead %.3f\n", end_s,
                      c->r.ts[k].gauge[gview], dead);
        if (k > k0)
            assert_true(dead <= c->r.ts[k - 1].gauge[gdead]);   /* nobody dead comes back */
        if (end_s >= crash_s + 75)
            assert_true(dead == 0);
    }
    double hb = (double)c->r.counter[name_index(c->r.counter_name, "hb_drops")];
    double rpc = (double)c->r.counter[name_index(c->r.counter_name, "rpc_drops")];
    print_message("kelips crash views: %.0f heartbeat + %.0f RPC drops, %.0f expected\n", hb, rpc,
                  model);
    assert_true(fabs(hb + rpc - model) <= 0.10 * model);
    assert_true(hb >= 0.6 * model);
    harness_free(cells, n);
}

/* File hand-offs (counter `file_handoffs`: TUPLEs that carry a file from its holder to a new
 * home). A file moves only when its home changes to a live member closer to its key (paper §2:
 * a key is homed at the closest member of its group), once per change: when 30 nodes join a
 * converged group system of 300 holding 3,000 files, the joiners become home to about
 * 3,000 x 30 / 330 = 273 of them, so the hand-offs in [1 min, 3 min) must be within 25% of that
 * (measured 287; files bouncing between two would-be homes at least double it). A crash moves
 * no file (the crashed homes' files are lost, the live homes keep theirs, and the members
 * re-home the lost ones locally, without a message): from 2 min after half the nodes crash to
 * the end (2 min), at most one hand-off per minute (measured 0). */
static double handoffs(const char *set)
{
    const char *sets[] = { set };
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-handoffs.yaml", sets, 1, &cells);
    assert_int_equal(n, 1);
    double h = (double)cells->r.counter[name_index(cells->r.counter_name, "file_handoffs")];
    assert_true(metric(cells, M_LOOKUPS) > 100);
    harness_free(cells, n);
    return h;
}

static void test_kelips_e2e_handoffs(void **state)
{
    (void)state;
    double joins = handoffs("duration=3min"), expect = 3000.0 * 30 / 330;
    print_message("kelips hand-offs: %.0f for the joins (%.0f files gain a joiner as home)\n",
                  joins, expect);
    assert_true(fabs(joins - expect) <= 0.25 * expect);
    double tail = handoffs("warmup=5min");
    print_message("kelips hand-offs: %.0f from 2 min after the crash to 4 min after it\n", tail);
    assert_true(tail <= 2);
}

/* A converged start may only lay down the state the protocol's own join and gossip reach:
 * joining through the introducer, inserting the keys by messages and gossiping must reach the
 * lookup statistics of the converged start, mean hops and success within 5%. */
static void test_kelips_e2e_join_matches_converged(void **state)
{
    (void)state;
    struct harness_cell *cells;
    size_t n = harness_run("tests/scenarios/kelips-join.yaml", NULL, 0, &cells);
    assert_int_equal(n, 2);
    const struct harness_cell *conv = &cells[0], *join = &cells[1];
    assert_int_equal(conv->sc.nodes.start, START_CONVERGED);
    assert_int_equal(join->sc.nodes.start, START_JOIN);
    print_message("kelips converged: hops %.3f success %.5f; join: hops %.3f success %.5f\n",
                  metric(conv, M_HOPS_MEAN), metric(conv, M_SUCCESS), metric(join, M_HOPS_MEAN),
                  metric(join, M_SUCCESS));
    assert_true(metric(conv, M_SUCCESS) >= 0.99);
    assert_true(fabs(metric(join, M_HOPS_MEAN) - metric(conv, M_HOPS_MEAN)) <=
                0.05 * metric(conv, M_HOPS_MEAN));
    assert_true(fabs(metric(join, M_SUCCESS) - metric(conv, M_SUCCESS)) <=
                0.05 * metric(conv, M_SUCCESS));
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kelips_e2e_hops_and_state),
        cmocka_unit_test(test_kelips_e2e_churn),
        cmocka_unit_test(test_kelips_e2e_churn_large),
        cmocka_unit_test(test_kelips_e2e_mass_crash),
        cmocka_unit_test(test_kelips_e2e_crash_views),
        cmocka_unit_test(test_kelips_e2e_handoffs),
        cmocka_unit_test(test_kelips_e2e_join_matches_converged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
