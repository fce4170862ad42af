/* sim.c — the simulator as a protocol sees it (sim.h): its own node, messages, RPCs, bulk
 * transfers, timers, the introducer and lookups; and the dispatch of every event.
 *
 * Every event is dispatched from a copy (header + body) taken before its record is released,
 * so a handler may schedule freely. Events for a dead node, or for an earlier incarnation of
 * its slot, are dropped and counted. Hosts coming and going are in hosts.c, setting up and
 * running a cell in run.c. */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "sim/world.h"

/* Wire sizes of the introducer's messages: IPv4 + UDP header (28 B) + type (4 B), plus a
 * contact of IPv4 address, port and 8-byte identifier (14 B) each. */
#define INTRO_HEADER_BYTES 32
#define INTRO_CONTACT_BYTES 14

enum intro_kind { INTRO_ASK, INTRO_REGISTER };

_Noreturn void sim_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "p2plab: internal error: assertion \"%s\" failed at %s:%d\n", expr, file, line);
    abort();
}

/* ==== the protocol's view (sim.h) ========================================================= */

int64_t sim_now(const struct sim *s) { return s->eng.now; }
struct addr world_addr(const struct sim *s, node_t n) { return (struct addr){ n, s->inc[n] }; }
/* The slab record of slot n, for the engine's own use (zeroing it when n comes up). */
void *world_slot_state(const struct sim *s, node_t n) { return s->state + (size_t)n * s->state_size; }

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
    return world_slot_state(s, n);
}

const void *sim_state_const(const struct sim *s, node_t n)
{
    check_local(s, n);
    return world_slot_state(s, n);
}

void sim_check_local(const struct sim *s, node_t n) { check_local(s, n); }

/* A node knows its own address, identifier, files and access link, and nobody else's. */
struct addr sim_addr(const struct sim *s, node_t n)
{
    check_local(s, n);
    return world_addr(s, n);
}

uint64_t sim_node_id(const struct sim *s, node_t n)
{
    check_local(s, n);
    return s->id[n];
}

/* Protocol code about to run on behalf of n (or SIM_ACTING_ALL): returns who acted before. */
node_t world_act_as(struct sim *s, node_t n)
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

void sim_store_data(struct sim *s)
{
    SIM_ASSERT(s->proto->holds != NULL);
    if (s->hold.on)
        return;
    if (holders_init(&s->hold, s->wl.keys, s->wl.n_keys) != 0) {
        fprintf(stderr, "p2plab: out of memory counting the holders of %u keys\n", s->wl.n_keys);
        exit(1);
    }
}

void sim_key_gained(struct sim *s, node_t n, uint64_t key)
{
    check_local(s, n);
    if (s->hold.on)
        holders_change(&s->hold, key, +1);
}

void sim_key_dropped(struct sim *s, node_t n, uint64_t key)
{
    check_local(s, n);
    if (s->hold.on)
        holders_change(&s->hold, key, -1);
}

/* The judge of stored data: is `slot` (current and in the overlay) holding key's data? */
static bool holds_data(struct sim *s, node_t slot, uint64_t key)
{
    node_t was = world_act_as(s, SIM_ACTING_ALL);     /* the oracle may read every node */
    bool h = s->proto->holds(s, slot, key);
    s->acting = was;
    return h;
}

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

bool world_is_current(const struct sim *s, node_t n, uint32_t inc)
{
    return is_up(s, n) && s->inc[n] == inc;
}

/* The network host of a slot: virtual nodes of one peer host share it; every server and the
 * introducer have hosts of their own after the peers'. */
node_t world_host_of(const struct sim *s, node_t n)
{
    return n < s->server_base ? n / s->vnodes : s->peer_hosts + (n - s->server_base);
}

/* One-way delay between the hosts of two slots. */
int64_t world_delay(const struct sim *s, node_t a, node_t b)
{
    return net_delay(&s->net, world_host_of(s, a), world_host_of(s, b));
}

/* ---- servers and downloads ---------------------------------------------------------------- */

uint32_t sim_servers(const struct sim *s) { return s->n_servers; }

