/* queue.h — the pending-event set: a radix heap of compact keys.
 *
 * Keys are ordered by (time, seq); seq is the insertion sequence number the caller assigns, so
 * equal times pop in insertion order and a run is deterministic. A key carries the index of its
 * event in the caller's event pool, never the event itself.
 *
 * A key is packed into one 16-byte slot, time (48 bits) : seq (48 bits) : ev (32 bits), so one
 * unsigned 128-bit comparison orders slots by (time, seq). The price is the range: a key's time
 * must lie in [0, QUEUE_TIME_MAX] (2^48 - 1 us, about 8.9 years), and seq is kept modulo 2^48
 * (2.8e14 insertions: months of wall time at 10^7 events/s).
 *
 * The slots live in buckets by how far their time is from `last`, the time of the smallest key
 * taken out so far (a radix heap: Ahuja, Mehlhorn, Orlin and Tarjan, "Faster algorithms for the
 * shortest path problem", JACM 1990): bucket 0 holds the times <= last in (time, seq) order,
 * ready to pop from its front; bucket b >= 1 holds the times whose highest bit differing from
 * last is bit b - 1, unsorted. When bucket 0 runs dry, the lowest non-empty bucket is split
 * around its smallest time, which becomes the new `last`: every key moves to a lower bucket, so
 * a key moves at most 48 times and, in practice, a few. Every step reads and appends arrays in
 * order, where a heap's pop walks log(n) levels at random; PHOLD at 10^6 pending events runs
 * several times faster (docs/performance.md). Pushing a time below `last` is allowed and goes
 * into bucket 0 in order (O(length of bucket 0)); the engine never does it.
 *
 * Bucket 0 is one array; the others are lists of 4 KiB blocks from one pool with a free list,
 * so the slots take the room of the keys held (plus a block per bucket), not of each bucket's
 * largest size. Nothing is allocated per event. */
#ifndef P2PLAB_QUEUE_H
#define P2PLAB_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "sim/queue.h needs unsigned __int128 (GCC or Clang on a 64-bit target)"
#endif

#define QUEUE_TIME_BITS 48
#define QUEUE_TIME_MAX ((INT64_C(1) << QUEUE_TIME_BITS) - 1)   /* microseconds */
#define QUEUE_SEQ_MASK ((UINT64_C(1) << 48) - 1)
#define QUEUE_BUCKETS (QUEUE_TIME_BITS + 1)

struct qkey {
    int64_t time;                     /* microseconds, 0 .. QUEUE_TIME_MAX */
    uint64_t seq;                     /* insertion sequence: ties break by it (mod 2^48) */
    uint32_t ev;                      /* index into the event pool */
};

/* A packed key: time << 80 | (seq mod 2^48) << 32 | ev. */
__extension__ typedef unsigned __int128 qslot;

#define QUEUE_BLOCK 256               /* slots per block of a bucket: 4 KiB */

struct qbucket {                      /* a list of blocks, all full but the tail */
    uint32_t head, tail;              /* first and last block */
    uint32_t tail_len;                /* slots used in the tail; QUEUE_BLOCK when empty */
    size_t len;                       /* slots held */
};

struct queue {
    qslot *z;                         /* bucket 0: times <= last, sorted; pops from z[head] */
    size_t z_len, z_cap, head;
    struct qbucket b[QUEUE_BUCKETS];  /* b[1 .. QUEUE_BUCKETS - 1]; b[0] is unused */
    qslot *blocks;                    /* n_blocks blocks of QUEUE_BLOCK slots, one allocation */
    uint32_t *next;                   /* the next block of a bucket, or of the free list */
    uint32_t n_blocks, free, n_free;  /* blocks, the free list and its length */
    size_t len;                       /* keys held in all buckets */
    int64_t last;                     /* the time buckets >= 1 are measured from */
    uint64_t full;                    /* bit i set when b[i] (i >= 1) holds a key */
};

int queue_init(struct queue *q, size_t cap_hint);          /* 0 or -1 (out of memory) */
void queue_free(struct queue *q);
/* 0, or -1 when out of memory or k.time is outside [0, QUEUE_TIME_MAX]. */
int queue_push(struct queue *q, struct qkey k);
bool queue_pop(struct queue *q, struct qkey *out);         /* false when empty */
/* Shows the smallest key and leaves it queued (it may reorganise the buckets to find it). */
bool queue_peek(struct queue *q, struct qkey *out);        /* false when empty */
/* Bytes of slot room the buckets hold, for the benchmark's report. */
size_t queue_bytes(const struct queue *q);
static inline size_t queue_len(const struct queue *q) { return q->len; }
/* The event index of a key about k places after the smallest, or UINT32_MAX when fewer keys
 * are held: a hint for prefetching, which costs no work. Within bucket 0 it is exactly the k-th;
 * beyond it, it counts on through the other buckets in order, each in the order its keys were
 * stored (all of a bucket comes before the next, but a bucket is not sorted), looking no
 * further than a bucket's first block. In a large run bucket 0 rarely holds more than the
 * next time's events, while the lowest buckets hold the next few microseconds'. */
static inline uint32_t queue_ahead(const struct queue *q, size_t k)
{
    size_t j = q->head + k;
    if (j < q->z_len)
        return (uint32_t)q->z[j];
    k = j - q->z_len;
    for (uint64_t full = q->full; full; full &= full - 1) {
        const struct qbucket *b = &q->b[__builtin_ctzll(full)];
        if (k < b->len)
            return k < QUEUE_BLOCK ? (uint32_t)q->blocks[(size_t)b->head * QUEUE_BLOCK + k] : UINT32_MAX;
        k -= b->len;
    }
    return UINT32_MAX;
}
static inline struct qkey queue_unpack(qslot s)
{
    uint64_t hi = (uint64_t)(s >> 64), lo = (uint64_t)s;
    return (struct qkey){ .time = (int64_t)(hi >> 16),
                          .seq = (hi & 0xffff) << 32 | lo >> 32,
                          .ev = (uint32_t)lo };
}

#endif
