/* stats.c — per-lookup bookkeeping, running totals, percentiles (GSL) and the time series. */
#include "sim/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/mem.h"

const char *const stats_metric_name[M_COUNT] = {
#define STATS_NAME(id, name, doc) [id] = name,
    STATS_METRICS(STATS_NAME)
#undef STATS_NAME
};

const char *const stats_metric_doc[M_COUNT] = {
#define STATS_DOC(id, name, doc) [id] = doc,
    STATS_METRICS(STATS_DOC)
#undef STATS_DOC
};

const char *const stats_cdf_name[CDF_COUNT] = { "lookup.latency_ms", "download.time_s" };

int stats_metric_find(const char *name)
{
    for (int i = 0; i < M_COUNT; i++)
        if (strcmp(stats_metric_name[i], name) == 0)
            return i;
    return -1;
}

int stats_init(struct stats *st, int64_t warmup_us, int64_t end_us, int64_t sample_us)
{
    *st = (struct stats){ .warmup_us = warmup_us, .end_us = end_us, .sample_us = sample_us };
    st->mask = 1023;
    st->ring = calloc(st->mask + 1, sizeof *st->ring);
    st->n_ts = (size_t)((end_us + sample_us - 1) / sample_us);
    st->ts = calloc(st->n_ts + 1, sizeof *st->ts);
    if (!st->ring || !st->ts) {
        stats_free(st);
        return -1;
    }
    for (size_t i = 0; i <= st->n_ts; i++)
        st->ts[i].keys_lost = NAN;
    return 0;
}

void stats_free(struct stats *st)
{
    free(st->ring);
    free(st->hops);
    free(st->lat_ms);
    free(st->stretch);
    free(st->dl_s);
    free(st->ts);
    *st = (struct stats){ 0 };
}

static struct ts_bucket *bucket_at(struct stats *st, int64_t t)
{
    if (t < 0 || t >= st->end_us)
        return NULL;
    size_t i = (size_t)(t / st->sample_us);
    return i < st->n_ts ? &st->ts[i] : NULL;
}

/* ---- lookups ----------------------------------------------------------------------------- */

uint32_t stats_lookup_start(struct stats *st, int64_t now, struct addr origin, uint64_t key)
{
    uint32_t id = st->next_id;
    while (st->base < id && !st->ring[st->base & st->mask].active &&
           !st->ring[st->base & st->mask].open)
        st->base++;
    if (id - st->base > st->mask) {           /* the window of live ids outgrew the ring */
        uint32_t size = (st->mask + 1) * 2;
        struct lookup_rec *ring = calloc(size, sizeof *ring);
        if (!ring) {
            fprintf(stderr, "p2plab: out of memory allocating the lookup table (%u)\n", size);
            exit(1);
        }
        for (uint32_t i = st->base; i != id; i++)
            ring[i & (size - 1)] = st->ring[i & st->mask];
        free(st->ring);
        st->ring = ring;
        st->mask = size - 1;
    }
    st->next_id++;
    struct lookup_rec *r = &st->ring[id & st->mask];
    *r = (struct lookup_rec){ .key = key, .start_us = now, .origin = origin, .active = true,
                              .open = true,
                              .counted = now >= st->warmup_us && now < st->end_us,
                              .bucket = (uint32_t)(now / st->sample_us) };
    struct ts_bucket *b = bucket_at(st, now);
    if (b)
        b->lookups++;
    return id;
}

static struct lookup_rec *rec_at(struct stats *st, uint32_t id)
{
    if (id >= st->next_id || st->next_id - id > st->mask + 1)
        return NULL;
    return &st->ring[id & st->mask];
}

struct lookup_rec *stats_lookup(struct stats *st, uint32_t id)
{
    struct lookup_rec *r = rec_at(st, id);
    return r && r->active ? r : NULL;
}

static struct lookup_rec *open_rec(struct stats *st, uint32_t id)
{
    struct lookup_rec *r = rec_at(st, id);
    return r && r->open ? r : NULL;
}

