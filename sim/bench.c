/* bench.c — `p2plab bench`: benchmarks of the engine's event loop, starting with PHOLD.
 *
 * PHOLD (Fujimoto, "Performance of Time Warp under synthetic workloads", 1990) is the standard
 * workload for a discrete-event engine: N logical processes (LPs) each start with `population`
 * events; handling an event schedules exactly one new one at now + lookahead + Exp(mean), at a
 * uniformly random LP with probability `remote`, else at the same LP. The pending-event count
 * therefore stays N·population, and the run measures the pop / dispatch / push loop alone.
 * It drives the real engine (engine_alloc / engine_schedule / engine_next / engine_release),
 * so its events per second are those of the simulator's own loop with a trivial handler. */
#include "sim/bench.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/bench_scale.h"
#include "sim/engine.h"
#include "sim/units.h"

/* ---- the benchmark table ---------------------------------------------------------------- */

struct bench {
    const char *name;
    const char *summary;              /* one line for `p2plab bench` */
    int (*run)(int argc, char **argv);  /* argv[0] is the benchmark's name */
};

static int phold_main(int argc, char **argv);

static const struct bench benches[] = {
    { "phold", "classic PHOLD: LPs exchanging timestamped events; measures events/s of the "
               "engine loop", phold_main },
    { "scale", "CPU time and peak memory of whole runs against N, each protocol alone; "
               "a table and log-log figures", scale_main },
    { NULL, NULL, NULL },
};

static void bench_list(FILE *f)
{
    fprintf(f, "usage: p2plab bench NAME [options]   (p2plab bench NAME --help for options)\n"
               "benchmarks:\n");
    for (const struct bench *b = benches; b->name; b++)
        fprintf(f, "  %-8s %s\n", b->name, b->summary);
}

int bench_main(int argc, char **argv)
{
    if (argc < 2) {
        bench_list(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        bench_list(stdout);
        return 0;
    }
    for (const struct bench *b = benches; b->name; b++)
        if (strcmp(b->name, argv[1]) == 0)
            return b->run(argc - 1, argv + 1);
    fprintf(stderr, "p2plab bench: unknown benchmark '%s'\n", argv[1]);
    bench_list(stderr);
    return 2;
}

/* ---- measuring ---------------------------------------------------------------------------- */

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds (user + system) this process has used: on a shared machine a benchmark's wall
 * time includes other jobs' turns on the core, its CPU time does not. */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0.0;
    return (double)ru.ru_maxrss / 1024.0;   /* Linux reports kilobytes */
}

/* ---- PHOLD -------------------------------------------------------------------------------- */

struct phold_config {
    int64_t lps;                      /* logical processes */
    int64_t population;               /* initial events per LP */
    double remote;                    /* probability that an event goes to a random LP */
    int64_t lookahead;                /* microseconds added to every delay */
    int64_t mean;                     /* microseconds: mean of the exponential delay */
    int64_t events;                   /* events processed in the timed part */
    int64_t seed;                     /* GSL taus2 seed */
};

enum phold_opt_type { OPT_COUNT, OPT_FRACTION, OPT_DURATION };

struct phold_opt {
    const char *name;                 /* without the leading "--" */
    enum phold_opt_type type;
    size_t offset;                    /* into struct phold_config */
    int64_t min, max;                 /* OPT_COUNT, OPT_DURATION (microseconds) */
    const char *doc;
};

#define PHOLD_MAX_PENDING ((int64_t)ENGINE_SLOT_MASK)  /* records of one engine size class */

static const struct phold_opt phold_opts[] = {
    { "lps", OPT_COUNT, offsetof(struct phold_config, lps), 1, UINT32_MAX - 1,
      "number of logical processes (default 10000)" },
    { "population", OPT_COUNT, offsetof(struct phold_config, population), 1, PHOLD_MAX_PENDING,
      "initial events per LP (default 100)" },
    { "remote", OPT_FRACTION, offsetof(struct phold_config, remote), 0, 1,
      "fraction of events sent to a uniformly random LP, 0.9 or 90% (default 0.9)" },
    { "lookahead", OPT_DURATION, offsetof(struct phold_config, lookahead), 0,
      INT64_C(86400000000), "fixed part of every delay, e.g. 100us (default 100us)" },
    { "mean", OPT_DURATION, offsetof(struct phold_config, mean), 0, INT64_C(86400000000),
      "mean of the exponential part of every delay, e.g. 1ms (default 1ms)" },
    { "events", OPT_COUNT, offsetof(struct phold_config, events), 1, INT64_MAX / 2,
      "events timed, after an untimed warm-up of one pass (default 10000000)" },
    { "seed", OPT_COUNT, offsetof(struct phold_config, seed), 0, UINT32_MAX,
      "seed of the GSL taus2 generator (default 1)" },
    { NULL, OPT_COUNT, 0, 0, 0, NULL },
};

