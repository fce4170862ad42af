/* queue.c — the pending-event set: a radix heap of packed (time, seq, ev) keys (see queue.h).
 *
 * Invariants: every slot of bucket 0 has time <= last, and z[head .. z_len) is sorted by
 * (time, seq); every slot of b[i], i >= 1, has time > last with the highest bit of time ^ last
 * at position i - 1, so all of b[i] is smaller than all of b[i + 1], and b[0] smaller than both.
 * `full` has bit i set exactly when b[i] is not empty (i >= 1).
 *
 * Order within a bucket costs nothing when seq grows with every push, as the engine's does:
 * a bucket is split only when every bucket below it is empty, so each lower bucket receives a
 * subsequence of it, in order, and later pushes append larger seqs. By induction every bucket
 * is in seq order, and the slots that land in b[0] (one time) are already sorted. refill checks
 * this in one pass and sorts when a caller pushed seqs out of order. */
#include "sim/queue.h"

#include <stdlib.h>
#include <string.h>

#include "sim/mem.h"

#define NONE UINT32_MAX
#define FIRST_CAP 64                       /* slots of bucket 0's first allocation */

static inline qslot pack(struct qkey k)
{
    uint64_t hi = (uint64_t)k.time << 16 | (k.seq & QUEUE_SEQ_MASK) >> 32;
    uint64_t lo = k.seq << 32 | k.ev;
    return (qslot)hi << 64 | lo;
}

static inline uint64_t slot_time(qslot s) { return (uint64_t)(s >> 80); }

/* The bucket of a time t > last: one more than the highest bit where they differ. */
static inline unsigned bucket_of(uint64_t t, uint64_t last)
{
    return 64u - (unsigned)__builtin_clzll(t ^ last);
}

/* ---- the block pool ------------------------------------------------------------------------ */

/* Makes sure `want` blocks are free, so that no allocation moves the pool while a split reads
 * it. */
static void reserve(struct queue *q, size_t want)
{
    if (q->n_free >= want)
        return;
    size_t n = q->n_blocks ? (size_t)q->n_blocks : 16;
    while (n - q->n_blocks + q->n_free < want)
        n *= 2;
    if (n > NONE)
        n = NONE;                          /* 2^32 blocks: 64 TiB of keys */
    q->blocks = mem_realloc(q->blocks, n * QUEUE_BLOCK, sizeof(qslot), "the event queue");
    mem_advise_huge(q->blocks, n * QUEUE_BLOCK * sizeof(qslot));
    q->next = mem_realloc(q->next, n, sizeof *q->next, "the event queue");
    for (size_t k = q->n_blocks; k < n; k++) {
        q->next[k] = q->free;
        q->free = (uint32_t)k;
    }
    q->n_free += (uint32_t)(n - q->n_blocks);
    q->n_blocks = (uint32_t)n;
}

static inline void block_free(struct queue *q, uint32_t k)
{
    q->next[k] = q->free;
    q->free = k;
    q->n_free++;
}

static inline void append(struct queue *q, unsigned i, qslot s)
{
    struct qbucket *b = &q->b[i];
    if (b->tail_len == QUEUE_BLOCK) {
        if (q->n_free == 0)
            reserve(q, 1);
        uint32_t k = q->free;
        q->free = q->next[k];
        q->n_free--;
        q->next[k] = NONE;
        if (b->len == 0)
            b->head = k;
        else
            q->next[b->tail] = k;
        b->tail = k;
        b->tail_len = 0;
    }
    q->blocks[(size_t)b->tail * QUEUE_BLOCK + b->tail_len++] = s;
    b->len++;
}

/* ---- bucket 0 ------------------------------------------------------------------------------ */

static inline void append0(struct queue *q, qslot s)
{
    if (q->z_len == q->z_cap) {
        q->z_cap = q->z_cap ? 2 * q->z_cap : FIRST_CAP;
        q->z = mem_realloc(q->z, q->z_cap, sizeof(qslot), "the event queue");
    }
    q->z[q->z_len++] = s;
}

/* A slot with time <= last joins bucket 0 in order: from the end, as it is nearly always the
 * largest (the engine pushes a time equal to last with the largest seq yet). */
