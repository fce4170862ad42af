/* bench_scale.c — `p2plab bench scale`: how CPU time and memory grow with N, per protocol.
 *
 * Each (protocol, N) is one `p2plab run` of the scenario with that protocol alone, nodes set to
 * N and the sweep, companions and extra replicas dropped, in a child process of its own (fork +
 * exec of this same binary), so that the child's rusage from wait4 is that run's alone: its
 * user + system CPU seconds and its peak resident set (ru_maxrss). Its event count comes from
 * the perf.csv the child writes. An optional RLIMIT_CPU / RLIMIT_AS on the child finds the
 * largest N a protocol reaches within a budget: a run that hits one is reported as "> LIMIT",
 * never as a number, and the larger N of that protocol are not run.
 *
 * Files: DIR/runs/PROTO-N/ (each child's own results folder), then DIR/scale.csv, DIR/scale.md
 * and DIR/plots/scale-{cpu,rss}.{csv,gp,png,svg}, staged and renamed into place at the end. */
#define _DEFAULT_SOURCE                    /* wait4: the rusage of one child */
#include "sim/bench_scale.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plots/bench_scale.h"
#include "plots/plot.h"
#include "protocols/protocol.h"
#include "sim/mem.h"
#include "sim/scenario.h"
#include "sim/units.h"

#define SCALE_MAX_NODES 32            /* values of --nodes */
#define SCALE_MAX_SETS 48             /* --set overrides (run takes 64; we add up to 7) */
#define SCALE_MAX_CPU_S INT64_C(31536000)   /* a year */
#define SCALE_MAX_MEM_GB 1048576.0    /* 1 PB */
#define SCALE_ERR_KEEP 4096           /* bytes of a failed child's stderr kept for the report */

static const char *const scale_out_files[] = { "scale.csv", "scale.md", "runs", "plots" };
static const char *const scale_fig_names[] = { PLOT_SCALE_FIGURES };
static const char *const scale_fig_ext[] = { "csv", "gp", "png", "svg" };

struct scale_opts {
    const char *file, *out;
    const char *sets[SCALE_MAX_SETS];
    size_t n_sets;
    char protos[SCN_MAX_PROTOCOLS][32];   /* --protocol, in the order given */
    size_t n_protos;
    uint32_t nodes[SCALE_MAX_NODES];
    size_t n_nodes;
    int64_t cpu_limit_s;              /* 0: none */
    double mem_limit_gb;              /* 0: none; GB = 2^30 bytes */
    bool force, no_plots;
};

enum scale_status { SCALE_OK, SCALE_CPU_LIMIT, SCALE_MEM_LIMIT, SCALE_NOT_RUN };
static const char *const scale_status_name[] = { "ok", "cpu_limit", "mem_limit", "not_run" };

struct scale_row {
    char proto[32];
    uint32_t nodes;
    enum scale_status status;
    double events;                    /* the child's sim.events, from its perf.csv */
    double user_s, sys_s;             /* CPU seconds of the child */
    double rss_mb;                    /* its ru_maxrss, MB (2^20 bytes) */
    char *command;                    /* the run alone, as a shell command */
};

/* ==== usage and options ================================================================== */

static void scale_usage(FILE *f)
{
    fputs("usage: p2plab bench scale FILE [--nodes N,N,...] [--protocol NAME]...\n"
          "         [--set KEY=VALUE]... [--cpu-limit SECONDS] [--mem-limit GB]\n"
          "         [-o DIR] [--force] [--no-plots]\n"
          "Runs each protocol of scenario FILE alone at each N, every run in a process of its\n"
          "own (p2plab run FILE --set nodes=N ...), and tabulates events, CPU seconds (user +\n"
          "system), events per CPU second, peak RSS and bytes per node (peak RSS / N). Writes\n"
          "DIR/scale.csv, DIR/scale.md, DIR/plots/scale-cpu and scale-rss (log-log figures of\n"
          "CPU seconds and peak RSS against N) and each run's results in DIR/runs/PROTO-N/.\n"
          "The scenario's sweep, plots, companions (also:) and replicas are dropped.\n"
          "options:\n"
          "  --nodes N,N,...     the numbers of nodes, smallest first (default: the\n"
          "                      scenario's sweep over nodes, else its nodes count)\n"
          "  --protocol NAME     run only this protocol of the scenario (repeatable, or\n"
          "                      NAME,NAME; default: every protocol of the scenario)\n"
          "  --set KEY=VALUE     override a scenario key in every run, as with run\n"
          "  --cpu-limit SECONDS stop a run after this much CPU time (RLIMIT_CPU), e.g. 600\n"
          "                      or 10min; it is reported as \"> 600 s\" and larger N of\n"
          "                      that protocol are not run\n"
          "  --mem-limit GB      cap a run's address space (RLIMIT_AS) at GB x 2^30 bytes,\n"
          "                      e.g. 16 or 0.5; a run that runs out is reported as \"> 16 GB\"\n"
          "  -o DIR              where to write (default results/NAME-scale, NAME the\n"
          "                      scenario's name)\n"
          "  --force             replace the scale results already in DIR\n"
          "  --no-plots          write the tables only, no figures\n"
          "example:\n"
          "  p2plab bench scale scenarios/bench/every-100k.yaml --nodes 1000,4000,16000 \\\n"
          "      --protocol napster --protocol chord -o results/scale\n", f);
}

