/* harness.c — end-to-end test support: scenario file in, per-cell results out. */
#include "tests/harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sim/rng.h"

const char *harness_path(const char *rel)
{
    static char buf[1024];
    const char *root = getenv("P2PLAB_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
    return buf;
}

size_t harness_run(const char *rel, const char *const *sets, size_t n_sets,
                   struct harness_cell **out)
{
    char err[2048];
    struct scn_doc *d = scn_load(harness_path(rel), err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    for (size_t i = 0; i < n_sets; i++)
        if (scn_set(d, sets[i], err, sizeof err) != 0)
            fail_msg("%s", err);
    size_t points = scn_points(d), n = 0;
    struct scenario first;
    if (scn_resolve(d, 0, &first, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct harness_cell *cells = calloc(points * first.n_protocols, sizeof *cells);
    assert_non_null(cells);
    for (size_t p = 0; p < points; p++) {
        struct scenario sc;
        if (scn_resolve(d, p, &sc, err, sizeof err) != 0)
            fail_msg("%s", err);
        for (size_t pi = 0; pi < sc.n_protocols; pi++) {
            if (!scn_point_runs(d, p, &first, sc.protocols[pi].name))
                continue;
            struct harness_cell *c = &cells[n++];
            c->sc = sc;
            c->point = p;
            c->proto = pi;
            struct run_progress pg = { .label = rel, .show = false };
            if (run_cell(&c->sc, pi, rng_replica_seed(sc.seed, 0), &pg, &c->r, err, sizeof err) != 0)
                fail_msg("%s: %s", rel, err);
        }
    }
    scn_free(d);
    *out = cells;
    return n;
}

void harness_free(struct harness_cell *cells, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_result_free(&cells[i].r);
    free(cells);
}

int64_t harness_param(const struct harness_cell *c, const char *name)
{
    const struct proto_config *cfg = &c->sc.protocols[0].cfg;
    int k = param_find(cfg->params, name);
    if (k < 0)
        fail_msg("%s has no parameter %s", c->sc.protocols[0].name, name);
    return cfg->v[k].i;
}

char *harness_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

char harness_dir[64];

int harness_dir_make(void **state)
{
    (void)state;
    snprintf(harness_dir, sizeof harness_dir, "/tmp/p2plab-test-XXXXXX");
    return mkdtemp(harness_dir) ? 0 : -1;
}

int harness_dir_remove(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", harness_dir);
    return system(cmd) == 0 ? 0 : -1;
}

double harness_ts_keys_lost(const struct harness_cell *c, double t_s)
{
    size_t k = (size_t)(t_s * 1e6 / (double)c->sc.sample_us);
    return k < c->r.n_ts ? c->r.ts[k].keys_lost : NAN;
}

double harness_ts_success(const struct harness_cell *c, double t_s)
{
    size_t k = (size_t)(t_s * 1e6 / (double)c->sc.sample_us);
    if (k >= c->r.n_ts)
        return NAN;
    const struct ts_bucket *b = &c->r.ts[k];
    return b->judged ? (double)b->ok / b->judged : NAN;
}

int harness_cli(const char *args)
{
    const char *bin = getenv("P2PLAB_BINARY"), *src = getenv("P2PLAB_SOURCE_DIR");
    assert_non_null(bin);
    assert_non_null(src);
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/out' 2>&1", src, bin, args,
                     harness_dir);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *harness_cli_out(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/out", harness_dir);
    return harness_slurp(path, NULL);
}
