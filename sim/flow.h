/* flow.h — the flow-level bandwidth model: bulk transfers sharing the hosts' access links.
 *
 * Each host has an upload and a download capacity (bytes per second). A flow carries one
 * message of `size` bytes from a sender host to a receiver host; its rate is
 *
 *     rate(f) = min( up[sender] / n_out[sender],  down[receiver] / n_in[receiver] )
 *
 * where n_out counts the sender's flows going out and n_in the receiver's flows coming in.
 * The sum of the rates at any link never exceeds its capacity (each flow takes at most an
 * equal share of it), so the model never creates bandwidth. It approximates max-min fairness
 * (the allocation TCP flows converge to, Bertsekas & Gallager, "Data Networks", §6.5.2): max-min
 * would hand the share that a receiver-bound flow leaves unused at its sender to the sender's
 * other flows (progressive filling, a global water-filling over all flows). Equal shares per
 * endpoint cost O(degree) per change instead: when a flow starts or ends between hosts a and
 * b, only the flows out of a and into b change rate, and only those are touched. The cost is
 * some idle capacity where a sender's flows are receiver-bound.
 *
 * Flows progress at piecewise-constant rates: a flow keeps the bytes left and the time they
 * were counted; a rate change first counts the bytes sent at the old rate, then computes the
 * new end. The completion event (EV_FLOW_END) moves only when the end comes sooner (the old
 * one is cancelled lazily through its handle); when it comes later the pending event stays,
 * and on firing early it is simply scheduled again for the end. Cancelled events stay in the
 * queue until their time, so moving the event on every slow-down would fill the queue with
 * them in a busy swarm. The end is rounded up to the microsecond, so no flow ever finishes
 * early.
 * Flows are records in a pool with a free list, linked per host in two intrusive lists (out and
 * in); a handle is (generation << 32 | index), stale once the flow ends or is dropped. */
#ifndef P2PLAB_FLOW_H
#define P2PLAB_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/engine.h"
#include "sim/sim.h"

#define FLOW_NONE UINT32_MAX

/* The message a flow carries, as it will be delivered. */
struct flow_msg {
    struct addr src, dst;
    uint16_t type;
    uint8_t cat;
    uint32_t size;                    /* bytes on the wire */
    uint32_t lookup;
    uint32_t len;                     /* body bytes */
};

/* A flow: the first 64 bytes are what a rate update reads (the per-host lists are walked at
 * every start and end), the rest what starting, cancelling and delivering read. Records are
 * 64-byte aligned, so each half is one cache line. */
struct flow_rec {
    uint32_t next_out, next_in;       /* the sender's / receiver's flows; FLOW_NONE ends */
    uint32_t from_host, to_host;
    double up_share, down_share;      /* up / n_out at the sender, down / n_in at the receiver,
                                         B/s, as of the last change of those counts */
    double rate;                      /* bytes per second: the smaller share */
    double left;                      /* bytes still to send at `since` */
    int64_t since;                    /* us */
    int64_t end;                      /* when the last byte leaves at the current rate */
    int64_t ev_at;                    /* the pending completion event's time: never after `end` */
    uint64_t ev;                      /* ... and its handle */
    uint32_t gen;                     /* bumped when the flow starts and when it ends: odd while
                                         it is in progress */
    uint32_t prev_out, prev_in;
    uint32_t big;                     /* its body's slot among the large ones, or FLOW_NONE */
    struct flow_msg m;
};
_Static_assert(sizeof(struct flow_rec) == 128 && offsetof(struct flow_rec, ev_at) == 64,
               "a flow is two cache lines, the rate update's in the first");

/* One host's side of the model, 32 bytes: what a start or end reads at its two ends. */
struct flow_host {
    double up, down;                  /* capacities, bytes per second */
    uint32_t out_head, in_head;       /* flows going out / coming in; FLOW_NONE ends */
    uint32_t n_out, n_in;             /* how many */
};

/* Bodies of up to FLOW_BODY_SMALL bytes (a block reference, a key) sit in an array beside the
 * records; larger ones, up to body_max, take a slot of a second pool, only while they travel. */
#define FLOW_BODY_SMALL 16

struct flow_table {
    struct flow_rec *f;               /* 64-byte aligned inside f_mem */
    void *f_mem;
    unsigned char *body;              /* FLOW_BODY_SMALL bytes per record */
    unsigned char *big;               /* big_cap slots of body_max bytes */
    size_t body_max;
    uint32_t big_cap, big_used, big_free;   /* free list through a slot's first 4 bytes */
    uint32_t cap, used, free_head;    /* free list through next_out */
    uint32_t hosts;
    struct flow_host *host;
    double *up, *down;                /* per host: capacities again, bytes per second, for
                                         readers that want only them */
    uint64_t active;                  /* flows in progress */
};

/* 0, or -1 when memory runs out. Every host starts with capacities 0 (set them first). */
int flow_init(struct flow_table *t, uint32_t hosts, size_t body_max);
void flow_free(struct flow_table *t);
void flow_set_capacity(struct flow_table *t, uint32_t host, double up_bps, double down_bps);

/* Starts a flow carrying m (and len body bytes) from host a to host b at the engine's now;
 * queues its EV_FLOW_END (arg = index, rpc_gen = generation). Returns its handle. */
uint64_t flow_start(struct flow_table *t, struct engine *e, uint32_t a, uint32_t b,
                    const struct flow_msg *m, const void *body);
/* At an EV_FLOW_END of (index, gen): false if stale; else the flow is finished and removed
 * (the others' rates are updated), its message copied to *m and its body to body. */
bool flow_finish(struct flow_table *t, struct engine *e, uint32_t index, uint32_t gen,
                 struct flow_msg *m, void *body);
/* Removes a flow in progress (no delivery); a stale handle is ignored. */
void flow_cancel(struct flow_table *t, struct engine *e, uint64_t handle);
/* Drops every flow going out of or coming into host h (its host went down). */
void flow_drop_host(struct flow_table *t, struct engine *e, uint32_t h);

/* Measurement: the current rate of a flow (0 if the handle is stale), and the sum of the rates
 * going out of host h (bytes per second; at most up[h]). */
double flow_rate(const struct flow_table *t, uint64_t handle);
double flow_out_rate(const struct flow_table *t, uint32_t h);

#endif
