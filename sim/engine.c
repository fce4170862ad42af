/* engine.c — the clock, the pools of event records and the pop loop.
 *
 * Each size class is one array of `cap` records of `size` bytes (the struct event header, then
 * the class's body room). Records 0 .. used-1 of a class have been handed out at least once;
 * the free ones among them form a singly linked list threaded through `arg`, headed by
 * free_head, in the class's own numbering. Records past `used` have never been touched. A pool
 * doubles when it is full; an index is class << ENGINE_SLOT_BITS | place.
 *
 * Cancellation is lazy: engine_cancel bumps the record's generation (so the handle, and any
 * copy of it, goes stale) and sets ENGINE_CANCELLED in `kind`; the key stays in the queue and
 * engine_next releases the record when it comes up, counting it in `stale`.
 *
 * Records are visited in time order, which is random in memory: engine_next prefetches the
 * record of the event ENGINE_PREFETCH places ahead (sim.c then prefetches the state of that
 * event's node when it is half as far), and a large pool asks for huge pages. */
#include "sim/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

#define ENGINE_NONE UINT32_MAX
#define ENGINE_MAX_RECORDS ENGINE_SLOT_MASK  /* per class; the last place of the last class
                                                would be UINT32_MAX, "none" */
#define ENGINE_FIRST_CAP 1024                /* records of a class's first allocation */
#define ENGINE_BODY_MIN 8                    /* body room of class 1; each class doubles it */

_Static_assert(sizeof(struct event) % 8 == 0, "records stay 8-byte aligned");

_Noreturn static void out_of_memory(size_t records, size_t rec_size)
{
    fprintf(stderr, "p2plab: out of memory allocating the event pool (%zu records of %zu bytes)\n",
            records, rec_size);
    exit(1);
}

/* The class whose body room is the smallest that holds len bytes. */
static inline unsigned class_of(size_t len)
{
    if (len == 0)
        return 0;
    if (len <= ENGINE_BODY_MIN)
        return 1;
    unsigned c = 1 + (64u - (unsigned)__builtin_clzll((unsigned long long)(len - 1) / ENGINE_BODY_MIN));
    return c < ENGINE_CLASSES ? c : ENGINE_CLASSES - 1;
}

static void pool_resize(struct engine_pool *p, size_t cap)
{
    if (cap > ENGINE_MAX_RECORDS)
        cap = ENGINE_MAX_RECORDS;
    if (cap > SIZE_MAX / p->size)
        out_of_memory(cap, p->size);
    unsigned char *rec = realloc(p->rec, cap * p->size);
    if (!rec)
        out_of_memory(cap, p->size);
    mem_advise_huge(rec, cap * p->size);
    p->rec = rec;
    p->cap = (uint32_t)cap;
}

int engine_init(struct engine *e, size_t body_max, size_t cap_hint)
{
    memset(e, 0, sizeof *e);
    if (body_max > (size_t)1 << 30)
        return -1;
    e->body_max = body_max;
    for (unsigned c = 0; c < ENGINE_CLASSES; c++) {
        struct engine_pool *p = &e->pool[c];
        size_t room = c == 0 ? 0 : (size_t)ENGINE_BODY_MIN << (c - 1);
        if (c == ENGINE_CLASSES - 1 && room < body_max)
            room = (body_max + 7) & ~(size_t)7;
        p->size = sizeof(struct event) + room;
        p->free_head = ENGINE_NONE;
    }
    pool_resize(&e->pool[0], cap_hint < ENGINE_FIRST_CAP ? ENGINE_FIRST_CAP : cap_hint);
    queue_init(&e->q, cap_hint);
    return 0;
}

void engine_free(struct engine *e)
{
    queue_free(&e->q);
    for (unsigned c = 0; c < ENGINE_CLASSES; c++) {
        free(e->pool[c].rec);
        e->pool[c] = (struct engine_pool){ .free_head = ENGINE_NONE };
    }
}

size_t engine_pool_bytes(const struct engine *e)
{
    size_t n = 0;
    for (unsigned c = 0; c < ENGINE_CLASSES; c++)
        n += (size_t)e->pool[c].cap * e->pool[c].size;
    return n;
}

uint32_t engine_alloc(struct engine *e, size_t len)
{
    unsigned c = class_of(len);
    struct engine_pool *p = &e->pool[c];
    uint32_t k = p->free_head;
    struct event *ev;
    if (k != ENGINE_NONE) {
        ev = (struct event *)(p->rec + (size_t)k * p->size);
        p->free_head = (uint32_t)ev->arg;
    } else {
        if (p->used == p->cap) {
            if (p->cap >= ENGINE_MAX_RECORDS)
                out_of_memory((size_t)p->cap + 1, p->size);
            pool_resize(p, p->cap ? (size_t)p->cap * 2 : ENGINE_FIRST_CAP);
        }
        k = p->used++;
        ev = (struct event *)(p->rec + (size_t)k * p->size);
        ev->gen = 0;
    }
    ev->kind = 0;                     /* clears ENGINE_CANCELLED */
    return (uint32_t)c << ENGINE_SLOT_BITS | k;
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
    struct engine_pool *p = &e->pool[i >> ENGINE_SLOT_BITS];
    struct event *ev = engine_ev(e, i);
    ev->gen++;
    ev->arg = p->free_head;
    p->free_head = i & ENGINE_SLOT_MASK;
}

uint32_t engine_next(struct engine *e, int64_t until)
{
    struct qkey k;
    while (queue_peek(&e->q, &k) && k.time <= until) {
        queue_pop(&e->q, &k);
        /* Prefetch the record of an event a few places ahead (queue_ahead: exact in bucket 0,
         * else from the lowest buckets, which hold the next microseconds' events). */
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
    if ((i & ENGINE_SLOT_MASK) >= e->pool[i >> ENGINE_SLOT_BITS].used)
        return;
    struct event *ev = engine_ev(e, i);
    if (ev->gen != gen || (ev->kind & ENGINE_CANCELLED))
        return;
    ev->gen++;
    ev->kind |= ENGINE_CANCELLED;
}
