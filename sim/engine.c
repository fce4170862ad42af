/* engine.c — the clock, the pool of event records and the pop loop.
 *
 * The pool is one array of `cap` records of rec_size bytes (the struct event header, then up
 * to body_max body bytes, rounded up to 8). Records 0 .. used-1 have been handed out at least
 * once; the free ones among them form a singly linked list threaded through `arg`, headed by
 * free_head. Records past `used` have never been touched. The pool doubles when it is full.
 *
 * Cancellation is lazy: engine_cancel bumps the record's generation (so the handle, and any
 * copy of it, goes stale) and sets ENGINE_CANCELLED in `kind`; the key stays in the queue and
 * engine_next releases the record when it comes up, counting it in `stale`.
 *
 * Records are visited in time order, which is random in memory: engine_next prefetches the
 * record of the event after the one it returns, and a large pool asks for huge pages. */
#include "sim/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

#define ENGINE_NONE UINT32_MAX
#define ENGINE_MAX_RECORDS (UINT32_MAX - 1)  /* UINT32_MAX is "none" */
#define ENGINE_PREFETCH 4                    /* records fetched this many events ahead */

_Noreturn static void out_of_memory(size_t records, size_t rec_size)
{
    fprintf(stderr, "p2plab: out of memory allocating the event pool (%zu records of %zu bytes)\n",
            records, rec_size);
    exit(1);
}

int engine_init(struct engine *e, size_t body_max, size_t cap_hint)
{
    memset(e, 0, sizeof *e);
    if (body_max > (size_t)1 << 30)
        return -1;
    e->body_max = body_max;
    e->rec_size = (sizeof(struct event) + body_max + 7) & ~(size_t)7;
    size_t cap = cap_hint < 16 ? 16 : cap_hint;
    if (cap > ENGINE_MAX_RECORDS)
        cap = ENGINE_MAX_RECORDS;
    if (cap > SIZE_MAX / e->rec_size)
        out_of_memory(cap, e->rec_size);
    e->pool = malloc(cap * e->rec_size);
    if (!e->pool)
        out_of_memory(cap, e->rec_size);
    mem_advise_huge(e->pool, cap * e->rec_size);
    queue_init(&e->q, cap);
    e->cap = (uint32_t)cap;
    e->used = 0;
    e->free_head = ENGINE_NONE;
    return 0;
}

void engine_free(struct engine *e)
{
    queue_free(&e->q);
    free(e->pool);
    e->pool = NULL;
    e->cap = e->used = 0;
    e->free_head = ENGINE_NONE;
}

static void grow(struct engine *e)
{
    if (e->cap >= ENGINE_MAX_RECORDS)
        out_of_memory((size_t)e->cap + 1, e->rec_size);
    size_t cap = (size_t)e->cap * 2;
    if (cap > ENGINE_MAX_RECORDS)
        cap = ENGINE_MAX_RECORDS;
    if (cap > SIZE_MAX / e->rec_size)
        out_of_memory(cap, e->rec_size);
    unsigned char *pool = realloc(e->pool, cap * e->rec_size);
    if (!pool)
        out_of_memory(cap, e->rec_size);
    mem_advise_huge(pool, cap * e->rec_size);
    e->pool = pool;
    e->cap = (uint32_t)cap;
}

uint32_t engine_alloc(struct engine *e)
{
    uint32_t i = e->free_head;
    struct event *ev;
    if (i != ENGINE_NONE) {
        ev = engine_ev(e, i);
        e->free_head = (uint32_t)ev->arg;
    } else {
        if (e->used == e->cap)
            grow(e);
        i = e->used++;
        ev = engine_ev(e, i);
        ev->gen = 0;
    }
    ev->kind = 0;                     /* clears ENGINE_CANCELLED */
    return i;
}

void engine_schedule(struct engine *e, uint32_t i, int64_t t)
{
    if (t < 0) {
        fprintf(stderr, "p2plab: internal error: event of kind %u scheduled at %lld us, before "
                        "the start of time\n", engine_ev(e, i)->kind, (long long)t);
        abort();
    }
    struct qkey k = { .time = t < QUEUE_TIME_MAX ? t : QUEUE_TIME_MAX, .seq = e->seq++, .ev = i };
    queue_push(&e->q, k);                /* cannot fail: the time is in range */
}

void engine_release(struct engine *e, uint32_t i)
{
    struct event *ev = engine_ev(e, i);
    ev->gen++;
    ev->arg = e->free_head;
    e->free_head = i;
}

uint32_t engine_next(struct engine *e, int64_t until)
{
    struct qkey k;
    while (queue_peek(&e->q, &k) && k.time <= until) {
        queue_pop(&e->q, &k);
        uint32_t ahead = queue_ahead(&e->q, ENGINE_PREFETCH);
        if (ahead != UINT32_MAX) {        /* its header may straddle two lines */
            const char *r = (const char *)engine_ev(e, ahead);
            __builtin_prefetch(r);
            __builtin_prefetch(r + sizeof(struct event) - 1);
        }
        struct event *ev = engine_ev(e, k.ev);
        if (ev->kind & ENGINE_CANCELLED) {
            engine_release(e, k.ev);
            e->stale++;
            continue;
        }
        e->now = k.time;
        e->processed++;
        return k.ev;
    }
    return ENGINE_NONE;
}

void engine_cancel(struct engine *e, uint64_t handle)
{
    uint32_t i = (uint32_t)handle;
    uint32_t gen = (uint32_t)(handle >> 32);
    if (i >= e->used)
        return;
    struct event *ev = engine_ev(e, i);
    if (ev->gen != gen || (ev->kind & ENGINE_CANCELLED))
        return;
    ev->gen++;
    ev->kind |= ENGINE_CANCELLED;
}
