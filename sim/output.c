/* output.c — summary.yaml (libyaml emitter), tidy CSVs, atomic placement, the results table. */
#include "sim/output.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <yaml.h>

#include "protocols/protocol.h"
#include "sim/mem.h"
#include "sim/scnkeys.h"
#include "sim/stats.h"
#include "sim/sweep.h"

static const char *const out_files[] = { OUT_FILES };
#define N_OUT_FILES (sizeof out_files / sizeof out_files[0])

/* ==== numbers ============================================================================ */

void out_number(double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "nan");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.10g", v);
}

void out_ci(const double *v, size_t n_values, double *mean, double *ci95, size_t *n)
{
    double sum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n_values; i++)
        if (!isnan(v[i])) {
            sum += v[i];
            k++;
        }
    *n = k;
    *mean = k ? sum / (double)k : NAN;
    *ci95 = NAN;
    if (k < 2)
        return;
    double ss = 0;
    for (size_t i = 0; i < n_values; i++)
        if (!isnan(v[i]))
            ss += (v[i] - *mean) * (v[i] - *mean);
    double sd = sqrt(ss / (double)(k - 1));
    *ci95 = gsl_cdf_tdist_Pinv(0.975, (double)(k - 1)) * sd / sqrt((double)k);
}

/* ==== the results folder ================================================================= */

static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        snprintf(err, errlen, "%s: error: output path too long", path);
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        goto fail;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: error: exists and is not a directory; choose another -o", path);
        return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "%s: error: cannot create the output directory (%s): %s; choose another -o",
             path, buf, strerror(errno));
    return -1;
}

int out_check(const char *dir, bool force, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return 0;                     /* created when the run starts */
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: error: exists and is not a directory; choose another -o", dir);
        return -1;
    }
    /* what a run writes: its files, then the report and figures that `plot` draws from them */
    static const char *const drawn[] = { "report.md", "plots" };
    for (size_t i = 0; !force && i < N_OUT_FILES + 2; i++) {
        const char *name = i < N_OUT_FILES ? out_files[i] : drawn[i - N_OUT_FILES];
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (access(path, F_OK) == 0) {
            snprintf(err, errlen, "%s: error: already holds results (%s); pass --force to "
                     "replace them, or choose another -o", dir, name);
            return -1;
        }
    }
    return 0;
}

int out_begin(struct out_dir *d, const char *dir, bool force, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (snprintf(d->dir, sizeof d->dir, "%s", dir) >= (int)sizeof d->dir) {
        snprintf(err, errlen, "%s: error: output path too long", dir);
        return -1;
    }
    if (out_check(dir, force, err, errlen) != 0 || mkdir_p(dir, err, errlen) != 0)
        return -1;
    snprintf(d->tmp, sizeof d->tmp, "%s/.p2plab-staging-%ld", dir, (long)getpid());
    if (mkdir(d->tmp, 0777) != 0) {
        snprintf(err, errlen, "%s: error: cannot write here (%s); choose another -o", dir,
                 strerror(errno));
        d->tmp[0] = '\0';
        return -1;
    }
    return 0;
}

void out_abort(struct out_dir *d)
{
    if (!d->tmp[0])
        return;
    for (size_t i = 0; i < N_OUT_FILES; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", d->tmp, out_files[i]);
        unlink(path);
    }
    rmdir(d->tmp);
    d->tmp[0] = '\0';
}

static FILE *stage(struct out_dir *d, const char *name, char *err, size_t errlen)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", d->tmp, name);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "%s: error: cannot write %s: %s", d->dir, name, strerror(errno));
    return f;
}

static int finish(FILE *f, struct out_dir *d, const char *name, char *err, size_t errlen)
{
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        snprintf(err, errlen, "%s: error: writing %s failed (disk full?)", d->dir, name);
        return -1;
    }
    return 0;
}

/* ==== CSV ============================================================================= */

static void csv_key_columns(FILE *f, const struct out_set *set)
{
    fputs("protocol", f);
    const struct scenario *b = set->base;
    for (size_t a = 0; a < b->n_sweep; a++)
        fprintf(f, ",%s", b->sweep[a].path);
}

/* The cell's value of sweep axis a, or NULL when the axis is another protocol's parameter. */
static const char *axis_value(const struct out_set *set, const struct out_cell *c, size_t a)
{
    if (!scn_axis_applies(set->base->sweep[a].path, c->sc.protocols[c->proto].name))
        return NULL;
    return scn_point_value(set->doc, c->point, a);
}