struct addr sim_server_addr(const struct sim *s, uint32_t i)
{
    SIM_ASSERT(i < s->n_servers);
    return world_addr(s, s->server_base + i);   /* configured at every client */
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
void world_download_end(struct sim *s, node_t n, bool completed)
{
    if (s->dl_start[n] < 0)
        return;
    stats_download(&s->stats, s->eng.now, s->dl_start[n], completed);
    s->dl_start[n] = -1;
}

void sim_download_done(struct sim *s, node_t n) { world_download_end(s, n, true); }

/* A fresh event with room for a body of len bytes. */
static uint32_t ev_new(struct sim *s, uint8_t kind, node_t node, uint32_t inc, size_t len)
{
    uint32_t i = engine_alloc(&s->eng, len);
    struct event *e = engine_ev(&s->eng, i);
    uint32_t gen = e->gen;
    *e = (struct event){ .gen = gen, .kind = kind, .node = node, .inc = inc, .src = ADDR_NONE,
                         .lookup = LOOKUP_NONE };
    return i;
}

uint32_t world_ev_new(struct sim *s, uint8_t kind, node_t node, uint32_t inc)
{
    return ev_new(s, kind, node, inc, 0);
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
    uint32_t i = ev_new(s, EV_MESSAGE, to.slot, to.inc, o->len);
    struct event *e = engine_ev(&s->eng, i);
    e->src = world_addr(s, from);
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
    int64_t delay = world_delay(s, from, to.slot);
    if (o->route && o->lookup != LOOKUP_NONE)
        e->arg = (uint64_t)delay + 1;         /* a route step: its delay, + 1 (0 = none) */
    engine_schedule(&s->eng, i, s->eng.now + delay);
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
    uint32_t t = world_ev_new(s, EV_RPC_TIMEOUT, from, s->inc[from]);
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

double sim_upload_bps(const struct sim *s, node_t n)
{
    check_local(s, n);
    return s->flows.up[world_host_of(s, n)];
}

double sim_download_bps(const struct sim *s, node_t n)
{
    check_local(s, n);
    return s->flows.down[world_host_of(s, n)];
}

/* Bytes count when the transfer starts, like a message's. A transfer to a host that is down
 * never starts (the connection cannot be opened); the sender learns it only by its timeouts. */
uint64_t net_transfer(struct sim *s, node_t from, struct addr to, const struct out *o)
{
    SIM_ASSERT(o->len <= s->eng.body_max && to.slot < s->cap && o->size > 0);
    stats_message(&s->stats, s->eng.now, o->cat, o->size, o->lookup);
    if (s->trace)
        trace_msg(s->trace, s->eng.now, "xfer", from, to.slot, s->id[to.slot], o->type, o->cat,
                  o->size, o->lookup);
    if (!world_is_current(s, to.slot, to.inc)) {
        s->stats.to_dead++;
        return 0;
    }
    struct flow_msg m = { .src = world_addr(s, from), .dst = to, .type = o->type, .cat = o->cat,
                          .size = o->size, .lookup = o->lookup, .len = o->len };
    return flow_start(&s->flows, &s->eng, world_host_of(s, from), world_host_of(s, to.slot), &m, o->body);
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
    uint32_t i = ev_new(s, EV_MESSAGE, m.dst.slot, m.dst.inc, m.len);
    struct event *d = engine_ev(&s->eng, i);
    d->src = m.src;
    d->type = m.type;
    d->cat = m.cat;
    d->size = m.size;
    d->lookup = m.lookup;
    d->len = m.len;
    if (m.len)
        memcpy(engine_body(&s->eng, i), s->flow_body, m.len);
    engine_schedule(&s->eng, i, s->eng.now + world_delay(s, m.src.slot, m.dst.slot));
}

/* A host's capacities, drawn from network.bandwidth's classes by their shares. */
void world_draw_bandwidth(struct sim *s, node_t host)
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
    uint32_t i = world_ev_new(s, EV_TIMER, n, s->inc[n]);
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
    uint32_t i = world_ev_new(s, EV_INTRODUCER, n, s->inc[n]);
    struct event *e = engine_ev(&s->eng, i);
    e->src = world_addr(s, n);
    e->type = kind;
    e->arg = s->id[n];
    engine_schedule(&s->eng, i, s->eng.now + net_delay(&s->net, world_host_of(s, n), s->introducer_host));
}

void sim_introducer_ask(struct sim *s, node_t n) { to_introducer(s, n, INTRO_ASK); }

void world_mark_ready(struct sim *s, node_t n)
{
    if (slotset_has(&s->ready, n))
        return;
    slotset_add(&s->ready, n);
    oracle_add(&s->oracle, s->id[n], n);
    if (s->files)
        catalogue_count(&s->cat, n, +1);
}

void world_unmark_ready(struct sim *s, node_t n)
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
    check_local(s, n);
    if (!s->files) {
        *count = 0;
        return NULL;
    }
    *count = s->cat.per_node;
    return &s->cat.shared_id[(size_t)n * s->cat.per_node];
}

void sim_introducer_register(struct sim *s, node_t n)
{
    world_mark_ready(s, n);
    to_introducer(s, n, INTRO_REGISTER);
}