void stats_lookup_retire(struct stats *st, uint32_t id)
{
    struct lookup_rec *r = open_rec(st, id);
    if (!r || r->active)
        return;
    r->open = false;
    if (r->counted && r->judged) {
        st->msgs_sum += r->msgs;
        st->timeouts_sum += r->timeouts;
    }
}

static void push_ok(struct stats *st, double hops, double lat_ms, double stretch)
{
    if (st->n_ok == st->cap_ok) {
        st->cap_ok = st->cap_ok ? st->cap_ok * 2 : 4096;
        st->hops = mem_realloc(st->hops, st->cap_ok, sizeof *st->hops, "lookup hops");
        st->lat_ms = mem_realloc(st->lat_ms, st->cap_ok, sizeof *st->lat_ms, "lookup latencies");
        st->stretch = mem_realloc(st->stretch, st->cap_ok, sizeof *st->stretch, "lookup stretch");
    }
    st->hops[st->n_ok] = hops;
    st->lat_ms[st->n_ok] = lat_ms;
    st->stretch[st->n_ok] = stretch;
    st->n_ok++;
}

void stats_route_step(struct stats *st, uint32_t id, int64_t delay_us)
{
    struct lookup_rec *r = stats_lookup(st, id);
    if (!r)
        return;                       /* ended already: a late or duplicate step */
    r->route_steps++;
    r->route_us += delay_us;
}

void stats_lookup_end(struct stats *st, uint32_t id, int64_t now, enum outcome o, uint32_t hops,
                      double stretch, double route_ratio)
{
    struct lookup_rec *r = stats_lookup(st, id);
    SIM_ASSERT(r != NULL);
    r->active = false;
    double lat_ms = (double)(now - r->start_us) / 1e3;
    struct ts_bucket *b = r->bucket < st->n_ts ? &st->ts[r->bucket] : NULL;
    if (b && o != OUTCOME_ORIGIN_LEFT) {
        b->judged++;
        if (o == OUTCOME_OK) {
            b->ok++;
            b->hops_sum += hops;
            b->lat_ms_sum += lat_ms;
        }
    }
    r->judged = o != OUTCOME_ORIGIN_LEFT;
    if (!r->counted)
        return;
    st->outcome[o]++;
    st->answerable += r->answerable;
    if (o == OUTCOME_ORIGIN_LEFT)
        return;
    st->counted++;
    if (o == OUTCOME_OK) {
        push_ok(st, hops, lat_ms, stretch);
        if (!isnan(route_ratio)) {
            st->route_sum += route_ratio;
            st->n_route++;
        }
        st->hop_hist[hops < STATS_HOPS_MAX ? hops : STATS_HOPS_MAX - 1]++;
    }
}

/* ---- traffic, liveness, samples ---------------------------------------------------------- */

void stats_message(struct stats *st, int64_t now, uint8_t cat, uint32_t bytes, uint32_t lookup)
{
    if (lookup != LOOKUP_NONE) {
        struct lookup_rec *r = open_rec(st, lookup);
        if (r)
            r->msgs++;
    }
    struct ts_bucket *b = bucket_at(st, now);
    if (b) {
        if (cat == CAT_MAINT) {
            b->maint_msgs++;
            b->maint_bytes += bytes;
        } else {
            b->lookup_bytes += bytes;
        }
    }
    if (now < st->warmup_us || now >= st->end_us)
        return;
    if (cat == CAT_MAINT) {
        st->maint_msgs++;
        st->maint_bytes += bytes;
    } else {
        st->lookup_bytes += bytes;
    }
}

/* A timeout is the lookup's when it can still delay it: before its outcome. An RPC it left
 * outstanding that times out later (a parallel query to a dead node) costs messages, not time. */
void stats_timeout(struct stats *st, uint32_t lookup)
{
    struct lookup_rec *r = stats_lookup(st, lookup);
    if (!r)
        return;
    r->timeouts++;
    if (r->bucket < st->n_ts)
        st->ts[r->bucket].timeouts++;
}

