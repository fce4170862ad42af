/* main.c — the command line: p2plab run | check | plot | trace | list | validate | bench |
 * help. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plots/plot.h"
#include "plots/validation.h"
#include "protocols/protocol.h"
#include "sim/bench.h"
#include "sim/help.h"
#include "sim/mem.h"
#include "sim/output.h"
#include "sim/rng.h"
#include "sim/run.h"
#include "sim/scncost.h"
#include "sim/scenario.h"
#include "sim/scnerr.h"
#include "sim/scnkeys.h"
#include "sim/trace.h"
#include "sim/units.h"

#define EXIT_USAGE 2

static int fail_usage(const char *fmt, const char *arg)
{
    fputs("p2plab: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'p2plab --help'.\n", stderr);
    return EXIT_USAGE;
}

/* ==== run and check ===================================================================== */

struct run_args {
    const char *file, *out;
    const char *sets[64];
    size_t n_sets;
    const char *seed;
    unsigned jobs;                    /* threads; default: the machine's cores */
    bool force, quiet;
    bool no_plots;                    /* run: skip the figures and report.md */
};

static int parse_run_args(int argc, char **argv, struct run_args *a, bool is_run)
{
    memset(a, 0, sizeof *a);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a->jobs = cores > 256 ? 256 : cores > 0 ? (unsigned)cores : 1;   /* as -j: at most 256 */
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(s, "--set") == 0 && has_next) {
            if (a->n_sets == sizeof a->sets / sizeof a->sets[0])
                return fail_usage("too many --set options (at most %s)", "64");
            a->sets[a->n_sets++] = argv[++i];
        } else if (strncmp(s, "--set=", 6) == 0) {
            if (a->n_sets == sizeof a->sets / sizeof a->sets[0])
                return fail_usage("too many --set options (at most %s)", "64");
            a->sets[a->n_sets++] = s + 6;
        } else if (is_run && (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) && has_next) {
            a->out = argv[++i];
        } else if (is_run && strcmp(s, "--seed") == 0 && has_next) {
            a->seed = argv[++i];
        } else if (is_run && (strcmp(s, "-j") == 0 || strcmp(s, "--jobs") == 0) && has_next) {
            char *end;
            long j = strtol(argv[++i], &end, 10);
            if (*end || j < 1 || j > 256)
                return fail_usage("-j takes a number of threads from 1 to 256 (got '%s')", argv[i]);
            a->jobs = (unsigned)j;
        } else if (strcmp(s, "--force") == 0) {
            a->force = true;
        } else if (is_run && (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0)) {
            a->quiet = true;
        } else if (is_run && strcmp(s, "--no-plots") == 0) {
            a->no_plots = true;
        } else if (s[0] == '-' && s[1] != '\0') {
            return fail_usage("unknown or incomplete option '%s'", s);
        } else if (!a->file) {
            a->file = s;
        } else {
            return fail_usage("one scenario file at a time (also got '%s')", s);
        }
    }
    if (!a->file)
        return fail_usage("%s needs a scenario file", is_run ? "run" : "check");
    return 0;
}

static struct scn_doc *load(const struct run_args *a)
{
    char err[2048];
    scn_cost_force(a->force);
    struct scn_doc *d = scn_load(a->file, err, sizeof err);
    if (!d) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    char seedset[96];
    if (a->seed) {
        snprintf(seedset, sizeof seedset, "seed=%s", a->seed);
        if (scn_set(d, seedset, err, sizeof err) != 0)
            goto fail;
    }
    for (size_t i = 0; i < a->n_sets; i++)
        if (scn_set(d, a->sets[i], err, sizeof err) != 0)
            goto fail;
    if ((a->seed || a->n_sets) && scn_check(d, err, sizeof err) != 0)
        goto fail;
    return d;
fail:
    fprintf(stderr, "%s\n", err);
    scn_free(d);
    return NULL;
}