void world_introducer_remember(struct introducer *in, struct peer p)
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
        world_introducer_remember(in, (struct peer){ .id = e->arg, .addr = e->src });
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
        world_introducer_remember(in, (struct peer){ .id = e->arg, .addr = e->src });
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
    uint32_t i = ev_new(s, EV_MESSAGE, e->src.slot, e->src.inc, sizeof rep);
    struct event *r = engine_ev(&s->eng, i);
    r->type = MSG_INTRODUCER_REPLY;
    r->cat = CAT_MAINT;
    r->size = size;
    r->len = sizeof rep;
    memcpy(engine_body(&s->eng, i), &rep, sizeof rep);
    engine_schedule(&s->eng, i, s->eng.now + net_delay(&s->net, s->introducer_host, world_host_of(s, e->src.slot)));
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
    double stretch = NAN, route = NAN;
    if (o == OUTCOME_OK) {
        /* stored data: any live node that returned the data, joined or still joining */
        bool right = answer.slot < s->cap && world_is_current(s, answer.slot, answer.inc) &&
                     (s->hold.on ? holds_data(s, answer.slot, r->key)
                                 : slotset_has(&s->ready, answer.slot) &&
                                   (s->files ? catalogue_shares(&s->cat, answer.slot, r->key)
                                             : oracle_owns(&s->oracle, r->key, answer.slot,
                                                           s->id[answer.slot], s->replicas)));
        if (!right) {
            o = OUTCOME_WRONG_OWNER;
        } else {
            int64_t rtt = 2 * world_delay(s, r->origin.slot, answer.slot);
            stretch = rtt > 0 ? (double)(s->eng.now - r->start_us) / (double)rtt : 1.0;
            /* route distance over direct distance: the one-way delays of the route steps
             * delivered so far (origin to the root), over the direct one-way delay */
            if (r->route_steps && rtt > 0)
                route = (double)r->route_us / (double)(rtt / 2);
        }
    }
    if (s->trace)
        trace_lookup_end(s->trace, s->eng.now, id, o, hops, answer, r->start_us);
    stats_lookup_end(&s->stats, id, s->eng.now, o, hops, stretch, route);
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
        uint32_t id = stats_lookup_start(&s->stats, s->eng.now, world_addr(s, origin), key);
        if (s->files)
            stats_lookup(&s->stats, id)->answerable = s->cat.holders[rank] > 0;
        if (s->trace)
            trace_lookup_start(s->trace, s->eng.now, id, origin, s->id[origin], key);
        uint32_t d = world_ev_new(s, EV_LOOKUP_DEADLINE, origin, s->inc[origin]);
        engine_ev(&s->eng, d)->arg = id;
        engine_schedule(&s->eng, d, s->eng.now + s->sc->workload.lookup_timeout_us);
        node_t was = world_act_as(s, origin);
        s->proto->lookup(s, origin, key, id);
        s->acting = was;
    }
    double hosts = (double)s->ready.n / s->vnodes;         /* a rate per node is per host */
    double per_s = rate->per_s * (rate->per_node ? (hosts > 0 ? hosts : 1) : 1);
    if (per_s <= 0)
        return;
    double gap = gsl_ran_exponential(s->wl.rng, 1e6 / per_s);
    uint32_t i = world_ev_new(s, EV_LOOKUP, NODE_NONE, 0);
    engine_schedule(&s->eng, i, s->eng.now + (gap < 1 ? 1 : (int64_t)gap));
}

/* start: join: the join phase is over; every key enters the overlay from a random node. */
static void insert_keys(struct sim *s)
{
    for (uint32_t k = 0; k < s->wl.n_keys && s->ready.n > 0; k++) {
        node_t origin = s->ready.item[gsl_rng_uniform_int(s->wl.rng, s->ready.n)];
        node_t was = world_act_as(s, origin);
        s->proto->insert(s, origin, s->wl.keys[k]);
        s->acting = was;
    }
}

static void lookup_deadline(struct sim *s, const struct event *e)
{
    uint32_t id = (uint32_t)e->arg;
    struct lookup_rec *r = stats_lookup(&s->stats, id);
    if (r) {
        enum outcome o = world_is_current(s, e->node, e->inc) ? OUTCOME_TIMEOUT : OUTCOME_ORIGIN_LEFT;
        if (s->trace)
            trace_lookup_end(s->trace, s->eng.now, id, o, 0, ADDR_NONE, r->start_us);
        stats_lookup_end(&s->stats, id, s->eng.now, o, 0, NAN, NAN);
    }
    stats_lookup_retire(&s->stats, id);
}

