/* kit.h — the machinery every protocol needs, written once: message tables with their wire
 * sizes, send/RPC/reply wrappers, pools of operations in flight, the join back-off and
 * watchdog, and growable vectors.
 *
 * Nothing here knows any protocol, and nothing here may give a node more than its own state:
 * a pool record belongs to the node that allocated it (kit_pool_get refuses a context that
 * names another node's record), and a vector lives inside the node state that owns it. */
#ifndef P2PLAB_KIT_H
#define P2PLAB_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/sim.h"

#define KIT_NONE UINT32_MAX           /* no record, no index */

/* ==== message tables ===================================================================== */

/* A protocol lists its messages once, as an X-macro of (enum constant, fixed payload bytes,
 * bytes per list entry):
 *
 *     #define CHORD_MESSAGES(X)                                  \
 *         X(CHORD_MSG_PING_REQ, 0, 0)                           \
 *         X(CHORD_MSG_STAB_REP, WIRE_CONTACT + 1, WIRE_CONTACT)
 *     KIT_MSG_TABLE(chord, CHORD, CHORD_MESSAGES, CHORD_WIRE_OVERHEAD);
 *
 * which declares enum chord_msg (CHORD_MSG_PING_REQ, ..., CHORD_MSG_COUNT), chord_msg_name[]
 * (the constants' names: traces print the part after "_MSG_") and `chord_msgs`, the table that
 * kit_wire_size and the send wrappers read. OVERHEAD is what every message of the protocol
 * carries besides its payload (network and protocol headers). */
struct kit_wire {
    uint16_t fixed;                   /* payload bytes every message of the type carries */
    uint16_t entry;                   /* bytes per list entry */
};

struct kit_msgs {
    const char *const *name;          /* indexed by type */
    const struct kit_wire *wire;      /* indexed by type */
    uint32_t count;                   /* message types */
    uint32_t overhead;                /* header bytes of every message */
};

#define KIT_MSG_ENUM(id, fixed, entry) id,
#define KIT_MSG_NAME(id, fixed, entry) [id] = #id,
#define KIT_MSG_WIRE(id, fixed, entry) [id] = { (fixed), (entry) },

#define KIT_MSG_TABLE(p, P, LIST, OVERHEAD)                                                    \
    KIT_MSG_DECLARE(p, P, LIST);                                                               \
    KIT_MSG_TABLES(p, P, LIST, OVERHEAD)
/* The two halves, for a protocol whose internal header shows the types to its tests:
 *     KIT_MSG_DECLARE(chord, CHORD, CHORD_MESSAGES);                       (the header)
 *     KIT_MSG_TABLES(chord, CHORD, CHORD_MESSAGES, CHORD_WIRE_OVERHEAD);  (the .c file) */
#define KIT_MSG_DECLARE(p, P, LIST)                                                            \
    enum p##_msg { LIST(KIT_MSG_ENUM) P##_MSG_COUNT };                                         \
    extern const char *const p##_msg_name[P##_MSG_COUNT]
#define KIT_MSG_TABLES(p, P, LIST, OVERHEAD)                                                   \
    const char *const p##_msg_name[P##_MSG_COUNT] = { LIST(KIT_MSG_NAME) };                   \
    static const struct kit_wire p##_msg_wire[P##_MSG_COUNT] = { LIST(KIT_MSG_WIRE) };         \
    static const struct kit_msgs p##_msgs = { .name = p##_msg_name, .wire = p##_msg_wire,     \
                                              .count = P##_MSG_COUNT, .overhead = (OVERHEAD) }

/* Bytes on the wire: overhead + fixed + entries x entry. */
static inline uint32_t kit_wire_size(const struct kit_msgs *t, unsigned type, size_t entries)
{
    return (uint32_t)(t->overhead + t->wire[type].fixed + entries * t->wire[type].entry);
}

/* ==== sending ============================================================================ */

/* A message as the wrappers take it: its type, the lookup it serves (LOOKUP_NONE: maintenance;
 * the category follows from it; a reply takes its request's), its body, and the entries of its
 * list for the size on the wire. `extra` adds bytes the table cannot know (a second list). */