static int cmd_check(int argc, char **argv)
{
    struct run_args a;
    int rc = parse_run_args(argc, argv, &a, false);
    if (rc)
        return rc;
    struct scn_doc *d = load(&a);
    if (!d)
        return EXIT_USAGE;
    struct scenario sc;
    char err[2048];
    size_t points = scn_points(d);
    for (size_t p = 0; p < points; p++)
        if (scn_resolve(d, p, &sc, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            scn_free(d);
            return EXIT_USAGE;
        }
    scn_resolve(d, 0, &sc, err, sizeof err);
    for (size_t i = 0; i < sc.n_also; i++) {      /* each companion is checked the same way */
        struct run_args c = { .file = sc.also[i].path, .force = a.force };
        struct scn_doc *cd = load(&c);
        if (!cd) {
            scn_free(d);
            return EXIT_USAGE;
        }
        scn_free(cd);
    }
    size_t cells = 0;
    for (size_t p = 0; p < points; p++)
        for (size_t pi = 0; pi < sc.n_protocols; pi++)
            cells += scn_point_runs(d, p, &sc, sc.protocols[pi].name);
    printf("%s: ok: %zu protocol(s) x %zu sweep point(s): %zu cells x %u replica(s) = %zu runs\n",
           a.file, sc.n_protocols, points, cells, sc.replicas, cells * sc.replicas);
    scn_free(d);
    return 0;
}

static void free_set(struct out_set *set)
{
    for (size_t i = 0; i < set->n_cell; i++) {
        for (uint32_t r = 0; r < set->cell[i].n_rep; r++)
            run_result_free(&set->cell[i].rep[r]);
        free(set->cell[i].rep);
        free(set->cell[i].seed);
    }
    free(set->cell);
}

/* ---- running the cells, on as many threads as -j says ------------------------------------
 *
 * Every (cell, replica) is one job with its own seed and its own struct sim; jobs share nothing
 * but the read-only scenario, so they may run in any order on any thread and each result lands
 * in its fixed place: the files are the same for every -j. */

struct job_queue {
    struct out_set *set;
    const char *file;
    size_t total;
    size_t next, done;                /* guarded by lock */
    bool failed;
    bool show;                        /* one progress line per run (serial runs only) */
    char err[4096];
    pthread_mutex_t lock;
    pthread_cond_t progress;
};

/* The cell and replica of job j: cells in output order, replicas within each. */
static void job_at(const struct out_set *set, size_t j, struct out_cell **cell, uint32_t *rep)
{
    size_t c = 0;
    while (j >= set->cell[c].n_rep) {
        j -= set->cell[c].n_rep;
        c++;
    }
    *cell = &set->cell[c];
    *rep = (uint32_t)j;
}

static void job_label(const struct job_queue *q, size_t j, const struct out_cell *c, uint32_t r,
                      char *label, size_t len)
{
    int n = snprintf(label, len, "[%zu/%zu] %s", j + 1, q->total, c->sc.protocols[c->proto].name);
    for (size_t ax = 0; ax < c->sc.n_sweep && n > 0 && (size_t)n < len; ax++)
        n += snprintf(label + n, len - (size_t)n, " %s=%s", c->sc.sweep[ax].path,
                      scn_point_value(q->set->doc, c->point, ax));
    if (c->n_rep > 1 && n > 0 && (size_t)n < len)
        snprintf(label + n, len - (size_t)n, " replica %u/%u", r + 1, c->n_rep);
}

static void *worker(void *arg)
{
    struct job_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        size_t j = q->next;
        bool stop = q->failed || j >= q->total;
        if (!stop)
            q->next++;
        pthread_mutex_unlock(&q->lock);
        if (stop)
            return NULL;
        struct out_cell *c;
        uint32_t r;
        job_at(q->set, j, &c, &r);
        char label[256], err[2048];
        job_label(q, j, c, r, label, sizeof label);
        struct run_progress pg = { .label = label, .show = q->show };
        int rc = run_cell(&c->sc, c->proto, c->seed[r], &pg, &c->rep[r], err, sizeof err);
        pthread_mutex_lock(&q->lock);
        if (rc != 0 && !q->failed) {
            q->failed = true;
            snprintf(q->err, sizeof q->err, "p2plab: %s: error: %s", q->file, err);
        }
        q->done++;
        pthread_cond_signal(&q->progress);
        pthread_mutex_unlock(&q->lock);
    }
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs every job on `threads` threads; with several, the main thread keeps one line of
 * progress (runs done, elapsed, ETA) on a terminal. 0, or -1 with q->err set. */
static int run_jobs(struct job_queue *q, unsigned threads, bool tty)
{
    if (threads > q->total)
        threads = q->total ? (unsigned)q->total : 1;
    q->show = tty && threads == 1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->progress, NULL);
    pthread_t tid[256];
    unsigned started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, q) != 0)
            break;
    if (started == 0)
        worker(q);                    /* no thread could start: run here */
    double t0 = seconds_now();
    pthread_mutex_lock(&q->lock);
    while (started > 0 && q->done < q->total && !q->failed) {
        if (tty && threads > 1) {
            double el = seconds_now() - t0;
            fprintf(stderr, "\r\033[K%zu/%zu runs done on %u threads, %.0fs elapsed", q->done,
                    q->total, threads, el);
            if (q->done)
                fprintf(stderr, ", ETA %.0fs", el * (double)(q->total - q->done) / (double)q->done);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&q->progress, &q->lock, &until);
    }
    pthread_mutex_unlock(&q->lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (tty && threads > 1)
        fputs("\r\033[K", stderr);
    pthread_cond_destroy(&q->progress);
    pthread_mutex_destroy(&q->lock);
    return q->failed ? -1 : 0;
}

