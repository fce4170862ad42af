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
    t->free_head = FLOW_NONE;
    t->out_head = mem_calloc(hosts, sizeof *t->out_head, "the flows per host");
    t->in_head = mem_calloc(hosts, sizeof *t->in_head, "the flows per host");
    t->n_out = mem_calloc(hosts, sizeof *t->n_out, "the flow counts per host");
    t->n_in = mem_calloc(hosts, sizeof *t->n_in, "the flow counts per host");
    t->up = mem_calloc(hosts, sizeof *t->up, "the upload capacities");
    t->down = mem_calloc(hosts, sizeof *t->down, "the download capacities");
    for (uint32_t h = 0; h < hosts; h++)
        t->out_head[h] = t->in_head[h] = FLOW_NONE;
    return 0;
}

void flow_free(struct flow_table *t)
{
    free(t->f);
    free(t->body);
    free(t->out_head);
    free(t->in_head);
    free(t->n_out);
    free(t->n_in);
    free(t->up);
    free(t->down);
    memset(t, 0, sizeof *t);
}

void flow_set_capacity(struct flow_table *t, uint32_t host, double up_bps, double down_bps)
{
    t->up[host] = up_bps;
    t->down[host] = down_bps;
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
        t->f = mem_realloc(t->f, cap, sizeof *t->f, "the flow table");
        t->body = mem_realloc(t->body, cap, t->body_max ? t->body_max : 1, "the flow bodies");
        for (uint32_t i = t->cap; i < cap; i++)
            t->f[i] = (struct flow_rec){ .gen = 1 };
        t->cap = cap;
    }
    return t->used++;
}

static void link_flow(struct flow_table *t, uint32_t i)
{
    struct flow_rec *f = &t->f[i];
    f->prev_out = FLOW_NONE;
    f->next_out = t->out_head[f->from_host];
    if (f->next_out != FLOW_NONE)
        t->f[f->next_out].prev_out = i;
    t->out_head[f->from_host] = i;
    f->prev_in = FLOW_NONE;
    f->next_in = t->in_head[f->to_host];
    if (f->next_in != FLOW_NONE)
        t->f[f->next_in].prev_in = i;
    t->in_head[f->to_host] = i;
    t->n_out[f->from_host]++;
    t->n_in[f->to_host]++;
}

static void unlink_flow(struct flow_table *t, uint32_t i)
{
    struct flow_rec *f = &t->f[i];
    if (f->prev_out != FLOW_NONE)
        t->f[f->prev_out].next_out = f->next_out;
    else
        t->out_head[f->from_host] = f->next_out;
    if (f->next_out != FLOW_NONE)
        t->f[f->next_out].prev_out = f->prev_out;
    if (f->prev_in != FLOW_NONE)
        t->f[f->prev_in].next_in = f->next_in;
    else
        t->in_head[f->to_host] = f->next_in;
    if (f->next_in != FLOW_NONE)
        t->f[f->next_in].prev_in = f->prev_in;
    t->n_out[f->from_host]--;
    t->n_in[f->to_host]--;
}

/* Unlinks record i, cancels its completion event unless it is the one being dispatched
 * (`finished`), and frees it. */
static void remove_flow(struct flow_table *t, struct engine *e, uint32_t i, bool finished)
{
    struct flow_rec *f = &t->f[i];
    unlink_flow(t, i);
    if (!finished)
        engine_cancel(e, f->ev);
    f->active = false;
    f->gen++;
    f->next_out = t->free_head;
    t->free_head = i;
    t->active--;
}

/* ---- rates --------------------------------------------------------------------------------- */

static double share(const struct flow_table *t, const struct flow_rec *f)
{
    double up = t->up[f->from_host] / t->n_out[f->from_host];
    double down = t->down[f->to_host] / t->n_in[f->to_host];
    return up < down ? up : down;
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
static void update(struct flow_table *t, struct engine *e, uint32_t i, bool force)
{
    struct flow_rec *f = &t->f[i];
    double rate = share(t, f);
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

/* The flows whose share changed because a flow started or ended between hosts a and b. */
static void update_ends(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b)
{
    for (uint32_t i = t->out_head[a]; i != FLOW_NONE; i = t->f[i].next_out)
        update(t, e, i, false);
    for (uint32_t i = t->in_head[b]; i != FLOW_NONE; i = t->f[i].next_in)
        update(t, e, i, false);
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
    f->active = true;
    if (m->len)
        memcpy(t->body + (size_t)i * t->body_max, body, m->len);
    link_flow(t, i);
    t->active++;
    update(t, e, i, true);
    update_ends(t, e, a, b);
    return ((uint64_t)f->gen << 32) | i;
}

bool flow_finish(struct flow_table *t, struct engine *e, uint32_t index, uint32_t gen,
                 struct flow_msg *m, void *body)
{
    if (index >= t->used || t->f[index].gen != gen || !t->f[index].active)
        return false;
    struct flow_rec *f = &t->f[index];
    if (e->now < f->end) {            /* slowed down since this event was set: not yet */
        schedule_end(e, f, index);
        return false;
    }
    *m = f->m;
    if (m->len)
        memcpy(body, t->body + (size_t)index * t->body_max, m->len);
    uint32_t a = f->from_host, b = f->to_host;
    remove_flow(t, e, index, true);
    update_ends(t, e, a, b);
    return true;
}

static uint32_t handle_index(const struct flow_table *t, uint64_t handle)
{
    uint32_t i = (uint32_t)handle, gen = (uint32_t)(handle >> 32);
    return i < t->used && t->f[i].gen == gen && t->f[i].active ? i : FLOW_NONE;
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

void flow_drop_host(struct flow_table *t, struct engine *e, uint32_t h)
{
    while (t->out_head[h] != FLOW_NONE) {
        uint32_t i = t->out_head[h], b = t->f[i].to_host;
        remove_flow(t, e, i, false);
        for (uint32_t k = t->in_head[b]; k != FLOW_NONE; k = t->f[k].next_in)
            update(t, e, k, false);
    }
    while (t->in_head[h] != FLOW_NONE) {
        uint32_t i = t->in_head[h], a = t->f[i].from_host;
        remove_flow(t, e, i, false);
        for (uint32_t k = t->out_head[a]; k != FLOW_NONE; k = t->f[k].next_out)
            update(t, e, k, false);
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
    for (uint32_t i = t->out_head[h]; i != FLOW_NONE; i = t->f[i].next_out)
        sum += t->f[i].rate;
    return sum;
}