/* Adds live_n node-seconds over [from, to) to the window total and the buckets it spans. */
static void live_account(struct stats *st, int64_t from, int64_t to)
{
    if (to > st->end_us)
        to = st->end_us;
    for (int64_t t = from; t < to;) {
        int64_t edge = (t / st->sample_us + 1) * st->sample_us;
        int64_t stop = edge < to ? edge : to;
        double ns = (double)st->live_n * (double)(stop - t) / 1e6;
        struct ts_bucket *b = bucket_at(st, t);
        if (b)
            b->live_integral_s += ns;
        int64_t w0 = t > st->warmup_us ? t : st->warmup_us;
        if (stop > w0)
            st->live_integral_s += (double)st->live_n * (double)(stop - w0) / 1e6;
        t = stop;
    }
}

void stats_live(struct stats *st, int64_t now, uint32_t live)
{
    live_account(st, st->live_t, now);
    st->live_t = now;
    st->live_n = live;
}

void stats_sample(struct stats *st, int64_t now, uint32_t live, double state_mean, double state_max)
{
    struct ts_bucket *b = bucket_at(st, now - 1);
    if (b) {
        b->live = live;
        b->state_mean = state_mean;
    }
    if (now <= st->warmup_us || now > st->end_us)
        return;
    st->state_sum += state_mean;
    st->state_samples++;
    if (state_max > st->state_max)
        st->state_max = state_max;
}

void stats_keys_lost(struct stats *st, int64_t now, double share)
{
    struct ts_bucket *b = bucket_at(st, now - 1);
    if (b)
        b->keys_lost = share;
    if (now <= st->warmup_us || now > st->end_us || isnan(share))
        return;
    st->keys_lost_sum += share;
    st->keys_lost_samples++;
}

void stats_gauges(struct stats *st, int64_t now, const double *g, uint32_t n)
{
    struct ts_bucket *b = bucket_at(st, now - 1);
    for (uint32_t k = 0; b && k < n && k < STATS_GAUGES_MAX; k++)
        b->gauge[k] = g[k];
    if (now <= st->warmup_us || now > st->end_us)
        return;
    for (uint32_t k = 0; k < n && k < STATS_GAUGES_MAX; k++)
        if (!isnan(g[k])) {
            st->gauge_sum[k] += g[k];
            st->gauge_samples[k]++;
        }
}

void stats_server_sample(struct stats *st, int64_t now, double entries_mean)
{
    if (now <= st->warmup_us || now > st->end_us)
        return;
    st->server_state_sum += entries_mean;
    st->server_samples++;
}

void stats_server_message(struct stats *st, int64_t now)
{
    if (now >= st->warmup_us && now < st->end_us)
        st->server_msgs++;
}

void stats_download(struct stats *st, int64_t now, int64_t started_us, bool completed)
{
    if (started_us < st->warmup_us || started_us >= st->end_us)
        return;                       /* downloads started in the window, ended by the drain */
    if (!completed) {
        st->dl_aborted++;
        return;
    }
    if (st->n_dl == st->cap_dl) {
        st->cap_dl = st->cap_dl ? st->cap_dl * 2 : 1024;
        st->dl_s = mem_realloc(st->dl_s, st->cap_dl, sizeof *st->dl_s, "download times");
    }
    st->dl_s[st->n_dl++] = (double)(now - started_us) / 1e6;
}

static double quantile(double *v, size_t n, double q)
{
    return n ? gsl_stats_quantile_from_sorted_data(v, 1, n, q) : NAN;
}