static int bad(const char *fmt, const char *a, const char *b)
{
    fputs("p2plab bench scale: ", stderr);
    fprintf(stderr, fmt, a, b);
    fputs("\nTry 'p2plab bench scale --help'.\n", stderr);
    return 2;
}

static int parse_nodes(struct scale_opts *o, const char *list)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return bad("--nodes: the list is too long%s%s", "", "");
    o->n_nodes = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        int64_t v;
        const char *why;
        if (units_int(tok, &v, &why) != 0 || v < 1 || v > UINT32_MAX - 1)
            return bad("--nodes takes whole numbers of nodes from 1, such as 1000,4000,16000 "
                       "(got '%s' in '%s')", tok, list);
        if (o->n_nodes == SCALE_MAX_NODES)
            return bad("--nodes: at most 32 values (got '%s')%s", list, "");
        if (o->n_nodes && (uint32_t)v <= o->nodes[o->n_nodes - 1])
            return bad("--nodes lists each N once, smallest first (got '%s' in '%s')", tok,
                       list);
        o->nodes[o->n_nodes++] = (uint32_t)v;
    }
    if (o->n_nodes == 0)
        return bad("--nodes needs at least one number, such as 1000,4000,16000 (got '%s')%s",
                   list, "");
    return 0;
}

static int parse_protocols(struct scale_opts *o, const char *list)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return bad("--protocol: the list is too long%s%s", "", "");
    char *save = NULL;
    bool any = false;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        any = true;
        if (!protocol_find(tok))
            return bad("--protocol: no protocol named '%s' (see 'p2plab list')%s", tok, "");
        for (size_t k = 0; k < o->n_protos; k++)
            if (strcmp(o->protos[k], tok) == 0)
                return bad("--protocol %s is given twice%s", tok, "");
        if (o->n_protos == SCN_MAX_PROTOCOLS)
            return bad("--protocol: at most 8 protocols (got '%s')%s", tok, "");
        snprintf(o->protos[o->n_protos++], sizeof o->protos[0], "%s", tok);
    }
    if (!any)
        return bad("--protocol needs a protocol name, such as chord (got '%s')%s", list, "");
    return 0;
}

static int parse_cpu_limit(struct scale_opts *o, const char *text)
{
    int64_t v, us;
    const char *why;
    if (units_int(text, &v, &why) == 0)
        us = v * US_PER_S;
    else if (units_duration(text, &us, &why) != 0)
        us = -1;
    if (us < US_PER_S || us > SCALE_MAX_CPU_S * US_PER_S || us % US_PER_S != 0)
        return bad("--cpu-limit takes whole CPU seconds from 1, such as 600 or 10min (got "
                   "'%s')%s", text, "");
    o->cpu_limit_s = us / US_PER_S;
    return 0;
}

static int parse_mem_limit(struct scale_opts *o, const char *text)
{
    double v;
    const char *why;
    if (units_double(text, &v, &why) != 0 || !(v >= 0.01) || v > SCALE_MAX_MEM_GB)
        return bad("--mem-limit takes a size in GB (2^30 bytes) from 0.01, such as 16 or 0.5 "
                   "(got '%s')%s", text, "");
    o->mem_limit_gb = v;
    return 0;
}

/* 0; 1 after --help; 2 after a message on stderr. */
static int scale_parse(struct scale_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            scale_usage(stdout);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *value = NULL;
        static const char *const with_value[] = { "--nodes", "--protocol", "--set",
                                                  "--cpu-limit", "--mem-limit", "-o",
                                                  "--output" };
        const char *opt = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0] && !opt; k++) {
            size_t len = strlen(with_value[k]);
            if (strcmp(s, with_value[k]) == 0) {
                opt = with_value[k];
                if (i + 1 >= argc)
                    return bad("%s needs a value%s", opt, "");
                value = argv[++i];
            } else if (strncmp(s, with_value[k], len) == 0 && s[len] == '=' && len > 2) {
                opt = with_value[k];
                value = s + len + 1;
            }
        }
        int rc = 0;
        if (!opt) {
            if (strcmp(s, "--force") == 0)
                o->force = true;
            else if (strcmp(s, "--no-plots") == 0)
                o->no_plots = true;
            else if (s[0] == '-' && s[1] != '\0')
                return bad("unknown option '%s'%s", s, "");
            else if (!o->file)
                o->file = s;
            else
                return bad("one scenario file at a time (also got '%s')%s", s, "");
        } else if (strcmp(opt, "--nodes") == 0) {
            rc = parse_nodes(o, value);
        } else if (strcmp(opt, "--protocol") == 0) {
            rc = parse_protocols(o, value);
        } else if (strcmp(opt, "--set") == 0) {
            if (o->n_sets == SCALE_MAX_SETS)
                return bad("too many --set options (at most 48)%s%s", "", "");
            o->sets[o->n_sets++] = value;
        } else if (strcmp(opt, "--cpu-limit") == 0) {
            rc = parse_cpu_limit(o, value);
        } else if (strcmp(opt, "--mem-limit") == 0) {
            rc = parse_mem_limit(o, value);
        } else {
            o->out = value;
        }
        if (rc)
            return rc;
    }
    if (!o->file)
        return bad("needs a scenario file, such as scenarios/bench/every-100k.yaml%s%s", "", "");
    return 0;
}

