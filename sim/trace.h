/* trace.h — one run told event by event: the messages of chosen lookups, or of a time window.
 *
 * A trace is for reading, by a student following one Chord lookup hop by hop or a researcher
 * checking what a protocol sends: one line per event, in simulated-time order, with node
 * slots, the top 32 bits of identifiers, message names from the protocol's table and sizes.
 * Tracing reads the run and never changes it: the same seed gives the same run traced or not. */
#ifndef P2PLAB_TRACE_H
#define P2PLAB_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"

struct protocol;

#define TRACE_LOOKUPS_MAX 64

struct trace_opts {
    FILE *out;
    uint32_t lookups;                 /* follow the first N lookups issued after the warm-up */
    bool window;                      /* and every message sent in [from_us, to_us) */
    int64_t from_us, to_us;
};

struct trace {
    struct trace_opts o;
    const struct protocol *proto;
    int64_t warmup_us;
    uint32_t id[TRACE_LOOKUPS_MAX];   /* the lookups followed */
    uint32_t n_id;
    uint64_t lines;
};

void trace_init(struct trace *t, const struct trace_opts *o, const struct protocol *p,
                int64_t warmup_us);
/* Whether the messages of `lookup` at time now are traced. */
bool trace_wants(const struct trace *t, int64_t now, uint32_t lookup);

void trace_lookup_start(struct trace *t, int64_t now, uint32_t lookup, node_t origin,
                        uint64_t origin_id, uint64_t key);
void trace_lookup_end(struct trace *t, int64_t now, uint32_t lookup, enum outcome o,
                      uint32_t hops, struct addr answer, int64_t started_us);
/* what: "send", "recv", "lost" (by the network), "dead" (reached a node that is gone). */
void trace_msg(struct trace *t, int64_t now, const char *what, node_t from, node_t to,
               uint64_t to_id, uint16_t type, uint8_t cat, uint32_t size, uint32_t lookup);
void trace_timeout(struct trace *t, int64_t now, node_t node, node_t dst, uint16_t type,
                   uint32_t lookup);
/* Churn inside the window: "up", "leave", "crash". */
void trace_node(struct trace *t, int64_t now, const char *what, node_t n, uint64_t id);

#endif
