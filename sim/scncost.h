/* scncost.h — what one cell of a scenario will cost, known before anything is allocated:
 * the bytes the run allocates at setup (from the protocol's own per-node state size and the
 * engine's per-slot records) and a lower bound on the events it must process. */
#ifndef P2PLAB_SCNCOST_H
#define P2PLAB_SCNCOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"

/* The fastest event rate measured on one core (PHOLD at 10^4 pending events,
 * docs/performance.md): no run goes faster, so events / this is a lower bound on its time. */
#define SCN_COST_EVENTS_PER_S 11.9e6
#define SCN_COST_DAY_S 86400.0

struct scn_cost {
    uint64_t slots;                   /* node slots: every host that may be up, x vnodes, + servers */
    double proto_per_slot;            /* bytes of protocol state per slot (its state size) */
    double engine_per_slot;           /* bytes the engine keeps per slot (columns, sets, events) */
    double bytes;                     /* at least this many bytes at setup, in all */
    double lookups;                   /* lookups issued over the run */
    double churn;                     /* departures and returns over the run */
    double events;                    /* at least this many events */
};

/* The cost of running protocol `pi` of the resolved scenario sc. */
void scn_cost(const struct scenario *sc, size_t pi, struct scn_cost *out);

/* The memory a run may use: by default this machine's physical memory; --force lifts the
 * limit (0: none) and the day limit on events. */
void scn_cost_force(bool force);
bool scn_cost_forced(void);
double scn_cost_memory_limit(void);

#endif
