/* run.c — one cell from start to end: set up the world, run the event loop, collect the
 * metrics, tear down; and what converge may ask of the world at t = 0. */
#include "sim/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sim/mem.h"
#include "sim/rng.h"
#include "sim/world.h"

/* ==== setting up and running ========================================================= */

int64_t sim_converge_rtt(const struct sim *s, node_t a, node_t b)
{
    SIM_ASSERT(s->eng.now == 0 && s->acting == SIM_ACTING_ALL);   /* converge only */
    return 2 * world_delay(s, a, b);
}

const uint64_t *sim_converge_keys(const struct sim *s, uint32_t *n)
{
    SIM_ASSERT(s->eng.now == 0 && s->acting == SIM_ACTING_ALL);   /* converge only */
    *n = s->wl.n_keys;
    return s->wl.keys;
}

static int by_id(const void *a, const void *b)
{
    const struct converge_node *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->slot > y->slot) - (x->slot < y->slot);
}

node_t sim_converge_sorted(const struct sim *s, struct converge_node *out, node_t max)
{
    SIM_ASSERT(s->eng.now == 0 && s->acting == SIM_ACTING_ALL);   /* converge only */
    node_t n = s->alive.n < max ? s->alive.n : max;
    for (node_t k = 0; k < n; k++)
        out[k] = (struct converge_node){ .id = s->id[s->alive.item[k]], .slot = s->alive.item[k] };
    qsort(out, n, sizeof *out, by_id);
    return n;
}

size_t converge_lower_bound(const struct converge_node *v, size_t len, uint64_t key)
{
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].id < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

node_t sim_converge_live(const struct sim *s, node_t *out, node_t max)
{
    SIM_ASSERT(s->acting == SIM_ACTING_ALL);                  /* converge and gauges only */
    node_t n = s->alive.n < max ? s->alive.n : max;
    memcpy(out, s->alive.item, (size_t)n * sizeof *out);
    return n;
}

/* Slots for every host that may ever be up (initial and scheduled joins), times vnodes. */
static node_t capacity(const struct scenario *sc)
{
    uint64_t hosts = sc->nodes.count;
    for (size_t i = 0; i < sc->churn.n_events; i++)
        if (sc->churn.events[i].kind == CHURN_JOIN)
            hosts += sc->churn.events[i].count;
    uint64_t cap = hosts * sc->nodes.vnodes;
    SIM_ASSERT(cap <= UINT32_MAX - 2);
    return (node_t)cap;
}

