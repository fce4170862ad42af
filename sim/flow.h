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

struct flow_rec {
    struct flow_msg m;
    uint32_t from_host, to_host;
    uint32_t gen;                     /* bumped when the record is freed */
    uint32_t next_out, prev_out;      /* the sender's flows; FLOW_NONE ends */
    uint32_t next_in, prev_in;        /* the receiver's flows */
    double left;                      /* bytes still to send at `since` */
    double rate;                      /* bytes per second */
    int64_t since;                    /* us */
    int64_t end;                      /* when the last byte leaves at the current rate */
    uint64_t ev;                      /* handle of the pending completion event ... */
    int64_t ev_at;                    /* ... and its time: never after `end` */
    bool active;
};

struct flow_table {
    struct flow_rec *f;
    unsigned char *body;              /* body_max bytes per record */
    size_t body_max;
    uint32_t cap, used, free_head;    /* free list through next_out */
    uint32_t hosts;
    uint32_t *out_head, *in_head;     /* per host */
    uint32_t *n_out, *n_in;           /* per host: flows going out / coming in */
    double *up, *down;                /* per host: capacities, bytes per second */
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
