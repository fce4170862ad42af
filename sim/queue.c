/* queue.c — the pending-event set: an implicit 4-ary min-heap of (time, seq, ev) keys.
 *
 * Layout: heap[0] is the minimum; the children of slot i are 4i+1 .. 4i+4, its parent
 * (i-1)/4. Invariant: no key is smaller, by (time, seq), than its parent. A 4-ary heap is half
 * as deep as a binary one and its four children sit next to each other, so a sift-down touches
 * about half as many cache lines (LaMarca & Ladner, "The influence of caches on the
 * performance of heaps", 1996).
 *
 * Sifting moves a hole, not the key: each step copies one key into the hole and the key being
 * placed is written once, at the end. A pop sifts the hole left at the root all the way down
 * to a leaf, always taking the smaller child, and then sifts the former last key up from
 * there (Floyd's bottom-up variant): the last key almost always belongs near the bottom, so
 * this saves one comparison per level against the classic sift-down. */
#include "sim/queue.h"

#include <stdlib.h>

#define ARITY 4

static inline bool key_less(const struct qkey *a, const struct qkey *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

/* Places k by moving the hole at `hole` up towards the root. */
static inline void sift_up(struct qkey *h, size_t hole, struct qkey k)
{
    while (hole > 0) {
        size_t parent = (hole - 1) / ARITY;
        if (!key_less(&k, &h[parent]))
            break;
        h[hole] = h[parent];
        hole = parent;
    }
    h[hole] = k;
}

int queue_init(struct queue *q, size_t cap_hint)
{
    size_t cap = cap_hint < ARITY ? ARITY : cap_hint;
    q->heap = malloc(cap * sizeof *q->heap);
    q->len = 0;
    q->cap = q->heap ? cap : 0;
    return q->heap ? 0 : -1;
}

void queue_free(struct queue *q)
{
    free(q->heap);
    q->heap = NULL;
    q->len = q->cap = 0;
}

static int grow(struct queue *q)
{
    if (q->cap > SIZE_MAX / 2 / sizeof *q->heap)
        return -1;
    size_t cap = q->cap ? 2 * q->cap : ARITY;
    struct qkey *h = realloc(q->heap, cap * sizeof *h);
    if (!h)
        return -1;
    q->heap = h;
    q->cap = cap;
    return 0;
}

int queue_push(struct queue *q, struct qkey k)
{
    if (q->len == q->cap && grow(q) != 0)
        return -1;
    sift_up(q->heap, q->len++, k);
    return 0;
}

bool queue_pop(struct queue *q, struct qkey *out)
{
    if (q->len == 0)
        return false;
    struct qkey *h = q->heap;
    *out = h[0];
    size_t n = --q->len;
    if (n == 0)
        return true;
    struct qkey last = h[n];
    /* Walk the hole down along the smaller children. */
    size_t hole = 0;
    for (;;) {
        size_t c = ARITY * hole + 1;
        if (c + ARITY <= n) {
            size_t m = c;
            if (key_less(&h[c + 1], &h[m])) m = c + 1;
            if (key_less(&h[c + 2], &h[m])) m = c + 2;
            if (key_less(&h[c + 3], &h[m])) m = c + 3;
            h[hole] = h[m];
            hole = m;
        } else {
            if (c < n) {                  /* a last, partly filled family */
                size_t m = c;
                for (size_t j = c + 1; j < n; j++)
                    if (key_less(&h[j], &h[m]))
                        m = j;
                h[hole] = h[m];
                hole = m;
            }
            break;
        }
    }
    sift_up(h, hole, last);
    return true;
}