struct kit_out {
    unsigned type;
    uint32_t lookup;                  /* LOOKUP_NONE: a maintenance message */
    const void *body;
    size_t len;                       /* body bytes, <= the protocol's msg_body_max */
    size_t entries;                   /* list entries, for the size on the wire */
    size_t extra;                     /* bytes on the wire beyond the table's formula */
    bool route;                       /* a lookup's forwarding step toward the key's root
                                         (struct out's `route`: lookup.route_ratio) */
};

void kit_send(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
              const struct kit_out *o);
void kit_rpc(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
             const struct kit_out *o, int64_t timeout_us, uint64_t ctx0, uint64_t ctx1);
/* The reply serves the request's lookup and category, whatever o->lookup says. */
void kit_reply(struct sim *s, const struct kit_msgs *t, node_t n, const struct msg *req,
               const struct kit_out *o);
/* A bulk transfer (net_transfer) sized from the table. */
uint64_t kit_transfer(struct sim *s, const struct kit_msgs *t, node_t n, struct addr to,
                      const struct kit_out *o);

/* ==== operations in flight =============================================================== */

/* A pool of fixed-size records (lookups, searches, joins in flight), each owned by the node
 * that allocated it and named in RPC contexts by index and generation. Records live in one
 * block with a free list; freeing bumps the generation, so a context naming a freed or reused
 * record is recognised as stale. A protocol's `down` hook calls kit_pool_node_down, so that
 * every record a node owned is freed when it goes down: its replies and timeouts will never be
 * delivered. */
struct kit_op {                       /* the header every record starts with */
    node_t owner;                     /* the node running the operation */
    uint32_t gen;                     /* bumped when freed */
    uint32_t next_free;               /* free list (or, allocated, a parked list); KIT_NONE: end */
    uint32_t prev_own, next_own;      /* the owner's records, a doubly linked list */
    uint32_t live;                    /* 1 while allocated */
};

struct kit_pool {
    unsigned char *rec;               /* cap records of `size` bytes */
    size_t size;                      /* bytes per record, header included, 8-aligned */
    uint32_t cap, free_head, in_use;
    uint32_t *own_head;               /* per node slot: its first record, KIT_NONE if none */
    node_t slots;
    const char *what;                 /* for the out-of-memory message */
};

/* rec_size: the protocol's record, which starts with a struct kit_op. */
void kit_pool_init(struct kit_pool *p, size_t rec_size, uint32_t cap, node_t slots,
                   const char *what);
void kit_pool_free(struct kit_pool *p);
/* A fresh record owned by n, zeroed after its header. Pointers into the pool do not survive
 * this call: keep indices. */
uint32_t kit_pool_alloc(struct kit_pool *p, node_t n);
void kit_pool_release(struct kit_pool *p, uint32_t i);
static inline void *kit_pool_at(const struct kit_pool *p, uint32_t i)
{
    return p->rec + (size_t)i * p->size;
}
/* Record i as a handler reaches it: only its owner's handlers may (checked builds stop any
 * other node's, as sim_state does), besides setup, converge, gauges and teardown. */
static inline void *kit_pool_rec(const struct sim *s, const struct kit_pool *p, uint32_t i)
{
#ifdef P2PLAB_CHECK
    sim_check_local(s, ((const struct kit_op *)kit_pool_at(p, i))->owner);
#else
    (void)s;
#endif
    return kit_pool_at(p, i);
}
/* The context naming record i (generation << 32 | index). */
static inline uint64_t kit_pool_ctx(const struct kit_pool *p, uint32_t i)
{
    return (uint64_t)((const struct kit_op *)kit_pool_at(p, i))->gen << 32 | i;
}
/* The record a context names, if it is still allocated, the same one, and n's; else KIT_NONE. */
uint32_t kit_pool_get(const struct kit_pool *p, node_t n, uint64_t ctx);
/* n's records, newest first: for (i = kit_pool_first(p, n); i != KIT_NONE; i = kit_pool_next(p, i)) */
static inline uint32_t kit_pool_first(const struct kit_pool *p, node_t n) { return p->own_head[n]; }
static inline uint32_t kit_pool_next(const struct kit_pool *p, uint32_t i)
{
    return ((const struct kit_op *)kit_pool_at(p, i))->next_own;
}
/* Records parked at their owner, to be taken up later (lookups waiting for the node to join):
 * the list's head lives in the owner's state (KIT_NONE when empty), its links in the records.
 * kit_unpark takes the last one parked, or returns KIT_NONE when the list is empty. */