static void insert_sorted(struct queue *q, qslot s)
{
    if (q->z_len == q->z_cap && q->head > 0) {   /* reuse the room before head first */
        memmove(q->z, q->z + q->head, (q->z_len - q->head) * sizeof(qslot));
        q->z_len -= q->head;
        q->head = 0;
    }
    append0(q, s);
    size_t j = q->z_len - 1;
    while (j > q->head && s < q->z[j - 1]) {
        q->z[j] = q->z[j - 1];
        j--;
    }
    q->z[j] = s;
}

static void sort_slots(qslot *a, size_t n)     /* insertion sort: the rare out-of-order case */
{
    for (size_t i = 1; i < n; i++) {
        qslot s = a[i];
        size_t j = i;
        while (j > 0 && s < a[j - 1]) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = s;
    }
}

/* ---- the interface ------------------------------------------------------------------------- */

int queue_init(struct queue *q, size_t cap_hint)
{
    (void)cap_hint;                        /* the pool grows as buckets fill */
    memset(q, 0, sizeof *q);
    q->free = NONE;
    for (int i = 0; i < QUEUE_BUCKETS; i++)
        q->b[i] = (struct qbucket){ .head = NONE, .tail = NONE, .tail_len = QUEUE_BLOCK };
    return 0;
}

void queue_free(struct queue *q)
{
    free(q->z);
    free(q->blocks);
    free(q->next);
    memset(q, 0, sizeof *q);
}

size_t queue_bytes(const struct queue *q)
{
    return (q->z_cap + (size_t)q->n_blocks * QUEUE_BLOCK) * sizeof(qslot);
}

int queue_push(struct queue *q, struct qkey k)
{
    if (k.time < 0 || k.time > QUEUE_TIME_MAX)
        return -1;
    qslot s = pack(k);
    uint64_t t = (uint64_t)k.time, last = (uint64_t)q->last;
    if (t > last) {
        unsigned i = bucket_of(t, last);
        append(q, i, s);
        q->full |= UINT64_C(1) << i;
    } else {
        insert_sorted(q, s);
    }
    q->len++;
    return 0;
}

/* Bucket 0 is used up: splits the lowest non-empty bucket around its smallest time. False when
 * the queue is empty. */
static bool refill(struct queue *q)
{
    q->head = q->z_len = 0;
    if (q->full == 0)
        return false;
    unsigned i = (unsigned)__builtin_ctzll(q->full);
    struct qbucket from = q->b[i];
    q->b[i] = (struct qbucket){ .head = NONE, .tail = NONE, .tail_len = QUEUE_BLOCK };
    q->full &= ~(UINT64_C(1) << i);
    uint64_t m = UINT64_MAX;
    for (uint32_t k = from.head; k != NONE; k = q->next[k]) {
        const qslot *a = q->blocks + (size_t)k * QUEUE_BLOCK;
        uint32_t n = k == from.tail ? from.tail_len : QUEUE_BLOCK;
        for (uint32_t j = 0; j < n; j++) {
            uint64_t t = slot_time(a[j]);
            m = t < m ? t : m;
        }
    }
    q->last = (int64_t)m;
    /* Each block read is freed before the next: while block r + 1 is read, the lower buckets
     * hold at most r + 1 blocks of keys plus one partial block each (i - 1 buckets), and r
     * blocks have come back, so i + 1 free blocks at the start are enough for the pool never
     * to move while the split reads it. */
    reserve(q, i + 1);
    for (uint32_t k = from.head, next; k != NONE; k = next) {
        const qslot *a = q->blocks + (size_t)k * QUEUE_BLOCK;
        uint32_t n = k == from.tail ? from.tail_len : QUEUE_BLOCK;
        for (uint32_t j = 0; j < n; j++) {
            uint64_t t = slot_time(a[j]);
            if (t == m)
                append0(q, a[j]);
            else
                append(q, bucket_of(t, m), a[j]);
        }
        next = q->next[k];
        block_free(q, k);
    }
    for (unsigned j = 1; j < i; j++)
        if (q->b[j].len)
            q->full |= UINT64_C(1) << j;
    for (size_t k = 1; k < q->z_len; k++)
        if (q->z[k] < q->z[k - 1]) {
            sort_slots(q->z, q->z_len);
            break;
        }
    return true;
}

bool queue_pop(struct queue *q, struct qkey *out)
{
    if (q->head == q->z_len && !refill(q))
        return false;
    *out = queue_unpack(q->z[q->head++]);
    q->len--;
    return true;
}

bool queue_peek(struct queue *q, struct qkey *out)
{
    if (q->head == q->z_len && !refill(q))
        return false;
    *out = queue_unpack(q->z[q->head]);
    return true;
}