/* Another protocol's parameter is left empty: a missing value to R, pandas and gnuplot. */
static void csv_key_values(FILE *f, const struct out_set *set, const struct out_cell *c)
{
    fputs(c->sc.protocols[c->proto].name, f);
    for (size_t a = 0; a < set->base->n_sweep; a++) {
        const char *v = axis_value(set, c, a);
        fprintf(f, ",%s", v ? v : "");
    }
}

static void csv_num(FILE *f, double v)
{
    char buf[64];
    out_number(v, buf, sizeof buf);
    fprintf(f, ",%s", buf);
}

/* Whether a swept key path holds a duration: a scenario key of that kind, or a protocol
 * parameter of type duration. */
static bool axis_is_duration(const char *path)
{
    if (strncmp(path, "protocols.", 10) == 0) {
        const char *dot = strchr(path + 10, '.');
        char name[64];
        if (!dot || (size_t)(dot - path - 10) >= sizeof name)
            return false;
        snprintf(name, sizeof name, "%.*s", (int)(dot - path - 10), path + 10);
        const struct protocol *p = protocol_find(name);
        int k = p && p->params ? param_find(p->params, dot + 1) : -1;
        return k >= 0 && p->params[k].type == PARAM_DURATION;
    }
    const struct scn_key *k = scn_key_find(scn_canonical_path(path));
    return k && scn_key_target(k)->kind == SCN_DURATION;
}

/* runs.csv: the key columns, and beside each swept duration ("2h", as written) the same in
 * seconds (PATH_s: 7200), for tools that cannot read units; empty where the axis is empty. */
static void runs_key_columns(FILE *f, const struct out_set *set)
{
    fputs("protocol", f);
    const struct scenario *b = set->base;
    for (size_t a = 0; a < b->n_sweep; a++) {
        fprintf(f, ",%s", b->sweep[a].path);
        if (axis_is_duration(b->sweep[a].path))
            fprintf(f, ",%s_s", b->sweep[a].path);
    }
}

static void runs_key_values(FILE *f, const struct out_set *set, const struct out_cell *c)
{
    fputs(c->sc.protocols[c->proto].name, f);
    for (size_t a = 0; a < set->base->n_sweep; a++) {
        const char *v = axis_value(set, c, a);
        fprintf(f, ",%s", v ? v : "");
        if (!axis_is_duration(set->base->sweep[a].path))
            continue;
        int64_t us;
        const char *why;
        if (v && units_duration(v, &us, &why) == 0)
            csv_num(f, (double)us / 1e6);
        else
            fputc(',', f);
    }
}

static void write_runs(FILE *f, const struct out_set *set)
{
    runs_key_columns(f, set);
    fputs(",replica,seed", f);
    for (int m = 0; m < M_COUNT; m++)
        fprintf(f, ",%s", stats_metric_name[m]);
    fputc('\n', f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        for (uint32_t r = 0; r < c->n_rep; r++) {
            runs_key_values(f, set, c);
            fprintf(f, ",%u,%llu", r, (unsigned long long)c->seed[r]);
            for (int m = 0; m < M_COUNT; m++)
                csv_num(f, c->rep[r].metric[m]);
            fputc('\n', f);
        }
    }
}

static void write_timeseries(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",replica,t_s,live_nodes,lookups,success_rate,hops_mean,latency_ms_mean,"
          "maint_msgs_per_node_s,maint_bytes_per_node_s,lookup_bytes_per_node_s,"
          "state_entries_mean,timeouts_per_lookup,keys_lost\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        double dt = (double)c->sc.sample_us / 1e6;
        for (uint32_t r = 0; r < c->n_rep; r++) {
            for (size_t k = 0; k < c->rep[r].n_ts; k++) {
                const struct ts_bucket *b = &c->rep[r].ts[k];
                double ns = b->live_integral_s;
                csv_key_values(f, set, c);
                fprintf(f, ",%u", r);
                csv_num(f, (double)k * dt);
                csv_num(f, b->live);
                csv_num(f, b->lookups);
                csv_num(f, b->judged ? (double)b->ok / b->judged : NAN);
                csv_num(f, b->ok ? b->hops_sum / b->ok : NAN);
                csv_num(f, b->ok ? b->lat_ms_sum / b->ok : NAN);
                csv_num(f, ns > 0 ? (double)b->maint_msgs / ns : NAN);
                csv_num(f, ns > 0 ? (double)b->maint_bytes / ns : NAN);
                csv_num(f, ns > 0 ? (double)b->lookup_bytes / ns : NAN);
                csv_num(f, b->state_mean);
                csv_num(f, b->judged ? (double)b->timeouts / b->judged : NAN);
                csv_num(f, b->keys_lost);
                fputc('\n', f);
            }
        }
    }
}

