/* sim.h — the simulator as a protocol sees it: clock, own node, messages, RPCs, timers, lookups.
 *
 * A protocol module includes this header, protocols/protocol.h and protocols/kit.h, and from
 * sim/ nothing else but sim/mem.h.
 * Everything between nodes is a message with a latency and a size; a node reads only its own
 * state (sim_state) and learns about other nodes only from messages. A crashed node never
 * answers: an RPC to it ends in on_timeout, which is how every protocol discovers failures. */
#ifndef P2PLAB_SIM_H
#define P2PLAB_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

typedef uint32_t node_t;              /* dense node slot index */
#define NODE_NONE UINT32_MAX
#define LOOKUP_NONE UINT32_MAX

struct sim;

/* A network address: the slot and the incarnation living in it. A message to an earlier
 * incarnation of a slot (the node crashed and the slot rejoined) is dropped, as a packet to a
 * host that has gone away would be. */
struct addr {
    node_t slot;
    uint32_t inc;
};

/* A contact as protocols store it: the node's overlay identifier and its address. */
struct peer {
    uint64_t id;                      /* overlay identifier, fresh at every (re)join */
    struct addr addr;
};
_Static_assert(sizeof(struct peer) == 16, "struct peer is stored by the million");

static inline bool addr_eq(struct addr a, struct addr b) { return a.slot == b.slot && a.inc == b.inc; }
#define ADDR_NONE ((struct addr){ NODE_NONE, 0 })

enum msg_cat {
    CAT_LOOKUP,                       /* serves a lookup issued by the workload */
    CAT_MAINT,                        /* joins, stabilization, repair, gossip, ... */
};

/* An RPC in flight, as the protocol armed it; handed back with the reply or the timeout. */
struct rpc {
    struct addr dst;
    uint16_t type;                    /* the request's message type */
    uint32_t lookup;                  /* lookup id it serves, or LOOKUP_NONE */
    int64_t sent_us;                  /* when the request left: reply time - sent_us = RTT */
    uint64_t ctx[2];                  /* the protocol's own context, returned untouched */
};

/* A message as delivered to on_message. */
struct msg {
    struct addr src;
    uint16_t type;                    /* the protocol's message type */
    uint8_t cat;                      /* enum msg_cat */
    uint32_t size;                    /* bytes on the wire */
    uint32_t lookup;                  /* lookup id, or LOOKUP_NONE */
    uint32_t req;                     /* != 0: a request awaiting net_reply */
    uint32_t req_gen;                 /* engine-internal: matches req to its RPC record */
    const struct rpc *rpc;            /* != NULL: this is the reply to our RPC *rpc */
    const void *body;                 /* the protocol's payload, len bytes */
    uint32_t len;
};

/* What a protocol hands to net_send / net_rpc / net_reply. */
struct out {
    uint16_t type;
    uint8_t cat;                      /* enum msg_cat */
    uint32_t size;                    /* bytes on the wire, from the protocol's message table */
    uint32_t lookup;                  /* lookup id, or LOOKUP_NONE */
    bool route;                       /* a forwarding step of `lookup` toward the key's root:
                                         the engine adds its network delay, when delivered, to
                                         the lookup's route distance (lookup.route_ratio) */
    const void *body;                 /* copied at send time; may point at the stack */
    uint32_t len;                     /* <= the protocol's msg_body_max */
};

/* ---- the clock and one's own node ------------------------------------------------------ */
int64_t sim_now(const struct sim *s);                     /* microseconds */
/* n's own address and identifier (fresh per join); like sim_node_files and sim_*_bps, for the
 * node a handler runs for only (checked builds stop any other; converge and gauges read all) */
struct addr sim_addr(const struct sim *s, node_t n);
uint64_t sim_node_id(const struct sim *s, node_t n);
/* n's own state: the protocol's slab record for n (its fixed part and the tables that follow
 * it). Only the node a handler runs for may be read: checked builds (P2PLAB_CHECK) stop a read
 * of any other node, except in setup, converge, gauges and teardown, which may read them all. */
