/* hosts.c — hosts coming and going (joins, departures, churn, scheduled events), the
 * population at t = 0, and the periodic samples of the routing state and gauges. */
#include "sim/world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/churn.h"
#include "sim/invariant.h"
#include "sim/mem.h"

enum churn_kind { CHURN_DOWN, CHURN_UP };

/* ---- hosts coming and going -----------------------------------------------------------
 *
 * Churn acts on hosts: a host runs nodes.vnodes overlay nodes (slots h*v .. h*v+v-1) that come
 * up together, each with its own identifier, and go down together. With vnodes = 1 a host is
 * a node. Churn events name a host by its first slot. */

static node_t first_slot(const struct sim *s, node_t host) { return host * s->vnodes; }

static void schedule_churn(struct sim *s, node_t host, enum churn_kind kind, int64_t d)
{
    if (d == CHURN_NEVER || s->eng.now + d >= s->end_us)
        return;
    node_t n = first_slot(s, host);
    uint32_t i = world_ev_new(s, EV_CHURN, n, s->inc[n]);
    engine_ev(&s->eng, i)->arg = kind;
    engine_schedule(&s->eng, i, s->eng.now + d);
}

static void live_changed(struct sim *s)
{
    stats_live(&s->stats, s->eng.now, s->alive.n / s->vnodes);
}

/* Slot n comes up with a fresh incarnation and identifier and empty protocol state. */
static void node_up(struct sim *s, node_t n)
{
    s->inc[n]++;
    uint64_t hi = gsl_rng_get(s->rng_churn), lo = gsl_rng_get(s->rng_churn);
    s->id[n] = (hi << 32) ^ lo;
    memset(world_slot_state(s, n), 0, s->state_size);
    s->dl_start[n] = -1;
    if (s->files)
        catalogue_draw(&s->cat, n);
    if (n % s->vnodes == 0)
        world_draw_bandwidth(s, world_host_of(s, n));
    slotset_add(&s->alive, n);
}

/* Server k comes up, fresh and empty, and joins. */
static void server_start(struct sim *s, uint32_t k)
{
    node_t n = s->server_base + k;
    s->inc[n]++;
    uint64_t hi = gsl_rng_get(s->rng_churn), lo = gsl_rng_get(s->rng_churn);
    s->id[n] = (hi << 32) ^ lo;
    memset(world_slot_state(s, n), 0, s->state_size);
    s->server_up[k] = true;
    s->dl_start[n] = -1;
    flow_set_capacity(&s->flows, world_host_of(s, n), s->sc->network.server_bw.up_Bps,
                      s->sc->network.server_bw.down_Bps);
    node_t was = world_act_as(s, n);
    s->proto->join(s, n);
    s->acting = was;
}

static void host_join(struct sim *s, node_t host)
{
    node_t n0 = first_slot(s, host);
    for (node_t n = n0; n < n0 + s->vnodes; n++)
        node_up(s, n);
    live_changed(s);
    if (s->eng.now > 0)
        s->stats.joins++;
    for (node_t n = n0; n < n0 + s->vnodes; n++) {
        if (s->trace)
            trace_node(s->trace, s->eng.now, "up", n, s->id[n]);
        node_t was = world_act_as(s, n);
        s->proto->join(s, n);
        s->acting = was;
    }
    schedule_churn(s, host, CHURN_DOWN, churn_sample(s->rng_churn, &s->sc->churn.session));
}

static void host_down(struct sim *s, node_t host, bool crash, bool comes_back)
{
    node_t n0 = first_slot(s, host);
    for (node_t n = n0; n < n0 + s->vnodes; n++) {
        if (s->trace)
            trace_node(s->trace, s->eng.now, crash ? "crash" : "leave", n, s->id[n]);
        node_t was = world_act_as(s, n);
        if (!crash && s->proto->leave)
            s->proto->leave(s, n);
        world_download_end(s, n, false);
        world_unmark_ready(s, n);
        slotset_remove(&s->alive, n);
        if (s->proto->down)
            s->proto->down(s, n);
        s->acting = was;
    }
    flow_drop_host(&s->flows, &s->eng, world_host_of(s, n0));
    live_changed(s);
    s->stats.departures++;
    if (comes_back)
        schedule_churn(s, host, CHURN_UP, churn_sample(s->rng_churn, &s->sc->churn.downtime));
}