static int render(const char *dir, bool quiet);

/* Checks, before anything runs or any folder is made, that each companion scenario loads and
 * that its results folder (outdir/FOLDER) may be written. */
static int check_companions(const struct run_args *a, const struct scenario *base,
                            const char *outdir)
{
    char err[2048];
    for (size_t i = 0; i < base->n_also; i++) {
        struct run_args c = { .file = base->also[i].path, .force = a->force };
        struct scn_doc *d = load(&c);
        if (!d)
            return EXIT_USAGE;
        scn_free(d);
        char dir[1160];
        snprintf(dir, sizeof dir, "%s/%s", outdir, base->also[i].folder);
        if (out_check(dir, a->force, err, sizeof err) != 0) {
            fprintf(stderr, "p2plab: %s\n", err);
            return EXIT_USAGE;
        }
    }
    return 0;
}

/* Runs one scenario file into outdir (NULL: results/NAME), then its companions (top level
 * only) into subfolders; draws the figures last, so the report can show the companions'. */
static int run_scenario(const struct run_args *a, const char *out, bool top)
{
    struct scn_doc *d = load(a);
    if (!d)
        return EXIT_USAGE;
    char err[2048];
    struct scenario base;
    if (scn_resolve(d, 0, &base, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        scn_free(d);
        return EXIT_USAGE;
    }
    char outdir[1024];
    if (out)
        snprintf(outdir, sizeof outdir, "%s", out);
    else
        snprintf(outdir, sizeof outdir, "results/%s", base.name);
    int rc = 0;
    if (out_check(outdir, a->force, err, sizeof err) != 0) {
        fprintf(stderr, "p2plab: %s\n", err);
        rc = EXIT_USAGE;
    }
    if (rc == 0 && top)
        rc = check_companions(a, &base, outdir);
    struct out_dir od;
    if (rc == 0 && out_begin(&od, outdir, a->force, err, sizeof err) != 0) {
        fprintf(stderr, "p2plab: %s\n", err);
        rc = EXIT_USAGE;
    }
    if (rc != 0) {
        scn_free(d);
        return rc;
    }

    /* every cell resolved and its replicas' seeds fixed before anything runs */
    size_t points = scn_points(d);
    struct out_set set = { .doc = d, .base = &base };
    set.cell = mem_calloc(points * base.n_protocols, sizeof *set.cell, "the cells");
    size_t total = 0;
    for (size_t p = 0; p < points && rc == 0; p++) {
        struct scenario sc;
        if (scn_resolve(d, p, &sc, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = EXIT_USAGE;
            break;
        }
        for (size_t pi = 0; pi < sc.n_protocols; pi++) {
            if (!scn_point_runs(d, p, &base, sc.protocols[pi].name))
                continue;             /* the same run as at another protocol's first value */
            struct out_cell *c = &set.cell[set.n_cell++];
            *c = (struct out_cell){ .proto = pi, .point = p, .sc = sc, .n_rep = sc.replicas };
            c->rep = mem_calloc(sc.replicas, sizeof *c->rep, "the results");
            c->seed = mem_calloc(sc.replicas, sizeof *c->seed, "the seeds");
            for (uint32_t r = 0; r < sc.replicas; r++)
                c->seed[r] = rng_replica_seed(sc.seed, r);
            total += sc.replicas;
        }
    }
    if (rc == 0) {
        struct job_queue q = { .set = &set, .file = a->file, .total = total };
        if (run_jobs(&q, a->jobs, !a->quiet && isatty(STDERR_FILENO)) != 0) {
            fprintf(stderr, "%s\n", q.err);
            rc = 1;
        }
    }
    if (rc == 0 && out_write(&od, &set, err, sizeof err) != 0) {
        fprintf(stderr, "p2plab: %s\n", err);
        rc = 1;
    }
    if (rc != 0) {
        out_abort(&od);
    } else {
        if (!top)
            printf("\n%s (companion of the scenario above)\n", a->file);
        out_table(stdout, &set);
        if (!a->quiet)
            printf("\nresults in %s/: summary.yaml runs.csv timeseries.csv hops.csv "
                   "counters.csv gauges.csv cdf.csv perf.csv\n", outdir);
    }
    free_set(&set);
    scn_free(d);
    for (size_t i = 0; top && rc == 0 && i < base.n_also; i++) {
        struct run_args c = { .file = base.also[i].path, .jobs = a->jobs, .force = a->force,
                              .quiet = a->quiet, .no_plots = a->no_plots };
        char dir[1160];
        snprintf(dir, sizeof dir, "%s/%s", outdir, base.also[i].folder);
        rc = run_scenario(&c, dir, false);
    }
    if (rc == 0 && top && !a->no_plots) {    /* companions are drawn with the top level */
        fflush(stdout);
        rc = render(outdir, a->quiet);
    }
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct run_args a;
    int rc = parse_run_args(argc, argv, &a, true);
    if (rc)
        return rc;
    return run_scenario(&a, a.out, true);
}

/* ==== validate ========================================================================= */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scenario files (*.yaml) of folder, sorted; NULL if it cannot be read. */
static char **papers_list(const char *folder, size_t *n)
{
    DIR *dir = opendir(folder);
    if (!dir)
        return NULL;
    char **files = mem_calloc(1, sizeof *files, "the scenario list");
    *n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        files = mem_realloc(files, *n + 1, sizeof *files, "the scenario list");
        size_t size = strlen(folder) + len + 2;
        files[*n] = mem_calloc(size, 1, "a scenario's path");
        snprintf(files[(*n)++], size, "%s/%s", folder, e->d_name);
    }
    closedir(dir);
    qsort(files, *n, sizeof *files, by_name);
    return files;
}

/* Runs every scenario of the papers folder (only those with quick: on, with --quick) into
 * DIR/NAME, then tabulates every expectation into DIR/validation.md. Exit 1 when one is
 * outside its tolerance or has no data, 2 on bad input (before anything is written). */
static int cmd_validate(int argc, char **argv)
{
    const char *folder = "scenarios/papers", *out = "results/validate";
    struct run_args a = { .jobs = 1 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a.jobs = cores > 256 ? 256 : cores > 0 ? (unsigned)cores : 1;
    bool quick = false, folder_given = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(s, "--quick") == 0) {
            quick = true;
        } else if ((strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) && has_next) {
            out = argv[++i];
        } else if (strcmp(s, "--papers") == 0 && has_next) {
            folder = argv[++i];
            folder_given = true;
        } else if ((strcmp(s, "-j") == 0 || strcmp(s, "--jobs") == 0) && has_next) {
            char *end;
            long j = strtol(argv[++i], &end, 10);
            if (*end || j < 1 || j > 256)
                return fail_usage("-j takes a number of threads from 1 to 256 (got '%s')", argv[i]);
            a.jobs = (unsigned)j;
        } else if (strcmp(s, "--force") == 0) {
            a.force = true;
        } else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
            a.quiet = true;
        } else if (strcmp(s, "--no-plots") == 0) {
            a.no_plots = true;
        } else {
            return fail_usage("unknown or incomplete option '%s'", s);
        }
    }
    size_t n_files = 0;
    char **files = papers_list(folder, &n_files), installed[PATH_MAX + 64];
    ssize_t len = files || folder_given ? -1 : readlink("/proc/self/exe", installed, PATH_MAX);
    if (len > 0) {                    /* an installed p2plab: PREFIX/share/p2plab/scenarios */
        installed[len] = '\0';
        char *slash = strrchr(installed, '/');
        if (slash) {
            snprintf(slash, sizeof installed - (size_t)(slash - installed),
                     "/../share/p2plab/scenarios/papers");
            files = papers_list(installed, &n_files);
            if (files)
                folder = installed;
        }
    }
    if (!files) {
        fprintf(stderr, "p2plab: %s: error: cannot read the folder of paper scenarios; run from "
                "the project's folder or give --papers FOLDER (an installed p2plab has them in "
                "PREFIX/share/p2plab/scenarios/papers)\n", folder);
        return EXIT_USAGE;
    }
    /* every scenario loaded, and every destination checked, before anything is written */
    char **names = mem_calloc(n_files + 1, sizeof *names, "the scenario names");
    const char **chosen = mem_calloc(n_files + 1, sizeof *chosen, "the scenarios");
    size_t n = 0;
    int rc = 0;
    char err[2048];
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        struct run_args f = a;
        f.file = files[i];
        struct scn_doc *d = load(&f);
        struct scenario *base = mem_calloc(1, sizeof *base, "a scenario");
        if (!d) {
            rc = EXIT_USAGE;
        } else if (scn_resolve(d, 0, base, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            rc = EXIT_USAGE;
        } else if (base->n_expect == 0) {
            fprintf(stderr, "p2plab: %s: error: a paper scenario states the figures it "
                    "reproduces: add expect: (see README, \"expect\")\n", files[i]);
            rc = EXIT_USAGE;
        } else if (!quick || base->quick) {
            char dir[1200];
            snprintf(dir, sizeof dir, "%s/%s", out, base->name);
            for (size_t k = 0; k < n && rc == 0; k++)
                if (strcmp(names[k], base->name) == 0) {
                    fprintf(stderr, "p2plab: %s: error: name %s is also %s's: give each paper "
                            "scenario its own name\n", files[i], base->name, chosen[k]);
                    rc = EXIT_USAGE;
                }
            if (rc == 0 && out_check(dir, a.force, err, sizeof err) != 0) {
                fprintf(stderr, "p2plab: %s\n", err);
                rc = EXIT_USAGE;
            }
            names[n] = mem_calloc(strlen(base->name) + 1, 1, "a name");
            strcpy(names[n], base->name);
            chosen[n++] = files[i];
        }
        free(base);
        if (d)
            scn_free(d);
    }
    char table[1200];
    snprintf(table, sizeof table, "%s/validation.md", out);
    if (rc == 0 && n == 0) {
        fprintf(stderr, "p2plab: %s: error: no %sscenario to run%s\n", folder,
                quick ? "quick " : "", quick ? " (none says quick: on)" : " (no *.yaml)");
        rc = EXIT_USAGE;
    }
    if (rc == 0 && !a.force && access(table, F_OK) == 0) {
        fprintf(stderr, "p2plab: %s: error: already there; use another -o or --force to "
                "replace it\n", table);
        rc = EXIT_USAGE;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct run_args f = a;
        f.file = chosen[i];
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", out, names[i]);
        if (!a.quiet)
            printf("%s== %s (%zu of %zu)\n", i ? "\n" : "", chosen[i], i + 1, n);
        fflush(stdout);
        rc = run_scenario(&f, dir, true);
    }
    if (rc == 0) {
        char how[PATH_MAX + 512];
        snprintf(how, sizeof how, "Written by `p2plab validate%s` (p2plab %s) from the %zu "
                 "scenario(s) in `%s/`%s.", quick ? " --quick" : "", P2PLAB_VERSION, n, folder,
                 quick ? " that say quick: on" : "");
        struct plot_validation v;
        if (!a.quiet)
            putchar('\n');
        if (plot_validation_write(out, (const char *const *)names, n, how, stdout, &v, err,
                                  sizeof err) != 0) {
            fprintf(stderr, "p2plab: %s\n", err);
            rc = 1;
        } else {
            rc = v.within == v.expectations ? 0 : 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(names);
    free(chosen);
    free(files);
    return rc;
}

/* ==== trace ============================================================================ */

/* One run of one cell (replica 0), told event by event on stdout. */
static int cmd_trace(int argc, char **argv)
{
    struct run_args a = { 0 };
    struct trace_opts o = { .out = stdout, .lookups = 1 };
    const char *proto = NULL, *from = NULL, *to = NULL;
    long point = 0;
    bool lookups_given = false;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(opt, "--set") == 0 && has_next) {
            if (a.n_sets == sizeof a.sets / sizeof a.sets[0])
                return fail_usage("too many --set options (at most %s)", "64");
            a.sets[a.n_sets++] = argv[++i];
        } else if (strcmp(opt, "--seed") == 0 && has_next) {
            a.seed = argv[++i];
        } else if (strcmp(opt, "--protocol") == 0 && has_next) {
            proto = argv[++i];
        } else if (strcmp(opt, "--point") == 0 && has_next) {
            char *end;
            point = strtol(argv[++i], &end, 10);
            if (*end || point < 0)
                return fail_usage("--point takes a sweep point number from 0 (got '%s')", argv[i]);
        } else if (strcmp(opt, "--lookups") == 0 && has_next) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 0 || n > TRACE_LOOKUPS_MAX)
                return fail_usage("--lookups takes a number from 0 to 64 (got '%s')", argv[i]);
            o.lookups = (uint32_t)n;
            lookups_given = true;
        } else if (strcmp(opt, "--from") == 0 && has_next) {
            from = argv[++i];
        } else if (strcmp(opt, "--to") == 0 && has_next) {
            to = argv[++i];
        } else if (opt[0] == '-' && opt[1] != '\0') {
            return fail_usage("unknown or incomplete option '%s'", opt);
        } else if (!a.file) {
            a.file = opt;
        } else {
            return fail_usage("one scenario file at a time (also got '%s')", opt);
        }
    }
    if (!a.file)
        return fail_usage("%s", "trace needs a scenario file");
    if (!from != !to)
        return fail_usage("%s", "give --from and --to together, e.g. --from 600s --to 601s");
    if (from) {
        const char *why;
        if (units_duration(from, &o.from_us, &why) != 0)
            return fail_usage("--from takes a time such as 10min (got '%s')", from);
        if (units_duration(to, &o.to_us, &why) != 0 || o.to_us <= o.from_us)
            return fail_usage("--to takes a time after --from, such as 601s (got '%s')", to);
        o.window = true;
        if (!lookups_given)
            o.lookups = 0;
    }
    struct scn_doc *d = load(&a);
    if (!d)
        return EXIT_USAGE;
    char err[2048];
    struct scenario sc;
    int rc = 0;
    if ((size_t)point >= scn_points(d)) {
        fprintf(stderr, "p2plab: --point %ld: the scenario has %zu sweep point(s), 0 to %zu\n",
                point, scn_points(d), scn_points(d) - 1);
        rc = EXIT_USAGE;
    } else if (scn_resolve(d, (size_t)point, &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        rc = EXIT_USAGE;
    }
    size_t pi = 0;
    if (rc == 0 && proto) {
        while (pi < sc.n_protocols && strcmp(sc.protocols[pi].name, proto) != 0)
            pi++;
        if (pi == sc.n_protocols) {
            fprintf(stderr, "p2plab: --protocol %s: the scenario runs", proto);
            for (size_t k = 0; k < sc.n_protocols; k++)
                fprintf(stderr, "%s %s", k ? "," : "", sc.protocols[k].name);
            fputs("\n", stderr);
            rc = EXIT_USAGE;
        }
    }
    if (rc == 0) {
        printf("# p2plab trace: %s, protocol %s, sweep point %ld, seed %llu\n", a.file,
               sc.protocols[pi].name, point, (unsigned long long)rng_replica_seed(sc.seed, 0));
        printf("# time  event  from -> to [id of to, top 32 bits]  message  size  category "
               "lookup\n");
        struct run_progress pg = { .label = a.file, .show = false, .trace = &o };
        struct run_result res;
        if (run_cell(&sc, pi, rng_replica_seed(sc.seed, 0), &pg, &res, err, sizeof err) != 0) {
            fprintf(stderr, "p2plab: %s\n", err);
            rc = 1;
        } else {
            printf("# run: %.0f lookups, success %.2f%%, mean hops %.2f\n", res.metric[M_LOOKUPS],
                   res.metric[M_SUCCESS] * 100, res.metric[M_HOPS_MEAN]);
            run_result_free(&res);
        }
    }
    scn_free(d);
    return rc;
}