static void write_hops(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",hops,count,fraction\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        uint64_t h[STATS_HOPS_MAX] = { 0 }, total = 0;
        for (uint32_t r = 0; r < c->n_rep; r++)
            for (int k = 0; k < STATS_HOPS_MAX; k++)
                h[k] += c->rep[r].hop_hist[k];
        int last = -1;
        for (int k = 0; k < STATS_HOPS_MAX; k++) {
            total += h[k];
            if (h[k])
                last = k;
        }
        for (int k = 0; k <= last; k++) {
            csv_key_values(f, set, c);
            fprintf(f, ",%d,%llu", k, (unsigned long long)h[k]);
            csv_num(f, (double)h[k] / (double)total);
            fputc('\n', f);
        }
    }
}

/* Long format, one row per (cell, replica, counter): protocols have different counters. */
static void write_counters(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",replica,counter,value\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        for (uint32_t r = 0; r < c->n_rep; r++) {
            const struct run_result *x = &c->rep[r];
            for (size_t k = 0; x->counter_name && x->counter_name[k]; k++) {
                csv_key_values(f, set, c);
                fprintf(f, ",%u,%s,%llu\n", r, x->counter_name[k],
                        (unsigned long long)x->counter[k]);
            }
        }
    }
}

/* Long format, one row per (cell, replica, interval, gauge): protocols have different gauges. */
static void write_gauges(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",replica,t_s,gauge,value\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        double dt = (double)c->sc.sample_us / 1e6;
        for (uint32_t r = 0; r < c->n_rep; r++) {
            const struct run_result *x = &c->rep[r];
            for (size_t k = 0; k < x->n_ts; k++)
                for (size_t g = 0; x->gauge_name && x->gauge_name[g]; g++) {
                    csv_key_values(f, set, c);
                    fprintf(f, ",%u", r);
                    csv_num(f, (double)k * dt);
                    fprintf(f, ",%s", x->gauge_name[g]);
                    csv_num(f, x->ts[k].gauge[g]);
                    fputc('\n', f);
                }
        }
    }
}

/* Each distribution as 101 quantiles; a quantile of the cell is the mean of the replicas'
 * (quantile averaging), over the replicas that have one. */
static void write_cdf(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",metric,quantile,value\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        for (int d = 0; d < CDF_COUNT; d++) {
            for (int q = 0; q < STATS_CDF_POINTS; q++) {
                double sum = 0;
                uint32_t n = 0;
                for (uint32_t r = 0; r < c->n_rep; r++)
                    if (!isnan(c->rep[r].cdf[d][q])) {
                        sum += c->rep[r].cdf[d][q];
                        n++;
                    }
                if (n == 0)
                    break;
                csv_key_values(f, set, c);
                fprintf(f, ",%s,%.2f", stats_cdf_name[d], q / 100.0);
                csv_num(f, sum / n);
                fputc('\n', f);
            }
        }
    }
}

static void write_perf(FILE *f, const struct out_set *set)
{
    csv_key_columns(f, set);
    fputs(",replica,wall_s,events,events_per_s,peak_rss_mb\n", f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        for (uint32_t r = 0; r < c->n_rep; r++) {
            const struct run_result *x = &c->rep[r];
            csv_key_values(f, set, c);
            fprintf(f, ",%u,%.3f,%.0f,%.0f,%.1f\n", r, x->wall_s, x->metric[M_EVENTS],
                    x->events_per_s, x->peak_rss_mb);
        }
    }
}

/* ==== summary.yaml ====================================================================== */

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(em, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *em, const char *s)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1,
                                 YAML_ANY_SCALAR_STYLE);
    return emit(em, &ev);
}

static int emit_number(yaml_emitter_t *em, double v)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof buf, ".nan");
    else
        out_number(v, buf, sizeof buf);
    return emit_scalar(em, buf);
}

static int emit_map_start(yaml_emitter_t *em, bool flow)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                        flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
    return emit(em, &ev);
}

static int emit_map_end(yaml_emitter_t *em)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    return emit(em, &ev);
}

static int yaml_write(void *data, unsigned char *buf, size_t size)
{
    return fwrite(buf, 1, size, (FILE *)data) == size;
}

