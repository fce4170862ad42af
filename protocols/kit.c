/* kit.c — the protocol kit (see kit.h): wrappers, pools, join back-off, vectors. */
#include "protocols/kit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

/* ==== sending ============================================================================ */

static struct out kit_out_of(const struct kit_msgs *t, const struct kit_out *o, uint8_t cat,
                             uint32_t lookup)
{
    SIM_ASSERT(o->type < t->count);
    return (struct out){ .type = (uint16_t)o->type, .cat = cat,
                         .size = kit_wire_size(t, o->type, o->entries) + (uint32_t)o->extra,
                         .lookup = lookup, .route = o->route, .body = o->body,
                         .len = (uint32_t)o->len };
}

static uint8_t cat_of(uint32_t lookup) { return lookup == LOOKUP_NONE ? CAT_MAINT : CAT_LOOKUP; }

void kit_send(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
              const struct kit_out *o)
{
    struct out w = kit_out_of(t, o, cat_of(o->lookup), o->lookup);
    net_send(s, n, to, &w);
}

void kit_rpc(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
             const struct kit_out *o, int64_t timeout_us, uint64_t ctx0, uint64_t ctx1)
{
    struct out w = kit_out_of(t, o, cat_of(o->lookup), o->lookup);
    net_rpc(s, n, to, &w, timeout_us, ctx0, ctx1);
}

void kit_reply(struct sim *s, const struct kit_msgs *t, node_t n, const struct msg *req,
               const struct kit_out *o)
{
    struct out w = kit_out_of(t, o, req->cat, req->lookup);
    net_reply(s, n, req, &w);
}

uint64_t kit_transfer(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
                      const struct kit_out *o)
{
    struct out w = kit_out_of(t, o, cat_of(o->lookup), o->lookup);
    return net_transfer(s, n, to, &w);
}

/* ==== operations in flight =============================================================== */

static struct kit_op *op_at(const struct kit_pool *p, uint32_t i) { return kit_pool_at(p, i); }

/* Chains records [from, to) onto the front of the free list, lowest index first. */
static void chain_free(struct kit_pool *p, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++)
        *op_at(p, i) = (struct kit_op){ .owner = NODE_NONE,
                                        .next_free = i + 1 < to ? i + 1 : p->free_head,
                                        .prev_own = KIT_NONE, .next_own = KIT_NONE };
    if (from < to)
        p->free_head = from;
}

void kit_pool_init(struct kit_pool *p, size_t rec_size, uint32_t cap, node_t slots,
                   const char *what)
{
    SIM_ASSERT(rec_size >= sizeof(struct kit_op) && cap > 0);
    *p = (struct kit_pool){ .size = (rec_size + 7) & ~(size_t)7, .cap = cap,
                            .free_head = KIT_NONE, .slots = slots, .what = what };
    p->rec = mem_calloc(cap, p->size, what);
    p->own_head = mem_calloc(slots ? slots : 1, sizeof *p->own_head, what);
    for (node_t n = 0; n < slots; n++)
        p->own_head[n] = KIT_NONE;
    chain_free(p, 0, cap);
}

void kit_pool_free(struct kit_pool *p)
{
    free(p->rec);
    free(p->own_head);
    *p = (struct kit_pool){ 0 };
}

uint32_t kit_pool_alloc(struct kit_pool *p, node_t n)
{
    SIM_ASSERT(n < p->slots);
    if (p->free_head == KIT_NONE) {
        SIM_ASSERT(p->cap <= UINT32_MAX / 2);
        uint32_t old = p->cap;
        p->rec = mem_realloc(p->rec, (size_t)old * 2, p->size, p->what);
        p->cap = old * 2;
        chain_free(p, old, p->cap);
    }
    uint32_t i = p->free_head;
    struct kit_op *op = op_at(p, i);
    p->free_head = op->next_free;
    uint32_t gen = op->gen;
    memset(op, 0, p->size);
    *op = (struct kit_op){ .owner = n, .gen = gen, .next_free = KIT_NONE, .prev_own = KIT_NONE,
                           .next_own = p->own_head[n], .live = 1 };
    if (op->next_own != KIT_NONE)
        op_at(p, op->next_own)->prev_own = i;
    p->own_head[n] = i;
    p->in_use++;
    return i;
}

void kit_pool_release(struct kit_pool *p, uint32_t i)
{
    struct kit_op *op = op_at(p, i);
    SIM_ASSERT(i < p->cap && op->live);
    if (op->prev_own != KIT_NONE)
        op_at(p, op->prev_own)->next_own = op->next_own;
    else
        p->own_head[op->owner] = op->next_own;
    if (op->next_own != KIT_NONE)
        op_at(p, op->next_own)->prev_own = op->prev_own;
    *op = (struct kit_op){ .owner = NODE_NONE, .gen = op->gen + 1, .next_free = p->free_head,
                           .prev_own = KIT_NONE, .next_own = KIT_NONE };
    p->free_head = i;
    p->in_use--;
}

