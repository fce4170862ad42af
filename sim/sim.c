/* sim.c — one run: node table, message delivery, RPCs, timers, churn, lookups and the loop.
 *
 * Every event is dispatched from a copy (header + body) taken before its record is released,
 * so a handler may schedule freely. Events for a dead node, or for an earlier incarnation of
 * its slot, are dropped and counted. */
#include "sim/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/catalogue.h"
#include "sim/churn.h"
#include "sim/mem.h"
#include "sim/rng.h"
#include "sim/world.h"

/* Wire sizes of the introducer's messages: IPv4 + UDP header (28 B) + type (4 B), plus a
 * contact of IPv4 address, port and 8-byte identifier (14 B) each. */
#define INTRO_HEADER_BYTES 32
#define INTRO_CONTACT_BYTES 14

enum intro_kind { INTRO_ASK, INTRO_REGISTER };
enum churn_kind { CHURN_DOWN, CHURN_UP };

_Noreturn void sim_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "p2plab: internal error: assertion \"%s\" failed at %s:%d\n", expr, file, line);
    abort();
}

/* ==== the protocol's view (sim.h) ========================================================= */

int64_t sim_now(const struct sim *s) { return s->eng.now; }
struct addr sim_addr(const struct sim *s, node_t n) { return (struct addr){ n, s->inc[n] }; }
uint64_t sim_node_id(const struct sim *s, node_t n) { return s->id[n]; }
/* The slab record of slot n, for the engine's own use (zeroing it when n comes up). */
static void *slot_state(const struct sim *s, node_t n) { return s->state + (size_t)n * s->state_size; }

#ifdef P2PLAB_CHECK
_Noreturn static void locality_fail(const struct sim *s, node_t n)
{
    fprintf(stderr, "p2plab: %s: locality violated: a handler running for node %u read the state "
            "of node %u; a node reads only its own state and learns of others by messages\n",
            s->proto->name, s->acting, n);
    fflush(stderr);
    abort();
}
#endif

/* Checked builds (P2PLAB_CHECK) stop any read of another node's state, except while the
 * engine runs a hook that may read everything (setup, converge, gauges, teardown). */
static void check_local(const struct sim *s, node_t n)
{
#ifdef P2PLAB_CHECK
    if (n != s->acting && s->acting != SIM_ACTING_ALL)
        locality_fail(s, n);
#else
    (void)s;
    (void)n;
#endif
}

void *sim_state(struct sim *s, node_t n)
{
    check_local(s, n);
    return slot_state(s, n);
}

const void *sim_state_const(const struct sim *s, node_t n)
{
    check_local(s, n);
    return slot_state(s, n);
}

void sim_check_local(const struct sim *s, node_t n) { check_local(s, n); }

/* Protocol code about to run on behalf of n (or SIM_ACTING_ALL): returns who acted before. */
static node_t act_as(struct sim *s, node_t n)
{
    node_t was = s->acting;
    s->acting = n;
    return was;
}
const struct proto_config *sim_config(const struct sim *s) { return s->cfg; }
gsl_rng *sim_rng(struct sim *s) { return s->rng_proto; }

int64_t sim_jitter(struct sim *s, int64_t mean_us)
{
    return (int64_t)((0.5 + gsl_rng_uniform(s->rng_proto)) * (double)mean_us);
}
node_t sim_capacity(const struct sim *s) { return s->cap; }
uint32_t sim_initial_nodes(const struct sim *s) { return s->sc->nodes.count; }
bool sim_maintenance_on(const struct sim *s) { return s->maintenance; }
void *sim_protocol_data(struct sim *s) { return s->pdata; }
void sim_set_protocol_data(struct sim *s, void *data) { s->pdata = data; }
void sim_set_replicas(struct sim *s, uint32_t r) { s->replicas = r ? r : 1; }

void sim_count(struct sim *s, uint32_t c, uint64_t n)
{
    SIM_ASSERT(c < PROTO_COUNTERS_MAX && s->proto->counters);
    if (s->eng.now >= s->sc->warmup_us && s->eng.now < s->end_us)
        s->counter[c] += n;
}