static void sim_teardown(struct sim *s)
{
    s->acting = SIM_ACTING_ALL;
    if (s->proto && s->proto->teardown)
        s->proto->teardown(s);
    engine_free(&s->eng);
    flow_free(&s->flows);
    if (s->rng_bw)
        gsl_rng_free(s->rng_bw);
    free(s->flow_body);
    net_free(&s->net);
    workload_free(&s->wl);
    oracle_free(&s->oracle);
    holders_free(&s->hold);
    if (s->files)
        catalogue_free(&s->cat);
    stats_free(&s->stats);
    slotset_free(&s->alive);
    slotset_free(&s->ready);
    if (s->intro.rng)
        gsl_rng_free(s->intro.rng);
    if (s->rng_proto)
        gsl_rng_free(s->rng_proto);
    if (s->rng_churn)
        gsl_rng_free(s->rng_churn);
    free(s->id);
    free(s->inc);
    free(s->state);
    free(s->rpcs);
    free(s->scratch);
    free(s->server_up);
    free(s->dl_start);
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fmt_sim_time(int64_t us, char *buf, size_t len)
{
    double s = (double)us / 1e6;
    if (s < 120)
        snprintf(buf, len, "%.1fs", s);
    else if (s < 7200)
        snprintf(buf, len, "%.1fmin", s / 60);
    else
        snprintf(buf, len, "%.2fh", s / 3600);
}

static void progress(const struct sim *s, const struct run_progress *pg, double t0, bool last)
{
    double el = wall_now() - t0;
    double done = (double)s->eng.now / (double)s->drain_us;
    double eta = done > 0 ? el * (1 - done) / done : 0;
    char now[32], end[32];
    fmt_sim_time(s->eng.now, now, sizeof now);
    fmt_sim_time(s->drain_us, end, sizeof end);
    fprintf(stderr, "\r\033[K%s  t=%s/%s  %.2fM ev/s  ETA %.0fs%s", pg->label, now, end,
            el > 0 ? (double)s->eng.processed / el / 1e6 : 0.0, eta, last ? "\r\033[K" : "");
    fflush(stderr);
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;     /* Linux reports kilobytes */
}

int run_cell(const struct scenario *sc, size_t pi, uint64_t seed, const struct run_progress *pg,
             struct run_result *out, char *err, size_t errlen)
{
    const struct protocol *p = protocol_find(sc->protocols[pi].name);
    if (!p) {
        memset(out, 0, sizeof *out);
        snprintf(err, errlen, "unknown protocol \"%s\"", sc->protocols[pi].name);
        return -1;
    }
    return run_cell_with(p, sc, pi, seed, pg, out, err, errlen);
}

int run_cell_with(const struct protocol *p, const struct scenario *sc, size_t pi, uint64_t seed,
                  const struct run_progress *pg, struct run_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (p->keys == KEYS_FILES && sc->workload.files == 0) {
        snprintf(err, errlen, "%s searches a file catalogue: set workload.files.count "
                 "(e.g. workload: { files: { count: 10000, per_node: 20 } })", p->name);
        return -1;
    }
    if (sc->nodes.start == START_CONVERGED && !p->converge) {
        snprintf(err, errlen, "%s cannot start converged: use nodes.start: join", p->name);
        return -1;
    }
    struct sim *s = mem_calloc(1, sizeof *s, "the simulation");
    s->sc = sc;
    s->proto = p;
    s->cfg = &sc->protocols[pi].cfg;
    s->n_servers = p->servers ? p->servers(&sc->protocols[pi].cfg) : 0;
    s->server_base = capacity(sc);
    s->cap = s->server_base + s->n_servers;
    s->end_us = sc->duration_us;
    s->drain_us = sc->duration_us + sc->workload.lookup_timeout_us;
    s->maintenance = true;
    s->replicas = 1;
    s->vnodes = sc->nodes.vnodes ? sc->nodes.vnodes : 1;
    s->peer_hosts = s->server_base / s->vnodes;
    s->introducer_host = s->peer_hosts + s->n_servers;
    s->server_up = mem_calloc(s->n_servers ? s->n_servers : 1, sizeof *s->server_up, "servers");
    s->rpc_free = UINT32_MAX;
    s->acting = NODE_NONE;
    size_t bytes = p->state_size ? p->state_size(s->cfg) : p->node_state_size;
    s->state_size = bytes ? (bytes + 7) & ~(size_t)7 : 8;
    s->id = mem_calloc(s->cap, sizeof *s->id, "node identifiers");
    s->inc = mem_calloc(s->cap, sizeof *s->inc, "node incarnations");
    s->dl_start = mem_calloc(s->cap, sizeof *s->dl_start, "download start times");
    s->state = mem_calloc(s->cap, s->state_size, "protocol node state");
    s->files = p->keys == KEYS_FILES;
    s->rng_proto = rng_stream(seed, p->name);
    s->rng_churn = rng_stream(seed, "churn");
    s->intro.rng = rng_stream(seed, "introducer");
    size_t body_max = p->msg_body_max ? p->msg_body_max(s->cfg) : 0;
    if (body_max < sizeof(struct intro_reply))
        body_max = sizeof(struct intro_reply);
    s->scratch = mem_calloc(1, sizeof(struct event) + body_max, "the dispatch buffer");
    s->flow_body = mem_calloc(1, body_max, "the transfer buffer");
    s->rng_bw = rng_stream(seed, "bandwidth");
    flow_init(&s->flows, s->introducer_host + 1, body_max);
    int rc = -1;
    if (slotset_init(&s->alive, s->cap) || slotset_init(&s->ready, s->cap) ||
        oracle_init(&s->oracle, p->keys, s->cap) ||
        stats_init(&s->stats, sc->warmup_us, sc->duration_us, sc->sample_us) ||
        engine_init(&s->eng, body_max, (size_t)s->cap * 4 + 1024) ||
        workload_init(&s->wl, &sc->workload, s->files ? sc->workload.files : sc->workload.keys,
                      seed)) {
        snprintf(err, errlen, "out of memory setting up %u nodes", s->cap);
        goto done;
    }
    if (s->files)
        catalogue_init(&s->cat, &sc->workload, s->wl.keys, s->cap, seed);
    s->stats.files = s->files;
    s->stats.servers = s->n_servers;
    if (net_init(&s->net, &sc->network, s->introducer_host + 1, seed, err, errlen) != 0)
        goto done;
    s->acting = SIM_ACTING_ALL;
    int setup_rc = p->setup(s, s->cfg);
    s->acting = NODE_NONE;
    if (setup_rc != 0) {
        snprintf(err, errlen, "%s could not be set up for %u nodes", p->name, s->cap);
        goto done;
    }

    struct trace trace;
    if (pg && pg->trace) {
        trace_init(&trace, pg->trace, p, sc->warmup_us);
        s->trace = &trace;
    }
    double t0 = wall_now(), last = t0;
    world_start_population(s);
    world_schedule_at(s, EV_LOOKUP, NODE_NONE, 0, 0);
    world_schedule_at(s, EV_SAMPLE, NODE_NONE,
                sc->sample_us < sc->duration_us ? sc->sample_us : sc->duration_us, 0);
    for (size_t k = 0; k < sc->churn.n_events; k++)
        world_schedule_at(s, EV_SCHEDULED, NODE_NONE, sc->churn.events[k].at_us, k);
    /* keys are inserted by protocols that store them (a protocol with a `holds` hook may be
     * configured to store nothing, e.g. Chord with store: off) */
    if (p->insert && sc->nodes.start == START_JOIN && (!p->holds || s->hold.on))
        world_schedule_at(s, EV_INSERT, NODE_NONE, sc->nodes.join_over_us, 0);

    struct event *copy = (struct event *)s->scratch;
    void *body = s->scratch + sizeof(struct event);
    uint32_t i;
    while ((i = engine_next(&s->eng, s->drain_us)) != UINT32_MAX) {
        struct event *e = engine_ev(&s->eng, i);
        memcpy(copy, e, sizeof *e);
        if (e->len)
            memcpy(body, engine_body(&s->eng, i), e->len);
        engine_release(&s->eng, i);
        world_dispatch(s, copy, body);
        if (pg && pg->show && (s->eng.processed & 0xffff) == 0) {
            double w = wall_now();
            if (w - last >= 0.25) {
                progress(s, pg, t0, false);
                last = w;
            }
        }
    }
    /* lookups whose deadline lies past the drain horizon cannot exist: deadline <= drain */
    if (pg && pg->show)
        progress(s, pg, t0, true);
    stats_finish(&s->stats, s->eng.processed, out->metric);
    world_key_load(s, out->metric);
    out->wall_s = wall_now() - t0;
    out->events_per_s = out->wall_s > 0 ? (double)s->eng.processed / out->wall_s : 0;
    out->peak_rss_mb = peak_rss_mb();
    memcpy(out->hop_hist, s->stats.hop_hist, sizeof out->hop_hist);
    _Static_assert(sizeof out->counter == sizeof s->counter, "one value per counter");
    out->counter_name = p->counters;
    memcpy(out->counter, s->counter, sizeof out->counter);
    _Static_assert(STATS_GAUGES_MAX == PROTO_GAUGES_MAX, "one time-series slot per gauge");
    out->gauge_name = p->gauges;
    for (int k = 0; k < STATS_GAUGES_MAX; k++)
        out->gauge_mean[k] = s->stats.gauge_samples[k] ? s->stats.gauge_sum[k] / s->stats.gauge_samples[k]
                                                       : NAN;
    memcpy(out->cdf, s->stats.cdf, sizeof out->cdf);
    out->ts = s->stats.ts;
    out->n_ts = s->stats.n_ts;
    s->stats.ts = NULL;
    rc = 0;
done:
    sim_teardown(s);
    free(s);
    return rc;
}

void run_result_free(struct run_result *r)
{
    free(r->ts);
    r->ts = NULL;
    r->n_ts = 0;
}
