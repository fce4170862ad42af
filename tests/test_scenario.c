/* test_scenario.c — scenario files: defaults, diagnostics (from a string and from a file),
 * --set overrides, sweeps, distributions, and the emit -> load round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "protocols/protocol.h"
#include "sim/scenario.h"
#include "sim/scnkeys.h"

#define LN2 0.69314718055994530942

/* ==== helpers ============================================================================= */

/* P2PLAB_SOURCE_DIR/rel, in a static buffer. */
static const char *source_path(const char *rel)
{
    static char buf[2][1024];
    static int which;
    const char *dir = getenv("P2PLAB_SOURCE_DIR");
    assert_non_null(dir);
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, rel);
    return buf[which];
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

static struct scn_doc *load_ok(const char *text)
{
    char err[1024] = "";
    struct scn_doc *d = scn_load_string(text, "test.yaml", err, sizeof err);
    if (!d)
        fail_msg("unexpected error: %s", err);
    return d;
}

/* Loads text that must fail; returns the whole message in a static buffer. */
static const char *load_err(const char *text)
{
    static char err[1024];
    err[0] = '\0';
    struct scn_doc *d = scn_load_string(text, "test.yaml", err, sizeof err);
    assert_null(d);
    assert_true(err[0] != '\0');
    return err;
}

static const char *first_line(const char *msg)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%.*s", (int)strcspn(msg, "\n"), msg);
    return buf;
}

static void resolve(const struct scn_doc *d, size_t point, struct scenario *s)
{
    char err[1024] = "";
    if (scn_resolve(d, point, s, err, sizeof err) != 0)
        fail_msg("unexpected error: %s", err);
}

/* Loads text and resolves its only point into a heap scenario. */
static struct scenario *resolve_text(const char *text)
{
    struct scenario *s = malloc(sizeof *s);
    assert_non_null(s);
    struct scn_doc *d = load_ok(text);
    assert_int_equal(scn_points(d), 1);
    resolve(d, 0, s);
    scn_free(d);
    return s;
}

/* ==== diagnostics ========================================================================= */

/* The bad-input catalogue, tests/bad-scenarios/: each file's first line is "# expect: " and the
 * first line of its diagnostic after FILE (or, when it begins with "{DIR}", the whole line, for
 * a message about another file); "{DIR}" stands for the scenario's directory. Cases whose
 * message needs the command line (a --set, the machine's memory) are in test_cli.c, which runs
 * every file through p2plab check and p2plab run. */
#define CATALOGUE "tests/bad-scenarios"

/* The names of the catalogue's .yaml files, sorted; returns how many. */
static size_t catalogue(char (*names)[128], size_t max)
{
    DIR *dir = opendir(source_path(CATALOGUE));
    assert_non_null(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".yaml") == 0 && len < 128) {
            assert_true(n < max);
            snprintf(names[n++], 128, "%s", e->d_name);
        }
    }
    closedir(dir);
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

/* The case's expectation: the text after "# expect: " on the first line. */
static void expectation(const char *text, char *out, size_t len)
{
    const char *tag = "# expect: ";
    if (strncmp(text, tag, strlen(tag)) != 0)
        fail_msg("a catalogue file must begin with \"%s\"", tag);
    const char *p = text + strlen(tag);
    snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
}

/* The expected first line for scenario `name`: name + the case's text with {DIR} filled in. */
static void expected_first(const char *name, const char *first, char *out, size_t len)
{
    size_t dirlen = strrchr(name, '/') ? (size_t)(strrchr(name, '/') - name) + 1 : 0;
    const char *mark = strstr(first, "{DIR}");
    const char *lead = mark == first ? "" : name;
    int w = mark ? snprintf(out, len, "%s%.*s%.*s%s", lead, (int)(mark - first), first,
                            (int)dirlen, name, mark + 5)
                 : snprintf(out, len, "%s%s", name, first);
    assert_true(w >= 0 && (size_t)w < len);
}

/* The message's second line echoes the source line it points at. */
static void check_echo(const char *err, const char *text)
{
    const char *nl = strchr(err, '\n');
    if (!nl)
        return;
    const char *colon = strstr(err, ".yaml:");
    assert_non_null(colon);
    int line = atoi(colon + 6);
    const char *p = text;
    for (int l = 1; l < line; l++)
        p = strchr(p, '\n') + 1;
    char want[512];
    snprintf(want, sizeof want, "   >>> %.*s", (int)strcspn(p, "\r\n"), p);
    assert_string_equal(nl + 1, want);
}

/* Whether the library alone sees the case (the others need the command line: a --set, or the
 * machine's memory, which the memory estimate's cases name after "needs at least"). */
static bool library_case(const char *want)
{
    return !strstr(want, "this machine's") && !strstr(want, "needs at least") &&
           !strstr(want, "--set");
}

static void test_scenario_bad_files_from_file(void **state)
{
    (void)state;
    static char names[256][128];
    size_t n = catalogue(names, 256), ran = 0;
    for (size_t i = 0; i < n; i++) {
        char rel[256], err[2048] = "", want[1024], first[1024];
        snprintf(rel, sizeof rel, CATALOGUE "/%s", names[i]);
        const char *path = source_path(rel);
        char *text = read_text(path);
        expectation(text, first, sizeof first);
        if (library_case(first)) {
            struct scn_doc *d = scn_load(path, err, sizeof err);
            if (d)
                fail_msg("%s loaded", path);
            expected_first(path, first, want, sizeof want);
            if (strcmp(first_line(err), want) != 0)
                fail_msg("%s:\n  got  %s\n  want %s", names[i], first_line(err), want);
            if (first[0] != '{')
                check_echo(err, text);
            ran++;
        }
        free(text);
    }
    assert_true(ran >= 60);
}

static void test_scenario_bad_files_from_string(void **state)
{
    (void)state;
    static char names[256][128];
    size_t n = catalogue(names, 256);
    for (size_t i = 0; i < n; i++) {
        char rel[256], name[256], err[2048] = "", want[1024], first[1024];
        snprintf(rel, sizeof rel, CATALOGUE "/%s", names[i]);
        char *text = read_text(source_path(rel));
        expectation(text, first, sizeof first);
        /* named as the file: relative paths (fixtures/) and also: itself read the same */
        snprintf(name, sizeof name, "%s", source_path(rel));
        if (library_case(first)) {
            struct scn_doc *d = scn_load_string(text, name, err, sizeof err);
            if (d)
                fail_msg("%s loaded", name);
            expected_first(name, first, want, sizeof want);
            if (strcmp(first_line(err), want) != 0)
                fail_msg("%s:\n  got  %s\n  want %s", names[i], first_line(err), want);
            if (first[0] != '{')
                check_echo(err, text);
        }
        free(text);
    }
}

/* A swept key's value in the file never runs: it is checked for what it says (the catalogue's
 * sweep_base_* cases), not for what running it would cost. */
static void test_scenario_swept_base_is_not_costed(void **state)
{
    (void)state;
    struct scn_doc *d = load_ok("nodes: 50000000\nprotocols: { kelips: {} }\n"
                                "sweep: { nodes: [100, 200] }\n");
    assert_int_equal(scn_points(d), 2);
    scn_free(d);
}

static void test_scenario_missing_file(void **state)
{
    (void)state;
    char err[256];
    assert_null(scn_load("no/such/scenario.yaml", err, sizeof err));
    assert_string_equal(err, "no/such/scenario.yaml: error: cannot open: No such file or "
                             "directory");
}