void sim_set_key_groups(struct sim *s, uint32_t k)
{
    if (oracle_set_groups(&s->oracle, k ? k : 1) != 0) {
        fprintf(stderr, "p2plab: out of memory allocating %u key groups\n", k);
        exit(1);
    }
}

static bool is_up(const struct sim *s, node_t n)
{
    return n < s->server_base ? slotset_has(&s->alive, n) : s->server_up[n - s->server_base];
}

static bool is_current(const struct sim *s, node_t n, uint32_t inc)
{
    return is_up(s, n) && s->inc[n] == inc;
}

/* The network host of a slot: virtual nodes of one peer host share it; every server and the
 * introducer have hosts of their own after the peers'. */
static node_t host_of(const struct sim *s, node_t n)
{
    return n < s->server_base ? n / s->vnodes : s->peer_hosts + (n - s->server_base);
}

/* One-way delay between the hosts of two slots. */
static int64_t delay(const struct sim *s, node_t a, node_t b)
{
    return net_delay(&s->net, host_of(s, a), host_of(s, b));
}

/* ---- servers and downloads ---------------------------------------------------------------- */

uint32_t sim_servers(const struct sim *s) { return s->n_servers; }

struct addr sim_server_addr(const struct sim *s, uint32_t i)
{
    SIM_ASSERT(i < s->n_servers);
    return sim_addr(s, s->server_base + i);
}

uint32_t sim_server_index(const struct sim *s, node_t n)
{
    return n >= s->server_base && n < s->server_base + s->n_servers ? n - s->server_base : UINT32_MAX;
}

void sim_download_start(struct sim *s, node_t n)
{
    s->stats.downloads = true;
    s->dl_start[n] = s->eng.now;
}

/* n's download ends: finished, or given up because n goes down. */
static void download_end(struct sim *s, node_t n, bool completed)
{
    if (s->dl_start[n] < 0)
        return;
    stats_download(&s->stats, s->eng.now, s->dl_start[n], completed);
    s->dl_start[n] = -1;
}

void sim_download_done(struct sim *s, node_t n) { download_end(s, n, true); }

static uint32_t ev_new(struct sim *s, uint8_t kind, node_t node, uint32_t inc)
{
    uint32_t i = engine_alloc(&s->eng);
    struct event *e = engine_ev(&s->eng, i);
    uint32_t gen = e->gen;
    *e = (struct event){ .gen = gen, .kind = kind, .node = node, .inc = inc, .src = ADDR_NONE,
                         .lookup = LOOKUP_NONE };
    return i;
}

/* ---- messages and RPCs ------------------------------------------------------------------ */

static void send_raw(struct sim *s, node_t from, struct addr to, const struct out *o,
                     uint32_t req, uint32_t rep, uint32_t rpc_gen)
{
    SIM_ASSERT(o->len <= s->eng.body_max && to.slot < s->cap);
    stats_message(&s->stats, s->eng.now, o->cat, o->size, o->lookup);
    bool lost = net_lost(&s->net);
    if (s->trace)
        trace_msg(s->trace, s->eng.now, lost ? "lost" : "send", from, to.slot, s->id[to.slot],
                  o->type, o->cat, o->size, o->lookup);
    if (lost) {
        s->stats.lost++;
        return;
    }
    uint32_t i = ev_new(s, EV_MESSAGE, to.slot, to.inc);
    struct event *e = engine_ev(&s->eng, i);
    e->src = sim_addr(s, from);
    e->type = o->type;
    e->cat = o->cat;
    e->size = o->size;
    e->lookup = o->lookup;
    e->req = req;
    e->rep = rep;
    e->rpc_gen = rpc_gen;
    e->len = o->len;
    if (o->len)
        memcpy(engine_body(&s->eng, i), o->body, o->len);
    engine_schedule(&s->eng, i, s->eng.now + delay(s, from, to.slot));
}

void net_send(struct sim *s, node_t from, struct addr to, const struct out *o)
{
    send_raw(s, from, to, o, 0, 0, 0);
}