void world_churn_event(struct sim *s, const struct event *e)
{
    if (s->eng.now >= s->end_us)
        return;
    node_t host = e->node / s->vnodes;
    if (e->arg == CHURN_UP) {
        if (!slotset_has(&s->alive, e->node) && s->inc[e->node] == e->inc)
            host_join(s, host);
    } else if (world_is_current(s, e->node, e->inc)) {
        bool crash = gsl_rng_uniform(s->rng_churn) < s->sc->churn.crash_fraction;
        host_down(s, host, crash, true);
    }
}

void sim_depart(struct sim *s, node_t n)
{
    SIM_ASSERT(n < s->server_base);
    uint32_t i = world_ev_new(s, EV_DEPART, n, s->inc[n]);
    engine_schedule(&s->eng, i, s->eng.now);
}

/* A node has chosen to leave for good (sim_depart): its host leaves gracefully. */
void world_depart_event(struct sim *s, const struct event *e)
{
    if (world_is_current(s, e->node, e->inc))
        host_down(s, e->node / s->vnodes, false, false);
}

void world_scheduled_event(struct sim *s, const struct scn_churn_event *ce)
{
    switch (ce->kind) {
    case CHURN_CRASH: {
        /* a uniform sample of the live hosts, crashed at once; they do not come back */
        node_t live = s->alive.n / s->vnodes, m = 0;
        node_t *hosts = mem_calloc(live, sizeof *hosts, "the live hosts");
        for (node_t k = 0; k < s->alive.n; k++)
            if (s->alive.item[k] % s->vnodes == 0)
                hosts[m++] = s->alive.item[k] / s->vnodes;
        SIM_ASSERT(m == live);
        node_t k = (node_t)llround(ce->fraction * live);
        node_t *victims = mem_calloc(k, sizeof *victims, "the crash list");
        gsl_ran_choose(s->rng_churn, victims, k, hosts, live, sizeof *victims);
        for (node_t i = 0; i < k; i++)
            host_down(s, victims[i], true, false);
        free(victims);
        free(hosts);
        break;
    }
    case CHURN_JOIN:
        for (uint32_t i = 0; i < ce->count && s->used < s->server_base; i++, s->used += s->vnodes)
            host_join(s, s->used / s->vnodes);
        break;
    case CHURN_MAINTENANCE:
        s->maintenance = ce->on;
        break;
    case CHURN_CRASH_SERVERS:
        for (uint32_t k = 0; k < s->n_servers; k++) {
            if (s->server_up[k] && s->proto->down) {
                node_t was = world_act_as(s, s->server_base + k);
                s->proto->down(s, s->server_base + k);
                s->acting = was;
            }
            s->server_up[k] = false;
            flow_drop_host(&s->flows, &s->eng, world_host_of(s, s->server_base + k));
        }
        break;
    case CHURN_RESTART_SERVERS:
        for (uint32_t k = 0; k < s->n_servers; k++)
            if (!s->server_up[k])
                server_start(s, k);
        break;
    }
}

/* ---- sampling ------------------------------------------------------------------------- */

/* Routing state is counted per host: the entries of all its virtual nodes. */
void world_sample(struct sim *s)
{
    double sum = 0, max = 0;
    for (node_t k = 0; k < s->alive.n; k++) {
        node_t n0 = s->alive.item[k];
        if (n0 % s->vnodes)
            continue;
        double v = 0;
        for (node_t n = n0; n < n0 + s->vnodes; n++) {
            node_t was = world_act_as(s, n);
            v += (double)s->proto->state_entries(s, n);
            s->acting = was;
        }
        sum += v;
        if (v > max)
            max = v;
    }
    node_t hosts = s->alive.n / s->vnodes;
    double mean = hosts ? sum / hosts : 0;
    stats_sample(&s->stats, s->eng.now, hosts, mean, max);
    stats_keys_lost(&s->stats, s->eng.now, holders_lost_share(&s->hold));
    if (s->n_servers) {
        double entries = 0;
        uint32_t up = 0;
        for (uint32_t k = 0; k < s->n_servers; k++)
            if (s->server_up[k]) {
                node_t was = world_act_as(s, s->server_base + k);
                entries += (double)s->proto->state_entries(s, s->server_base + k);
                s->acting = was;
                up++;
            }
        if (up)                       /* a crashed server holds nothing: it is not sampled */
            stats_server_sample(&s->stats, s->eng.now, entries / up);
    }
    if (s->proto->gauges) {
        double g[STATS_GAUGES_MAX];
        uint32_t k = 0;
        node_t was = world_act_as(s, SIM_ACTING_ALL);   /* a gauge is a measurement: it may read all */
        for (; k < STATS_GAUGES_MAX && s->proto->gauges[k]; k++)
            g[k] = s->proto->gauge(s, k);
        s->acting = was;
        stats_gauges(&s->stats, s->eng.now, g, k);
    }
    sim_invariants(s);                /* checked builds: the protocol's invariants */
    /* the next sample, and one at the end if the period does not divide the duration, so that
     * the last interval of the time series is measured too */
    int64_t next = s->eng.now + s->sc->sample_us;
    if (next > s->end_us && s->eng.now < s->end_us)
        next = s->end_us;
    if (next <= s->end_us) {
        uint32_t i = world_ev_new(s, EV_SAMPLE, NODE_NONE, 0);
        engine_schedule(&s->eng, i, next);
    }
}

