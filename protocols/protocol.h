/* protocol.h — the plug-in interface every overlay implements, and the registry.
 *
 * One const struct per protocol, filled with designated initializers. Optional members may be
 * NULL and are checked at the call site. Per-node state is one slab record per node slot
 * (sim_state): a fixed part and the variable-size tables that follow it, sized from the
 * configuration (state_size). A handler reads only the state of the node it runs for (checked
 * builds enforce it); setup, converge, gauge and teardown may read every node's. What every
 * protocol needs beside that (pools, message tables, wrappers, join back-off) is in kit.h. */
#ifndef P2PLAB_PROTOCOL_H
#define P2PLAB_PROTOCOL_H

#include "sim/param.h"
#include "sim/sim.h"

/* How the oracle decides who owns a key, so it can judge a lookup's answer. */
enum key_metric {
    KEYS_SUCCESSOR,                   /* first node clockwise from the key (Chord) */
    KEYS_NUMERIC,                     /* numerically closest on the ring (Pastry) */
    KEYS_XOR,                         /* smallest XOR distance (Kademlia) */
    KEYS_GROUP,                       /* numerically closest among the nodes of the key's group,
                                         group = id mod k, k from sim_set_key_groups (Kelips) */
    KEYS_FILES,                       /* a key is a file of the catalogue (workload.files): any
                                         node in the overlay that shares it is a right answer */
};

/* KEYS_GROUP only: the number of groups k, from setup (before any node exists). */
void sim_set_key_groups(struct sim *s, uint32_t k);

/* The scenario as a protocol's validate hook sees it. */
struct proto_env {
    uint32_t nodes;                   /* overlay nodes at t = 0: nodes.count x nodes.vnodes */
    bool converged;                   /* nodes.start: converged */
};

struct protocol {
    const char *name;                 /* "chord" */
    const char *summary;              /* one line for `p2plab list` */
    const char *paper;                /* citation of the mechanism's source */
    const struct param *params;       /* NULL-name terminated */
    enum key_metric keys;
    size_t node_state_size;           /* bytes per node slot (the fixed part) */
    /* optional: bytes per node slot under this configuration, the fixed part and the
     * variable-size tables that follow it (sized from cfg); NULL: node_state_size */
    size_t (*state_size)(const struct proto_config *cfg);
    /* largest message body under this configuration, bytes: sizes the event records */
    size_t (*msg_body_max)(const struct proto_config *cfg);

    int  (*setup)(struct sim *s, const struct proto_config *cfg);    /* 0 or -1 */
    void (*join)(struct sim *s, node_t n);       /* n is up with a fresh id: join via introducer */
    void (*leave)(struct sim *s, node_t n);      /* optional: graceful leave, n still alive */
    void (*on_message)(struct sim *s, node_t n, const struct msg *m);
    void (*on_timer)(struct sim *s, node_t n, uint32_t kind, uint64_t arg);
    void (*on_timeout)(struct sim *s, node_t n, const struct rpc *r);
    void (*lookup)(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id);
    size_t (*state_entries)(const struct sim *s, node_t n);         /* routing-state size */
    /* optional: at t = 0 only, lay down every live node's converged state (may use global
     * knowledge, through sim_converge_* below); live nodes have not had join called. Keys that
     * the protocol stores explicitly (tuples, values) are laid down here too. */
    void (*converge)(struct sim *s);
    /* optional, for protocols that store keys explicitly: insert `key` into the overlay from
     * `origin` by messages. With start: join the workload calls it once per key when the join
     * phase ends (at nodes.join_over); with start: converged, converge has placed the keys. */
    void (*insert)(struct sim *s, node_t origin, uint64_t key);
    void (*teardown)(struct sim *s);             /* optional */
    /* optional, for protocols that store data (sim_store_data): does node n hold key's data
     * now? Called by the judge only (it may read any node); protocols never route with it. */
    bool (*holds)(const struct sim *s, node_t n, uint64_t key);
    /* optional: n's incarnation has ended (it crashed, left or departed; leave has run): free
     * what it owned outside its slab record (pool records, vectors). It sends nothing. */
    void (*down)(struct sim *s, node_t n);
    /* optional: names of the protocol's own counters ("route_rare"), NULL-terminated, at most
     * PROTO_COUNTERS_MAX; sim_count adds to them during [warmup, duration), and they are
     * reported per run in counters.csv and summary.yaml */
    const char *const *counters;
    /* optional: names of the protocol's gauges ("pieces.min_copies"), NULL-terminated, at most
     * PROTO_GAUGES_MAX; the engine reads each with `gauge` at every sample (scenario `sample`)
     * and writes them to gauges.csv. A gauge is a measurement and may use global knowledge
     * (e.g. sim_converge_live); it may keep its own bookkeeping, but must not change what any
     * node does. */
    const char *const *gauges;
    double (*gauge)(struct sim *s, uint32_t g);
    /* optional: the names of the protocol's message types, indexed by type, for traces */
    const char *const *msg_names;
    uint32_t n_msg_names;
    /* optional: dedicated server nodes this configuration needs (sim_servers); NULL = none */
    uint32_t (*servers)(const struct proto_config *cfg);
    /* optional: rules that tie parameters to each other or to the scenario, which a range in
     * the table cannot say (pastry's leaf_set is even). Run when the scenario is loaded, so
     * `p2plab check` refuses what setup would: 0 if cfg is fine, else -1 with why (and what to
     * do) in `why` and *param the parameter it is about (NULL: the protocol as a whole); the
     * loader adds file:line:col. */
    int (*validate)(const struct proto_config *cfg, const struct proto_env *env,
                    const char **param, char *why, size_t len);
#ifdef P2PLAB_CHECK
    /* optional, checked builds only: judge the routing state's invariants at a sample, like
     * the oracle (read every node, change nothing, route nothing); a broken rule stops the run
     * through sim_invariant_fail (sim/invariant.h, which says when and which nodes) */
    void (*check_invariants)(struct sim *s);
    /* optional, tests only: break an invariant in n's state on purpose, so that a test can
     * see check_invariants stop the run */
    void (*invariant_break)(struct sim *s, node_t n);
#endif
};

#define PROTO_COUNTERS_MAX 16
#define PROTO_GAUGES_MAX 8

/* For converge only (the engine asserts it): the live nodes at t = 0 (their ids and addresses
 * come from sim_node_id and sim_addr), the round-trip time between two of them as a node would
 * measure it, and the workload's keys. Gauges may call sim_converge_live too. */
node_t sim_converge_live(const struct sim *s, node_t *out, node_t max);
/* The same live nodes sorted by identifier, and the first index of v[0..len) whose id is at
 * least key (len if none): what every ring or prefix converge needs. */
struct converge_node {
    uint64_t id;
    node_t slot;
};
node_t sim_converge_sorted(const struct sim *s, struct converge_node *out, node_t max);
size_t converge_lower_bound(const struct converge_node *v, size_t len, uint64_t key);
int64_t sim_converge_rtt(const struct sim *s, node_t a, node_t b);
const uint64_t *sim_converge_keys(const struct sim *s, uint32_t *n);

/* The registry: a NULL-terminated table. */
extern const struct protocol *const protocol_registry[];
const struct protocol *protocol_find(const char *name);

#endif