void kit_park(struct kit_pool *p, uint32_t *head, uint32_t i);
uint32_t kit_unpark(struct kit_pool *p, uint32_t *head);
/* Frees every record n owns (n went down). */
void kit_pool_node_down(struct kit_pool *p, node_t n);

/* ==== joining ============================================================================ */

/* The join back-off and the introducer watchdog, kept in the node's own state. */
#define KIT_BACKOFF_MAX 6             /* retries back off up to 2^6 times the base */

struct kit_join {
    uint8_t tries;                    /* consecutive failed attempts */
    uint8_t epoch;                    /* bumped per question to the introducer */
    uint8_t asking;                   /* waiting for the introducer's answer */
};

/* The delay before the next attempt: a jittered base x 2^min(tries, KIT_BACKOFF_MAX); counts
 * the attempt. */
int64_t kit_backoff(struct sim *s, struct kit_join *j, int64_t base_us);
/* Asks the introducer for contacts and arms timer `kind` (arg: the question's epoch) to ask
 * again after timeout_us if the answer, a message that may be lost, has not come. */
void kit_join_ask(struct sim *s, node_t n, struct kit_join *j, uint32_t kind, int64_t timeout_us);
/* The introducer answered: true if n was waiting for it (a second answer is dropped). */
bool kit_join_answered(struct kit_join *j);
/* Does `arg` (a watchdog's, or a join probe's epoch) name the question still awaited? */
bool kit_join_unanswered(const struct kit_join *j, uint64_t arg);
/* The watchdog fired with `arg`: true if its question is still unanswered, which is then given
 * up (a late answer is dropped); the caller asks again, after a back-off or at once. */
bool kit_join_timed_out(struct kit_join *j, uint64_t arg);

/* ==== vectors ============================================================================ */

/* A growable array kept in a node's state. Its buffer is the node's: the protocol frees it
 * in its `down` hook, since the engine zeroes the state when the slot comes up again. */
struct kit_vec {
    void *v;
    uint32_t n, cap;                  /* elements held, allocated */
};

/* Room for `want` elements of `elem` bytes (doubling from 8); exits naming `what` if memory
 * runs out. */
void kit_vec_reserve(struct kit_vec *v, uint32_t want, size_t elem, const char *what);
/* Opens a gap at position i and returns it (uninitialised). */
void *kit_vec_insert(struct kit_vec *v, uint32_t i, size_t elem, const char *what);
void kit_vec_remove(struct kit_vec *v, uint32_t i, size_t elem);
void kit_vec_free(struct kit_vec *v);
/* The first position whose 64-bit key (at offset 0 of each element) is >= key. */
uint32_t kit_vec_lower_bound(const struct kit_vec *v, size_t elem, uint64_t key);

/* ==== randomness ========================================================================= */

/* 64 random bits from the protocol's stream: two 32-bit draws, the high word first (in two
 * statements: C leaves the order of two calls within one expression unspecified). */
uint64_t kit_rand64(struct sim *s);

/* ==== periodic timers ==================================================================== */

/* A uniform phase in [0, period): when the first round of a node that has been running for a
 * while (a converged start) falls. */
int64_t kit_phase(struct sim *s, int64_t period_us);

/* ==== time =============================================================================== */

/* Milliseconds since the start, 64-bit: a scenario may last a year. */
static inline int64_t kit_now_ms(const struct sim *s) { return sim_now(s) / 1000; }

#endif