/* ==== the runs' scenario ================================================================= */

/* Loads FILE with the overrides; NULL after a message on stderr. */
static struct scn_doc *scale_load(const char *file, const char *const *sets, size_t n_sets)
{
    char err[2048];
    struct scn_doc *d = scn_load(file, err, sizeof err);
    for (size_t i = 0; d && i < n_sets; i++)
        if (scn_set(d, sets[i], err, sizeof err) != 0) {
            scn_free(d);
            d = NULL;
        }
    if (d && scn_check(d, err, sizeof err) != 0) {
        scn_free(d);
        d = NULL;
    }
    if (!d)
        fprintf(stderr, "%s\n", err);
    return d;
}

/* Whether a parameter value can be written plain in a YAML flow mapping. */
static bool yaml_plain(const char *v)
{
    return v[0] && !strpbrk(v, ",[]{}#:&*!|>'\"%@` ");
}

/* "protocols={chord: {successors: 8}}": the protocol alone, with the parameters that differ
 * from its defaults. */
static void protocol_set(const struct scn_protocol *sp, char *buf, size_t len)
{
    struct proto_config def;
    param_defaults(&def, sp->cfg.params);
    int n = snprintf(buf, len, "protocols={%s: {", sp->name);
    bool first = true;
    for (size_t k = 0; k < sp->cfg.count && n > 0 && (size_t)n < len; k++) {
        char v[64], d[64];
        param_format(&sp->cfg.params[k], sp->cfg.v[k], v, sizeof v);
        param_format(&sp->cfg.params[k], def.v[k], d, sizeof d);
        if (strcmp(v, d) == 0)
            continue;
        n += snprintf(buf + n, len - (size_t)n, yaml_plain(v) ? "%s%s: %s" : "%s%s: \"%s\"",
                      first ? "" : ", ", sp->cfg.params[k].name, v);
        first = false;
    }
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, "}}");
}

/* A word as the shell reads it back: as is when safe, else in single quotes. */
static void shell_word(char *buf, size_t len, size_t *n, const char *w)
{
    bool safe = w[0] != '\0';
    for (const char *c = w; *c && safe; c++)
        safe = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%",
                      *c) != NULL;
    int k;
    if (safe) {
        k = snprintf(buf + *n, len - *n, "%s%s", *n ? " " : "", w);
    } else {
        k = snprintf(buf + *n, len - *n, "%s'", *n ? " " : "");
        for (const char *c = w; *c && k > 0 && *n + (size_t)k < len; c++)
            k += snprintf(buf + *n + k, len - *n - (size_t)k, *c == '\'' ? "'\\''" : "%c", *c);
        if (k > 0 && *n + (size_t)k < len)
            k += snprintf(buf + *n + k, len - *n - (size_t)k, "'");
    }
    if (k > 0)
        *n = *n + (size_t)k < len ? *n + (size_t)k : len - 1;
}

static char *shell_command(char *const *argv)
{
    size_t len = 8192, n = 0;
    char *buf = mem_calloc(len, 1, "a command line");
    for (size_t i = 0; argv[i]; i++)
        shell_word(buf, len, &n, argv[i]);
    return buf;
}

/* ==== the results folder ================================================================= */

static bool exists(const char *dir, const char *name)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Whether the benchmark may write into dir (created later). 0, or 2 after a message. */
static int scale_check_dir(const char *dir, bool force)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "p2plab bench scale: %s: error: exists and is not a directory; choose "
                "another -o\n", dir);
        return 2;
    }
    for (size_t i = 0; !force && i < sizeof scale_out_files / sizeof scale_out_files[0]; i++)
        if (exists(dir, scale_out_files[i])) {
            fprintf(stderr, "p2plab bench scale: %s: error: already holds results (%s); pass "
                    "--force to replace them, or choose another -o\n", dir, scale_out_files[i]);
            return 2;
        }
    return 0;
}

static int make_dir(const char *path)
{
    char buf[1200];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Removes a folder's plain files and the folder itself (a killed run's staging folder). */
static void remove_flat(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/* After a run was stopped by a limit: its half-written staging folder goes, and its results
 * folder too when that is then empty. */
static void clean_killed_run(const char *rundir, pid_t pid)
{
    char stage[1400];
    snprintf(stage, sizeof stage, "%s/.p2plab-staging-%ld", rundir, (long)pid);
    remove_flat(stage);
    rmdir(rundir);                    /* fails, as it should, when earlier results are there */
}

/* The events column of the run's perf.csv (its only row). 0, or -1 after a message. */
static int read_events(const char *rundir, double *events)
{
    char path[1400], line[4096];
    snprintf(path, sizeof path, "%s/perf.csv", rundir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "p2plab bench scale: %s: error: cannot read it: %s\n", path,
                strerror(errno));
        return -1;
    }
    long col = -1;
    if (fgets(line, sizeof line, f)) {
        long k = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save), k++)
            if (strcmp(t, "events") == 0)
                col = k;
    }
    bool ok = false;
    if (col >= 0 && fgets(line, sizeof line, f)) {
        long k = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, ",\n", &save); t; t = strtok_r(NULL, ",\n", &save), k++)
            if (k == col) {
                char *end;
                *events = strtod(t, &end);
                ok = end != t && *end == '\0' && *events >= 0;
            }
    }
    fclose(f);
    if (!ok)
        fprintf(stderr, "p2plab bench scale: %s: error: no events count in it\n", path);
    return ok ? 0 : -1;
}