/* One "name: {mean, ci95, n}" entry of a cell's metrics or counters. */
static int emit_stat(yaml_emitter_t *em, const char *name, const double *v, size_t n_values)
{
    double mean, ci;
    size_t n;
    out_ci(v, n_values, &mean, &ci, &n);
    int rc = emit_scalar(em, name);
    rc |= emit_map_start(em, true);
    rc |= emit_scalar(em, "mean");
    rc |= emit_number(em, mean);
    rc |= emit_scalar(em, "ci95");
    rc |= emit_number(em, ci);
    rc |= emit_scalar(em, "n");
    rc |= emit_number(em, (double)n);
    rc |= emit_map_end(em);
    return rc;
}

static int emit_cell(yaml_emitter_t *em, const struct out_set *set, const struct out_cell *c)
{
    int rc = emit_map_start(em, false);
    rc |= emit_scalar(em, "protocol");
    rc |= emit_scalar(em, c->sc.protocols[c->proto].name);
    for (size_t a = 0; a < set->base->n_sweep; a++) {
        const char *v = axis_value(set, c, a);
        if (!v)
            continue;
        rc |= emit_scalar(em, set->base->sweep[a].path);
        rc |= emit_scalar(em, v);
    }
    rc |= emit_scalar(em, "replicas");
    rc |= emit_number(em, c->n_rep);
    rc |= emit_scalar(em, "metrics");
    rc |= emit_map_start(em, false);
    double *v = malloc((c->n_rep + 1) * sizeof *v);
    if (!v)
        return -1;
    for (int m = 0; m < M_COUNT; m++) {
        for (uint32_t r = 0; r < c->n_rep; r++)
            v[r] = c->rep[r].metric[m];
        rc |= emit_stat(em, stats_metric_name[m], v, c->n_rep);
    }
    rc |= emit_map_end(em);
    const char *const *names = c->n_rep ? c->rep[0].counter_name : NULL;
    if (names && names[0]) {
        rc |= emit_scalar(em, "counters");
        rc |= emit_map_start(em, false);
        for (size_t k = 0; names[k]; k++) {
            for (uint32_t r = 0; r < c->n_rep; r++)
                v[r] = (double)c->rep[r].counter[k];
            rc |= emit_stat(em, names[k], v, c->n_rep);
        }
        rc |= emit_map_end(em);
    }
    const char *const *gauges = c->n_rep ? c->rep[0].gauge_name : NULL;
    if (gauges && gauges[0]) {
        rc |= emit_scalar(em, "gauges");
        rc |= emit_map_start(em, false);
        for (size_t k = 0; gauges[k]; k++) {
            for (uint32_t r = 0; r < c->n_rep; r++)
                v[r] = c->rep[r].gauge_mean[k];
            rc |= emit_stat(em, gauges[k], v, c->n_rep);
        }
        rc |= emit_map_end(em);
    }
    free(v);
    rc |= emit_map_end(em);
    return rc;
}

/* ==== expectations ====================================================================== */

const char *const out_verdict_name[] = { "within", "outside", "no data" };

void out_judge(const struct out_set *set, size_t i, struct out_judged *j)
{
    const struct scenario *b = set->base;
    const struct scn_expect *x = &b->expect[i];
    const char *proto = b->protocols[x->proto].name;
    *j = (struct out_judged){ .mean = NAN, .ci95 = NAN, .verdict = OUT_NO_DATA };
    int n = snprintf(j->cell, sizeof j->cell, "%s", proto);
    for (size_t a = 0; a < b->n_sweep; a++)
        if (b->sweep[a].n_values > 1 && scn_axis_applies(b->sweep[a].path, proto) && n > 0 &&
            (size_t)n < sizeof j->cell)
            n += snprintf(j->cell + n, sizeof j->cell - (size_t)n, " %s=%s", b->sweep[a].path,
                          b->sweep[a].values[x->vi[a]]);
    int m = stats_metric_find(x->metric);
    for (size_t k = 0; k < set->n_cell; k++) {
        const struct out_cell *c = &set->cell[k];
        if ((int)c->proto != x->proto)
            continue;
        bool same = true;
        for (size_t a = 0; a < b->n_sweep && same; a++) {
            const char *v = axis_value(set, c, a);
            same = !v || strcmp(v, b->sweep[a].values[x->vi[a]]) == 0;
        }
        if (!same)
            continue;
        double *v = mem_calloc(c->n_rep + 1, sizeof *v, "an expectation's values");
        for (uint32_t r = 0; r < c->n_rep; r++)
            v[r] = c->rep[r].metric[m];
        out_ci(v, c->n_rep, &j->mean, &j->ci95, &j->n);
        free(v);
        break;
    }
    /* a hair of slack for the decimal figures themselves: 5.1 +- 0.1 admits 5.2 */
    if (j->n > 0 && isfinite(j->mean))
        j->verdict = fabs(j->mean - x->value) <= x->tol * (1 + 1e-9) + 1e-12 ? OUT_WITHIN
                   : OUT_OUTSIDE;
}