void world_schedule_at(struct sim *s, uint8_t kind, node_t node, int64_t t, uint64_t arg)
{
    uint32_t i = world_ev_new(s, kind, node, 0);
    engine_ev(&s->eng, i)->arg = arg;
    engine_schedule(&s->eng, i, t);
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static void deliver_message(struct sim *s, const struct event *e, const void *body)
{
    bool current = world_is_current(s, e->node, e->inc);
    if (s->trace && e->type != MSG_INTRODUCER_REPLY)
        trace_msg(s->trace, s->eng.now, current ? "recv" : "dead", e->src.slot, e->node,
                  s->id[e->node], e->type, e->cat, e->size, e->lookup);
    if (!current) {
        s->stats.to_dead++;
        return;
    }
    if (e->node >= s->server_base)
        stats_server_message(&s->stats, s->eng.now);
    if (e->arg && e->lookup != LOOKUP_NONE)
        stats_route_step(&s->stats, e->lookup, (int64_t)(e->arg - 1));
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
    node_t was = world_act_as(s, e->node);
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
    if (!world_is_current(s, e->node, e->inc)) {
        s->stats.dropped++;
        return;
    }
    stats_timeout(&s->stats, copy.lookup);
    if (s->trace)
        trace_timeout(s->trace, s->eng.now, e->node, copy.dst.slot, copy.type, copy.lookup);
    node_t was = world_act_as(s, e->node);
    s->proto->on_timeout(s, e->node, &copy);
    s->acting = was;
}

#define SIM_PREFETCH_BYTES 768         /* of a node's protocol state: all of a Chord node's
                                         (728 bytes with r = 16), whose handlers read lines
                                         all over it (predecessor, fingers, successor list) */
/* Events come in time order, which is random in memory. The record of the event
 * ENGINE_PREFETCH / 2 places ahead is in the cache by now (engine_next fetched it from twice as
 * far), so its node is known: fetch what dispatching it will read, the RPC record a reply or a
 * timeout is checked against (or, for a request, the place in the network of the node the
 * answer goes to), the node's incarnation and liveness, its protocol state (up to
 * SIM_PREFETCH_BYTES) and its own place in the network. A hint only:
 * nothing is read that could change what happens. */
static inline void prefetch_ahead(struct sim *s)
{
    uint32_t a = queue_ahead(&s->eng.q, ENGINE_PREFETCH / 2);
    if (a == UINT32_MAX)
        return;
    const struct event *f = engine_ev(&s->eng, a);
    if (f->kind == EV_RPC_TIMEOUT)            /* its RPC record decides whether it is stale */
        __builtin_prefetch(&s->rpcs[f->arg]);
    else if (f->kind == EV_MESSAGE && f->rep)  /* a reply: its RPC record, likewise */
        __builtin_prefetch(&s->rpcs[f->rep - 1]);
    else if (f->kind == EV_MESSAGE && f->req && f->src.slot < s->cap)
        net_prefetch(&s->net, world_host_of(s, f->src.slot));   /* a request: the answer's way */
    node_t n = f->node;
    if (n >= s->cap)
        return;
    __builtin_prefetch(&s->inc[n]);
    __builtin_prefetch(&s->alive.pos[n]);
    const char *st = (const char *)s->state + (size_t)n * s->state_size;
    for (size_t off = 0; off < SIM_PREFETCH_BYTES && off < s->state_size; off += 64)
        __builtin_prefetch(st + off);
    net_prefetch(&s->net, world_host_of(s, n));
}

void world_dispatch(struct sim *s, const struct event *e, const void *body)
{
    prefetch_ahead(s);
    switch (e->kind) {
    case EV_MESSAGE:
        deliver_message(s, e, body);
        break;
    case EV_TIMER:
        if (world_is_current(s, e->node, e->inc)) {
            node_t was = world_act_as(s, e->node);
            s->proto->on_timer(s, e->node, e->type, e->arg);
            s->acting = was;
        } else
            s->stats.dropped++;
        break;
    case EV_RPC_TIMEOUT:
        rpc_timeout(s, e);
        break;
    case EV_CHURN:
        world_churn_event(s, e);
        break;
    case EV_SCHEDULED:
        world_scheduled_event(s, &s->sc->churn.events[e->arg]);
        break;
    case EV_LOOKUP:
        issue_lookup(s);
        break;
    case EV_LOOKUP_DEADLINE:
        lookup_deadline(s, e);
        break;
    case EV_SAMPLE:
        world_sample(s);
        break;
    case EV_INTRODUCER:
        introducer_receive(s, e);
        break;
    case EV_INSERT:
        insert_keys(s);
        break;
    case EV_DEPART:
        world_depart_event(s, e);
        break;
    case EV_FLOW_END:
        flow_end(s, e);
        break;
    default:
        SIM_ASSERT(!"unknown event kind");
    }
}