void stats_finish(struct stats *st, uint64_t events, double m[M_COUNT])
{
    live_account(st, st->live_t, st->end_us);
    st->live_t = st->end_us;
    for (int i = 0; i < M_COUNT; i++)
        m[i] = NAN;
    uint64_t all = st->counted + st->outcome[OUTCOME_ORIGIN_LEFT];
    double judged = (double)st->counted;
    m[M_LOOKUPS] = (double)all;
    if (st->counted) {
        m[M_SUCCESS] = (double)st->outcome[OUTCOME_OK] / judged;
        m[M_MSGS_MEAN] = (double)st->msgs_sum / judged;
        m[M_TIMEOUTS_MEAN] = (double)st->timeouts_sum / judged;
        m[M_FAIL_TIMEOUT] = (double)st->outcome[OUTCOME_TIMEOUT] / judged;
        m[M_FAIL_WRONG] = (double)st->outcome[OUTCOME_WRONG_OWNER] / judged;
        m[M_FAIL_NOTFOUND] = (double)st->outcome[OUTCOME_NOT_FOUND] / judged;
        m[M_FAIL_TTL] = (double)st->outcome[OUTCOME_TTL_EXPIRED] / judged;
    }
    if (all)
        m[M_ORIGIN_LEFT] = (double)st->outcome[OUTCOME_ORIGIN_LEFT] / (double)all;
    if (all && st->files)
        m[M_ANSWERABLE] = (double)st->answerable / (double)all;
    if (st->n_ok) {
        m[M_HOPS_MEAN] = gsl_stats_mean(st->hops, 1, st->n_ok);
        m[M_LAT_MEAN] = gsl_stats_mean(st->lat_ms, 1, st->n_ok);
        m[M_STRETCH_MEAN] = gsl_stats_mean(st->stretch, 1, st->n_ok);
        if (st->n_route)
            m[M_ROUTE_MEAN] = st->route_sum / (double)st->n_route;
        gsl_sort(st->hops, 1, st->n_ok);
        gsl_sort(st->lat_ms, 1, st->n_ok);
        m[M_HOPS_P50] = quantile(st->hops, st->n_ok, 0.5);
        m[M_HOPS_P99] = quantile(st->hops, st->n_ok, 0.99);
        m[M_LAT_P50] = quantile(st->lat_ms, st->n_ok, 0.5);
        m[M_LAT_P99] = quantile(st->lat_ms, st->n_ok, 0.99);
    }
    for (int c = 0; c < CDF_COUNT; c++)
        for (int q = 0; q < STATS_CDF_POINTS; q++)
            st->cdf[c][q] = NAN;
    for (int q = 0; q < STATS_CDF_POINTS; q++)
        st->cdf[CDF_LATENCY][q] = quantile(st->lat_ms, st->n_ok, q / 100.0);
    if (st->n_dl) {
        gsl_sort(st->dl_s, 1, st->n_dl);
        m[M_DL_MEAN] = gsl_stats_mean(st->dl_s, 1, st->n_dl);
        m[M_DL_P50] = quantile(st->dl_s, st->n_dl, 0.5);
        m[M_DL_P99] = quantile(st->dl_s, st->n_dl, 0.99);
        for (int q = 0; q < STATS_CDF_POINTS; q++)
            st->cdf[CDF_DOWNLOAD][q] = quantile(st->dl_s, st->n_dl, q / 100.0);
    }
    if (st->downloads) {              /* a lookup protocol has no downloads: NaN, not 0 */
        m[M_DL_DONE] = (double)st->n_dl;
        m[M_DL_ABORTED] = (double)st->dl_aborted;
    }
    if (st->servers) {
        double window_s = (double)(st->end_us - st->warmup_us) / 1e6;
        m[M_SERVER_MSGS] = window_s > 0 ? (double)st->server_msgs / window_s / st->servers : NAN;
        if (st->server_samples)
            m[M_SERVER_STATE] = st->server_state_sum / st->server_samples;
    }
    if (st->live_integral_s > 0) {
        m[M_MAINT_MSGS] = (double)st->maint_msgs / st->live_integral_s;
        m[M_MAINT_BYTES] = (double)st->maint_bytes / st->live_integral_s;
        m[M_LOOKUP_BYTES] = (double)st->lookup_bytes / st->live_integral_s;
        m[M_LIVE_MEAN] = st->live_integral_s / ((double)(st->end_us - st->warmup_us) / 1e6);
    }
    if (st->keys_lost_samples)
        m[M_KEYS_LOST] = st->keys_lost_sum / st->keys_lost_samples;
    if (st->state_samples) {
        m[M_STATE_MEAN] = st->state_sum / st->state_samples;
        m[M_STATE_MAX] = st->state_max;
    }
    m[M_JOINS] = (double)st->joins;
    m[M_DEPARTURES] = (double)st->departures;
    m[M_LOST] = (double)st->lost;
    m[M_TO_DEAD] = (double)st->to_dead;
    m[M_DROPPED] = (double)st->dropped;
    m[M_EVENTS] = (double)events;
}
