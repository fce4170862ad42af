/* flow.c — bulk transfers at flow level: equal shares per endpoint, piecewise-constant rates
 * (see flow.h for the model and why it approximates max-min fairness). */
#include "sim/flow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

int flow_init(struct flow_table *t, uint32_t hosts, size_t body_max)
{
    memset(t, 0, sizeof *t);
    t->hosts = hosts;
    t->body_max = body_max;
    t->free_head = t->big_free = FLOW_NONE;
    t->host = mem_calloc(hosts, sizeof *t->host, "the flows per host");
    t->up = mem_calloc(hosts, sizeof *t->up, "the upload capacities");
    t->down = mem_calloc(hosts, sizeof *t->down, "the download capacities");
    for (uint32_t h = 0; h < hosts; h++)
        t->host[h].out_head = t->host[h].in_head = FLOW_NONE;
    return 0;
}

void flow_free(struct flow_table *t)
{
    free(t->f_mem);
    free(t->body);
    free(t->big);
    free(t->host);
    free(t->up);
    free(t->down);
    memset(t, 0, sizeof *t);
}

/* A change of capacity changes the shares of the host's flows (their rates follow at the next
 * update, as they would if the shares were computed then). */
void flow_set_capacity(struct flow_table *t, uint32_t host, double up_bps, double down_bps)
{
    struct flow_host *h = &t->host[host];
    t->up[host] = h->up = up_bps;
    t->down[host] = h->down = down_bps;
    for (uint32_t i = h->out_head; i != FLOW_NONE; i = t->f[i].next_out)
        t->f[i].up_share = h->up / h->n_out;
    for (uint32_t i = h->in_head; i != FLOW_NONE; i = t->f[i].next_in)
        t->f[i].down_share = h->down / h->n_in;
}

/* ---- the pool and the per-host lists ------------------------------------------------------ */

