/* engine.h — the clock, the event pools and the dispatch loop.
 *
 * An event is a record: the 56-byte header (struct event), then its message body. Records come
 * in size classes, each a pool of equal records with its own free list: class 0 has no body
 * (timers, RPC timeouts, churn, workload), class c >= 1 holds bodies up to 8 * 2^(c-1) bytes,
 * and the last class the run's largest body. So a pending event costs its header plus at most
 * twice its body (8 bytes at least), not the largest body of the run. A record's 32-bit index carries its class in
 * the top ENGINE_CLASS_BITS bits and its place in that pool below, so the queue's keys stay
 * (time, seq, index) in 16 bytes. Each record has a generation, bumped when the record is
 * freed or cancelled, so a handle (index, generation) names one event for lazy cancellation. */
#ifndef P2PLAB_ENGINE_H
#define P2PLAB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/queue.h"
#include "sim/sim.h"

enum ev_kind {
    EV_MESSAGE,                       /* delivery of a message to node */
    EV_TIMER,                         /* a protocol timer */
    EV_RPC_TIMEOUT,                   /* an RPC's timeout at its sender */
    EV_CHURN,                         /* a node goes up or down */
    EV_SCHEDULED,                     /* a scenario event (mass crash, joins, maintenance) */
    EV_LOOKUP,                        /* the workload issues the next lookup */
    EV_LOOKUP_DEADLINE,               /* a lookup's time is up */
    EV_SAMPLE,                        /* time-series sample */
    EV_INTRODUCER,                    /* a message to the introducer */
    EV_INSERT,                        /* the workload inserts its keys (start: join) */
    EV_DEPART,                        /* a node leaves by its own choice (sim_depart) */
    EV_FLOW_END,                      /* a bulk transfer's last byte leaves (net_transfer) */
    EV_BENCH,                         /* PHOLD benchmark event */
    EV_KIND_COUNT
};

/* The fixed header of every event record; a message body of up to body_max bytes follows. */
struct event {
    uint32_t gen;                     /* generation, for handles and lazy cancellation */
    uint8_t kind;                     /* enum ev_kind */
    uint8_t cat;                      /* message category */
    uint16_t type;                    /* message type / timer kind */
    node_t node;                      /* the node it happens at */
    uint32_t inc;                     /* that node's incarnation it is meant for */
    struct addr src;                  /* message sender */
    uint32_t size;                    /* bytes on the wire */
    uint32_t lookup;                  /* lookup id or LOOKUP_NONE */
    uint32_t req;                     /* request: rpc record index + 1; 0 if none */
    uint32_t rep;                     /* reply: rpc record index + 1; 0 if none */
    uint32_t rpc_gen;                 /* generation of that rpc record */
    uint32_t len;                     /* body bytes */
    uint64_t arg;                     /* timer argument / misc */
};

/* engine_next prefetches the record of the event this many places ahead; the dispatcher
 * (sim.c) prefetches the state of that event's node when it is half as far. */
#define ENGINE_PREFETCH 8

#define ENGINE_CLASS_BITS 4
#define ENGINE_CLASSES (1u << ENGINE_CLASS_BITS)
#define ENGINE_SLOT_BITS (32 - ENGINE_CLASS_BITS)
#define ENGINE_SLOT_MASK ((UINT32_C(1) << ENGINE_SLOT_BITS) - 1)

struct engine_pool {                  /* the records of one size class */
    unsigned char *rec;               /* cap records of size bytes */
    size_t size;                      /* bytes per record: header + body room, a multiple of 8 */
    uint32_t cap, used;               /* records allocated, records ever handed out */
    uint32_t free_head;               /* free list through the record's `arg`; UINT32_MAX = none */
};

struct engine {
    struct queue q;
    struct engine_pool pool[ENGINE_CLASSES];
    size_t body_max;                  /* the largest body a record may hold */
    uint64_t seq;                     /* next insertion sequence */
    int64_t now;                      /* microseconds */
    uint64_t processed;               /* events popped and dispatched */
    uint64_t stale;                   /* events popped but dropped (cancelled, dead node) */
};

/* Set in `kind` by engine_cancel; engine.c's own business (kinds stay below it). */
#define ENGINE_CANCELLED 0x80u
_Static_assert(EV_KIND_COUNT <= ENGINE_CANCELLED, "enum ev_kind collides with ENGINE_CANCELLED");

/* 0, or -1 when body_max is absurd (> 1 GiB). cap_hint: records of class 0 to make room for.
 * Exits with a message when memory runs out. */
int engine_init(struct engine *e, size_t body_max, size_t cap_hint);
void engine_free(struct engine *e);
/* A fresh record with room for a body of `len` <= body_max bytes (gen kept, kind 0, the other
 * fields as last left); returns its index, or exits with a message when memory runs out. A pool
 * may move when it grows: a pointer from engine_ev or engine_body is valid only until the next
 * engine_alloc; keep indices or handles across it, never pointers. */
uint32_t engine_alloc(struct engine *e, size_t len);
static inline struct event *engine_ev(struct engine *e, uint32_t i)
{
    const struct engine_pool *p = &e->pool[i >> ENGINE_SLOT_BITS];
    return (struct event *)(p->rec + (size_t)(i & ENGINE_SLOT_MASK) * p->size);
}
static inline void *engine_body(struct engine *e, uint32_t i)
{
    return (unsigned char *)engine_ev(e, i) + sizeof(struct event);
}
/* Bytes of record room the pools hold (allocated, touched or not), for reports. */
size_t engine_pool_bytes(const struct engine *e);
/* Queues record i at absolute time t >= 0 (negative: an internal error, aborts). A time past
 * QUEUE_TIME_MAX (2^48 - 1 us, about 8.9 years) is queued as QUEUE_TIME_MAX. */
void engine_schedule(struct engine *e, uint32_t i, int64_t t);
/* Pops the next live record: sets e->now and returns its index, or UINT32_MAX when empty or
 * past `until`. The caller dispatches it and then calls engine_release. */
uint32_t engine_next(struct engine *e, int64_t until);
void engine_release(struct engine *e, uint32_t i);
/* Handle of a queued record, and cancellation through it. */
static inline uint64_t engine_handle(struct engine *e, uint32_t i)
{
    return ((uint64_t)engine_ev(e, i)->gen << 32) | i;
}
void engine_cancel(struct engine *e, uint64_t handle);

#endif