static uint32_t rpc_alloc(struct sim *s)
{
    if (s->rpc_free == UINT32_MAX) {
        uint32_t old = s->n_rpcs, n = old ? old * 2 : 1024;
        struct rpc_rec *r = realloc(s->rpcs, (size_t)n * sizeof *r);
        if (!r) {
            fprintf(stderr, "p2plab: out of memory allocating the RPC table (%u)\n", n);
            exit(1);
        }
        for (uint32_t i = old; i < n; i++)
            r[i] = (struct rpc_rec){ .next_free = i + 1 < n ? i + 1 : UINT32_MAX };
        s->rpcs = r;
        s->n_rpcs = n;
        s->rpc_free = old;
    }
    uint32_t i = s->rpc_free;
    s->rpc_free = s->rpcs[i].next_free;
    return i;
}

static void rpc_release(struct sim *s, uint32_t i)
{
    struct rpc_rec *r = &s->rpcs[i];
    r->gen++;
    r->pending = false;
    r->next_free = s->rpc_free;
    s->rpc_free = i;
}

void net_rpc(struct sim *s, node_t from, struct addr to, const struct out *o,
             int64_t timeout_us, uint64_t ctx0, uint64_t ctx1)
{
    uint32_t i = rpc_alloc(s);
    struct rpc_rec *r = &s->rpcs[i];
    r->pub = (struct rpc){ .dst = to, .type = o->type, .lookup = o->lookup,
                           .sent_us = s->eng.now, .ctx = { ctx0, ctx1 } };
    r->pending = true;
    uint32_t gen = r->gen;
    send_raw(s, from, to, o, i + 1, 0, gen);
    uint32_t t = ev_new(s, EV_RPC_TIMEOUT, from, s->inc[from]);
    engine_ev(&s->eng, t)->arg = i;
    engine_ev(&s->eng, t)->rpc_gen = gen;
    engine_schedule(&s->eng, t, s->eng.now + timeout_us);
}

void net_reply(struct sim *s, node_t from, const struct msg *req, const struct out *o)
{
    SIM_ASSERT(req->req != 0);
    send_raw(s, from, req->src, o, 0, req->req, req->req_gen);
}

/* ---- bulk transfers (flow level, sim/flow.h) ---------------------------------------------- */

double sim_upload_bps(const struct sim *s, node_t n) { return s->flows.up[host_of(s, n)]; }
double sim_download_bps(const struct sim *s, node_t n) { return s->flows.down[host_of(s, n)]; }

/* Bytes count when the transfer starts, like a message's. A transfer to a host that is down
 * never starts (the connection cannot be opened); the sender learns it only by its timeouts. */
uint64_t net_transfer(struct sim *s, node_t from, struct addr to, const struct out *o)
{
    SIM_ASSERT(o->len <= s->eng.body_max && to.slot < s->cap && o->size > 0);
    stats_message(&s->stats, s->eng.now, o->cat, o->size, o->lookup);
    if (s->trace)
        trace_msg(s->trace, s->eng.now, "xfer", from, to.slot, s->id[to.slot], o->type, o->cat,
                  o->size, o->lookup);
    if (!is_current(s, to.slot, to.inc)) {
        s->stats.to_dead++;
        return 0;
    }
    struct flow_msg m = { .src = sim_addr(s, from), .dst = to, .type = o->type, .cat = o->cat,
                          .size = o->size, .lookup = o->lookup, .len = o->len };
    return flow_start(&s->flows, &s->eng, host_of(s, from), host_of(s, to.slot), &m, o->body);
}

void net_transfer_cancel(struct sim *s, uint64_t handle)
{
    flow_cancel(&s->flows, &s->eng, handle);
}

/* A transfer's last byte has left: it arrives after the one-way latency, like a message. */
static void flow_end(struct sim *s, const struct event *e)
{
    struct flow_msg m;
    if (!flow_finish(&s->flows, &s->eng, (uint32_t)e->arg, e->rpc_gen, &m, s->flow_body))
        return;
    uint32_t i = ev_new(s, EV_MESSAGE, m.dst.slot, m.dst.inc);
    struct event *d = engine_ev(&s->eng, i);
    d->src = m.src;
    d->type = m.type;
    d->cat = m.cat;
    d->size = m.size;
    d->lookup = m.lookup;
    d->len = m.len;
    if (m.len)
        memcpy(engine_body(&s->eng, i), s->flow_body, m.len);
    engine_schedule(&s->eng, i, s->eng.now + delay(s, m.src.slot, m.dst.slot));
}