static uint32_t rec_alloc(struct flow_table *t)
{
    if (t->free_head != FLOW_NONE) {
        uint32_t i = t->free_head;
        t->free_head = t->f[i].next_out;
        return i;
    }
    if (t->used == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 256;
        void *mem = mem_calloc((size_t)cap + 1, sizeof *t->f, "the flow table");
        struct flow_rec *f = (struct flow_rec *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
        if (t->cap)
            memcpy(f, t->f, (size_t)t->cap * sizeof *f);
        free(t->f_mem);
        t->f_mem = mem;
        t->f = f;
        t->body = mem_realloc(t->body, cap, FLOW_BODY_SMALL, "the flow bodies");
        t->cap = cap;                 /* the new records are zero: gen 0, not in progress */
    }
    return t->used++;
}

static void link_flow(struct flow_table *t, uint32_t i)
{
    struct flow_rec *f = &t->f[i];
    struct flow_host *a = &t->host[f->from_host], *b = &t->host[f->to_host];
    f->prev_out = FLOW_NONE;
    f->next_out = a->out_head;
    if (f->next_out != FLOW_NONE)
        t->f[f->next_out].prev_out = i;
    a->out_head = i;
    f->prev_in = FLOW_NONE;
    f->next_in = b->in_head;
    if (f->next_in != FLOW_NONE)
        t->f[f->next_in].prev_in = i;
    b->in_head = i;
    a->n_out++;
    b->n_in++;
}

static void unlink_flow(struct flow_table *t, uint32_t i)
{
    struct flow_rec *f = &t->f[i];
    struct flow_host *a = &t->host[f->from_host], *b = &t->host[f->to_host];
    if (f->prev_out != FLOW_NONE)
        t->f[f->prev_out].next_out = f->next_out;
    else
        a->out_head = f->next_out;
    if (f->next_out != FLOW_NONE)
        t->f[f->next_out].prev_out = f->prev_out;
    if (f->prev_in != FLOW_NONE)
        t->f[f->prev_in].next_in = f->next_in;
    else
        b->in_head = f->next_in;
    if (f->next_in != FLOW_NONE)
        t->f[f->next_in].prev_in = f->prev_in;
    a->n_out--;
    b->n_in--;
}

/* A body's room: beside the record if small, else a slot of the large pool. */
static unsigned char *body_of(const struct flow_table *t, const struct flow_rec *f, uint32_t i)
{
    return f->big == FLOW_NONE ? t->body + (size_t)i * FLOW_BODY_SMALL
                               : t->big + (size_t)f->big * t->body_max;
}

static void body_take(struct flow_table *t, struct flow_rec *f, size_t len)
{
    f->big = FLOW_NONE;
    if (len <= FLOW_BODY_SMALL)
        return;
    if (t->big_free != FLOW_NONE) {
        f->big = t->big_free;
        memcpy(&t->big_free, t->big + (size_t)f->big * t->body_max, sizeof t->big_free);
        return;
    }
    if (t->big_used == t->big_cap) {
        t->big_cap = t->big_cap ? t->big_cap * 2 : 64;
        t->big = mem_realloc(t->big, t->big_cap, t->body_max, "the large flow bodies");
    }
    f->big = t->big_used++;
}

static void body_give_back(struct flow_table *t, struct flow_rec *f)
{
    if (f->big == FLOW_NONE)
        return;
    memcpy(t->big + (size_t)f->big * t->body_max, &t->big_free, sizeof t->big_free);
    t->big_free = f->big;
    f->big = FLOW_NONE;
}

/* Unlinks record i, cancels its completion event unless it is the one being dispatched
 * (`finished`), and frees it. */
static void remove_flow(struct flow_table *t, struct engine *e, uint32_t i, bool finished)
{
    struct flow_rec *f = &t->f[i];
    unlink_flow(t, i);
    if (!finished)
        engine_cancel(e, f->ev);
    body_give_back(t, f);
    f->gen++;
    f->next_out = t->free_head;
    t->free_head = i;
    t->active--;
}

/* ---- rates --------------------------------------------------------------------------------- */

/* The shares are kept in each flow, refreshed whenever the count at that end changes (the
 * walks below), so a rate update reads the flow alone, not the host at its other end. */
static double share(const struct flow_rec *f)
{
    return f->up_share < f->down_share ? f->up_share : f->down_share;
}

static void schedule_end(struct engine *e, struct flow_rec *f, uint32_t i)
{
    uint32_t k = engine_alloc(e, 0);
    struct event *ev = engine_ev(e, k);
    uint32_t g = ev->gen;
    *ev = (struct event){ .gen = g, .kind = EV_FLOW_END, .node = f->m.dst.slot, .inc = f->m.dst.inc,
                          .src = f->m.src, .lookup = LOOKUP_NONE, .arg = i, .rpc_gen = f->gen };
    engine_schedule(e, k, f->end);
    f->ev = engine_handle(e, k);
    f->ev_at = f->end;
}

/* Counts the bytes sent since f->since at the old rate, takes the new rate and, if it changed
 * (or `force`: a new flow), computes the end; the completion event moves only if the end comes
 * before it. */
static void update(struct engine *e, struct flow_rec *f, uint32_t i, bool force)
{
    double rate = share(f);
    if (!force && rate == f->rate)
        return;
    int64_t now = e->now;
    f->left -= f->rate * (double)(now - f->since) / 1e6;
    if (f->left < 0)
        f->left = 0;
    f->since = now;
    f->rate = rate;
    double us = ceil(f->left / rate * 1e6);
    f->end = now + (us < 9e15 ? (int64_t)us : INT64_C(9000000000000000));
    if (force) {
        schedule_end(e, f, i);
    } else if (f->end < f->ev_at) {
        engine_cancel(e, f->ev);
        schedule_end(e, f, i);
    }
}

/* Host a's flows going out: their shares at a are now up / n_out (and, for those into host b,
 * down / n_in at b); their rates follow. */
static void update_out(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b)
{
    const struct flow_host *ha = &t->host[a], *hb = &t->host[b];
    if (ha->out_head == FLOW_NONE)
        return;
    double up = ha->up / ha->n_out;
    for (uint32_t i = ha->out_head; i != FLOW_NONE;) {
        struct flow_rec *f = &t->f[i];
        uint32_t next = f->next_out;
        f->up_share = up;
        if (f->to_host == b)
            f->down_share = hb->down / hb->n_in;
        update(e, f, i, false);
        i = next;
    }
}

/* Host b's flows coming in, likewise (with a the host at the other end of the change). */
static void update_in(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b)
{
    const struct flow_host *ha = &t->host[a], *hb = &t->host[b];
    if (hb->in_head == FLOW_NONE)
        return;
    double down = hb->down / hb->n_in;
    for (uint32_t i = hb->in_head; i != FLOW_NONE;) {
        struct flow_rec *f = &t->f[i];
        uint32_t next = f->next_in;
        f->down_share = down;
        if (f->from_host == a)
            f->up_share = ha->up / ha->n_out;
        update(e, f, i, false);
        i = next;
    }
}

/* The flows whose share changed because a flow started or ended between hosts a and b. */
static void update_ends(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b)
{
    update_out(t, e, a, b);
    update_in(t, e, a, b);
}

uint64_t flow_start(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b,
                    const struct flow_msg *m, const void *body)
{
    uint32_t i = rec_alloc(t);
    struct flow_rec *f = &t->f[i];
    f->m = *m;
    f->from_host = a;
    f->to_host = b;
    f->left = m->size;
    f->rate = 0;
    f->since = e->now;
    f->gen++;                         /* odd: in progress */
    body_take(t, f, m->len);
    if (m->len)
        memcpy(body_of(t, f, i), body, m->len);
    link_flow(t, i);
    t->active++;
    f->up_share = t->host[a].up / t->host[a].n_out;
    f->down_share = t->host[b].down / t->host[b].n_in;
    update(e, f, i, true);
    update_ends(t, e, a, b);
    return ((uint64_t)f->gen << 32) | i;
}

bool flow_finish(struct flow_table *t, struct engine *e, uint32_t index, uint32_t gen,
                 struct flow_msg *m, void *body)
{
    if (index >= t->used || t->f[index].gen != gen || !(gen & 1))
        return false;
    struct flow_rec *f = &t->f[index];
    if (e->now < f->end) {            /* slowed down since this event was set: not yet */
        schedule_end(e, f, index);
        return false;
    }
    *m = f->m;
    if (m->len)
        memcpy(body, body_of(t, f, index), m->len);
    uint32_t a = f->from_host, b = f->to_host;
    remove_flow(t, e, index, true);
    update_ends(t, e, a, b);
    return true;
}

static uint32_t handle_index(const struct flow_table *t, uint64_t handle)
{
    uint32_t i = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    return i < t->used && t->f[i].gen == gen && (gen & 1) ? i : FLOW_NONE;
}

void flow_cancel(struct flow_table *t, struct engine *e, uint64_t handle)
{
    uint32_t i = handle_index(t, handle);
    if (i == FLOW_NONE)
        return;
    uint32_t a = t->f[i].from_host, b = t->f[i].to_host;
    remove_flow(t, e, i, false);
    update_ends(t, e, a, b);
}

/* Only the far ends' flows are updated as h's flows go: h's own are all on their way out (a
 * flow between h and a far end gets its share at h anew when that end is walked). */
void flow_drop_host(struct flow_table *t, struct engine *e, uint32_t h)
{
    while (t->host[h].out_head != FLOW_NONE) {
        uint32_t i = t->host[h].out_head, b = t->f[i].to_host;
        remove_flow(t, e, i, false);
        update_in(t, e, h, b);
    }
    while (t->host[h].in_head != FLOW_NONE) {
        uint32_t i = t->host[h].in_head, a = t->f[i].from_host;
        remove_flow(t, e, i, false);
        update_out(t, e, a, h);
    }
}

double flow_rate(const struct flow_table *t, uint64_t handle)
{
    uint32_t i = handle_index(t, handle);
    return i == FLOW_NONE ? 0 : t->f[i].rate;
}

double flow_out_rate(const struct flow_table *t, uint32_t h)
{
    double sum = 0;
    for (uint32_t i = t->host[h].out_head; i != FLOW_NONE; i = t->f[i].next_out)
        sum += t->f[i].rate;
    return sum;
}
