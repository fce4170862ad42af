/* queue.h — the pending-event set: an implicit 4-ary min-heap of compact keys.
 *
 * Keys are ordered by (time, seq); seq is the insertion sequence number the caller assigns, so
 * equal times pop in insertion order and a run is deterministic. A key carries the index of its
 * event in the caller's event pool, never the event itself.
 *
 * Inside, a key is packed into one 16-byte slot, time (48 bits) : seq (48 bits) : ev (32 bits),
 * so one unsigned 128-bit comparison orders slots by (time, seq) and a family of four children
 * fills one 64-byte cache line. PHOLD with 10^6 pending events runs about 1.7 times faster than
 * with 24-byte {time, seq, ev} keys (docs/performance.md). The price is the range: a key's time
 * must lie in [0, QUEUE_TIME_MAX] (2^48 - 1 us, about 8.9 years), and seq is kept modulo 2^48
 * (2.8e14 insertions: months of wall time at 10^7 events/s).
 * The heap grows by doubling; nothing is allocated per event. */
#ifndef P2PLAB_QUEUE_H
#define P2PLAB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "sim/queue.h needs unsigned __int128 (GCC or Clang on a 64-bit target)"
#endif

#define QUEUE_TIME_MAX ((INT64_C(1) << 48) - 1)   /* microseconds */
#define QUEUE_SEQ_MASK ((UINT64_C(1) << 48) - 1)

struct qkey {
    int64_t time;                     /* microseconds, 0 .. QUEUE_TIME_MAX */
    uint64_t seq;                     /* insertion sequence: ties break by it (mod 2^48) */
    uint32_t ev;                      /* index into the event pool */
};

/* A packed key: time << 80 | (seq mod 2^48) << 32 | ev. */
__extension__ typedef unsigned __int128 qslot;

struct queue {
    qslot *heap;                      /* heap[0] is the minimum; &heap[1] is 64-byte aligned */
    void *mem;                        /* the allocation heap points into */
    size_t len, cap;                  /* keys held, keys room */
};

int queue_init(struct queue *q, size_t cap_hint);          /* 0 or -1 (out of memory) */
void queue_free(struct queue *q);
/* 0, or -1 when out of memory or k.time is outside [0, QUEUE_TIME_MAX]. */
int queue_push(struct queue *q, struct qkey k);
bool queue_pop(struct queue *q, struct qkey *out);         /* false when empty */
static inline size_t queue_len(const struct queue *q) { return q->len; }
static inline struct qkey queue_unpack(qslot s)
{
    uint64_t hi = (uint64_t)(s >> 64), lo = (uint64_t)s;
    return (struct qkey){ .time = (int64_t)(hi >> 16),
                          .seq = (hi & 0xffff) << 32 | lo >> 32,
                          .ev = (uint32_t)lo };
}
static inline bool queue_peek(const struct queue *q, struct qkey *out)
{
    if (q->len == 0)
        return false;
    *out = queue_unpack(q->heap[0]);
    return true;
}

#endif