uint32_t kit_pool_get(const struct kit_pool *p, node_t n, uint64_t ctx)
{
    uint32_t i = (uint32_t)ctx;
    if (i >= p->cap)
        return KIT_NONE;
    const struct kit_op *op = op_at(p, i);
    if (!op->live || op->gen != (uint32_t)(ctx >> 32) || op->owner != n)
        return KIT_NONE;
    return i;
}

void kit_park(struct kit_pool *p, uint32_t *head, uint32_t i)
{
    struct kit_op *op = op_at(p, i);
    SIM_ASSERT(op->live);
    op->next_free = *head;
    *head = i;
}

uint32_t kit_unpark(struct kit_pool *p, uint32_t *head)
{
    uint32_t i = *head;
    if (i != KIT_NONE) {
        struct kit_op *op = op_at(p, i);
        *head = op->next_free;
        op->next_free = KIT_NONE;
    }
    return i;
}

void kit_pool_node_down(struct kit_pool *p, node_t n)
{
    SIM_ASSERT(n < p->slots);
    while (p->own_head[n] != KIT_NONE)
        kit_pool_release(p, p->own_head[n]);
}

/* ==== joining ============================================================================ */

int64_t kit_backoff(struct sim *s, struct kit_join *j, int64_t base_us)
{
    unsigned e = j->tries < KIT_BACKOFF_MAX ? j->tries : KIT_BACKOFF_MAX;
    if (j->tries < UINT8_MAX)
        j->tries++;
    return sim_jitter(s, base_us << e);
}

void kit_join_ask(struct sim *s, node_t n, struct kit_join *j, uint32_t kind, int64_t timeout_us)
{
    j->asking = 1;
    j->epoch++;
    sim_introducer_ask(s, n);
    sim_timer(s, n, kind, timeout_us, j->epoch);
}

bool kit_join_answered(struct kit_join *j)
{
    if (!j->asking)
        return false;
    j->asking = 0;
    return true;
}

bool kit_join_unanswered(const struct kit_join *j, uint64_t arg)
{
    return j->asking && arg == j->epoch;
}

bool kit_join_timed_out(struct kit_join *j, uint64_t arg)
{
    if (!kit_join_unanswered(j, arg))
        return false;
    j->asking = 0;
    return true;
}

/* ==== randomness ========================================================================= */

uint64_t kit_rand64(struct sim *s)
{
    uint64_t hi = gsl_rng_get(sim_rng(s));
    uint64_t lo = gsl_rng_get(sim_rng(s));
    return (hi << 32) ^ lo;
}

/* ==== periodic timers ==================================================================== */

int64_t kit_phase(struct sim *s, int64_t period_us)
{
    return (int64_t)(gsl_rng_uniform(sim_rng(s)) * (double)period_us);
}

/* ==== vectors ============================================================================ */

void kit_vec_reserve(struct kit_vec *v, uint32_t want, size_t elem, const char *what)
{
    if (want <= v->cap)
        return;
    uint32_t cap = v->cap ? v->cap : 8;
    while (cap < want) {
        SIM_ASSERT(cap <= UINT32_MAX / 2);
        cap *= 2;
    }
    v->v = mem_realloc(v->v, cap, elem, what);
    v->cap = cap;
}

void *kit_vec_insert(struct kit_vec *v, uint32_t i, size_t elem, const char *what)
{
    SIM_ASSERT(i <= v->n);
    kit_vec_reserve(v, v->n + 1, elem, what);
    unsigned char *b = v->v;
    memmove(b + (size_t)(i + 1) * elem, b + (size_t)i * elem, (size_t)(v->n - i) * elem);
    v->n++;
    return b + (size_t)i * elem;
}

void kit_vec_remove(struct kit_vec *v, uint32_t i, size_t elem)
{
    SIM_ASSERT(i < v->n);
    unsigned char *b = v->v;
    memmove(b + (size_t)i * elem, b + (size_t)(i + 1) * elem, (size_t)(v->n - i - 1) * elem);
    v->n--;
}

void kit_vec_free(struct kit_vec *v)
{
    free(v->v);
    *v = (struct kit_vec){ 0 };
}

uint32_t kit_vec_lower_bound(const struct kit_vec *v, size_t elem, uint64_t key)
{
    const unsigned char *b = v->v;
    uint32_t lo = 0, hi = v->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, b + (size_t)mid * elem, sizeof k);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