void *sim_state(struct sim *s, node_t n);
const void *sim_state_const(const struct sim *s, node_t n);
/* The same check for state kept outside the slab (a pool record n owns): a no-op unless
 * checked. */
void sim_check_local(const struct sim *s, node_t n);
#define SIM_ACTING_ALL (NODE_NONE - 1)    /* engine-internal: a hook that may read every node */
const struct proto_config *sim_config(const struct sim *s);
gsl_rng *sim_rng(struct sim *s);                          /* the protocol's own stream */
/* A period drawn uniformly from [0.5, 1.5] x mean_us on the protocol's stream: how every
 * protocol spreads its periodic timers, so that nodes do not act in lockstep. */
int64_t sim_jitter(struct sim *s, int64_t mean_us);
node_t sim_capacity(const struct sim *s);                 /* node slots, for array sizing */
uint32_t sim_initial_nodes(const struct sim *s);          /* nodes.count of the scenario */
bool sim_maintenance_on(const struct sim *s);             /* false while `maintenance: off` */
void *sim_protocol_data(struct sim *s);                   /* the protocol's global (per-run) data */
void sim_set_protocol_data(struct sim *s, void *data);

/* ---- messages ------------------------------------------------------------------------- */
void net_send(struct sim *s, node_t from, struct addr to, const struct out *o);
/* Sends a request and arms a timeout; exactly one of the reply (on_message with msg->rpc set)
 * or on_timeout reaches `from`, unless `from` dies first. */
void net_rpc(struct sim *s, node_t from, struct addr to, const struct out *o,
             int64_t timeout_us, uint64_t ctx0, uint64_t ctx1);
void net_reply(struct sim *s, node_t from, const struct msg *req, const struct out *o);

/* ---- bulk transfers (flow level) ------------------------------------------------------- */
/* n's access link, bytes per second, drawn per host from network.bandwidth when its host came
 * up: a node knows its own capacities. */
double sim_upload_bps(const struct sim *s, node_t n);
double sim_download_bps(const struct sim *s, node_t n);
/* Sends o (o->size bytes) as a bulk transfer: the flow's rate is the sender's upload
 * capacity shared among its flows and the receiver's download capacity shared among its own
 * (the smaller share), recomputed whenever a flow at either end starts or ends; its last byte
 * arrives after the one-way latency. It is delivered like net_send's messages (loss applies to
 * nothing but the model's control messages: a transfer is reliable while both ends live). A
 * transfer whose sender or receiver goes down is dropped; the other end learns it only from
 * its own timeouts. Returns a handle for net_transfer_cancel. */
uint64_t net_transfer(struct sim *s, node_t from, struct addr to, const struct out *o);
void net_transfer_cancel(struct sim *s, uint64_t handle);

/* ---- timers ---------------------------------------------------------------------------- */
/* A timer is an event a node sends to itself; it dies with the node's incarnation. */
uint64_t sim_timer(struct sim *s, node_t n, uint32_t kind, int64_t delay_us, uint64_t arg);
void sim_timer_cancel(struct sim *s, uint64_t handle);    /* lazy: the event is skipped */

/* ---- the introducer -------------------------------------------------------------------- */
/* A well-known host that remembers the last few nodes that registered. Asking costs a round
 * trip; the answer arrives as on_message with type MSG_INTRODUCER_REPLY and a struct
 * intro_reply body. Its contacts may be dead: the introducer learns nothing of failures. */
#define MSG_INTRODUCER_REPLY 0xFFFFu
#define INTRO_CONTACTS 4
struct intro_reply {
    uint32_t count;
    struct peer contacts[INTRO_CONTACTS];
};
void sim_introducer_ask(struct sim *s, node_t n);
void sim_introducer_register(struct sim *s, node_t n);    /* "I am in the overlay now" */

/* ---- servers: dedicated nodes beside the peers ------------------------------------------ */
/* A protocol whose `servers` hook asks for k > 0 gets k server nodes (Napster's directory,
 * BitTorrent's tracker) in slots of their own, each on a host of its own in the network model.
 * Servers are up from t = 0 (join is called on them before any peer joins), are never churned,
 * issue no lookups and are not counted among the live nodes or in state.entries. The scenario
 * events `crash: servers` and `restart: servers` take all of them down and bring them back with
 * a fresh incarnation and empty state (join is called again). */