/* ==== plot ============================================================================== */

/* Draws the figures and report.md of a results folder; the exit status. */
static int render(const char *dir, bool quiet)
{
    char err[2048];
    struct plot_done done;
    switch (plot_render(dir, &done, err, sizeof err)) {
    case PLOT_OK:
        if (!quiet)
            printf("figures in %s/plots/ (%zu, each .png .svg .gp .csv), report in "
                   "%s/report.md\n", dir, done.figures, dir);
        return 0;
    case PLOT_NO_GNUPLOT:
        fprintf(stderr, "p2plab: gnuplot not found: install gnuplot-nox; data and .gp scripts "
                "are in %s/plots\n", dir);
        return 0;
    case PLOT_NOT_RESULTS:
        fprintf(stderr, "p2plab: %s\n", err);
        return EXIT_USAGE;
    case PLOT_FAILED:
        break;
    }
    fprintf(stderr, "p2plab: %s\n", err);
    return 1;
}

static int cmd_plot(int argc, char **argv)
{
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return fail_usage("unknown option '%s'", argv[i]);
        else if (!dir)
            dir = argv[i];
        else
            return fail_usage("one results folder at a time (also got '%s')", argv[i]);
    }
    if (!dir)
        return fail_usage("%s", "plot needs a results folder, such as results/quickstart");
    return render(dir, quiet);
}

