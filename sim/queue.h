/* queue.h — the pending-event set: an implicit 4-ary min-heap of compact keys.
 *
 * Keys are ordered by (time, seq); seq is the insertion sequence number the caller assigns, so
 * equal times pop in insertion order and a run is deterministic. A key carries the index of its
 * event in the caller's event pool, never the event itself: the heap moves 24-byte keys only.
 * The heap grows by doubling; nothing is allocated per event. */
#ifndef P2PLAB_QUEUE_H
#define P2PLAB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qkey {
    int64_t time;                     /* microseconds */
    uint64_t seq;                     /* insertion sequence: ties break by it */
    uint32_t ev;                      /* index into the event pool */
};

struct queue {
    struct qkey *heap;
    size_t len, cap;
};

int queue_init(struct queue *q, size_t cap_hint);          /* 0 or -1 (out of memory) */
void queue_free(struct queue *q);
int queue_push(struct queue *q, struct qkey k);            /* 0 or -1 (out of memory) */
bool queue_pop(struct queue *q, struct qkey *out);         /* false when empty */
static inline size_t queue_len(const struct queue *q) { return q->len; }
static inline bool queue_peek(const struct queue *q, struct qkey *out)
{
    if (q->len == 0)
        return false;
    *out = q->heap[0];
    return true;
}

#endif
