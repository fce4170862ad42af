/* test_trace.c — p2plab trace: a lookup told hop by hop, a time window, and a trace that
 * leaves the run as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sim/stats.h"
#include "sim/trace.h"
#include "tests/harness.h"

/* Runs p2plab with args, stdout into harness_dir/name; the exit status. */
static int p2plab(const char *args, const char *name)
{
    const char *bin = getenv("P2PLAB_BINARY");
    assert_non_null(bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' %s >'%s/%s' 2>'%s/stderr'", bin, args, harness_dir, name,
             harness_dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", harness_dir, name);
    return harness_slurp(path, NULL);
}

/* Chord, iterative, fingers only: each node the origin sends a FIND_REQ to and that answers is
 * one node visited before the successor is identified, which is what lookup.hops counts (a node
 * asked again after a timeout counts once); the trace must agree with the hop count the run
 * reports, lookup by lookup. */
static void test_trace_follows_lookups_hop_by_hop(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "trace '%s' --lookups 20",
             harness_path("tests/scenarios/trace-chord.yaml"));
    assert_int_equal(p2plab(args, "t1"), 0);
    char *t = slurp("t1");
    unsigned ok = 0;
    for (const char *p = strstr(t, " starts at n"); p; p = strstr(p + 1, " starts at n")) {
        const char *line = p;
        while (line > t && line[-1] != '\n')
            line--;
        unsigned id;
        assert_int_equal(sscanf(strstr(line, "lookup "), "lookup %u", &id), 1);
        char tag[64], end[64];
        snprintf(tag, sizeof tag, "FIND_REQ");
        snprintf(end, sizeof end, "lookup %u ends OK", id);
        const char *e = strstr(t, end);
        if (!e)
            continue;                 /* ended otherwise (a crash under churn) */
        unsigned hops;
        assert_int_equal(sscanf(strstr(e, "ms, ") + 4, "%u hops", &hops), 1);
        unsigned reqs = 0;
        char asked[64][16];           /* the distinct nodes asked, as the trace names them */
        char suffix[32];
        snprintf(suffix, sizeof suffix, "lookup %u\n", id);
        for (const char *q = t; (q = strstr(q, "send  n")) != NULL; q++) {
            const char *eol = strchr(q, '\n');
            char text[256];
            size_t len = (size_t)(eol - q) + 1, sl = strlen(suffix);
            snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), q);
            if (len > sl && memcmp(eol + 1 - sl, suffix, sl) == 0 && strstr(text, tag)) {
                char dst[16];
                assert_int_equal(sscanf(strstr(text, "-> ") + 3, "%15s", dst), 1);
                bool seen = false;
                for (unsigned k = 0; k < reqs && !seen; k++)
                    seen = strcmp(asked[k], dst) == 0;
                if (!seen && reqs < 64)
                    snprintf(asked[reqs++], sizeof asked[0], "%s", dst);
            }
        }
        /* a node that never answered (crashed) is not a hop: the lookup routed around it */
        char tmo[64];
        snprintf(tmo, sizeof tmo, "FIND_REQ (lookup %u)", id);
        for (const char *q = t; (q = strstr(q, tmo)) != NULL; q++)
            reqs--;
        assert_int_equal(reqs, hops);
        ok++;
    }
    assert_true(ok >= 15);
    free(t);
}

/* Tracing reads the run and never changes it; two traces are the same text. */
static void test_trace_leaves_the_run_unchanged(void **state)
{
    (void)state;
    char args[1024];
    const char *scn = harness_path("tests/scenarios/trace-chord.yaml");
    snprintf(args, sizeof args, "trace '%s' --lookups 5", scn);
    assert_int_equal(p2plab(args, "a"), 0);
    assert_int_equal(p2plab(args, "b"), 0);
    char *a = slurp("a"), *b = slurp("b");
    assert_string_equal(a, b);
    /* the run's own figures, from p2plab run with the same seed */
    snprintf(args, sizeof args, "run '%s' -q --no-plots -o '%s/r'", scn, harness_dir);
    assert_int_equal(p2plab(args, "table"), 0);
    char *table = slurp("table");
    double lookups, success, hops;
    const char *row = strstr(table, "\nchord");
    assert_non_null(row);
    assert_int_equal(sscanf(row, "\nchord %lf %lf %lf", &lookups, &success, &hops), 3);
    const char *run = strstr(a, "# run: ");
    assert_non_null(run);
    double tl, ts, th;
    assert_int_equal(sscanf(run, "# run: %lf lookups, success %lf%%, mean hops %lf", &tl, &ts, &th), 3);
    assert_float_equal(tl, lookups, 0.5);
    assert_float_equal(ts, success, 0.006);
    assert_float_equal(th, hops, 0.006);
    free(a);
    free(b);
    free(table);
}