static void test_scenario_missing_protocols(void **state)
{
    (void)state;
    static const char *const texts[] = { "", "# nothing but a comment\n", "name: x\n",
                                         "protocols:\n", "protocols: ~\n" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *err = first_line(load_err(texts[i]));
        assert_non_null(strstr(err, "error: no protocols to run: add e.g. \"protocols: "
                                    "{ chord: {} }\""));
    }
    assert_string_equal(load_err("name: x\n"), "test.yaml: error: no protocols to run: add e.g. "
                                               "\"protocols: { chord: {} }\"");
}

static void test_scenario_more_diagnostics(void **state)
{
    (void)state;
    static const struct { const char *text, *first; } cases[] = {
        { "protocols: { chord: { successors: } }",
          "test.yaml:1:23: error: protocols.chord.successors has no value: give one or remove "
          "the key" },
        { "protocols: { chord: [1] }",
          "test.yaml:1:21: error: protocols.chord must be a mapping such as { successors: 16 } "
          "or {}, not a list" },
        { "protocols: { chord: {} }\nnodes: [1, 2]",
          "test.yaml:2:8: error: nodes must be a mapping such as { count: 1000, start: join, "
          "join_over: 10min } or a number, not a list" },
        { "protocols: { chord: {} }\nnodes: { start: jion }",
          "test.yaml:2:17: error: nodes.start must be one of converged, join (got \"jion\"; did "
          "you mean \"join\"?)" },
        { "protocols: { chord: {} }\nchurn: { session: { dist: weibul, mean: 1h } }",
          "test.yaml:2:27: error: churn.session.dist must be one of none, constant, exponential, "
          "weibull, pareto, lognormal (got \"weibul\"; did you mean \"weibull\"?)" },
        { "protocols: { chord: {} }\nchurn: { session: { mean: 1h } }",
          "test.yaml:2:19: error: churn.session needs dist: one of none, constant, exponential, "
          "weibull, pareto, lognormal" },
        { "protocols: { chord: {} }\nchurn: { session: { dist: weibull, shape: 0.001, "
          "median: 1h } }",
          "test.yaml:2:43: error: churn.session: with shape 0.001 the mean would be beyond "
          "106751991d; use a larger shape" },
        { "protocols: { chord: {} }\nchurn: { events: [ { crash: 10% } ] }",
          "test.yaml:2:20: error: churn.events[0] needs at: the time of the event, e.g. at: "
          "20min" },
        { "protocols: { chord: {} }\nchurn: { events: [ { at: 1min } ] }",
          "test.yaml:2:20: error: churn.events[0] needs one of crash: 50%, join: 100 or "
          "maintenance: off" },
        { "protocols: { chord: {} }\nchurn: { events: [ { at: 1min, maintenance: paused } ] }",
          "test.yaml:2:45: error: churn.events[0].maintenance must be true or false (or yes/no, "
          "on/off) (got \"paused\")" },
        { "protocols: { chord: {} }\nduration: 400d",
          "test.yaml:2:11: error: duration must be more than 0 and at most 365d (got 400d)" },
        { "protocols: { chord: {} }\nduration: 0",
          "test.yaml:2:11: error: duration must be more than 0 and at most 365d (got 0)" },
        { "protocols: { chord: {} }\nsample: 1us",
          "test.yaml:2:9: error: sample is too short: duration 1h would take more than 1000000 "
          "samples; use sample: 3600us or more" },
        { "protocols: { chord: {} }\nreplicas: 1001",
          "test.yaml:2:11: error: replicas must be between 1 and 1000 (got 1001)" },
        { "protocols: { chord: {} }\nseed: -1",
          "test.yaml:2:7: error: seed must be between 0 and 9223372036854775807 (got -1)" },
        { "protocols: { chord: {} }\nname: a/b",
          "test.yaml:2:7: error: name must be usable as a directory name, such as dht-scaling: "
          "no \"/\" or control characters (got \"a/b\")" },
        { "protocols: { chord: {} }\nnetwork: { latency: { model: matrix } }",
          "test.yaml:2:30: error: network.latency: model matrix needs file: a file of \"i j ms\" "
          "lines, e.g. file: king.txt" },
        { "protocols: { chord: {} }\nnetwork: { latency: { min: 100ms, max: 90ms } }",
          "test.yaml:2:28: error: network.latency: min (100ms) must not exceed max (90ms)" },
        { "protocols: { chord: {} }\n? [a]\n: 1",
          "test.yaml:2:3: error: a key must be a single word, not a list" },
        { "protocols: { chord: *nothing }",
          "test.yaml:1:21: error: unknown alias *nothing: define &nothing before using it" },
        { "protocols: { chord: {} }\nsweep: { protocols.chord.sucessors: [1, 2] }",
          "test.yaml:2:10: error: unknown key \"sucessors\" in protocols.chord (in sweep) (did "
          "you mean \"successors\"?)" },
        { "protocols: { chord: {} }\nsweep: { protocols.chrod.successors: [1, 2] }",
          "test.yaml:2:10: error: unknown protocol \"chrod\" in protocols (in sweep) (did you "
          "mean \"chord\"?)" },
        { "protocols: { chord: {} }\nsweep: { protocols.chord: [1, 2] }",
          "test.yaml:2:10: error: sweep: \"protocols.chord\" is not a protocol parameter: "
          "write protocols.NAME.PARAM, e.g. protocols.chord.successors" },
        { "protocols: { chord: {} }\nsweep: { churn.events: [1, 2] }",
          "test.yaml:2:10: error: sweep: \"churn.events\" is not a key that holds one value; "
          "sweep a key such as nodes, churn.session.median or protocols.chord.successors" },
        { "protocols: { chord: {} }\nsweep: { nodes: [1, 2], nodes.count: [3] }",
          "test.yaml:2:25: error: sweep: nodes.count is already swept as nodes" },
        { "protocols: { chord: {} }\nsweep: { seed: [1, 2] }",
          "test.yaml:2:10: error: sweep: seed is not an axis; replicas already run with seeds of "
          "their own: raise replicas for more, or change the base seed with seed: or --seed" },
        { "protocols: { chord: {} }\nsweep: { nodes: [] }",
          "test.yaml:2:17: error: sweep.nodes: give at least one value" },
        { "protocols: { chord: {} }\nsweep: { nodes: [1, [2]] }",
          "test.yaml:2:21: error: sweep.nodes[1] must be a single value, not a list" },
        { "protocols: { chord: {} }\nsweep: [nodes]",
          "test.yaml:2:8: error: sweep must be a mapping such as { nodes: [1000, 2000, 4000] }, "
          "not a list" },
        { "protocols: { chord: {} }\nplots: [ { y: lookup.hops.mean } ]",
          "test.yaml:2:10: error: plots[0] needs x: a swept key path, protocol or time" },
        { "protocols: { chord: {} }\nplots: [ { x: time, y: a, logy: 1 } ]",
          "test.yaml:2:33: error: plots[0].logy must be a logarithm base such as 2 or 10, or 0 "
          "for a linear axis (got 1)" },
        { "protocols: { chord: {} }\nplots: [ { x: time, y: a, by: nodes } ]",
          "test.yaml:2:31: error: plots[0].by must be protocol, none or a swept key path (got "
          "\"nodes\")" },
        { "protocols: { chord: {}, chord: {} }",
          "test.yaml:1:25: error: duplicate key \"chord\" in protocols (first at line 1): give "
          "each key once" },
    };
    size_t wrong = 0;                 /* report every mismatch, not just the first */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = first_line(load_err(cases[i].text));
        if (strcmp(got, cases[i].first) != 0) {
            print_error("case %zu:\n  got  %s\n  want %s\n", i, got, cases[i].first);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

/* ==== resolution ========================================================================== */

static void test_scenario_defaults(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("protocols:\n  chord:\n");
    assert_string_equal(s->name, "test");
    assert_string_equal(s->file, "test.yaml");
    assert_int_equal(s->seed, 1);
    assert_int_equal(s->duration_us, 3600 * US_PER_S);
    assert_int_equal(s->warmup_us, 0);
    assert_int_equal(s->sample_us, 60 * US_PER_S);
    assert_int_equal(s->replicas, 1);
    assert_int_equal(s->network.model, LAT_CONSTANT);
    assert_int_equal(s->network.mean_us, 80000);
    assert_int_equal(s->network.min_us, 40000);
    assert_int_equal(s->network.max_us, 120000);
    assert_true(s->network.sigma == 0.5);
    assert_int_equal(s->network.access_us, 5000);
    assert_string_equal(s->network.matrix, "");
    assert_true(s->network.loss == 0);
    assert_int_equal(s->nodes.count, 1000);
    assert_int_equal(s->nodes.start, START_CONVERGED);
    assert_int_equal(s->nodes.join_over_us, 600 * US_PER_S);
    assert_int_equal(s->churn.session.kind, DIST_NONE);
    assert_int_equal(s->churn.downtime.kind, DIST_NONE);
    assert_true(s->churn.crash_fraction == 1);
    assert_int_equal(s->churn.n_events, 0);
    assert_int_equal(s->workload.keys, 10000);
    assert_int_equal(s->workload.popularity, POP_UNIFORM);
    assert_true(s->workload.alpha == 0.8);
    assert_true(s->workload.lookups.per_s == 1.0 / 60 && s->workload.lookups.per_node);
    assert_int_equal(s->workload.lookup_timeout_us, 120 * US_PER_S);
    assert_int_equal(s->n_protocols, 1);
    assert_string_equal(s->protocols[0].name, "chord");
    struct proto_config def;
    assert_int_equal(param_defaults(&def, protocol_find("chord")->params), 0);
    assert_int_equal(s->protocols[0].cfg.count, def.count);
    assert_memory_equal(s->protocols[0].cfg.v, def.v, def.count * sizeof def.v[0]);
    assert_int_equal(s->n_sweep, 0);
    assert_int_equal(s->n_plots, 0);
    assert_int_equal(s->point, 0);
    free(s);
}

static void test_scenario_name_from_file_name(void **state)
{
    (void)state;
    static const struct { const char *file, *name; } cases[] = {
        { "dir/sub/dht-scaling.yaml", "dht-scaling" }, { "x.yml", "x" }, { "plain", "plain" },
        { "a.b.yaml", "a.b" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512];
        struct scenario s;
        struct scn_doc *d = scn_load_string("protocols: { chord: {} }", cases[i].file, err,
                                            sizeof err);
        assert_non_null(d);
        resolve(d, 0, &s);
        assert_string_equal(s.name, cases[i].name);
        scn_free(d);
    }
}

static void test_scenario_nulls_mean_defaults(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("network:\nchurn: ~\nworkload: {}\nnodes:\n"
                                      "protocols: { chord: ~ }\nsweep:\nplots:\n");
    assert_int_equal(s->nodes.count, 1000);
    assert_int_equal(s->network.mean_us, 80000);
    assert_int_equal(s->n_sweep, 0);
    free(s);
}

static void test_scenario_nodes_shorthand(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("nodes: 2500\nprotocols: { chord: {} }");
    assert_int_equal(s->nodes.count, 2500);
    assert_int_equal(s->nodes.start, START_CONVERGED);
    free(s);
    s = resolve_text("nodes: { count: 300, start: join, join_over: 2min }\n"
                     "protocols: { chord: {} }");
    assert_int_equal(s->nodes.count, 300);
    assert_int_equal(s->nodes.start, START_JOIN);
    assert_int_equal(s->nodes.join_over_us, 120 * US_PER_S);
    free(s);
}

static void test_scenario_latency_models(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("network: { latency: { model: uniform, mean: 100ms } }\n"
                                      "protocols: { chord: {} }");
    assert_int_equal(s->network.model, LAT_UNIFORM);
    assert_int_equal(s->network.min_us, 50000);
    assert_int_equal(s->network.max_us, 150000);
    free(s);
    s = resolve_text("network: { latency: { model: lognormal, mean: 60ms, sigma: 1.25 }, "
                     "loss: 1% }\nprotocols: { chord: {} }");
    assert_int_equal(s->network.model, LAT_LOGNORMAL);
    assert_true(s->network.sigma == 1.25);
    assert_true(s->network.loss == 0.01);
    free(s);
    s = resolve_text("network: { latency: { model: euclidean, access: 2ms } }\n"
                     "protocols: { chord: {} }");
    assert_int_equal(s->network.model, LAT_EUCLIDEAN);
    assert_int_equal(s->network.access_us, 2000);
    assert_int_equal(s->network.mean_us, 80000);
    free(s);
}

static void test_scenario_matrix_file_is_relative_to_the_scenario(void **state)
{
    (void)state;
    char err[1024];
    struct scenario s;
    const char *path = source_path("tests/scenarios/matrix.yaml");
    struct scn_doc *d = scn_load(path, err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    resolve(d, 0, &s);
    assert_int_equal(s.network.model, LAT_MATRIX);
    assert_string_equal(s.network.matrix, source_path("tests/scenarios/king4.txt"));
    assert_string_equal(s.network.matrix_given, "king4.txt");
    scn_free(d);
    /* the same text elsewhere finds no file */
    char *text = read_text(path);
    assert_null(scn_load_string(text, "elsewhere/matrix.yaml", err, sizeof err));
    assert_string_equal(first_line(err), "elsewhere/matrix.yaml:4:29: error: network.latency.file: "
                        "cannot open \"elsewhere/king4.txt\": No such file or directory (a "
                        "relative path is taken from the scenario file's directory)");
    free(text);
}

static void test_scenario_bad_matrix_content_fails_at_load(void **state)
{
    (void)state;
    char err[1024];
    FILE *f = fopen("test_scenario_bad_matrix.txt", "w");
    assert_non_null(f);
    fputs("0 1 10\n1 2 x\n", f);
    fclose(f);
    assert_null(scn_load_string("network: { latency: { model: matrix, file: "
                                "test_scenario_bad_matrix.txt } }\nprotocols: { chord: {} }",
                                "test.yaml", err, sizeof err));
    remove("test_scenario_bad_matrix.txt");
    assert_string_equal(first_line(err), "test_scenario_bad_matrix.txt:2:5: error: the latency "
                        "must be a number of milliseconds, 0 or more (got \"x\")");
}

static void test_scenario_dist_derivation(void **state)
{
    (void)state;
    struct scenario *s;
    const double min = 60 * US_PER_S;

    s = resolve_text("churn: { session: { dist: exponential, mean: 1h } }\n"
                     "protocols: { chord: {} }");
    assert_int_equal(s->churn.session.kind, DIST_EXPONENTIAL);
    assert_int_equal(s->churn.session.mean_us, 3600 * US_PER_S);
    assert_int_equal(s->churn.session.median_us, llround(3600 * US_PER_S * LN2));
    assert_false(s->churn.session.by_median);
    free(s);

    s = resolve_text("churn: { session: { dist: constant, median: 10min } }\n"
                     "protocols: { chord: {} }");
    assert_int_equal(s->churn.session.mean_us, 10 * min);
    assert_int_equal(s->churn.session.median_us, 10 * min);
    assert_true(s->churn.session.by_median);
    free(s);

    /* Weibull k = 0.5, median 30min: scale = median / (ln 2)^(1/k); mean = scale * G(1 + 1/k) */
    s = resolve_text("churn: { session: { dist: weibull, shape: 0.5, median: 30min } }\n"
                     "protocols: { chord: {} }");
    double scale = 30 * min / pow(LN2, 2);
    assert_int_equal(s->churn.session.median_us, 30 * min);
    assert_int_equal(s->churn.session.mean_us, llround(scale * 2)); /* G(3) = 2 */
    assert_true(s->churn.session.shape == 0.5);
    free(s);

    /* Weibull default shape 1 is the exponential */
    s = resolve_text("churn: { session: { dist: weibull, mean: 1h } }\nprotocols: { chord: {} }");
    assert_true(s->churn.session.shape == 1);
    assert_true(llabs(s->churn.session.median_us - llround(3600 * US_PER_S * LN2)) <= 1);
    free(s);

    /* Pareto alpha = 3, mean 1h: xm = mean (a - 1) / a = 40min; median = xm 2^(1/a) */
    s = resolve_text("churn: { session: { dist: pareto, shape: 3, mean: 1h } }\n"
                     "protocols: { chord: {} }");
    assert_true(llabs(s->churn.session.median_us - llround(40 * min * cbrt(2))) <= 1);
    free(s);
    /* Pareto default alpha 2, median given: xm = median / sqrt 2; mean = 2 xm */
    s = resolve_text("churn: { session: { dist: pareto, median: 1h } }\nprotocols: { chord: {} }");
    assert_true(s->churn.session.shape == 2);
    assert_true(llabs(s->churn.session.mean_us - llround(2 * 3600 * US_PER_S / sqrt(2))) <= 1);
    free(s);

    /* Lognormal sigma = 1 (default), median 10min: mean = median e^(1/2) */
    s = resolve_text("churn: { session: { dist: lognormal, median: 10min } }\n"
                     "protocols: { chord: {} }");
    assert_true(s->churn.session.shape == 1);
    assert_true(llabs(s->churn.session.mean_us - llround(10 * min * exp(0.5))) <= 1);
    free(s);
    /* lognormal sigma 0.5, mean given: median = mean e^(-sigma^2 / 2) */
    s = resolve_text("churn: { session: { dist: lognormal, shape: 0.5, mean: 1h } }\n"
                     "protocols: { chord: {} }");
    assert_true(llabs(s->churn.session.median_us - llround(3600 * US_PER_S * exp(-0.125))) <= 1);
    free(s);

    s = resolve_text("churn: { session: none }\nprotocols: { chord: {} }");
    assert_int_equal(s->churn.session.kind, DIST_NONE);
    assert_int_equal(s->churn.session.mean_us, 0);
    free(s);
}

static void test_scenario_downtime_default(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("churn: { session: { dist: exponential, mean: 1h } }\n"
                                      "protocols: { chord: {} }");
    assert_int_equal(s->churn.downtime.kind, DIST_EXPONENTIAL);
    assert_int_equal(s->churn.downtime.mean_us, 600 * US_PER_S);
    assert_int_equal(s->churn.downtime.median_us, llround(600 * US_PER_S * LN2));
    free(s);
    s = resolve_text("churn: { session: { dist: none }, downtime: { dist: constant, mean: 1min } }"
                     "\nprotocols: { chord: {} }");
    assert_int_equal(s->churn.downtime.kind, DIST_CONSTANT);
    free(s);
    s = resolve_text("churn: { session: { dist: exponential, mean: 1h }, downtime: none }\n"
                     "protocols: { chord: {} }");
    assert_int_equal(s->churn.downtime.kind, DIST_NONE);
    free(s);
}

static void test_scenario_events_sorted_stably(void **state)
{
    (void)state;
    struct scenario *s = resolve_text(
        "churn:\n  events:\n"
        "    - { at: 40min, join: 500 }\n"
        "    - { at: 20min, crash: 50% }\n"
        "    - { at: 20min, maintenance: off }\n"
        "    - { at: 0, maintenance: on }\n"
        "    - { at: 1h, crash: 0.25 }\n"
        "protocols: { chord: {} }");
    assert_int_equal(s->churn.n_events, 5);
    assert_int_equal(s->churn.events[0].at_us, 0);
    assert_int_equal(s->churn.events[0].kind, CHURN_MAINTENANCE);
    assert_true(s->churn.events[0].on);
    assert_int_equal(s->churn.events[1].kind, CHURN_CRASH);     /* file order at 20min */
    assert_true(s->churn.events[1].fraction == 0.5);
    assert_int_equal(s->churn.events[2].kind, CHURN_MAINTENANCE);
    assert_false(s->churn.events[2].on);
    assert_int_equal(s->churn.events[3].kind, CHURN_JOIN);
    assert_int_equal(s->churn.events[3].count, 500);
    assert_int_equal(s->churn.events[4].at_us, 3600 * US_PER_S);  /* at = duration is allowed */
    assert_true(s->churn.events[4].fraction == 0.25);
    free(s);
}

static void test_scenario_aliases(void **state)
{
    (void)state;
    struct scenario *s = resolve_text(
        "churn:\n  session: &d { dist: exponential, mean: 20min }\n  downtime: *d\n"
        "protocols: { chord: &c { successors: 4 } }\n");
    assert_int_equal(s->churn.downtime.kind, DIST_EXPONENTIAL);
    assert_int_equal(s->churn.downtime.mean_us, 1200 * US_PER_S);
    assert_int_equal(s->protocols[0].cfg.v[0].i, 4);
    free(s);
}

static void test_scenario_every_protocol_defaults(void **state)
{
    (void)state;
    for (const struct protocol *const *pp = protocol_registry; *pp; pp++) {
        char text[160];               /* every protocol runs with start: join and a catalogue */
        snprintf(text, sizeof text, "nodes: { start: join }\nworkload: { files: { count: 100 } }"
                 "\nprotocols: { %s: {} }", (*pp)->name);
        struct scenario *s = resolve_text(text);
        struct proto_config def;
        assert_int_equal(param_defaults(&def, (*pp)->params), 0);
        assert_string_equal(s->protocols[0].name, (*pp)->name);
        assert_int_equal(s->protocols[0].cfg.count, def.count);
        assert_memory_equal(s->protocols[0].cfg.v, def.v, def.count * sizeof def.v[0]);
        free(s);
    }
}

static void test_scenario_reference_loads(void **state)
{
    (void)state;
    char err[1024] = "";
    struct scn_doc *d = scn_load(source_path("scenarios/reference.yaml"), err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    assert_int_equal(scn_points(d), 6);
    struct scenario *s = malloc(sizeof *s);
    resolve(d, 0, s);
    assert_string_equal(s->name, "reference");
    assert_int_equal(s->churn.n_events, 4);
    assert_int_equal(s->n_plots, 2);
    assert_int_equal(s->n_sweep, 2);
    free(s);
    scn_free(d);
}

static void test_scenario_key_docs_complete(void **state)
{
    (void)state;
    static const char *const must[] = {
        "name", "seed", "duration", "warmup", "sample", "replicas", "network.latency.model",
        "network.latency.mean", "network.latency.min", "network.latency.max",
        "network.latency.sigma", "network.latency.access", "network.latency.file", "network.loss",
        "nodes", "nodes.count", "nodes.start", "nodes.join_over", "churn.session",
        "churn.session.dist", "churn.session.mean", "churn.session.median", "churn.session.shape",
        "churn.downtime", "churn.crash_fraction", "churn.events", "churn.events[].at",
        "churn.events[].crash", "churn.events[].join", "churn.events[].maintenance",
        "workload.keys", "workload.popularity.dist", "workload.popularity.alpha",
        "workload.lookups.rate", "workload.lookup_timeout", "protocols", "protocols.NAME.PARAM",
        "sweep.PATH", "plots", "plots[].x", "plots[].y", "plots[].by", "plots[].logx",
        "plots[].logy", "plots[].title",
    };
    size_t n = 0;
    for (const struct scn_key *k = scn_keys; k->path; k++, n++) {
        assert_non_null(scn_key_default(k));
        assert_non_null(k->type);
        assert_non_null(k->doc);
        assert_true(k->doc[0] != '\0');
    }
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        bool found = false;
        for (const struct scn_key *k = scn_keys; k->path && !found; k++)
            found = strcmp(k->path, must[i]) == 0;
        if (!found)
            fail_msg("scn_keys lacks %s", must[i]);
    }
    assert_true(n >= sizeof must / sizeof must[0]);
}

/* Every default in the key table reads back through its own row: the resolvers take their
 * defaults from these texts, so a default that does not parse or validate is a bug here. */
static void test_scenario_keys_defaults_parse(void **state)
{
    (void)state;
    size_t checked = 0;
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        const struct scn_key *t = scn_key_target(k);
        assert_non_null(t);
        assert_true(t->alias == NULL);
        if (k->alias || k->kind == SCN_DOC || k->derived || !k->def[0])
            continue;
        union { char text[512]; int64_t i; double d; struct rate r; } field;
        const char *why = NULL;
        if (scn_key_parse(k, k->def, &field, &why) != 0)
            fail_msg("the default of %s, \"%s\", does not read: %s", k->path, k->def, why);
        checked++;
    }
    assert_true(checked >= 25);
    /* a row's check rejects out-of-range values with the resolvers' wording */
    union { int64_t i; double d; } field;
    const char *why;
    assert_int_equal(scn_key_parse(scn_key_find("network.loss"), "1", &field, &why), -2);
    assert_string_equal(why, "must be at least 0 and less than 1");
    assert_int_equal(scn_key_parse(scn_key_find("duration"), "0", &field, &why), -2);
    assert_int_equal(scn_key_parse(scn_key_find("replicas"), "0", &field, &why), -1);
}

/* `p2plab list keys` lists every row exactly once, in table order, with its default. */
static void test_scenario_keys_listed_once(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    scn_keys_print(f, true);
    fclose(f);
    const char *at = buf;
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        char cell[160];
        snprintf(cell, sizeof cell, "\n| `%s` |", k->path);
        const char *hit = strstr(buf, cell);
        if (!hit)
            fail_msg("list keys lacks %s", k->path);
        assert_null(strstr(hit + 1, cell));
        assert_true(hit >= at);
        at = hit;
        const char *def = scn_key_default(k);
        if (def[0]) {
            snprintf(cell, sizeof cell, "| `%s` | `%s` |", k->path, def);
            assert_ptr_equal(strstr(buf, cell), hit + 1);
        }
    }
    free(buf);
}

/* ==== --set =============================================================================== */

static void set_ok(struct scn_doc *d, const char *assignment)
{
    char err[1024] = "";
    if (scn_set(d, assignment, err, sizeof err) != 0)
        fail_msg("--set %s: %s", assignment, err);
}

static void test_scenario_set_overrides(void **state)
{
    (void)state;
    struct scn_doc *d = load_ok("nodes: 1000\nprotocols: { chord: }\n");
    set_ok(d, "nodes=5000");
    set_ok(d, "protocols.chord.successors=8");
    set_ok(d, "network.latency={ model: uniform, mean: 50ms }");
    set_ok(d, "workload.popularity.dist=zipf");
    set_ok(d, "churn.events=[{ at: 10min, crash: 50% }, { at: 5min, join: 7 }]");
    set_ok(d, "churn.session={ dist: weibull, shape: 0.5, median: 30min }");
    set_ok(d, "nodes.start=join");   /* nodes: 5000 becomes { count: 5000, start: join } */
    set_ok(d, "seed=99");
    set_ok(d, "seed=100");           /* the last one wins */
    char err[1024];
    assert_int_equal(scn_check(d, err, sizeof err), 0);
    struct scenario s;
    resolve(d, 0, &s);
    assert_int_equal(s.nodes.count, 5000);
    assert_int_equal(s.nodes.start, START_JOIN);
    int successors = param_find(s.protocols[0].cfg.params, "successors");
    assert_int_equal(s.protocols[0].cfg.v[successors].i, 8);
    assert_int_equal(s.network.model, LAT_UNIFORM);
    assert_int_equal(s.network.min_us, 25000);
    assert_int_equal(s.workload.popularity, POP_ZIPF);
    assert_int_equal(s.churn.n_events, 2);
    assert_int_equal(s.churn.events[0].kind, CHURN_JOIN);
    assert_int_equal(s.churn.session.kind, DIST_WEIBULL);
    assert_int_equal(s.seed, 100);
    scn_free(d);

    d = load_ok("nodes: { count: 10, start: join }\nprotocols: { chord: {} }\n");
    set_ok(d, "nodes=20");           /* shorthand: only the count changes */
    resolve(d, 0, &s);
    assert_int_equal(s.nodes.count, 20);
    assert_int_equal(s.nodes.start, START_JOIN);
    scn_free(d);
    d = load_ok("nodes: { count: 10, start: join }\nprotocols: { chord: {} }\n");
    set_ok(d, "sweep.nodes=[1, 2, 3]");
    assert_int_equal(scn_points(d), 3);
    resolve(d, 2, &s);
    assert_int_equal(s.nodes.count, 3);
    assert_int_equal(s.nodes.start, START_JOIN);
    scn_free(d);
}

/* Applies one --set to a small scenario and returns the first line of the error, from scn_set
 * or else from scn_check. */
static const char *set_err(const char *base, const char *assignment)
{
    static char err[1024];
    err[0] = '\0';
    struct scn_doc *d = load_ok(base);
    if (scn_set(d, assignment, err, sizeof err) == 0)
        assert_int_equal(scn_check(d, err, sizeof err), -1);
    scn_free(d);
    return first_line(err);
}

/* A list's item by index, swept and set: churn.events[1].crash varies per point, and --set
 * reaches the same item; an index past the list's end is refused where it is written. */
static void test_scenario_sweep_list_item(void **state)
{
    (void)state;
    struct scn_doc *d = load_ok("nodes: 64\nprotocols: { chord: {} }\nchurn:\n  events:\n"
                                "    - { at: 59s, maintenance: off }\n    - { at: 60s, crash: 10% }\n"
                                "sweep:\n  churn.events[1].crash: [10%, 30%]\n");
    assert_int_equal(scn_points(d), 2);
    char err[1024];
    struct scenario sc;
    for (size_t p = 0; p < 2; p++) {
        assert_int_equal(scn_resolve(d, p, &sc, err, sizeof err), 0);
        assert_int_equal(sc.churn.n_events, 2);
        assert_true(fabs(sc.churn.events[1].fraction - (p ? 0.3 : 0.1)) < 1e-12);
        assert_false(sc.churn.events[0].on);
    }
    assert_int_equal(scn_set(d, "churn.events[0].at=30s", err, sizeof err), 0);
    assert_int_equal(scn_check(d, err, sizeof err), 0);
    assert_int_equal(scn_resolve(d, 1, &sc, err, sizeof err), 0);
    assert_int_equal(sc.churn.events[0].at_us, 30000000);
    assert_int_equal(scn_set(d, "churn.events[2].crash=5%", err, sizeof err), -1);
    assert_string_equal(first_line(err), "--set churn.events[2].crash=5%: error: churn.events has "
                        "2 items: there is no churn.events[2]; write the item in the scenario first");
    scn_free(d);
    assert_string_equal(first_line(load_err("nodes: 64\nprotocols: { chord: {} }\nsweep:\n"
                                            "  churn.events[0].crash: [10%]\n")),
                        "test.yaml:4:3: error: sweep: churn.events has 0 items: there is no "
                        "churn.events[0]; write the item in the scenario first");
}

static void test_scenario_set_errors(void **state)
{
    (void)state;
    const char *base = "protocols: { chord: {} }\nseed: 3\n"
                       "churn: { events: [ { at: 1min, join: 1 } ] }\n";
    static const struct { const char *set, *first; } cases[] = {
        { "nodes=0", "--set nodes=0: error: nodes must be between 1 and 100000000 (got 0)" },
        { "nodes", "--set nodes: error: expected KEY=VALUE, e.g. --set nodes=2000 or --set "
                   "protocols.chord.successors=8" },
        { "=5", "--set =5: error: \"\" is not a key path: write dotted keys such as "
                "protocols.chord.successors" },
        { "a..b=5", "--set a..b=5: error: \"a..b\" is not a key path: write dotted keys such as "
                    "protocols.chord.successors" },
        { "protocols.chord.sucessors=3", "--set protocols.chord.sucessors=3: error: unknown key "
                                         "\"sucessors\" in protocols.chord (did you mean "
                                         "\"successors\"?)" },
        { "protocols.chord.successors=65", "--set protocols.chord.successors=65: error: "
                                           "protocols.chord.successors must be between 1 and 64 "
                                           "(got 65)" },
        { "protocols.chrod.k=3", "--set protocols.chrod.k=3: error: unknown protocol \"chrod\" "
                                 "in protocols (did you mean \"chord\"?)" },
        { "nodes=[1", "--set nodes=[1: error: invalid YAML: did not find expected ',' or ']' "
                      "(while parsing a flow sequence that starts at 1:1)" },
        { "duration=",
          "--set duration=: error: duration has no value: give one or remove the key" },
        { "duration=30", "--set duration=30: error: duration needs a unit: expected a duration "
                         "such as 80ms, 30s, 5min, 2h or 1d (got \"30\")" },
        { "warmup=2h",
          "--set warmup=2h: error: warmup must be shorter than duration, 1h (got 2h)" },
        { "seed.x=1", "--set seed.x=1: error: seed is a single value, not a mapping with keys: "
                      "set seed itself" },
        { "churn.events.at=1", "--set churn.events.at=1: error: churn.events is a list: replace "
                               "it whole, e.g. --set 'churn.events=[...]'" },
        { "colour=red", "--set colour=red: error: unknown key \"colour\" (expected one of name, "
                        "seed, duration, warmup, sample, replicas, network, nodes, churn, "
                        "workload, protocols, sweep, plots, also, expect, quick)" },
        { "sweep.nodes=5", "--set sweep.nodes=5: error: sweep.nodes must be a list of values such "
                           "as [1000, 2000, 4000], not a single value" },
        { "protocols={}", "--set protocols={}: error: no protocols to run: add e.g. \"protocols: "
                          "{ chord: {} }\"" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(set_err(base, cases[i].set), cases[i].first);
}

/* Every ready-to-run scenario (scenarios/ and its subfolders) loads, every sweep point and
 * companion included: a scenario a user is pointed at must never fail on its first run. */
static void check_folder(const char *rel, size_t *n)
{
    DIR *dir = opendir(source_path(rel));
    assert_non_null(dir);
    struct dirent *e;
    char names[64][256];
    size_t k = 0;
    while ((e = readdir(dir)) != NULL && k < 64)
        if (e->d_name[0] != '.')
            snprintf(names[k++], sizeof names[0], "%s", e->d_name);
    closedir(dir);
    for (size_t i = 0; i < k; i++) {
        char sub[700];
        snprintf(sub, sizeof sub, "%.400s/%.255s", rel, names[i]);
        size_t len = strlen(names[i]);
        if (len > 5 && strcmp(names[i] + len - 5, ".yaml") == 0) {
            char err[2048] = "";
            struct scn_doc *d = scn_load(source_path(sub), err, sizeof err);
            if (!d)
                fail_msg("%s", err);
            struct scenario sc;
            assert_int_equal(scn_resolve(d, 0, &sc, err, sizeof err), 0);
            for (size_t a = 0; a < sc.n_also; a++) {
                struct scn_doc *c = scn_load(sc.also[a].path, err, sizeof err);
                if (!c)
                    fail_msg("%s", err);
                scn_free(c);
            }
            scn_free(d);
            (*n)++;
        } else if (!strchr(names[i], '.')) {
            check_folder(sub, n);
        }
    }
}

static void test_scenario_every_shipped_scenario_loads(void **state)
{
    (void)state;
    size_t n = 0;
    check_folder("scenarios", &n);
    assert_true(n >= 18);
}

/* A protocol's parameter axis applies to that protocol only: other protocols run at its first
 * value alone, since the others would repeat the same run. */
static void test_scenario_protocol_axes_apply_to_their_protocol(void **state)
{
    (void)state;
    assert_true(scn_axis_applies("nodes", "chord"));
    assert_true(scn_axis_applies("churn.session.median", "kademlia"));
    assert_true(scn_axis_applies("protocols.chord.successors", "chord"));
    assert_false(scn_axis_applies("protocols.chord.successors", "kademlia"));
    assert_false(scn_axis_applies("protocols.chordx.successors", "chord"));
    assert_false(scn_axis_applies("protocols.cho.successors", "chord"));
    struct scn_doc *d = load_ok("protocols: { chord: {}, kademlia: {} }\n"
                                "sweep: { nodes: [16, 32], protocols.chord.successors: [4, 8, 16] }\n");
    struct scenario base;
    char err[512];
    assert_int_equal(scn_resolve(d, 0, &base, err, sizeof err), 0);
    assert_int_equal(scn_points(d), 6);
    size_t chord = 0, kad = 0;
    for (size_t p = 0; p < scn_points(d); p++) {
        chord += scn_point_runs(d, p, &base, "chord");
        if (scn_point_runs(d, p, &base, "kademlia")) {
            kad++;
            assert_string_equal(scn_point_value(d, p, 1), "4");
        }
    }
    assert_int_equal(chord, 6);
    assert_int_equal(kad, 2);
    scn_free(d);
}

static void test_scenario_set_conflicts_with_sweep(void **state)
{
    (void)state;
    const char *base = "protocols: { chord: {} }\nsweep: { nodes: [10, 20] }\n";
    assert_string_equal(set_err(base, "nodes=500"), "--set nodes=500: error: nodes is swept "
                        "(sweep.nodes); override the sweep instead, e.g. "
                        "--set 'sweep.nodes=[...]'");
    assert_string_equal(set_err(base, "nodes.count=500"), "--set nodes.count=500: error: "
                        "nodes.count is swept (sweep.nodes); override the sweep instead, e.g. "
                        "--set 'sweep.nodes=[...]'");
    /* dropping the sweep clears the conflict */
    struct scn_doc *d = load_ok(base);
    char err[1024];
    set_ok(d, "nodes=500");
    set_ok(d, "sweep={}");
    assert_int_equal(scn_check(d, err, sizeof err), 0);
    assert_int_equal(scn_points(d), 1);
    struct scenario s;
    resolve(d, 0, &s);
    assert_int_equal(s.nodes.count, 500);
    scn_free(d);
}

/* ==== sweeps ============================================================================== */

static void test_scenario_sweep_order_and_count(void **state)
{
    (void)state;
    struct scn_doc *d = load_ok("protocols: { chord: {} }\n"
                                "sweep:\n"
                                "  nodes: [100, 200, 300]\n"
                                "  protocols.chord.mode: [iterative, recursive]\n"
                                "  churn.crash_fraction: [0%, 100%]\n");
    assert_int_equal(scn_points(d), 12);
    struct scenario s;
    size_t p = 0;
    static const char *const modes[] = { "iterative", "recursive" };
    static const char *const crash[] = { "0%", "100%" };
    int mode = param_find(protocol_find("chord")->params, "mode");
    for (int n = 0; n < 3; n++)       /* the first axis varies slowest */
        for (int m = 0; m < 2; m++)
            for (int c = 0; c < 2; c++, p++) {
                char count[8];
                snprintf(count, sizeof count, "%d", (n + 1) * 100);
                assert_string_equal(scn_point_value(d, p, 0), count);
                assert_string_equal(scn_point_value(d, p, 1), modes[m]);
                assert_string_equal(scn_point_value(d, p, 2), crash[c]);
                resolve(d, p, &s);
                assert_int_equal(s.point, p);
                assert_int_equal(s.nodes.count, (n + 1) * 100);
                assert_int_equal(s.protocols[0].cfg.v[mode].i, m);
                assert_true(s.churn.crash_fraction == c);
                assert_int_equal(s.n_sweep, 3);
                assert_string_equal(s.sweep[1].path, "protocols.chord.mode");
                assert_int_equal(s.sweep[0].n_values, 3);
                assert_string_equal(s.sweep[2].values[1], "100%");
            }
    assert_null(scn_point_value(d, 12, 0));
    assert_null(scn_point_value(d, 0, 3));
    char err[256];
    assert_int_equal(scn_resolve(d, 12, &s, err, sizeof err), -1);
    assert_string_equal(err, "test.yaml: error: sweep point 12 does not exist (there are 12)");
    scn_free(d);

    d = load_ok("protocols: { chord: {} }\n");
    assert_int_equal(scn_points(d), 1);
    assert_null(scn_point_value(d, 0, 0));
    scn_free(d);
}

static void test_scenario_sweep_keeps_nodes_mapping(void **state)
{
    (void)state;
    struct scn_doc *d = load_ok("nodes: { count: 10, start: join, join_over: 1min }\n"
                                "protocols: { chord: {} }\nsweep: { nodes: [30, 40] }\n");
    struct scenario s;
    resolve(d, 1, &s);
    assert_int_equal(s.nodes.count, 40);
    assert_int_equal(s.nodes.start, START_JOIN);
    assert_int_equal(s.nodes.join_over_us, 60 * US_PER_S);
    scn_free(d);
    /* a swept key that the file does not mention is created */
    d = load_ok("protocols: { chord: {} }\nsweep: { churn.session.dist: [none, exponential], "
                "churn.session.mean: [1h] }\n");
    resolve(d, 1, &s);
    assert_int_equal(s.churn.session.kind, DIST_EXPONENTIAL);
    resolve(d, 0, &s);
    assert_int_equal(s.churn.session.kind, DIST_NONE);
    scn_free(d);
}

static void test_scenario_sweep_limits(void **state)
{
    (void)state;
    assert_string_equal(first_line(load_err(
        "protocols: { chord: {} }\nsweep: { seed: [1], replicas: [1], duration: [1h], "
        "warmup: [0], sample: [1min] }")),
        "test.yaml:2:65: error: sweep: at most 4 axes (swept keys)");
    char text[2048] = "protocols: { chord: {} }\nsweep: { seed: [";
    for (int i = 0; i <= SCN_MAX_POINTS; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%d", i ? "," : "", i);
    strcat(text, "] }");
    assert_string_equal(first_line(load_err(text)), "test.yaml:2:199: error: sweep.seed: at most "
                        "64 values");
    /* 64 x 64 x 2 points is over the whole-sweep limit */
    char big[4096] = "protocols: { chord: {} }\nsweep:\n  seed: [";
    for (int a = 0; a < 2; a++) {
        for (int i = 0; i < SCN_MAX_POINTS; i++)
            snprintf(big + strlen(big), sizeof big - strlen(big), "%s%d", i ? "," : "", i + 1);
        strcat(big, a == 0 ? "]\n  replicas: [" : "]\n");
    }
    strcat(big, "  warmup: [0, 1s]\n");
    assert_string_equal(first_line(load_err(big)), "test.yaml:5:3: error: sweep: more than 4096 "
                        "points in all (the product of the numbers of values)");
}

static void test_scenario_sweep_protocol_not_listed(void **state)
{
    (void)state;
    const struct protocol *one = protocol_registry[0], *two = one ? protocol_registry[1] : NULL;
    if (!two)
        skip();                       /* needs two registered protocols */
    char text[256], want[512];
    snprintf(text, sizeof text, "protocols: { %s: {} }\nsweep: { protocols.%s.%s: [1] }",
             one->name, two->name, two->params[0].name);
    snprintf(want, sizeof want, "test.yaml:2:10: error: sweep: %s is not under protocols; add "
             "\"%s: {}\" there or drop this axis", two->name, two->name);
    assert_string_equal(first_line(load_err(text)), want);
}

/* ==== emit -> load ======================================================================== */

struct sbuf {
    char *text;
    size_t len, cap;
};

static int sbuf_write(void *data, unsigned char *bytes, size_t n)
{
    struct sbuf *b = data;
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->text = realloc(b->text, b->cap);
        assert_non_null(b->text);
    }
    memcpy(b->text + b->len, bytes, n);
    b->len += n;
    b->text[b->len] = '\0';
    return 1;
}

/* The resolved scenario as a YAML document, the way output.c writes it into summary.yaml. */
static char *emit(const struct scenario *s)
{
    struct sbuf b = { 0 };
    yaml_emitter_t e;
    yaml_event_t ev;
    assert_true(yaml_emitter_initialize(&e));
    yaml_emitter_set_output(&e, sbuf_write, &b);
    yaml_emitter_set_unicode(&e, 1);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    assert_true(yaml_emitter_emit(&e, &ev));
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    assert_true(yaml_emitter_emit(&e, &ev));
    assert_int_equal(scn_emit(s, &e), 0);
    yaml_document_end_event_initialize(&ev, 1);
    assert_true(yaml_emitter_emit(&e, &ev));
    yaml_stream_end_event_initialize(&ev);
    assert_true(yaml_emitter_emit(&e, &ev));
    yaml_emitter_delete(&e);
    return b.text;
}

static void assert_dist_equal(const struct dist *a, const struct dist *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->mean_us, b->mean_us);
    assert_int_equal(a->median_us, b->median_us);
    assert_true(a->shape == b->shape);
    assert_int_equal(a->by_median, b->by_median);
}

/* Every field but `file` (where it was loaded from). */
static void assert_scenario_equal(const struct scenario *a, const struct scenario *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->seed, b->seed);
    assert_int_equal(a->duration_us, b->duration_us);
    assert_int_equal(a->warmup_us, b->warmup_us);
    assert_int_equal(a->sample_us, b->sample_us);
    assert_int_equal(a->replicas, b->replicas);
    const struct scn_network *na = &a->network, *nb = &b->network;
    assert_int_equal(na->model, nb->model);
    assert_int_equal(na->mean_us, nb->mean_us);
    assert_int_equal(na->min_us, nb->min_us);
    assert_int_equal(na->max_us, nb->max_us);
    assert_true(na->sigma == nb->sigma);
    assert_int_equal(na->access_us, nb->access_us);
    assert_string_equal(na->matrix, nb->matrix);
    assert_string_equal(na->matrix_given, nb->matrix_given);
    assert_true(na->loss == nb->loss);
    assert_int_equal(a->nodes.count, b->nodes.count);
    assert_int_equal(a->nodes.start, b->nodes.start);
    assert_int_equal(a->nodes.join_over_us, b->nodes.join_over_us);
    assert_dist_equal(&a->churn.session, &b->churn.session);
    assert_dist_equal(&a->churn.downtime, &b->churn.downtime);
    assert_true(a->churn.crash_fraction == b->churn.crash_fraction);
    assert_int_equal(a->churn.n_events, b->churn.n_events);
    for (size_t i = 0; i < a->churn.n_events; i++) {
        const struct scn_churn_event *ea = &a->churn.events[i], *eb = &b->churn.events[i];
        assert_int_equal(ea->at_us, eb->at_us);
        assert_int_equal(ea->kind, eb->kind);
        assert_true(ea->fraction == eb->fraction);
        assert_int_equal(ea->count, eb->count);
        assert_int_equal(ea->on, eb->on);
    }
    const struct scn_workload *wa = &a->workload, *wb = &b->workload;
    assert_int_equal(wa->keys, wb->keys);
    assert_int_equal(wa->popularity, wb->popularity);
    assert_true(wa->alpha == wb->alpha);
    assert_true(wa->lookups.per_s == wb->lookups.per_s);
    assert_int_equal(wa->lookups.per_node, wb->lookups.per_node);
    assert_int_equal(wa->lookup_timeout_us, wb->lookup_timeout_us);
    assert_int_equal(a->n_protocols, b->n_protocols);
    for (size_t i = 0; i < a->n_protocols; i++) {
        assert_string_equal(a->protocols[i].name, b->protocols[i].name);
        assert_ptr_equal(a->protocols[i].cfg.params, b->protocols[i].cfg.params);
        assert_int_equal(a->protocols[i].cfg.count, b->protocols[i].cfg.count);
        assert_memory_equal(a->protocols[i].cfg.v, b->protocols[i].cfg.v,
                            a->protocols[i].cfg.count * sizeof a->protocols[i].cfg.v[0]);
    }
    assert_int_equal(a->n_sweep, b->n_sweep);
    for (size_t i = 0; i < a->n_sweep; i++) {
        assert_string_equal(a->sweep[i].path, b->sweep[i].path);
        assert_int_equal(a->sweep[i].n_values, b->sweep[i].n_values);
        for (size_t k = 0; k < a->sweep[i].n_values; k++)
            assert_string_equal(a->sweep[i].values[k], b->sweep[i].values[k]);
    }
    assert_int_equal(a->point, b->point);
    assert_int_equal(a->n_plots, b->n_plots);
    for (size_t i = 0; i < a->n_plots; i++) {
        assert_string_equal(a->plots[i].x, b->plots[i].x);
        assert_string_equal(a->plots[i].y, b->plots[i].y);
        assert_string_equal(a->plots[i].by, b->plots[i].by);
        assert_true(a->plots[i].logx == b->plots[i].logx);
        assert_true(a->plots[i].logy == b->plots[i].logy);
        assert_string_equal(a->plots[i].title, b->plots[i].title);
    }
}

/* Every point of the file, emitted and loaded back (under the same name, so that relative
 * paths resolve alike), resolves to the same scenario; and emitting that gives the same text. */
static void round_trip(const char *path)
{
    char err[1024] = "";
    struct scn_doc *d = scn_load(path, err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    struct scenario *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    for (size_t p = 0; p < scn_points(d); p++) {
        resolve(d, p, a);
        char *text = emit(a);
        struct scn_doc *d2 = scn_load_string(text, path, err, sizeof err);
        if (!d2)
            fail_msg("%s point %zu: the emitted scenario does not load: %s\n%s", path, p, err,
                     text);
        assert_int_equal(scn_points(d2), scn_points(d));
        resolve(d2, p, b);
        assert_scenario_equal(a, b);
        char *again = emit(b);
        assert_string_equal(again, text);
        free(again);
        free(text);
        scn_free(d2);
    }
    free(a);
    free(b);
    scn_free(d);
}

static void test_scenario_emit_round_trip(void **state)
{
    (void)state;
    round_trip(source_path("scenarios/reference.yaml"));
    round_trip(source_path("tests/scenarios/roundtrip.yaml"));
    round_trip(source_path("tests/scenarios/matrix.yaml"));

    /* the defaults, and text that needs quoting */
    struct scn_doc *d = load_ok("name: 'yes'\nprotocols: { chord: {} }\n"
                                "sweep: { nodes: [10, 20] }\n"
                                "plots: [ { x: nodes, y: lookup.hops.mean, title: 'a: b # c' }, "
                                "{ x: protocol, y: lookup.success_rate, title: '~' } ]");
    struct scenario *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    resolve(d, 1, a);
    scn_free(d);
    char *text = emit(a);
    d = load_ok(text);
    resolve(d, 1, b);
    assert_scenario_equal(a, b);
    assert_string_equal(b->plots[0].title, "a: b # c");
    assert_string_equal(b->plots[1].title, "~");
    scn_free(d);
    free(text);
    free(a);
    free(b);
}

static void test_scenario_emit_writes_every_key(void **state)
{
    (void)state;
    struct scenario *s = resolve_text("protocols: { chord: {} }");
    char *text = emit(s);
    static const char *const keys[] = {
        "name:", "seed:", "duration:", "warmup:", "sample:", "replicas:", "network:", "latency:",
        "model:", "mean:", "min:", "max:", "sigma:", "access:", "loss:", "nodes:", "count:",
        "start:", "join_over:", "churn:", "session:", "downtime:", "crash_fraction:", "events:",
        "workload:", "keys:", "popularity:", "alpha:", "lookups:", "rate:", "lookup_timeout:",
        "protocols:", "chord:", "successors:", "sweep:", "plots:",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(text, keys[i]))
            fail_msg("the emitted scenario lacks %s:\n%s", keys[i], text);
    assert_non_null(strstr(text, "rate: 1/node/min"));
    assert_non_null(strstr(text, "duration: 1h"));
    free(text);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenario_bad_files_from_file),
        cmocka_unit_test(test_scenario_bad_files_from_string),
        cmocka_unit_test(test_scenario_swept_base_is_not_costed),
        cmocka_unit_test(test_scenario_missing_file),
        cmocka_unit_test(test_scenario_missing_protocols),
        cmocka_unit_test(test_scenario_more_diagnostics),
        cmocka_unit_test(test_scenario_defaults),
        cmocka_unit_test(test_scenario_name_from_file_name),
        cmocka_unit_test(test_scenario_nulls_mean_defaults),
        cmocka_unit_test(test_scenario_nodes_shorthand),
        cmocka_unit_test(test_scenario_latency_models),
        cmocka_unit_test(test_scenario_matrix_file_is_relative_to_the_scenario),
        cmocka_unit_test(test_scenario_bad_matrix_content_fails_at_load),
        cmocka_unit_test(test_scenario_dist_derivation),
        cmocka_unit_test(test_scenario_downtime_default),
        cmocka_unit_test(test_scenario_events_sorted_stably),
        cmocka_unit_test(test_scenario_aliases),
        cmocka_unit_test(test_scenario_every_protocol_defaults),
        cmocka_unit_test(test_scenario_reference_loads),
        cmocka_unit_test(test_scenario_key_docs_complete),
        cmocka_unit_test(test_scenario_keys_defaults_parse),
        cmocka_unit_test(test_scenario_keys_listed_once),
        cmocka_unit_test(test_scenario_set_overrides),
        cmocka_unit_test(test_scenario_set_errors),
        cmocka_unit_test(test_scenario_sweep_list_item),
        cmocka_unit_test(test_scenario_set_conflicts_with_sweep),
        cmocka_unit_test(test_scenario_protocol_axes_apply_to_their_protocol),
        cmocka_unit_test(test_scenario_every_shipped_scenario_loads),
        cmocka_unit_test(test_scenario_sweep_order_and_count),
        cmocka_unit_test(test_scenario_sweep_keeps_nodes_mapping),
        cmocka_unit_test(test_scenario_sweep_limits),
        cmocka_unit_test(test_scenario_sweep_protocol_not_listed),
        cmocka_unit_test(test_scenario_emit_round_trip),
        cmocka_unit_test(test_scenario_emit_writes_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