static void phold_usage(FILE *f)
{
    fprintf(f, "usage: p2plab bench phold [options]\noptions:\n");
    for (const struct phold_opt *o = phold_opts; o->name; o++) {
        const char *arg = o->type == OPT_DURATION ? "DUR" : o->type == OPT_FRACTION ? "F" : "N";
        fprintf(f, "  --%-11s %-4s %s\n", o->name, arg, o->doc);
    }
}

/* Parses one option value into cfg; prints the error and returns -1 when it is bad. */
static int phold_set(struct phold_config *cfg, const struct phold_opt *o, const char *text)
{
    const char *err = NULL;
    char *field = (char *)cfg + o->offset;
    if (o->type == OPT_FRACTION) {
        double v;
        if (units_fraction(text, &v, &err) != 0) {
            fprintf(stderr, "p2plab bench phold: --%s expects a fraction in [0, 1] such as 0.9 or "
                            "90%% (got '%s'): %s\n", o->name, text, err);
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    }
    int64_t v;
    int rc = o->type == OPT_DURATION ? units_duration(text, &v, &err) : units_int(text, &v, &err);
    if (rc == 0 && (v < o->min || v > o->max)) {
        rc = -1;
        err = "out of range";
    }
    if (rc != 0) {
        if (o->type == OPT_DURATION)
            fprintf(stderr, "p2plab bench phold: --%s expects a duration between 0 and 1d such "
                            "as 100us, 1ms or 1s (got '%s'): %s\n", o->name, text, err);
        else
            fprintf(stderr, "p2plab bench phold: --%s expects a whole number between %lld and "
                            "%lld (got '%s'): %s\n", o->name, (long long)o->min,
                    (long long)o->max, text, err);
        return -1;
    }
    memcpy(field, &v, sizeof v);
    return 0;
}

static int phold_parse(struct phold_config *cfg, int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            phold_usage(stdout);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "p2plab bench phold: unexpected argument '%s'\n", arg);
            phold_usage(stderr);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct phold_opt *o = phold_opts;
        while (o->name && !(strlen(o->name) == len && strncmp(o->name, name, len) == 0))
            o++;
        if (!o->name) {
            fprintf(stderr, "p2plab bench phold: unknown option '%.*s'\n", (int)(len + 2), arg);
            phold_usage(stderr);
            return -1;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (a + 1 >= argc) {
                fprintf(stderr, "p2plab bench phold: --%s needs a value\n", o->name);
                return -1;
            }
            value = argv[++a];
        }
        if (phold_set(cfg, o, value) != 0)
            return -1;
    }
    if (cfg->population > PHOLD_MAX_PENDING / cfg->lps) {
        fprintf(stderr, "p2plab bench phold: --lps times --population must be at most %lld "
                        "pending events (got %lld x %lld)\n", (long long)PHOLD_MAX_PENDING,
                (long long)cfg->lps, (long long)cfg->population);
        return -1;
    }
    return 0;
}

/* Schedules one PHOLD event from LP `from` at `now`. One uniform draw u picks both whether the
 * event is remote (u < remote) and, if so, its LP: given u < remote, u / remote is uniform on
 * [0, 1). This spares gsl_rng_uniform_int's division and second draw on the hot path; taus2's
 * 32-bit resolution leaves the choice uniform to within 2^-32 per LP. */
static inline void phold_send(struct engine *e, gsl_rng *rng, const struct phold_config *cfg,
                              double mean, node_t from, int64_t now)
{
    node_t to = from;
    double u = gsl_rng_uniform(rng);
    if (u < cfg->remote) {
        double lp = u * ((double)cfg->lps / cfg->remote);
        to = lp < (double)(cfg->lps - 1) ? (node_t)lp : (node_t)(cfg->lps - 1);
    }
    int64_t delay = cfg->lookahead + (int64_t)(gsl_ran_exponential(rng, mean) + 0.5);
    uint32_t i = engine_alloc(e, 0);
    struct event *ev = engine_ev(e, i);
    ev->kind = EV_BENCH;
    ev->node = to;
    engine_schedule(e, i, now + delay);
}