/* ==== one run in a child process ========================================================= */

struct child_result {
    pid_t pid;
    int status;                       /* from wait4 */
    struct rusage ru;
    char err[SCALE_ERR_KEEP];         /* the end of its stderr */
};

/* Runs argv[0] with argv under the limits, stdout to /dev/null, stderr kept. 0, or -1. */
static int run_child(char *const *argv, const struct scale_opts *o, struct child_result *r)
{
    memset(r, 0, sizeof *r);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);    /* SIGXCPU would dump core */
        if (o->cpu_limit_s) {
            /* SIGXCPU at the soft limit; SIGKILL at the hard one should it be caught */
            struct rlimit cpu = { (rlim_t)o->cpu_limit_s, (rlim_t)o->cpu_limit_s + 5 };
            setrlimit(RLIMIT_CPU, &cpu);
        }
        if (o->mem_limit_gb > 0) {
            rlim_t bytes = (rlim_t)(o->mem_limit_gb * 1073741824.0);
            struct rlimit as = { bytes, bytes };
            setrlimit(RLIMIT_AS, &as);
        }
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        execv(argv[0], argv);
        fprintf(stderr, "p2plab bench scale: cannot start %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    r->pid = pid;
    char buf[1024];
    size_t kept = 0, cap = sizeof r->err - 1;
    for (;;) {
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        size_t g = (size_t)got;       /* keep the end: the message that stopped it */
        if (kept + g > cap) {
            size_t drop = kept + g - cap;
            memmove(r->err, r->err + drop, kept - drop);
            kept -= drop;
        }
        memcpy(r->err + kept, buf, g);
        kept += g;
    }
    r->err[kept] = '\0';
    close(fds[0]);
    while (wait4(pid, &r->status, 0, &r->ru) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

static double seconds(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* Whether the run's messages say it ran out of memory (mem.c, GSL, the C library). */
static bool out_of_memory(const char *err)
{
    return strstr(err, "out of memory") || strstr(err, "Cannot allocate memory") ||
           strstr(err, "failed to allocate");
}

/* Runs one row. 0, or -1 after a message (the run failed for another reason than a limit). */
static int scale_run(struct scale_row *row, char *const *argv, const char *rundir,
                     const struct scale_opts *o)
{
    struct child_result r;
    if (run_child(argv, o, &r) != 0) {
        fprintf(stderr, "p2plab bench scale: cannot start a run: %s\n", strerror(errno));
        return -1;
    }
    row->user_s = seconds(r.ru.ru_utime);
    row->sys_s = seconds(r.ru.ru_stime);
    row->rss_mb = (double)r.ru.ru_maxrss / 1024.0;   /* Linux reports kilobytes */
    if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) {
        row->status = SCALE_OK;
        return read_events(rundir, &row->events);
    }
    /* SIGXCPU comes only from RLIMIT_CPU; the kernel counts CPU time more finely than the
     * rusage it reports, which can fall short of the limit by a second or more */
    bool cpu = o->cpu_limit_s && WIFSIGNALED(r.status) &&
               (WTERMSIG(r.status) == SIGXCPU ||
                (WTERMSIG(r.status) == SIGKILL &&
                 row->user_s + row->sys_s >= (double)o->cpu_limit_s - 0.5));
    bool mem = !cpu && o->mem_limit_gb > 0 && out_of_memory(r.err);
    if (cpu || mem) {
        row->status = cpu ? SCALE_CPU_LIMIT : SCALE_MEM_LIMIT;
        clean_killed_run(rundir, r.pid);
        return 0;
    }
    if (WIFSIGNALED(r.status))
        fprintf(stderr, "p2plab bench scale: the run of %s at %u nodes was killed by signal %d "
                "(%s)", row->proto, row->nodes, WTERMSIG(r.status), strsignal(WTERMSIG(r.status)));
    else
        fprintf(stderr, "p2plab bench scale: the run of %s at %u nodes failed (exit status %d)",
                row->proto, row->nodes, WEXITSTATUS(r.status));
    fprintf(stderr, "; its messages:\n%s%s  command: %s\n", r.err,
            r.err[0] && r.err[strlen(r.err) - 1] != '\n' ? "\n" : "", row->command);
    return -1;
}

/* ==== the table ========================================================================== */

static double cpu_of(const struct scale_row *r)
{
    return r->user_s + r->sys_s;
}

static void limit_text(const struct scale_opts *o, enum scale_status st, char *buf, size_t len)
{
    if (st == SCALE_CPU_LIMIT)
        snprintf(buf, len, "> %lld s", (long long)o->cpu_limit_s);
    else
        snprintf(buf, len, "> %g GB", o->mem_limit_gb);
}

static void table_head(FILE *f)
{
    fprintf(f, "%-10s %9s %13s %9s %13s %12s %11s\n", "protocol", "N", "events", "CPU s",
            "events/CPU-s", "peak RSS MB", "bytes/node");
}

static void table_row(FILE *f, const struct scale_opts *o, const struct scale_row *r)
{
    fprintf(f, "%-10s %9u ", r->proto, r->nodes);
    if (r->status == SCALE_OK) {
        double cpu = cpu_of(r);
        fprintf(f, "%13.0f %9.2f %13.0f %12.1f %11.0f\n", r->events, cpu,
                cpu > 0 ? r->events / cpu : NAN, r->rss_mb,
                r->rss_mb * 1048576.0 / (double)r->nodes);
        return;
    }
    if (r->status == SCALE_NOT_RUN) {
        fprintf(f, "%13s %9s %13s %12s %11s   not run: a smaller N hit a limit\n", "-", "-",
                "-", "-", "-");
        return;
    }
    char lim[48];
    limit_text(o, r->status, lim, sizeof lim);
    if (r->status == SCALE_CPU_LIMIT)
        fprintf(f, "%13s %9s %13s %12s %11s\n", "-", lim, "-", "-", "-");
    else
        fprintf(f, "%13s %9s %13s %12s %11s\n", "-", "-", "-", lim, "-");
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(FILE *f, const struct scale_opts *o, const struct scale_row *rows,
                      size_t n)
{
    fputs("protocol,nodes,status,events,cpu_s,user_s,sys_s,events_per_cpu_s,peak_rss_mb,"
          "bytes_per_node,cpu_limit_s,mem_limit_gb,command\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct scale_row *r = &rows[i];
        fprintf(f, "%s,%u,%s,", r->proto, r->nodes, scale_status_name[r->status]);
        if (r->status == SCALE_OK) {
            double cpu = cpu_of(r);
            fprintf(f, "%.0f,%.3f,%.3f,%.3f,%.0f,%.1f,%.0f,", r->events, cpu, r->user_s,
                    r->sys_s, cpu > 0 ? r->events / cpu : NAN, r->rss_mb,
                    r->rss_mb * 1048576.0 / (double)r->nodes);
        } else {
            fputs(",,,,,,,", f);
        }
        if (o->cpu_limit_s)
            fprintf(f, "%lld", (long long)o->cpu_limit_s);
        fputc(',', f);
        if (o->mem_limit_gb > 0)
            fprintf(f, "%g", o->mem_limit_gb);
        fputc(',', f);
        if (r->status != SCALE_NOT_RUN)
            csv_field(f, r->command);
        fputc('\n', f);
    }
}

/* "AMD EPYC 7B13, 2 CPUs, 23.5 GB memory; Linux 6.1.0 x86_64; p2plab 0.1.0 built by GCC 12.2.0,
 * optimized": what the numbers were measured on, as far as the process can tell. */
static void machine_text(char *buf, size_t len)
{
    char model[256] = "unknown CPU", line[512];
    double mem_gb = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            const char *v = strchr(line, ':') + 1;
            while (*v == ' ')
                v++;
            snprintf(model, sizeof model, "%.*s", (int)strcspn(v, "\n"), v);
            break;
        }
    if (f)
        fclose(f);
    f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        double kb;
        if (sscanf(line, "MemTotal: %lf kB", &kb) == 1) {
            mem_gb = kb / 1048576.0;
            break;
        }
    }
    if (f)
        fclose(f);
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof u);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__clang__)
    const char *cc = "Clang " __clang_version__;