/* A host's capacities, drawn from network.bandwidth's classes by their shares. */
static void draw_bandwidth(struct sim *s, node_t host)
{
    const struct scn_network *nw = &s->sc->network;
    double u = gsl_rng_uniform(s->rng_bw), acc = 0;
    size_t k = 0;
    for (; k + 1 < nw->n_bw; k++) {
        acc += nw->bw[k].share;
        if (u < acc)
            break;
    }
    flow_set_capacity(&s->flows, host, nw->bw[k].up_Bps, nw->bw[k].down_Bps);
}

/* ---- timers ------------------------------------------------------------------------------- */

uint64_t sim_timer(struct sim *s, node_t n, uint32_t kind, int64_t delay_us, uint64_t arg)
{
    uint32_t i = ev_new(s, EV_TIMER, n, s->inc[n]);
    struct event *e = engine_ev(&s->eng, i);
    e->type = (uint16_t)kind;
    e->arg = arg;
    engine_schedule(&s->eng, i, s->eng.now + (delay_us > 0 ? delay_us : 0));
    return engine_handle(&s->eng, i);
}

void sim_timer_cancel(struct sim *s, uint64_t handle) { engine_cancel(&s->eng, handle); }

/* ---- the introducer ------------------------------------------------------------------- */

static void to_introducer(struct sim *s, node_t n, enum intro_kind kind)
{
    uint32_t size = INTRO_HEADER_BYTES + (kind == INTRO_REGISTER ? INTRO_CONTACT_BYTES : 0);
    stats_message(&s->stats, s->eng.now, CAT_MAINT, size, LOOKUP_NONE);
    if (net_lost(&s->net)) {
        s->stats.lost++;
        return;
    }
    uint32_t i = ev_new(s, EV_INTRODUCER, n, s->inc[n]);
    struct event *e = engine_ev(&s->eng, i);
    e->src = sim_addr(s, n);
    e->type = kind;
    e->arg = s->id[n];
    engine_schedule(&s->eng, i, s->eng.now + net_delay(&s->net, host_of(s, n), s->introducer_host));
}

void sim_introducer_ask(struct sim *s, node_t n) { to_introducer(s, n, INTRO_ASK); }

static void mark_ready(struct sim *s, node_t n)
{
    if (slotset_has(&s->ready, n))
        return;
    slotset_add(&s->ready, n);
    oracle_add(&s->oracle, s->id[n], n);
    if (s->files)
        catalogue_count(&s->cat, n, +1);
}

static void unmark_ready(struct sim *s, node_t n)
{
    if (!slotset_has(&s->ready, n))
        return;
    slotset_remove(&s->ready, n);
    oracle_remove(&s->oracle, s->id[n], n);
    if (s->files)
        catalogue_count(&s->cat, n, -1);
}

const uint64_t *sim_node_files(const struct sim *s, node_t n, uint32_t *count)
{
    if (!s->files) {
        *count = 0;
        return NULL;
    }
    *count = s->cat.per_node;
    return &s->cat.shared_id[(size_t)n * s->cat.per_node];
}

void sim_introducer_register(struct sim *s, node_t n)
{
    mark_ready(s, n);
    to_introducer(s, n, INTRO_REGISTER);
}

static void introducer_remember(struct introducer *in, struct peer p)
{
    in->recent[in->head] = p;
    in->head = (in->head + 1) % INTRODUCER_MEMORY;
    if (in->n < INTRODUCER_MEMORY)
        in->n++;
}