/* Processes n events; returns the number actually processed (n unless the queue drained). */
static uint64_t phold_run(struct engine *e, gsl_rng *rng, const struct phold_config *cfg,
                          double mean, uint64_t n)
{
    uint64_t done = 0;
    while (done < n) {
        uint32_t i = engine_next(e, INT64_MAX);
        if (i == UINT32_MAX)
            break;
        node_t lp = engine_ev(e, i)->node;
        engine_release(e, i);
        phold_send(e, rng, cfg, mean, lp, e->now);
        done++;
    }
    return done;
}

static int phold_main(int argc, char **argv)
{
    struct phold_config cfg = {
        .lps = 10000, .population = 100, .remote = 0.9,
        .lookahead = 100, .mean = 1000, .events = 10000000, .seed = 1,
    };
    int rc = phold_parse(&cfg, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;

    uint64_t pending = (uint64_t)(cfg.lps * cfg.population);
    double mean = (double)cfg.mean;
    double rss_before = peak_rss_mb();
    struct engine e;
    if (engine_init(&e, 0, (size_t)pending) != 0) {
        fprintf(stderr, "p2plab bench phold: cannot set up the engine\n");
        return 1;
    }
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    if (!rng) {
        fprintf(stderr, "p2plab: out of memory allocating the PHOLD random generator\n");
        engine_free(&e);
        return 1;
    }
    gsl_rng_set(rng, (unsigned long)cfg.seed);

    /* The initial population: every LP sends itself `population` events, as in PHOLD. */
    for (int64_t lp = 0; lp < cfg.lps; lp++)
        for (int64_t k = 0; k < cfg.population; k++) {
            uint32_t i = engine_alloc(&e, 0);
            struct event *ev = engine_ev(&e, i);
            ev->kind = EV_BENCH;
            ev->node = (node_t)lp;
            engine_schedule(&e, i, (int64_t)(gsl_ran_exponential(rng, mean) + 0.5));
        }

    /* Warm-up: one pass over the population mixes the initial order into the steady state. */
    double t0 = wall_seconds();
    phold_run(&e, rng, &cfg, mean, pending);
    double warm = wall_seconds() - t0;
    int64_t sim_start = e.now;

    t0 = wall_seconds();
    double c0 = cpu_seconds();
    uint64_t done = phold_run(&e, rng, &cfg, mean, (uint64_t)cfg.events);
    double cpu = cpu_seconds() - c0;
    double wall = wall_seconds() - t0;

    double rate = wall > 0 ? (double)done / wall : 0.0;
    double cpu_rate = cpu > 0 ? (double)done / cpu : 0.0;
    printf("benchmark       phold (Fujimoto 1990)\n");
    printf("LPs             %lld\n", (long long)cfg.lps);
    printf("population      %lld per LP\n", (long long)cfg.population);
    printf("pending events  %llu (constant)\n", (unsigned long long)queue_len(&e.q));
    printf("remote          %g\n", cfg.remote);
    printf("delay           %lld us + Exp(mean %lld us)\n", (long long)cfg.lookahead,
           (long long)cfg.mean);
    printf("seed            %lld\n", (long long)cfg.seed);
    printf("event record    %zu bytes; queue slot %zu bytes\n", e.pool[0].size, sizeof(qslot));
    printf("warm-up         %llu events in %.3f s (not timed)\n",
           (unsigned long long)pending, warm);
    printf("events          %llu\n", (unsigned long long)done);
    printf("simulated time  %.6f s\n", (double)(e.now - sim_start) / 1e6);
    printf("wall            %.3f s\n", wall);
    printf("events/s        %.0f (%.2f M/s, %.0f ns/event)\n", rate, rate / 1e6,
           done ? wall * 1e9 / (double)done : 0.0);
    printf("CPU             %.3f s (user + system)\n", cpu);
    printf("events/CPU-s    %.0f (%.2f M/CPU-s, %.0f CPU-ns/event)\n", cpu_rate, cpu_rate / 1e6,
           done ? cpu * 1e9 / (double)done : 0.0);
    printf("peak RSS        %.1f MB (%.1f MB before the engine)\n", peak_rss_mb(), rss_before);

    gsl_rng_free(rng);
    engine_free(&e);
    return done == (uint64_t)cfg.events ? 0 : 1;
}