#elif defined(__GNUC__)
    const char *cc = "GCC " __VERSION__;
#else
    const char *cc = "an unknown compiler";
#endif
#ifdef __OPTIMIZE__
    const char *opt = "optimized";
#else
    const char *opt = "not optimized (a Debug build: measure a Release build)";
#endif
#ifdef __SANITIZE_ADDRESS__
    const char *san = ", with AddressSanitizer (slow: measure a build without it)";
#else
    const char *san = "";
#endif
    snprintf(buf, len, "%s, %ld CPUs, %.1f GB memory; %s %s %s; p2plab %s built by %s, %s%s",
             model, cpus, mem_gb, u.sysname, u.release, u.machine, P2PLAB_VERSION, cc, opt, san);
}

static void write_md(FILE *f, const struct scale_opts *o, const struct scenario *sc,
                     const char *series, const struct scale_row *rows, size_t n, bool drawn)
{
    char mach[1024];
    machine_text(mach, sizeof mach);
    fprintf(f, "# Scale: %s\n\n", sc->name);
    fprintf(f, "Each row is one run of one system alone, in a process of its own: scenario `%s` "
            "with `nodes` set to N and its sweep, plots, companions and extra replicas dropped. "
            "CPU s is that process's user + system time and peak RSS its largest resident set "
            "(both from `wait4`); events is the run's `sim.events` (its perf.csv); bytes per "
            "node is peak RSS / N, so it includes the process's fixed few MB.\n\n", o->file);
    fprintf(f, "Measured on: %s.\n\nThe series: `%s`\n\n", mach, series);
    if (o->cpu_limit_s || o->mem_limit_gb > 0) {
        fputs("Limits per run:", f);
        if (o->cpu_limit_s)
            fprintf(f, " %lld CPU seconds (RLIMIT_CPU)", (long long)o->cpu_limit_s);
        if (o->cpu_limit_s && o->mem_limit_gb > 0)
            fputs(" and", f);
        if (o->mem_limit_gb > 0)
            fprintf(f, " %g GB of address space (RLIMIT_AS)", o->mem_limit_gb);
        fputs("; a run that reaches one shows \"> LIMIT\", and the larger N of its system are "
              "not run.\n\n", f);
    }
    fputs("| protocol | N | events | CPU s | events per CPU-s | peak RSS (MB) | bytes per node |\n"
          "|---|--:|--:|--:|--:|--:|--:|\n", f);
    for (size_t i = 0; i < n; i++) {
        const struct scale_row *r = &rows[i];
        fprintf(f, "| %s | %u | ", r->proto, r->nodes);
        char lim[48];
        if (r->status == SCALE_OK) {
            double cpu = cpu_of(r);
            fprintf(f, "%.0f | %.2f | %.0f | %.1f | %.0f |\n", r->events, cpu,
                    cpu > 0 ? r->events / cpu : NAN, r->rss_mb,
                    r->rss_mb * 1048576.0 / (double)r->nodes);
        } else if (r->status == SCALE_NOT_RUN) {
            fputs("not run (a smaller N hit a limit) | | | | |\n", f);
        } else {
            limit_text(o, r->status, lim, sizeof lim);
            if (r->status == SCALE_CPU_LIMIT)
                fprintf(f, "– | %s | – | – | – |\n", lim);
            else
                fprintf(f, "– | – | – | %s | – |\n", lim);
        }
    }
    if (drawn)
        fputs("\n![CPU seconds against nodes](plots/scale-cpu.png)\n\n"
              "![peak RSS against nodes](plots/scale-rss.png)\n", f);
    fputs("\n## One command per row\n\nEach row alone (with `/usr/bin/time -f '%U %S %M'` in "
          "front for its CPU seconds and peak RSS in kB):\n\n", f);
    for (size_t i = 0; i < n; i++)
        if (rows[i].status != SCALE_NOT_RUN)
            fprintf(f, "- %s, %u nodes: `%s`\n", rows[i].proto, rows[i].nodes, rows[i].command);
}