static void introducer_receive(struct sim *s, const struct event *e)
{
    struct introducer *in = &s->intro;
    if (e->type == INTRO_REGISTER) {
        introducer_remember(in, (struct peer){ .id = e->arg, .addr = e->src });
        return;
    }
    struct intro_reply rep = { 0 };
    struct peer pick[INTRODUCER_MEMORY];
    uint32_t m = 0;
    for (uint32_t k = 0; k < in->n; k++)        /* never hand a node itself */
        if (!addr_eq(in->recent[k].addr, e->src))
            pick[m++] = in->recent[k];
    rep.count = m < INTRO_CONTACTS ? m : INTRO_CONTACTS;
    if (in->n == 0) {
        /* Nobody has registered yet: the asker will found the overlay, so the next asker is
         * sent to it. Otherwise two nodes asking within one round trip of each other would
         * both be told "you are the first" and found two overlays. */
        introducer_remember(in, (struct peer){ .id = e->arg, .addr = e->src });
    }
    if (m) {
        gsl_ran_choose(in->rng, rep.contacts, rep.count, pick, m, sizeof pick[0]);
        gsl_ran_shuffle(in->rng, rep.contacts, rep.count, sizeof rep.contacts[0]);
    }
    uint32_t size = INTRO_HEADER_BYTES + rep.count * INTRO_CONTACT_BYTES;
    stats_message(&s->stats, s->eng.now, CAT_MAINT, size, LOOKUP_NONE);
    if (net_lost(&s->net)) {
        s->stats.lost++;
        return;
    }
    uint32_t i = ev_new(s, EV_MESSAGE, e->src.slot, e->src.inc);
    struct event *r = engine_ev(&s->eng, i);
    r->type = MSG_INTRODUCER_REPLY;
    r->cat = CAT_MAINT;
    r->size = size;
    r->len = sizeof rep;
    memcpy(engine_body(&s->eng, i), &rep, sizeof rep);
    engine_schedule(&s->eng, i, s->eng.now + net_delay(&s->net, s->introducer_host, host_of(s, e->src.slot)));
}

/* ---- lookups ------------------------------------------------------------------------------ */

bool sim_lookup_active(const struct sim *s, uint32_t id)
{
    return stats_lookup((struct stats *)&s->stats, id) != NULL;
}

bool sim_lookup_done(struct sim *s, uint32_t id, enum outcome o, struct addr answer, uint32_t hops)
{
    struct lookup_rec *r = stats_lookup(&s->stats, id);
    if (!r)
        return false;
    double stretch = NAN;
    if (o == OUTCOME_OK) {
        bool right = answer.slot < s->cap && is_current(s, answer.slot, answer.inc) &&
                     slotset_has(&s->ready, answer.slot) &&
                     (s->files ? catalogue_shares(&s->cat, answer.slot, r->key)
                               : oracle_owns(&s->oracle, r->key, answer.slot,
                                             s->id[answer.slot], s->replicas));
        if (!right) {
            o = OUTCOME_WRONG_OWNER;
        } else {
            int64_t rtt = 2 * delay(s, r->origin.slot, answer.slot);
            stretch = rtt > 0 ? (double)(s->eng.now - r->start_us) / (double)rtt : 1.0;
        }
    }
    if (s->trace)
        trace_lookup_end(s->trace, s->eng.now, id, o, hops, answer, r->start_us);
    stats_lookup_end(&s->stats, id, s->eng.now, o, hops, stretch);
    return true;
}

static void issue_lookup(struct sim *s)
{
    if (s->eng.now >= s->end_us)
        return;
    const struct rate *rate = &s->sc->workload.lookups;
    if (s->ready.n > 0) {
        node_t origin = s->ready.item[gsl_rng_uniform_int(s->wl.rng, s->ready.n)];
        uint32_t rank = workload_pick(&s->wl);
        uint64_t key = s->wl.keys[rank];
        uint32_t id = stats_lookup_start(&s->stats, s->eng.now, sim_addr(s, origin), key);
        if (s->files)
            stats_lookup(&s->stats, id)->answerable = s->cat.holders[rank] > 0;
        if (s->trace)
            trace_lookup_start(s->trace, s->eng.now, id, origin, s->id[origin], key);
        uint32_t d = ev_new(s, EV_LOOKUP_DEADLINE, origin, s->inc[origin]);
        engine_ev(&s->eng, d)->arg = id;
        engine_schedule(&s->eng, d, s->eng.now + s->sc->workload.lookup_timeout_us);
        node_t was = act_as(s, origin);
        s->proto->lookup(s, origin, key, id);
        s->acting = was;
    }
    double hosts = (double)s->ready.n / s->vnodes;         /* a rate per node is per host */
    double per_s = rate->per_s * (rate->per_node ? (hosts > 0 ? hosts : 1) : 1);
    if (per_s <= 0)
        return;
    double gap = gsl_ran_exponential(s->wl.rng, 1e6 / per_s);
    uint32_t i = ev_new(s, EV_LOOKUP, NODE_NONE, 0);
    engine_schedule(&s->eng, i, s->eng.now + (gap < 1 ? 1 : (int64_t)gap));
}

