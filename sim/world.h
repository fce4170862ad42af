/* world.h — everything one run holds (struct sim), shared by the engine-side modules.
 * Protocols never include this header: they see struct sim only through sim/sim.h. */
#ifndef P2PLAB_WORLD_H
#define P2PLAB_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "protocols/protocol.h"
#include "sim/catalogue.h"
#include "sim/engine.h"
#include "sim/flow.h"
#include "sim/holders.h"
#include "sim/net.h"
#include "sim/oracle.h"
#include "sim/scenario.h"
#include "sim/slotset.h"
#include "sim/stats.h"
#include "sim/trace.h"
#include "sim/workload.h"

/* An RPC in flight: the protocol's view plus the engine's bookkeeping. */
struct rpc_rec {
    struct rpc pub;
    uint32_t gen;                     /* bumped on release: stale replies/timeouts are ignored */
    uint32_t next_free;
    bool pending;
};

#define INTRODUCER_MEMORY 16          /* registrations the introducer remembers */

struct introducer {
    struct peer recent[INTRODUCER_MEMORY];  /* ring buffer of the latest registrations */
    uint32_t n, head;
    gsl_rng *rng;
};

struct sim {
    const struct scenario *sc;
    const struct protocol *proto;
    const struct proto_config *cfg;
    void *pdata;                      /* the protocol's global data */

    struct engine eng;
    struct net net;
    struct workload wl;
    struct oracle oracle;
    struct stats stats;
    struct introducer intro;
    struct catalogue cat;             /* KEYS_FILES protocols only */
    struct holders hold;              /* protocols that store data (sim_store_data) only */
    bool files;                       /* the protocol searches the file catalogue */
    gsl_rng *rng_proto, *rng_churn;
    struct flow_table flows;          /* bulk transfers and every host's capacities */
    gsl_rng *rng_bw;                  /* draws each host's bandwidth class when it comes up */
    unsigned char *flow_body;         /* a finished transfer's body, on its way to delivery */

    /* node table: engine-owned columns indexed by slot */
    node_t cap;                       /* slots: (initial + scheduled hosts) x vnodes */
    node_t vnodes;                    /* overlay nodes per host: slots h*v .. h*v+v-1 */
    node_t used;                      /* slots handed out so far */
    uint64_t *id;                     /* current identifier */
    uint32_t *inc;                    /* incarnation: bumped at every (re)join */
    unsigned char *state;             /* protocol slab, cap x state_size */
    size_t state_size;                /* bytes per slot, a multiple of 8 */
    node_t acting;                    /* whose handler runs: the one node whose state it may
                                         read; SIM_ACTING_ALL in setup, converge, gauges and
                                         teardown; NODE_NONE in the engine's own code */
    struct slotset alive;             /* up (joining or joined) */
    struct slotset ready;             /* registered with the introducer: in the overlay */
    node_t introducer_host;           /* the introducer's host index in the network model */
    node_t peer_hosts;                /* hosts of peers: 0 .. peer_hosts - 1 */
    node_t server_base;               /* the first server slot (servers follow the peers) */
    uint32_t n_servers;
    bool *server_up;                  /* per server */
    int64_t *dl_start;                /* per slot: start of its unfinished download, or -1 */

    struct rpc_rec *rpcs;
    uint32_t n_rpcs, rpc_free;

    uint64_t counter[PROTO_COUNTERS_MAX];  /* the protocol's own counters */
    bool maintenance;
    uint32_t replicas;
    int64_t end_us;                   /* lookups and churn stop here */
    int64_t drain_us;                 /* the run stops here (end + lookup timeout) */
    unsigned char *scratch;           /* a copy of the event being dispatched */
    struct trace *trace;              /* NULL unless p2plab trace follows this run */
};

/* ---- shared among the engine's modules: sim.c, hosts.c, run.c -------------------------- */

/* sim.c */
void *world_slot_state(const struct sim *s, node_t n);   /* no locality check: engine use */
struct addr world_addr(const struct sim *s, node_t n);   /* likewise */
node_t world_act_as(struct sim *s, node_t n);   /* protocol code runs for n; returns the last */
bool world_is_current(const struct sim *s, node_t n, uint32_t inc);
node_t world_host_of(const struct sim *s, node_t n);
int64_t world_delay(const struct sim *s, node_t a, node_t b);   /* one way, between hosts */
void world_download_end(struct sim *s, node_t n, bool completed);
uint32_t world_ev_new(struct sim *s, uint8_t kind, node_t node, uint32_t inc);
void world_schedule_at(struct sim *s, uint8_t kind, node_t node, int64_t t, uint64_t arg);
void world_draw_bandwidth(struct sim *s, node_t host);
void world_mark_ready(struct sim *s, node_t n);
void world_unmark_ready(struct sim *s, node_t n);
void world_introducer_remember(struct introducer *in, struct peer p);
void world_dispatch(struct sim *s, const struct event *e, const void *body);
/* hosts.c */
void world_churn_event(struct sim *s, const struct event *e);
void world_depart_event(struct sim *s, const struct event *e);
void world_scheduled_event(struct sim *s, const struct scn_churn_event *ce);
void world_sample(struct sim *s);
void world_start_population(struct sim *s);
void world_key_load(struct sim *s, double m[M_COUNT]);

#endif