/* ==== writing the files ================================================================== */

static int write_staged(const char *stage, const char *name,
                        void (*fill)(FILE *, const void *), const void *arg)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", stage, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "p2plab bench scale: %s: error: cannot write it: %s\n", path,
                strerror(errno));
        return -1;
    }
    fill(f, arg);
    bool bad_write = ferror(f) != 0;
    if (fclose(f) != 0 || bad_write) {
        fprintf(stderr, "p2plab bench scale: %s: error: writing it failed (disk full?)\n", path);
        return -1;
    }
    return 0;
}

struct scale_files {
    const struct scale_opts *o;
    const struct scenario *sc;
    const char *series;
    const struct scale_row *rows;
    size_t n;
    bool drawn;
};

static void fill_csv(FILE *f, const void *arg)
{
    const struct scale_files *a = arg;
    write_csv(f, a->o, a->rows, a->n);
}

static void fill_md(FILE *f, const void *arg)
{
    const struct scale_files *a = arg;
    write_md(f, a->o, a->sc, a->series, a->rows, a->n, a->drawn);
}

static int move_into(const char *stage, const char *dest, const char *name)
{
    char from[1400], to[1400];
    snprintf(from, sizeof from, "%s/%s", stage, name);
    snprintf(to, sizeof to, "%s/%s", dest, name);
    if (access(from, F_OK) != 0) {
        unlink(to);                   /* no stale figure from an earlier series */
        return 0;
    }
    if (rename(from, to) != 0) {
        fprintf(stderr, "p2plab bench scale: %s: error: cannot move it into place: %s\n", to,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* scale.csv, scale.md and the figures, staged in DIR and renamed into place. 0, or 1. */
static int scale_write(const char *dir, struct scale_files *a)
{
    const struct scale_opts *o = a->o;
    char stage[1200], plots[1200];
    snprintf(stage, sizeof stage, "%s/.p2plab-staging-%ld", dir, (long)getpid());
    snprintf(plots, sizeof plots, "%s/plots", dir);
    if (mkdir(stage, 0777) != 0) {
        fprintf(stderr, "p2plab bench scale: %s: error: cannot write here: %s\n", dir,
                strerror(errno));
        return 1;
    }
    int rc = 0;
    bool no_gnuplot = false;
    if (!o->no_plots) {
        struct plot_scale_point *pts = mem_calloc(a->n + 1, sizeof *pts, "the figures' points");
        size_t k = 0, off = 0;
        for (size_t i = 0; i < a->n; i++)
            if (a->rows[i].status == SCALE_OK)
                pts[k++] = (struct plot_scale_point){ .proto = a->rows[i].proto,
                    .nodes = a->rows[i].nodes, .cpu_s = cpu_of(&a->rows[i]),
                    .rss_mb = a->rows[i].rss_mb };
            else
                off++;
        char note[256], err[2048];
        snprintf(note, sizeof note, "%s: each run alone in a process of its own%s", a->sc->name,
                 off ? "; runs stopped by a limit are not drawn" : "");
        bool gnuplot = plot_gnuplot_found();
        int prc = plot_scale_write(stage, pts, k, note, gnuplot, err, sizeof err);
        free(pts);
        if (prc < 0) {
            fprintf(stderr, "p2plab bench scale: %s\n", err);
            rc = 1;
        }
        no_gnuplot = !gnuplot || prc == 1;
        a->drawn = !no_gnuplot && prc == 0;
    }
    if (rc == 0 && (write_staged(stage, "scale.csv", fill_csv, a) != 0 ||
                    write_staged(stage, "scale.md", fill_md, a) != 0))
        rc = 1;
    if (rc == 0 && !o->no_plots && make_dir(plots) != 0) {
        fprintf(stderr, "p2plab bench scale: %s: error: cannot create it: %s\n", plots,
                strerror(errno));
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && !o->no_plots && i < sizeof scale_fig_names / sizeof
         scale_fig_names[0]; i++)
        for (size_t e = 0; rc == 0 && e < sizeof scale_fig_ext / sizeof scale_fig_ext[0]; e++) {
            char name[128];
            snprintf(name, sizeof name, "%s.%s", scale_fig_names[i], scale_fig_ext[e]);
            rc = move_into(stage, plots, name) != 0;
        }
    for (size_t i = 0; rc == 0 && o->no_plots && i < sizeof scale_fig_names / sizeof
         scale_fig_names[0]; i++)
        for (size_t e = 0; e < sizeof scale_fig_ext / sizeof scale_fig_ext[0]; e++) {
            char path[1400];          /* no stale figure from an earlier series */
            snprintf(path, sizeof path, "%s/%s.%s", plots, scale_fig_names[i], scale_fig_ext[e]);
            unlink(path);
        }
    if (rc == 0)
        rc = move_into(stage, dir, "scale.csv") != 0 || move_into(stage, dir, "scale.md") != 0;
    remove_flat(stage);
    if (rc == 0 && no_gnuplot)
        fprintf(stderr, "p2plab bench scale: gnuplot not found: install gnuplot-nox; data and "
                ".gp scripts are in %s\n", plots);
    return rc;
}

/* ==== the benchmark ====================================================================== */

/* The path of this program, to run it again. */
static int self_path(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1)
        return -1;
    buf[n] = '\0';
    return 0;
}

struct scale_plan {
    struct scenario sc;               /* the scenario as every run sees it (no sweep) */
    const char *sets[64];             /* the user's overrides and ours */
    size_t n_sets;
    size_t proto[SCN_MAX_PROTOCOLS];  /* indices into sc.protocols, in run order */
    size_t n_proto;
    char proto_set[SCN_MAX_PROTOCOLS][1024];   /* "protocols={chord: {...}}" */
};

/* Reads the scenario and settles every run; 0 or 2 after a message. */
static int scale_plan_make(struct scale_plan *p, struct scale_opts *o)
{
    char err[2048];
    struct scn_doc *d = scale_load(o->file, o->sets, o->n_sets);
    if (!d)
        return 2;
    struct scenario base;
    int rc = scn_resolve(d, 0, &base, err, sizeof err);
    scn_free(d);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    for (size_t a = 0; o->n_nodes == 0 && a < base.n_sweep; a++) {
        if (strcmp(base.sweep[a].path, "nodes") != 0 &&
            strcmp(base.sweep[a].path, "nodes.count") != 0)
            continue;
        /* the swept values, smallest first (each was checked when the scenario loaded) */
        for (size_t k = 0; k < base.sweep[a].n_values && o->n_nodes < SCALE_MAX_NODES; k++) {
            int64_t v;
            const char *why;
            if (units_int(base.sweep[a].values[k], &v, &why) != 0 || v < 1 || v >= UINT32_MAX)
                continue;
            size_t at = o->n_nodes;
            while (at > 0 && o->nodes[at - 1] > (uint32_t)v)
                at--;
            if (at > 0 && o->nodes[at - 1] == (uint32_t)v)
                continue;
            memmove(&o->nodes[at + 1], &o->nodes[at], (o->n_nodes - at) * sizeof o->nodes[0]);
            o->nodes[at] = (uint32_t)v;
            o->n_nodes++;
        }
    }
    if (o->n_nodes == 0) {
        o->nodes[0] = base.nodes.count;
        o->n_nodes = 1;
    }
    for (size_t i = 0; i < o->n_sets; i++)
        p->sets[p->n_sets++] = o->sets[i];
    if (base.n_sweep)
        p->sets[p->n_sets++] = "sweep={}";
    if (base.n_plots)
        p->sets[p->n_sets++] = "plots=[]";
    if (base.n_also)
        p->sets[p->n_sets++] = "also=[]";
    if (base.replicas != 1)
        p->sets[p->n_sets++] = "replicas=1";
    d = scale_load(o->file, p->sets, p->n_sets);
    if (!d)
        return 2;
    rc = scn_resolve(d, 0, &p->sc, err, sizeof err);
    scn_free(d);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    for (size_t i = 0; i < o->n_protos; i++) {
        size_t k = 0;
        while (k < p->sc.n_protocols && strcmp(p->sc.protocols[k].name, o->protos[i]) != 0)
            k++;
        if (k == p->sc.n_protocols) {
            fprintf(stderr, "p2plab bench scale: --protocol %s: %s runs", o->protos[i], o->file);
            for (size_t j = 0; j < p->sc.n_protocols; j++)
                fprintf(stderr, "%s %s", j ? "," : "", p->sc.protocols[j].name);
            fputs("\n", stderr);
            return 2;
        }
    }
    for (size_t k = 0; k < p->sc.n_protocols; k++) {
        bool chosen = o->n_protos == 0;
        for (size_t i = 0; i < o->n_protos && !chosen; i++)
            chosen = strcmp(p->sc.protocols[k].name, o->protos[i]) == 0;
        if (!chosen)
            continue;
        protocol_set(&p->sc.protocols[k], p->proto_set[p->n_proto], sizeof p->proto_set[0]);
        p->proto[p->n_proto++] = k;
    }
    return 0;
}

/* The child's command line for (protocol i, N) into argv, NULL-terminated; nodeset holds its
 * "nodes=N". */
static void child_argv(const struct scale_plan *p, const struct scale_opts *o, const char *exe,
                       size_t i, uint32_t nodes, const char *rundir, char nodeset[32],
                       char **argv)
{
    size_t a = 0;
    snprintf(nodeset, 32, "nodes=%u", nodes);
    argv[a++] = (char *)exe;
    argv[a++] = "run";
    argv[a++] = (char *)o->file;
    for (size_t k = 0; k < p->n_sets; k++) {
        argv[a++] = "--set";
        argv[a++] = (char *)p->sets[k];
    }
    argv[a++] = "--set";
    argv[a++] = nodeset;
    argv[a++] = "--set";
    argv[a++] = (char *)p->proto_set[i];
    argv[a++] = "-o";
    argv[a++] = (char *)rundir;
    argv[a++] = "--force";           /* the folder was checked, as a whole, above */
    argv[a++] = "-j";
    argv[a++] = "1";
    argv[a++] = "-q";
    argv[a++] = "--no-plots";
    argv[a] = NULL;
}

int scale_main(int argc, char **argv)
{
    struct scale_opts o;
    int rc = scale_parse(&o, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    struct scale_plan *p = mem_calloc(1, sizeof *p, "the scale benchmark");
    rc = scale_plan_make(p, &o);
    char exe[1024], dir[1024];
    if (rc == 0 && self_path(exe, sizeof exe) != 0) {
        fprintf(stderr, "p2plab bench scale: cannot tell where this program is (/proc/self/exe)"
                ": %s\n", strerror(errno));
        rc = 1;
    }
    if (rc == 0) {
        if (o.out)
            snprintf(dir, sizeof dir, "%s", o.out);
        else
            snprintf(dir, sizeof dir, "results/%s-scale", p->sc.name);
        rc = scale_check_dir(dir, o.force);
    }
    /* every run's scenario is checked before anything runs or any folder is made */
    char *cargv[160], nodeset[32], rundir[1300], runs[1100];
    for (size_t i = 0; rc == 0 && i < p->n_proto; i++)
        for (size_t k = 0; rc == 0 && k < o.n_nodes; k++) {
            const char *sets[66];
            size_t n = 0;
            for (size_t s = 0; s < p->n_sets; s++)
                sets[n++] = p->sets[s];
            snprintf(nodeset, sizeof nodeset, "nodes=%u", o.nodes[k]);
            sets[n++] = nodeset;
            sets[n++] = p->proto_set[i];
            struct scn_doc *d = scale_load(o.file, sets, n);
            if (!d)
                rc = 2;
            scn_free(d);
        }
    if (rc == 0) {
        snprintf(runs, sizeof runs, "%s/runs", dir);
        if (make_dir(runs) != 0) {
            fprintf(stderr, "p2plab bench scale: %s: error: cannot create it (%s); choose "
                    "another -o\n", runs, strerror(errno));
            rc = 2;
        }
    }
    if (rc != 0) {
        free(p);
        return rc;
    }

    size_t n_rows = p->n_proto * o.n_nodes;
    struct scale_row *rows = mem_calloc(n_rows, sizeof *rows, "the scale table");
    table_head(stdout);
    for (size_t i = 0, r = 0; i < p->n_proto && rc == 0; i++) {
        bool stopped = false;
        for (size_t k = 0; k < o.n_nodes && rc == 0; k++, r++) {
            struct scale_row *row = &rows[r];
            snprintf(row->proto, sizeof row->proto, "%s", p->sc.protocols[p->proto[i]].name);
            row->nodes = o.nodes[k];
            if (stopped) {
                row->status = SCALE_NOT_RUN;
            } else {
                snprintf(rundir, sizeof rundir, "%s/%s-%u", runs, row->proto, row->nodes);
                child_argv(p, &o, exe, i, row->nodes, rundir, nodeset, cargv);
                cargv[0] = "p2plab";
                row->command = shell_command(cargv);
                cargv[0] = exe;
                if (scale_run(row, cargv, rundir, &o) != 0)
                    rc = 1;
                stopped = row->status != SCALE_OK;
            }
            if (rc == 0)
                table_row(stdout, &o, row);
            fflush(stdout);
        }
    }
    if (rc == 0) {
        char *words[200];
        size_t w = 0;
        words[w++] = "p2plab";
        words[w++] = "bench";
        for (int a = 0; a < argc && w + 1 < sizeof words / sizeof words[0]; a++)
            words[w++] = argv[a];
        words[w] = NULL;
        char *series = shell_command(words);
        struct scale_files files = { .o = &o, .sc = &p->sc, .series = series, .rows = rows,
                                     .n = n_rows };
        rc = scale_write(dir, &files);
        if (rc == 0)
            printf("\nresults in %s/: scale.csv scale.md%s, each run's results in runs/\n", dir,
                   o.no_plots ? "" : " plots/scale-cpu plots/scale-rss");
        free(series);
    }
    for (size_t r = 0; r < n_rows; r++)
        free(rows[r].command);
    free(rows);
    free(p);
    return rc;
}