/* start: join: the join phase is over; every key enters the overlay from a random node. */
static void insert_keys(struct sim *s)
{
    for (uint32_t k = 0; k < s->wl.n_keys && s->ready.n > 0; k++) {
        node_t origin = s->ready.item[gsl_rng_uniform_int(s->wl.rng, s->ready.n)];
        node_t was = act_as(s, origin);
        s->proto->insert(s, origin, s->wl.keys[k]);
        s->acting = was;
    }
}

static void lookup_deadline(struct sim *s, const struct event *e)
{
    uint32_t id = (uint32_t)e->arg;
    struct lookup_rec *r = stats_lookup(&s->stats, id);
    if (r) {
        enum outcome o = is_current(s, e->node, e->inc) ? OUTCOME_TIMEOUT : OUTCOME_ORIGIN_LEFT;
        if (s->trace)
            trace_lookup_end(s->trace, s->eng.now, id, o, 0, ADDR_NONE, r->start_us);
        stats_lookup_end(&s->stats, id, s->eng.now, o, 0, NAN);
    }
    stats_lookup_retire(&s->stats, id);
}

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
    uint32_t i = ev_new(s, EV_CHURN, n, s->inc[n]);
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
    memset(slot_state(s, n), 0, s->state_size);
    s->dl_start[n] = -1;
    if (s->files)
        catalogue_draw(&s->cat, n);
    if (n % s->vnodes == 0)
        draw_bandwidth(s, host_of(s, n));
    slotset_add(&s->alive, n);
}

/* Server k comes up, fresh and empty, and joins. */
static void server_start(struct sim *s, uint32_t k)
{
    node_t n = s->server_base + k;
    s->inc[n]++;
    uint64_t hi = gsl_rng_get(s->rng_churn), lo = gsl_rng_get(s->rng_churn);
    s->id[n] = (hi << 32) ^ lo;
    memset(slot_state(s, n), 0, s->state_size);
    s->server_up[k] = true;
    s->dl_start[n] = -1;
    flow_set_capacity(&s->flows, host_of(s, n), s->sc->network.server_bw.up_Bps,
                      s->sc->network.server_bw.down_Bps);
    node_t was = act_as(s, n);
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
        node_t was = act_as(s, n);
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
        node_t was = act_as(s, n);
        if (!crash && s->proto->leave)
            s->proto->leave(s, n);
        download_end(s, n, false);
        unmark_ready(s, n);
        slotset_remove(&s->alive, n);
        if (s->proto->down)
            s->proto->down(s, n);
        s->acting = was;
    }
    flow_drop_host(&s->flows, &s->eng, host_of(s, n0));
    live_changed(s);
    s->stats.departures++;
    if (comes_back)
        schedule_churn(s, host, CHURN_UP, churn_sample(s->rng_churn, &s->sc->churn.downtime));
}

static void churn_event(struct sim *s, const struct event *e)
{
    if (s->eng.now >= s->end_us)
        return;
    node_t host = e->node / s->vnodes;
    if (e->arg == CHURN_UP) {
        if (!slotset_has(&s->alive, e->node) && s->inc[e->node] == e->inc)
            host_join(s, host);
    } else if (is_current(s, e->node, e->inc)) {
        bool crash = gsl_rng_uniform(s->rng_churn) < s->sc->churn.crash_fraction;
        host_down(s, host, crash, true);
    }
}

void sim_depart(struct sim *s, node_t n)
{
    SIM_ASSERT(n < s->server_base);
    uint32_t i = ev_new(s, EV_DEPART, n, s->inc[n]);
    engine_schedule(&s->eng, i, s->eng.now);
}

/* A node has chosen to leave for good (sim_depart): its host leaves gracefully. */
static void depart_event(struct sim *s, const struct event *e)
{
    if (is_current(s, e->node, e->inc))
        host_down(s, e->node / s->vnodes, false, false);
}

