/* queue.c — the pending-event set: an implicit 4-ary min-heap of packed (time, seq, ev) keys.
 *
 * Layout: heap[0] is the minimum; the children of slot i are 4i+1 .. 4i+4, its parent
 * (i-1)/4. Invariant: no slot is smaller than its parent. A 4-ary heap is half as deep as a
 * binary one, and with 16-byte slots and &heap[1] on a 64-byte boundary every family of four
 * children is exactly one cache line (LaMarca & Ladner, "The influence of caches on the
 * performance of heaps", 1996), so a pop touches one line per level.
 *
 * Sifting moves a hole, not the key: each step copies one slot into the hole and the key being
 * placed is written once, at the end. The four children are compared without branches (their
 * order is data, not something a predictor can learn), and while a pop compares one family it
 * prefetches the four families below it, so the next level is on its way from memory.
 *
 * Slots are unsigned 128-bit numbers time : seq : ev (see queue.h), so `<` is the order. */
#include "sim/queue.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

#define ARITY 4
#define LINE 64                            /* bytes in a cache line: one family of 4 slots */
_Static_assert(ARITY * sizeof(qslot) == LINE, "a family of children must fill one line");

static inline qslot pack(struct qkey k)
{
    uint64_t hi = (uint64_t)k.time << 16 | (k.seq & QUEUE_SEQ_MASK) >> 32;
    uint64_t lo = k.seq << 32 | k.ev;
    return (qslot)hi << 64 | lo;
}

/* Sets the room to `cap` slots, keeping the keys and the line alignment of &heap[1]. */
static int resize(struct queue *q, size_t cap)
{
    if (cap > (SIZE_MAX - LINE) / sizeof(qslot))
        return -1;
    size_t old_off = q->mem ? (size_t)((char *)q->heap - (char *)q->mem) : 0;
    size_t bytes = cap * sizeof(qslot) + LINE;
    char *mem = realloc(q->mem, bytes);
    if (!mem)
        return -1;
    /* heap + 1 on a line boundary: heap sits one slot before it. malloc aligns to 16 bytes. */
    size_t off = (LINE - ((uintptr_t)mem + sizeof(qslot)) % LINE) % LINE;
    if (off != old_off && q->len > 0)
        memmove(mem + off, mem + old_off, q->len * sizeof(qslot));
    mem_advise_huge(mem, bytes);
    q->mem = mem;
    q->heap = (qslot *)(void *)(mem + off);
    q->cap = cap;
    return 0;
}

int queue_init(struct queue *q, size_t cap_hint)
{
    q->heap = NULL;
    q->mem = NULL;
    q->len = q->cap = 0;
    return resize(q, cap_hint < ARITY ? ARITY : cap_hint);
}

void queue_free(struct queue *q)
{
    free(q->mem);
    q->mem = NULL;
    q->heap = NULL;
    q->len = q->cap = 0;
}

int queue_push(struct queue *q, struct qkey k)
{
    if (k.time < 0 || k.time > QUEUE_TIME_MAX)
        return -1;
    if (q->len == q->cap && (q->cap > SIZE_MAX / 2 || resize(q, 2 * q->cap) != 0))
        return -1;
    qslot *h = q->heap, s = pack(k);
    size_t hole = q->len++;
    while (hole > 0) {
        size_t parent = (hole - 1) / ARITY;
        if (!(s < h[parent]))
            break;
        h[hole] = h[parent];
        hole = parent;
    }
    h[hole] = s;
    return 0;
}

bool queue_pop(struct queue *q, struct qkey *out)
{
    if (q->len == 0)
        return false;
    qslot *h = q->heap;
    *out = queue_unpack(h[0]);
    size_t n = --q->len;
    if (n == 0)
        return true;
    qslot last = h[n];                     /* re-placed from the root down */
    size_t hole = 0;
    for (;;) {
        size_t c = ARITY * hole + 1, m;    /* first child; the smallest child */
        if (c + ARITY <= n) {
            size_t g = ARITY * c + 1;      /* the grandchildren: four lines */
            if (g < n) {
                const char *below = (const char *)&h[g];
                __builtin_prefetch(below);
                __builtin_prefetch(below + LINE);
                __builtin_prefetch(below + 2 * LINE);
                __builtin_prefetch(below + 3 * LINE);
            }
            size_t m01 = h[c + 1] < h[c] ? c + 1 : c;
            size_t m23 = h[c + 3] < h[c + 2] ? c + 3 : c + 2;
            m = h[m23] < h[m01] ? m23 : m01;
        } else if (c < n) {                /* the last family, partly filled */
            m = c;
            for (size_t j = c + 1; j < n; j++)
                if (h[j] < h[m])
                    m = j;
        } else {
            break;
        }
        if (!(h[m] < last))
            break;
        h[hole] = h[m];
        hole = m;
    }
    h[hole] = last;
    return true;
}