static int emit_expect(yaml_emitter_t *em, const struct out_set *set)
{
    const struct scenario *b = set->base;
    yaml_event_t ev;
    int rc = emit_scalar(em, "expect");
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    rc |= emit(em, &ev);
    for (size_t i = 0; i < b->n_expect; i++) {
        const struct scn_expect *x = &b->expect[i];
        struct out_judged j;
        out_judge(set, i, &j);
        rc |= emit_map_start(em, false);
        rc |= emit_scalar(em, "metric");
        rc |= emit_scalar(em, x->metric);
        rc |= emit_scalar(em, "cell");
        rc |= emit_scalar(em, j.cell);
        rc |= emit_scalar(em, "paper");
        rc |= emit_number(em, x->value);
        rc |= emit_scalar(em, "tolerance");
        rc |= emit_scalar(em, x->tolerance);
        rc |= emit_scalar(em, "p2plab");
        rc |= emit_map_start(em, true);
        rc |= emit_scalar(em, "mean");
        rc |= emit_number(em, j.mean);
        rc |= emit_scalar(em, "ci95");
        rc |= emit_number(em, j.ci95);
        rc |= emit_scalar(em, "n");
        rc |= emit_number(em, (double)j.n);
        rc |= emit_map_end(em);
        rc |= emit_scalar(em, "verdict");
        rc |= emit_scalar(em, out_verdict_name[j.verdict]);
        rc |= emit_scalar(em, "source");
        rc |= emit_scalar(em, x->source);
        if (x->note[0]) {
            rc |= emit_scalar(em, "note");
            rc |= emit_scalar(em, x->note);
        }
        rc |= emit_map_end(em);
    }
    yaml_sequence_end_event_initialize(&ev);
    rc |= emit(em, &ev);
    return rc;
}

static int write_summary(FILE *f, const struct out_set *set)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    if (!yaml_emitter_initialize(&em))
        return -1;
    yaml_emitter_set_output(&em, yaml_write, f);
    yaml_emitter_set_width(&em, 100);
    yaml_emitter_set_unicode(&em, 1);
    int rc = 0;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    rc |= emit(&em, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    rc |= emit(&em, &ev);
    rc |= emit_map_start(&em, false);
    rc |= emit_scalar(&em, "p2plab");
    rc |= emit_scalar(&em, P2PLAB_VERSION);
    rc |= emit_scalar(&em, "scenario");
    rc |= scn_emit(set->base, &em);
    rc |= emit_scalar(&em, "cells");
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
    rc |= emit(&em, &ev);
    for (size_t i = 0; i < set->n_cell && rc == 0; i++)
        rc |= emit_cell(&em, set, &set->cell[i]);
    yaml_sequence_end_event_initialize(&ev);
    rc |= emit(&em, &ev);
    if (set->base->n_expect && rc == 0)
        rc |= emit_expect(&em, set);
    rc |= emit_map_end(&em);
    yaml_document_end_event_initialize(&ev, 1);
    rc |= emit(&em, &ev);
    yaml_stream_end_event_initialize(&ev);
    rc |= emit(&em, &ev);
    yaml_emitter_delete(&em);
    return rc;
}

/* ==== putting it together ============================================================== */