static void scheduled_event(struct sim *s, const struct scn_churn_event *ce)
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
                node_t was = act_as(s, s->server_base + k);
                s->proto->down(s, s->server_base + k);
                s->acting = was;
            }
            s->server_up[k] = false;
            flow_drop_host(&s->flows, &s->eng, host_of(s, s->server_base + k));
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
static void sample(struct sim *s)
{
    double sum = 0, max = 0;
    for (node_t k = 0; k < s->alive.n; k++) {
        node_t n0 = s->alive.item[k];
        if (n0 % s->vnodes)
            continue;
        double v = 0;
        for (node_t n = n0; n < n0 + s->vnodes; n++) {
            node_t was = act_as(s, n);
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
    if (s->n_servers) {
        double entries = 0;
        uint32_t up = 0;
        for (uint32_t k = 0; k < s->n_servers; k++)
            if (s->server_up[k]) {
                node_t was = act_as(s, s->server_base + k);
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
        node_t was = act_as(s, SIM_ACTING_ALL);   /* a gauge is a measurement: it may read all */
        for (; k < STATS_GAUGES_MAX && s->proto->gauges[k]; k++)
            g[k] = s->proto->gauge(s, k);
        s->acting = was;
        stats_gauges(&s->stats, s->eng.now, g, k);
    }
    /* the next sample, and one at the end if the period does not divide the duration, so that
     * the last interval of the time series is measured too */
    int64_t next = s->eng.now + s->sc->sample_us;
    if (next > s->end_us && s->eng.now < s->end_us)
        next = s->end_us;
    if (next <= s->end_us) {
        uint32_t i = ev_new(s, EV_SAMPLE, NODE_NONE, 0);
        engine_schedule(&s->eng, i, next);
    }
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void deliver_message(struct sim *s, const struct event *e, const void *body)
{
    bool current = is_current(s, e->node, e->inc);
    if (s->trace && e->type != MSG_INTRODUCER_REPLY)
        trace_msg(s->trace, s->eng.now, current ? "recv" : "dead", e->src.slot, e->node,
                  s->id[e->node], e->type, e->cat, e->size, e->lookup);
    if (!current) {
        s->stats.to_dead++;
        return;
    }
    if (e->node >= s->server_base)
        stats_server_message(&s->stats, s->eng.now);
    struct msg m = { .src = e->src, .type = e->type, .cat = e->cat, .size = e->size,
                     .lookup = e->lookup, .req = e->req, .req_gen = e->rpc_gen,
                     .body = body, .len = e->len };
    struct rpc copy;                          /* the table may move while the protocol runs */
    if (e->rep) {
        struct rpc_rec *r = &s->rpcs[e->rep - 1];
        if (r->gen != e->rpc_gen || !r->pending)
            return;                           /* a reply after its timeout: ignored */
        copy = r->pub;
        rpc_release(s, e->rep - 1);
        m.req = 0;
        m.rpc = &copy;
    }
    node_t was = act_as(s, e->node);
    s->proto->on_message(s, e->node, &m);
    s->acting = was;
}

static void rpc_timeout(struct sim *s, const struct event *e)
{
    struct rpc_rec *r = &s->rpcs[e->arg];
    if (r->gen != e->rpc_gen || !r->pending)
        return;                               /* answered in time */
    struct rpc copy = r->pub;
    rpc_release(s, (uint32_t)e->arg);
    if (!is_current(s, e->node, e->inc)) {
        s->stats.dropped++;
        return;
    }
    stats_timeout(&s->stats, copy.lookup);
    if (s->trace)
        trace_timeout(s->trace, s->eng.now, e->node, copy.dst.slot, copy.type, copy.lookup);
    node_t was = act_as(s, e->node);
    s->proto->on_timeout(s, e->node, &copy);
    s->acting = was;
}

static void dispatch(struct sim *s, const struct event *e, const void *body)
{
    switch (e->kind) {
    case EV_MESSAGE:
        deliver_message(s, e, body);
        break;
    case EV_TIMER:
        if (is_current(s, e->node, e->inc)) {
            node_t was = act_as(s, e->node);
            s->proto->on_timer(s, e->node, e->type, e->arg);
            s->acting = was;
        } else
            s->stats.dropped++;
        break;
    case EV_RPC_TIMEOUT:
        rpc_timeout(s, e);
        break;
    case EV_CHURN:
        churn_event(s, e);
        break;
    case EV_SCHEDULED:
        scheduled_event(s, &s->sc->churn.events[e->arg]);
        break;
    case EV_LOOKUP:
        issue_lookup(s);
        break;
    case EV_LOOKUP_DEADLINE:
        lookup_deadline(s, e);
        break;
    case EV_SAMPLE:
        sample(s);
        break;
    case EV_INTRODUCER:
        introducer_receive(s, e);
        break;
    case EV_INSERT:
        insert_keys(s);
        break;
    case EV_DEPART:
        depart_event(s, e);
        break;
    case EV_FLOW_END:
        flow_end(s, e);
        break;
    default:
        SIM_ASSERT(!"unknown event kind");
    }
}

/* ==== setting up and running ========================================================= */

int64_t sim_converge_rtt(const struct sim *s, node_t a, node_t b)
{
    SIM_ASSERT(s->eng.now == 0);
    return 2 * delay(s, a, b);
}

const uint64_t *sim_converge_keys(const struct sim *s, uint32_t *n)
{
    SIM_ASSERT(s->eng.now == 0);
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
    SIM_ASSERT(s->eng.now == 0);
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

static void schedule_at(struct sim *s, uint8_t kind, node_t node, int64_t t, uint64_t arg)
{
    uint32_t i = ev_new(s, kind, node, 0);
    engine_ev(&s->eng, i)->arg = arg;
    engine_schedule(&s->eng, i, t);
}

static void start_population(struct sim *s)
{
    const struct scenario *sc = s->sc;
    for (uint32_t k = 0; k < s->n_servers; k++)
        server_start(s, k);
    s->used = sc->nodes.count * s->vnodes;
    if (sc->nodes.start == START_JOIN) {
        for (node_t h = 0; h < sc->nodes.count; h++) {
            int64_t t = h == 0 ? 0 : (int64_t)(gsl_rng_uniform(s->rng_churn) * (double)sc->nodes.join_over_us);
            schedule_at(s, EV_CHURN, first_slot(s, h), t, CHURN_UP);
        }
        return;
    }
    for (node_t n = 0; n < s->used; n++)
        node_up(s, n);
    live_changed(s);
    node_t was = act_as(s, SIM_ACTING_ALL);    /* t = 0: converge may use global knowledge */
    s->proto->converge(s);
    s->acting = was;
    for (node_t n = 0; n < s->used; n++) {
        mark_ready(s, n);
        if (n + INTRODUCER_MEMORY >= s->used)
            introducer_remember(&s->intro, (struct peer){ .id = s->id[n], .addr = sim_addr(s, n) });
    }
    for (node_t h = 0; h < sc->nodes.count; h++)
        schedule_churn(s, h, CHURN_DOWN, churn_sample(s->rng_churn, &sc->churn.session));
}

/* Keys per live host when the run ends, as the oracle assigns them: the load balance that
 * virtual nodes improve (Chord, SIGCOMM 2001 §6.1-6.2). Measurement only. */
static void key_load(struct sim *s, double m[M_COUNT])
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
    start_population(s);
    schedule_at(s, EV_LOOKUP, NODE_NONE, 0, 0);
    schedule_at(s, EV_SAMPLE, NODE_NONE,
                sc->sample_us < sc->duration_us ? sc->sample_us : sc->duration_us, 0);
    for (size_t k = 0; k < sc->churn.n_events; k++)
        schedule_at(s, EV_SCHEDULED, NODE_NONE, sc->churn.events[k].at_us, k);
    if (p->insert && sc->nodes.start == START_JOIN)
        schedule_at(s, EV_INSERT, NODE_NONE, sc->nodes.join_over_us, 0);

    struct event *copy = (struct event *)s->scratch;
    void *body = s->scratch + sizeof(struct event);
    uint32_t i;
    while ((i = engine_next(&s->eng, s->drain_us)) != UINT32_MAX) {
        struct event *e = engine_ev(&s->eng, i);
        memcpy(copy, e, sizeof *e);
        if (e->len)
            memcpy(body, engine_body(&s->eng, i), e->len);
        engine_release(&s->eng, i);
        dispatch(s, copy, body);
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
    key_load(s, out->metric);
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