/* ==== list ============================================================================ */

static void list_protocol(const struct protocol *p, bool md)
{
    if (md) {
        printf("### %s\n\n%s. %s.\n\n| key | type | default | range | meaning |\n"
               "|---|---|---|---|---|\n", p->name, p->summary, p->paper);
    } else {
        printf("%s — %s\n  %s\n\n", p->name, p->summary, p->paper);
    }
    for (const struct param *q = p->params; q && q->name; q++) {
        char range[64];
        help_param_range(q, range, sizeof range);
        if (md) {
            char type[128];
            snprintf(type, sizeof type, "%s", help_param_type(q));
            if (q->type == PARAM_ENUM)           /* a '|' would split the markdown cell */
                for (char *c = type; *c; c++)
                    if (*c == '|')
                        *c = '/';
            printf("| `protocols.%s.%s` | %s | `%s` | %s | %s |\n", p->name, q->name, type,
                   q->def, range[0] ? range : "—", q->doc);
        }
        else
            printf("  %-20s %-10s default %-10s %s\n", q->name, q->type == PARAM_ENUM ? "choice" : help_param_type(q),
                   q->def, q->doc);
        if (!md && q->choices)
            printf("  %-20s %-10s %s %s\n", "", "", q->type == PARAM_ENUM ? "one of" : "or",
                   q->choices);
    }
    putchar('\n');
}