int out_write(struct out_dir *d, const struct out_set *set, char *err, size_t errlen)
{
    void (*const writers[])(FILE *, const struct out_set *) = {
        NULL, write_runs, write_timeseries, write_hops, write_counters, write_gauges, write_cdf,
        write_perf,
    };
    _Static_assert(sizeof writers / sizeof writers[0] == N_OUT_FILES, "one writer per file");
    for (size_t i = 0; i < N_OUT_FILES; i++) {
        FILE *f = stage(d, out_files[i], err, errlen);
        if (!f)
            return -1;
        if (writers[i]) {
            writers[i](f, set);
        } else if (write_summary(f, set) != 0) {
            fclose(f);
            snprintf(err, errlen, "%s: error: could not write summary.yaml", d->dir);
            return -1;
        }
        if (finish(f, d, out_files[i], err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < N_OUT_FILES; i++) {
        char from[1200], to[1200];
        snprintf(from, sizeof from, "%s/%s", d->tmp, out_files[i]);
        snprintf(to, sizeof to, "%s/%s", d->dir, out_files[i]);
        if (rename(from, to) != 0) {
            snprintf(err, errlen, "%s: error: cannot move %s into place: %s", d->dir,
                     out_files[i], strerror(errno));
            return -1;
        }
    }
    rmdir(d->tmp);
    d->tmp[0] = '\0';
    return 0;
}

/* ==== the table at the end of a run =================================================== */

static double cell_mean(const struct out_cell *c, int m)
{
    double sum = 0;
    size_t k = 0;
    for (uint32_t r = 0; r < c->n_rep; r++)
        if (!isnan(c->rep[r].metric[m])) {
            sum += c->rep[r].metric[m];
            k++;
        }
    return k ? sum / (double)k : NAN;
}

void out_table(FILE *f, const struct out_set *set)
{
    static const struct { int m; const char *head; const char *fmt; double scale; } col[] = {
        { M_LOOKUPS, "lookups", "%9.0f", 1 },
        { M_SUCCESS, "success%", "%9.2f", 100 },
        { M_HOPS_MEAN, "hops", "%7.2f", 1 },
        { M_LAT_MEAN, "lat ms", "%8.1f", 1 },
        { M_MSGS_MEAN, "msgs/lkp", "%9.2f", 1 },
        { M_TIMEOUTS_MEAN, "tmo/lkp", "%8.3f", 1 },
        { M_MAINT_BYTES, "maint B/n/s", "%12.1f", 1 },
        { M_STATE_MEAN, "state", "%7.1f", 1 },
    };
    const struct scenario *b = set->base;
    int w_axis[SCN_MAX_SWEEP];
    for (size_t a = 0; a < b->n_sweep; a++) {
        w_axis[a] = (int)strlen(b->sweep[a].path);
        for (size_t i = 0; i < set->n_cell; i++) {
            int w = (int)strlen(scn_point_value(set->doc, set->cell[i].point, a));
            if (w > w_axis[a])
                w_axis[a] = w;
        }
    }
    fprintf(f, "%-10s", "protocol");
    for (size_t a = 0; a < b->n_sweep; a++)
        fprintf(f, " %*s", w_axis[a], b->sweep[a].path);
    for (size_t k = 0; k < sizeof col / sizeof col[0]; k++) {
        int w = atoi(col[k].fmt + 1);
        fprintf(f, " %*s", w, col[k].head);
    }
    fputc('\n', f);
    for (size_t i = 0; i < set->n_cell; i++) {
        const struct out_cell *c = &set->cell[i];
        fprintf(f, "%-10s", c->sc.protocols[c->proto].name);
        for (size_t a = 0; a < b->n_sweep; a++) {
            const char *v = axis_value(set, c, a);
            fprintf(f, " %*s", w_axis[a], v ? v : "-");
        }
        for (size_t k = 0; k < sizeof col / sizeof col[0]; k++) {
            double v = cell_mean(c, col[k].m);
            fputc(' ', f);
            if (isnan(v))
                fprintf(f, "%*s", atoi(col[k].fmt + 1), "-");
            else
                fprintf(f, col[k].fmt, v * col[k].scale);
        }
        fputc('\n', f);
    }
    if (b->n_expect == 0)
        return;
    size_t within = 0;
    fprintf(f, "\nagainst the paper (expect:):\n");
    for (size_t i = 0; i < b->n_expect; i++) {
        const struct scn_expect *x = &b->expect[i];
        struct out_judged j;
        out_judge(set, i, &j);
        within += j.verdict == OUT_WITHIN;
        char mean[32], ci[32] = "";
        snprintf(mean, sizeof mean, isfinite(j.mean) ? "%.4g" : "-", j.mean);
        if (isfinite(j.ci95))
            snprintf(ci, sizeof ci, " ± %.3g", j.ci95);
        fprintf(f, "  %-8s %s %s: paper %.6g ± %s, p2plab %s%s\n",
                out_verdict_name[j.verdict], j.cell, x->metric, x->value, x->tolerance, mean, ci);
    }
    fprintf(f, "%zu of %zu within tolerance\n", within, b->n_expect);
}