void world_start_population(struct sim *s)
{
    const struct scenario *sc = s->sc;
    /* the node columns are read at random, one event after another: huge pages spare TLB
     * misses (advice only; the pages are first touched below) */
    mem_advise_huge(s->state, (size_t)s->cap * s->state_size);
    mem_advise_huge(s->id, (size_t)s->cap * sizeof *s->id);
    mem_advise_huge(s->inc, (size_t)s->cap * sizeof *s->inc);
    for (uint32_t k = 0; k < s->n_servers; k++)
        server_start(s, k);
    s->used = sc->nodes.count * s->vnodes;
    if (sc->nodes.start == START_JOIN) {
        for (node_t h = 0; h < sc->nodes.count; h++) {
            int64_t t = h == 0 ? 0 : (int64_t)(gsl_rng_uniform(s->rng_churn) * (double)sc->nodes.join_over_us);
            world_schedule_at(s, EV_CHURN, first_slot(s, h), t, CHURN_UP);
        }
        return;
    }
    for (node_t n = 0; n < s->used; n++)
        node_up(s, n);
    live_changed(s);
    node_t was = world_act_as(s, SIM_ACTING_ALL);    /* t = 0: converge may use global knowledge */
    s->proto->converge(s);
    s->acting = was;
    oracle_bulk_begin(&s->oracle);                   /* one sort, not N sorted inserts */
    for (node_t n = 0; n < s->used; n++) {
        world_mark_ready(s, n);
        if (n + INTRODUCER_MEMORY >= s->used)
            world_introducer_remember(&s->intro, (struct peer){ .id = s->id[n], .addr = world_addr(s, n) });
    }
    oracle_bulk_end(&s->oracle);
    for (node_t h = 0; h < sc->nodes.count; h++)
        schedule_churn(s, h, CHURN_DOWN, churn_sample(s->rng_churn, &sc->churn.session));
}

/* Keys per live host when the run ends, as the oracle assigns them: the load balance that
 * virtual nodes improve (Chord, SIGCOMM 2001 §6.1-6.2). Measurement only. */
void world_key_load(struct sim *s, double m[M_COUNT])
{
    if (s->files)
        return;                               /* files have holders, not owners */
    uint32_t *count = mem_calloc(s->peer_hosts, sizeof *count, "keys per host");
    for (uint32_t k = 0; k < s->wl.n_keys; k++) {
        node_t owner = oracle_owner(&s->oracle, s->wl.keys[k], 0);
        if (owner != NODE_NONE)
            count[owner / s->vnodes]++;
    }
    node_t hosts = 0;
    double *v = mem_calloc(s->alive.n / s->vnodes, sizeof *v, "keys per host");
    for (node_t i = 0; i < s->alive.n; i++)
        if (s->alive.item[i] % s->vnodes == 0)
            v[hosts++] = count[s->alive.item[i] / s->vnodes];
    if (hosts) {
        gsl_sort(v, 1, hosts);
        m[M_LOAD_MEAN] = gsl_stats_mean(v, 1, hosts);
        m[M_LOAD_P1] = gsl_stats_quantile_from_sorted_data(v, 1, hosts, 0.01);
        m[M_LOAD_P99] = gsl_stats_quantile_from_sorted_data(v, 1, hosts, 0.99);
        m[M_LOAD_MAX] = v[hosts - 1];
    }
    free(v);
    free(count);
}