static int cmd_list(int argc, char **argv)
{
    bool md = false;
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--markdown") == 0)
            md = true;
        else if (!what)
            what = argv[i];
        else
            return fail_usage("list takes one name (also got '%s')", argv[i]);
    }
    if (!what) {
        if (md) {
            for (const struct protocol *const *p = protocol_registry; *p; p++)
                list_protocol(*p, true);
            return 0;
        }
        puts("protocols (p2plab list NAME for parameters):");
        for (const struct protocol *const *p = protocol_registry; *p; p++)
            printf("  %-12s %s\n", (*p)->name, (*p)->summary);
        puts("\nalso: p2plab list keys (scenario keys), p2plab list metrics");
        return 0;
    }
    if (strcmp(what, "keys") == 0) {
        scn_keys_print(stdout, md);
        return 0;
    }
    if (strcmp(what, "metrics") == 0) {
        if (md)
            puts("| metric | meaning |\n|---|---|");
        for (int m = 0; m < M_COUNT; m++)
            if (md)
                printf("| `%s` | %s |\n", stats_metric_name[m], stats_metric_doc[m]);
            else
                printf("  %-30s %s\n", stats_metric_name[m], stats_metric_doc[m]);
        return 0;
    }
    const struct protocol *p = protocol_find(what);
    if (!p) {
        const char *names[16] = { "keys", "metrics" };
        size_t n = 2;
        for (const struct protocol *const *q = protocol_registry; *q && n < 16; q++)
            names[n++] = (*q)->name;
        const char *near = scn_closest(what, names, n);
        char msg[160];
        snprintf(msg, sizeof msg, "no protocol, key list or metric list named '%.40s'%s%s%s "
                 "(see 'p2plab list')", what, near ? "; did you mean '" : "", near ? near : "",
                 near ? "'?" : "");
        return fail_usage("%s", msg);
    }
    list_protocol(p, md);
    return 0;
}