uint32_t sim_servers(const struct sim *s);
/* Server i's well-known address, as a client has it configured (a host name it resolves): the
 * current incarnation, whether or not that server is up. A client learns that a server is
 * down only by timeouts. */
struct addr sim_server_addr(const struct sim *s, uint32_t i);
/* n's index among the servers, or UINT32_MAX if n is a peer: a node knows its own role. */
uint32_t sim_server_index(const struct sim *s, node_t n);

/* ---- the files a node shares (KEYS_FILES protocols) ------------------------------------ */
/* n's own shared files (their identifiers), drawn when n joined; count = files_per_node. */
const uint64_t *sim_node_files(const struct sim *s, node_t n, uint32_t *count);

/* ---- lookups --------------------------------------------------------------------------- */
enum outcome {
    OUTCOME_OK,
    OUTCOME_WRONG_OWNER,              /* set by the judge, never passed in by a protocol */
    OUTCOME_NOT_FOUND,
    OUTCOME_TIMEOUT,
    OUTCOME_TTL_EXPIRED,
    OUTCOME_ORIGIN_LEFT,
    OUTCOME_COUNT
};
/* Ends lookup `id` exactly once. With OUTCOME_OK the oracle judges `answer` and may turn the
 * outcome into WRONG_OWNER. Returns false if the lookup had already ended (e.g. by the
 * workload's deadline); the protocol then just drops it. */
bool sim_lookup_done(struct sim *s, uint32_t id, enum outcome o, struct addr answer, uint32_t hops);
bool sim_lookup_active(const struct sim *s, uint32_t id);
/* Keys are replicated on the first r owners (1 = no replication): the judge accepts any of
 * them. A protocol calls this from setup when its configuration replicates keys. */
void sim_set_replicas(struct sim *s, uint32_t r);

/* ---- stored data ---------------------------------------------------------------------- */
/* From setup, a protocol whose nodes store the keys' data (Chord with `store: on`, Kademlia,
 * Kelips) says so: its lookups are then judged by the data, not by the owner. An OK answer is
 * right when the answering node is live and holds the key (the protocol's `holds` hook, which
 * only the judge calls); a protocol reports NOT_FOUND when the node it reached has no data.
 * keys.lost (the share of the workload's keys no live node holds) is measured from the
 * protocol's reports below. */
void sim_store_data(struct sim *s);
/* n now holds key's data / no longer holds it. A protocol reports every change, and from its
 * `down` hook drops everything the departing node held. Counting only: costs O(log keys). */
void sim_key_gained(struct sim *s, node_t n, uint64_t key);
void sim_key_dropped(struct sim *s, node_t n, uint64_t key);

/* ---- downloads (content distribution) -------------------------------------------------- */
/* Node n starts downloading the content now, and later finishes it (download.time_s,
 * download.completed). A node that goes down before it finishes, by leaving or crashing, has
 * given the download up (download.aborted). Downloads that start before the warm-up ends are
 * left out, like lookups. */
void sim_download_start(struct sim *s, node_t n);
void sim_download_done(struct sim *s, node_t n);

/* ---- leaving by choice ------------------------------------------------------------------ */
/* Node n decides to leave the system for good (a BitTorrent peer done seeding): its host
 * leaves gracefully right after the current event (leave is called) and does not come back. */
void sim_depart(struct sim *s, node_t n);

/* ---- the protocol's own counters ------------------------------------------------------- */
/* Adds n to counter `c` of the protocol's `counters` table (counted in [warmup, duration)). */
void sim_count(struct sim *s, uint32_t c, uint64_t n);

/* ---- tracing and invariants ---------------------------------------------------------- */
#define SIM_ASSERT(e) ((e) ? (void)0 : sim_assert_fail(#e, __FILE__, __LINE__))
_Noreturn void sim_assert_fail(const char *expr, const char *file, int line);

#endif