/* A window shows every node's messages, maintenance included, and nothing outside it. */
static void test_trace_window(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args, "trace '%s' --from 90s --to 90.5s",
             harness_path("tests/scenarios/trace-chord.yaml"));
    assert_int_equal(p2plab(args, "w"), 0);
    char *w = slurp("w");
    assert_non_null(strstr(w, " maint"));
    unsigned lines = 0;
    for (const char *p = w; *p; p = strchr(p, '\n') + 1) {
        if (*p != '#') {
            double t;
            assert_int_equal(sscanf(p, "%lfs", &t), 1);
            assert_true(t >= 90.0 && t < 90.5);
            lines++;
        }
        if (!strchr(p, '\n'))
            break;
    }
    assert_true(lines > 10);
    free(w);
    snprintf(args, sizeof args, "trace '%s' --from 90s",
             harness_path("tests/scenarios/trace-chord.yaml"));
    assert_int_equal(p2plab(args, "bad"), 2);
    snprintf(args, sizeof args, "trace '%s' --protocol pastry",
             harness_path("tests/scenarios/trace-chord.yaml"));
    assert_int_equal(p2plab(args, "bad"), 2);
}

/* lookup.messages.mean counts every message a lookup causes until its deadline, the same way for
 * every protocol: a trace that follows every counted lookup must find the same mean, message by
 * message (sent or lost on the way), leaving out lookups whose origin left. */
static void test_messages_per_lookup_match_the_trace(void **state)
{
    (void)state;
    const char *rel = "tests/scenarios/messages-all.yaml";
    struct harness_cell *cells;
    size_t n = harness_run(rel, NULL, 0, &cells);
    assert_int_equal(n, 7);
    for (size_t c = 0; c < n; c++) {
        const char *proto = cells[c].sc.protocols[cells[c].proto].name;
        double lookups = cells[c].r.metric[M_LOOKUPS], mean = cells[c].r.metric[M_MSGS_MEAN];
        assert_true(lookups >= 30 && lookups <= TRACE_LOOKUPS_MAX);
        char args[1024];
        snprintf(args, sizeof args, "trace '%s' --protocol %s --lookups %d", harness_path(rel),
                 proto, TRACE_LOOKUPS_MAX);
        assert_int_equal(p2plab(args, proto), 0);
        char *t = slurp(proto);
        /* one pass over the lines: the lookups followed, how each ended, and every message
         * sent or lost with a lookup's id ("...  120 B  lookup 17", or "maint 17") */
        unsigned id[TRACE_LOOKUPS_MAX], followed = 0, judged = 0;
        unsigned long msgs_of[TRACE_LOOKUPS_MAX] = { 0 };
        bool left[TRACE_LOOKUPS_MAX] = { false };
        for (char *line = t, *next; *line; line = next) {
            char *eol = strchr(line, '\n');
            next = eol ? eol + 1 : line + strlen(line);
            if (eol)
                *eol = '\0';
            const char *rest = strstr(line, "s  ");
            if (line[0] == '#' || !rest)
                continue;
            rest += 3;
            unsigned lid;
            char word[16];
            if (sscanf(rest, "lookup %u %15s", &lid, word) == 2) {
                if (strcmp(word, "starts") == 0) {
                    assert_true(followed < TRACE_LOOKUPS_MAX);
                    id[followed++] = lid;
                } else if (strstr(rest, " ends ORIGIN_LEFT")) {
                    for (unsigned k = 0; k < followed; k++)
                        left[k] |= id[k] == lid;
                }
                continue;
            }
            if (strncmp(rest, "send", 4) != 0 && strncmp(rest, "lost", 4) != 0)
                continue;
            const char *tail = strrchr(line, ' ');
            if (!tail || tail - line < 10 || sscanf(tail + 1, "%u", &lid) != 1)
                continue;
            const char *cat = tail;
            while (cat > line && cat[-1] != ' ')
                cat--;
            if (strncmp(cat - 3, "B  lookup ", 10) != 0 && strncmp(cat - 3, "B  maint ", 9) != 0)
                continue;
            for (unsigned k = 0; k < followed; k++)
                if (id[k] == lid)
                    msgs_of[k]++;
        }
        unsigned long msgs = 0;
        for (unsigned k = 0; k < followed; k++)
            if (!left[k]) {
                judged++;
                msgs += msgs_of[k];
            }
        assert_int_equal(followed, (unsigned)lookups);
        assert_true(judged > 0 && msgs > judged);
        printf("%-10s %3u lookups: %.3f messages each (run), %.3f (trace)\n", proto, judged, mean,
               (double)msgs / judged);
        assert_float_equal((double)msgs / judged, mean, 1e-9);
        free(t);
    }
    harness_free(cells, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_follows_lookups_hop_by_hop, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_trace_leaves_the_run_unchanged, harness_dir_make,
                                        harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_trace_window, harness_dir_make, harness_dir_remove),
        cmocka_unit_test_setup_teardown(test_messages_per_lookup_match_the_trace, harness_dir_make,
                                        harness_dir_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