/* ==== main ================================================================================ */

/* The command nearest a mistyped word, or NULL. */
static const char *closest_command(const char *word)
{
    const char *names[16];
    size_t n = 0;
    for (const struct help_command *k = help_commands; k->name && n < 16; k++)
        names[n++] = k->name;
    return scn_closest(word, names, n);
}

/* p2plab help [COMMAND | --man | --completion SHELL] */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        help_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        help_command(stdout, help_find("help"));
        return 0;
    }
    if (strcmp(argv[1], "--man") == 0 && argc == 2) {
        help_manpage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--completion") == 0 && argc == 3) {
        if (help_completion(stdout, argv[2]) == 0)
            return 0;
        return fail_usage("--completion takes bash or zsh (got '%s')", argv[2]);
    }
    if (strcmp(argv[1], "--completion") == 0)
        return fail_usage("%s", "--completion takes a shell: bash or zsh");
    const struct help_command *c = argc == 2 ? help_find(argv[1]) : NULL;
    if (!c && argc == 2 && argv[1][0] != '-') {
        const char *near = closest_command(argv[1]);
        char msg[160];
        snprintf(msg, sizeof msg, "no command named '%.40s'%s%s%s", argv[1],
                 near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return fail_usage("%s", msg);
    }
    if (!c)
        return fail_usage("%s", "help takes one command, --man or --completion SHELL");
    help_command(stdout, c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fail_usage("%s", "a command is needed");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        help_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("p2plab %s\n", P2PLAB_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return cmd_help(argc - 1, argv + 1);
    /* `p2plab run FILE --help` asks for help, not a run; a benchmark answers for itself */
    const struct help_command *hc = help_find(cmd);
    for (int i = 2; hc && i < argc && !(strcmp(cmd, "bench") == 0 && i > 2); i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help_command(stdout, hc);
            return 0;
        }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "trace") == 0)
        return cmd_trace(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return bench_main(argc - 1, argv + 1);
    const char *near = closest_command(cmd);
    if (near) {
        char msg[128];
        snprintf(msg, sizeof msg, "unknown command '%.40s' (did you mean '%s'?)", cmd, near);
        return fail_usage("%s", msg);
    }
    return fail_usage("unknown command '%s'", cmd);
}
