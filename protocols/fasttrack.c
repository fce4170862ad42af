/* fasttrack.c — FastTrack (KaZaA): a two-tier overlay of supernodes indexing their children.
 *
 * Follows the architecture measured by Liang, Kumar and Ross, "The FastTrack overlay: a
 * measurement study", Computer Networks 50(6), 2006 (below "the study"), and the capacity
 * spread measured by Saroiu, Gummadi and Gribble, "A measurement study of peer-to-peer file
 * sharing systems", MMCN 2002.
 *
 * Tiers. Every node draws its upload capacity (kbit/s) when it joins, from `capacity`
 * (lognormal, pareto or uniform, with `capacity_median` and `capacity_shape`; the quantile is
 * drawn from the run's seed, the slot and its incarnation, so that a host has the same
 * capacity whether the run starts joined or converged); a node whose
 * capacity exceeds `super_threshold` is a supernode (SN), any other an ordinary node (ON).
 * A node knows its own capacity and role; others learn a node's role only from its messages
 * (a supernode answers as one). With the defaults P(capacity > threshold) = 2.3%.
 *
 * Joining. The joiner asks the introducer for contacts (arbitrary peers) and asks each for
 * supernode addresses (SN_REQ): a supernode answers with itself and some supernodes it is
 * connected to or has cached, an ordinary node with its parents and the supernodes it has
 * cached (the study's "SN refresh list"; each entry carries the supernode's workload, its
 * children as last heard). The addresses go into the joiner's cache of known supernodes.
 * An ordinary node attaches (ATTACH_REQ) to `parents` supernodes, each the less loaded of two
 * random cache entries, and, once accepted, uploads the metadata of its shared files (UPLOAD, 64 B per file,
 * in chunks); it registers with the introducer at its first parent. A supernode opens
 * connections (NEIGH_REQ) to cached supernodes while it has fewer than `super_degree`, and
 * accepts them while it has fewer than twice as many, so that newcomers find room; it
 * registers at once (its own files are in its own index). A node that finds no supernode in
 * FTRACK_PROMOTE_TRIES introducer rounds promotes itself (someone must index; counter
 * `promotions`).
 *
 * Maintenance. Every `keepalive` (jittered 0.5-1.5x) a child sends KEEP_REQ to each parent and
 * a supernode to each neighbour; the reply says whether the link is still known and carries a
 * few supernode addresses, which refresh the cache (the backup supernodes). An RPC timeout
 * drops the parent or neighbour: a child re-attaches at once to a cached supernode (counter
 * `reattach`), a supernode opens a connection to a cached one. A supernode drops a child
 * (and its index entries) on its goodbye or when it has not heard its keep-alive for three
 * periods. A node whose cache is empty and that has no parent (no neighbour) asks the
 * introducer again. Supernodes exchange nothing about indices.
 *
 * Search. The querying node sends QUERY to its parent(s) (a supernode handles it itself); a
 * supernode that sees a query id for the first time remembers who sent it (a direct-mapped
 * cache of FTRACK_QCACHE ids per supernode), answers from its index with a QUERYHIT (up to
 * FTRACK_HIT_MAX holders) sent back along the reverse path, and forwards the query to its
 * other neighbours while the TTL (supernode-to-supernode hops, `ttl`) allows. Duplicates are
 * dropped (counter `query_dups`). The origin collects holders for `window` (or until it has
 * ping_candidates of them), then pings up to
 * `ping_candidates` of the first ones and ends the search with the one of best measured RTT;
 * hops = the query's hops to the supernode whose hit named it (child -> parent counts 1).
 * No hit in the window: TTL_EXPIRED; every candidate silent: TIMEOUT.
 *
 * Memory. Each node's slab record is struct ftrack_node: 448 bytes, whatever the
 * configuration (parents and cache are fixed arrays of at most 4 and 16 entries). A supernode
 * adds vectors it owns: neighbours (24 B each), children (32 B each), the index (16 B per file
 * entry), and a query cache of FTRACK_QCACHE x 16 B = 64 KB allocated when it becomes one; all
 * are freed when it goes down. Searches in flight are records in the kit's pool (struct
 * ftrack_rec, 240 B), freed when the search ends or its origin goes down.
 *
 * Not modelled: keyword matching (a query names one file of the catalogue), locality in the
 * choice of parents and neighbours, the study's churn of SN-SN connections (links here last
 * until a failure; lost ones are replaced up to super_degree), file transfers. */
#include "protocols/fasttrack_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define FTRACK_PARENTS_MAX 4          /* the `parents` parameter's maximum */
#define FTRACK_DEGREE_MAX 64          /* the `super_degree` parameter's maximum */
#define FTRACK_CACHE 16               /* supernode addresses a node keeps as candidates */
#define FTRACK_REFRESH 8              /* supernode addresses in one refresh list */
#define FTRACK_CHUNK 32               /* file entries per UPLOAD message */
#define FTRACK_HIT_MAX 8              /* holders named in one QUERYHIT */
#define FTRACK_HITS 16                /* holders a search collects */
#define FTRACK_QCACHE 4096            /* query ids a supernode remembers (direct-mapped) */
#define FTRACK_PROMOTE_TRIES 4        /* introducer rounds before an ON promotes itself */
#define FTRACK_RETRY_US 2000000       /* first introducer retry; doubles, up to the keepalive */

/* ==== parameters ========================================================================== */

enum ftrack_param {
    FTRACK_P_CAPACITY,
    FTRACK_P_CAP_MEDIAN,
    FTRACK_P_CAP_SHAPE,
    FTRACK_P_THRESHOLD,
    FTRACK_P_PARENTS,
    FTRACK_P_DEGREE,
    FTRACK_P_TTL,
    FTRACK_P_WINDOW,
    FTRACK_P_PING,
    FTRACK_P_KEEPALIVE,
    FTRACK_P_RPC_TIMEOUT,
};

static const struct param ftrack_params[] = {
    [FTRACK_P_CAPACITY] = { .name = "capacity", .type = PARAM_ENUM, .def = "lognormal",
      .choices = "lognormal|pareto|uniform",
      .doc = "distribution of a node's upload capacity, drawn at join (Saroiu et al., MMCN 2002: "
             "bottleneck bandwidths spread over three orders of magnitude)" },
    [FTRACK_P_CAP_MEDIAN] = { .name = "capacity_median", .type = PARAM_DOUBLE, .def = "1000",
      .min = 1, .max = 1e7,
      .doc = "median upload capacity, kbit/s (a broadband host of the early 2000s)" },
    [FTRACK_P_CAP_SHAPE] = { .name = "capacity_shape", .type = PARAM_DOUBLE, .def = "1.5",
      .min = 0.01, .max = 100,
      .doc = "lognormal: sigma of ln(capacity) (1.5: the middle 98% spans a factor 1,000); "
             "pareto: tail index alpha; uniform: half-width relative to the median (<= 1)" },
    [FTRACK_P_THRESHOLD] = { .name = "super_threshold", .type = PARAM_DOUBLE, .def = "20000",
      .min = 0, .max = 1e9,
      .doc = "nodes above this capacity (kbit/s) are supernodes; the default makes 2.3% of them "
             "so (the study: ~30,000 of ~3 million, ~1%; 35000 gives 0.9%)" },
    [FTRACK_P_PARENTS] = { .name = "parents", .type = PARAM_INT, .def = "1", .min = 1,
      .max = FTRACK_PARENTS_MAX,
      .doc = "supernodes an ordinary node attaches to and uploads its file list to (the study: one)" },
    [FTRACK_P_DEGREE] = { .name = "super_degree", .type = PARAM_INT, .def = "8", .min = 1,
      .max = FTRACK_DEGREE_MAX,
      .doc = "supernode connections a supernode opens; it accepts up to twice as many, so the "
             "mean degree is ~1.75x after joining, less under churn (the study: 40-50 among "
             "~30,000 supernodes; 8 keeps a tier of 20-200 supernodes sparse enough for the TTL "
             "to matter)" },
    [FTRACK_P_TTL] = { .name = "ttl", .type = PARAM_INT, .def = "2", .min = 0, .max = 16,
      .doc = "supernode-to-supernode hops a query is flooded (the study: TTL-limited flooding "
             "among supernodes; at the default degree 1 reaches ~15 supernodes, 2 ~100: the "
             "whole tier up to N ~ 2,000)" },
    [FTRACK_P_WINDOW] = { .name = "window", .type = PARAM_DURATION, .def = "5s", .min = 0.001,
      .max = 3600,
      .doc = "how long at most the querying node collects QueryHits before pinging (less once "
             "ping_candidates holders answered; as gnutella's, for a fair comparison)" },
    [FTRACK_P_PING] = { .name = "ping_candidates", .type = PARAM_INT, .def = "4", .min = 1,
      .max = FTRACK_HITS,
      .doc = "holders pinged (the first to answer); the best RTT wins (as napster's and gnutella's)" },
    [FTRACK_P_KEEPALIVE] = { .name = "keepalive", .type = PARAM_DURATION, .def = "30s",
      .min = 0.001, .max = 86400,
      .doc = "keep-alive period of child-parent and supernode links, jittered 0.5-1.5x; a child "
             "silent for 3 periods is dropped" },
    [FTRACK_P_RPC_TIMEOUT] = { .name = "rpc_timeout", .type = PARAM_DURATION, .def = "2s",
      .min = 0.001, .max = 600, .doc = "RPC timeout after which a silent node is taken as failed" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* The message list and the source of each size on the wire are in fasttrack_internal.h. */
KIT_MSG_TABLES(ftrack, FTRACK, FTRACK_MESSAGES, FTRACK_WIRE_OVERHEAD);

size_t ftrack_wire_size(unsigned type, unsigned entries)
{
    SIM_ASSERT(type < FTRACK_MSG_COUNT);
    return kit_wire_size(&ftrack_msgs, type, entries);
}

/* Payloads, one per message kind. */
struct ftrack_list {                  /* SN_REP, ATTACH_REP, KEEP_REP, NEIGH_REP */
    uint8_t flag;                     /* accepted / still known */
    uint8_t count;
    uint16_t load[FTRACK_REFRESH];    /* each supernode's workload: children, as last known */
    struct peer p[FTRACK_REFRESH];
};
struct ftrack_attach_req {            /* ATTACH_REQ */
    uint32_t files;                   /* files the child will upload */
};
struct ftrack_upload {                /* UPLOAD */
    uint32_t count;
    uint64_t file[FTRACK_CHUNK];
};
struct ftrack_keep_req {              /* KEEP_REQ */
    uint8_t as_child;
};
struct ftrack_query {                 /* QUERY; qid and handle stand for the 16-byte GUID */
    uint64_t key;
    uint64_t handle;                  /* the origin's search record */
    uint32_t qid;                     /* the search's id, for duplicate suppression */
    uint8_t ttl;                      /* supernode hops still allowed */
    uint8_t hops;                     /* transmissions so far, this one included */
};
struct ftrack_hit {                   /* QUERYHIT */
    uint64_t handle;
    uint32_t qid;
    uint8_t hops;                     /* the query's hops to the answering supernode */
    uint8_t count;
    struct addr holder[FTRACK_HIT_MAX];
};

union ftrack_body {
    struct ftrack_list list;
    struct ftrack_attach_req attach;
    struct ftrack_upload upload;
    struct ftrack_keep_req keep;
    struct ftrack_query query;
    struct ftrack_hit hit;
};

/* ==== state =============================================================================== */

enum ftrack_timer { FTRACK_TIMER_MAINT, FTRACK_TIMER_RETRY, FTRACK_TIMER_WINDOW };
enum ftrack_role { FTRACK_ORDINARY, FTRACK_SUPER };
enum ftrack_phase { FTRACK_OUT, FTRACK_JOINING, FTRACK_JOINED };

struct ftrack_qentry {                /* one remembered query */
    uint32_t qid1;                    /* qid + 1; 0 = empty */
    struct addr prev;                 /* where it came from (own address: we are the origin) */
    uint32_t pad;
};
_Static_assert(sizeof(struct ftrack_qentry) == 16, "update the opening comment");

/* One node: its slab record, zeroed when the slot comes up. A supernode's neighbours,
 * children, index and query cache are buffers it owns, freed when it goes down. */
struct ftrack_node {
    struct peer self;
    double capacity;                  /* own upload capacity, kbit/s */
    struct peer parent[FTRACK_PARENTS_MAX];
    struct peer cache[FTRACK_CACHE];  /* known supernodes: candidates and backups */
    struct kit_vec nb;                /* supernode: neighbours (struct ftrack_nbr) */
    struct kit_vec ch;                /* supernode: children (struct ftrack_child) */
    struct kit_vec idx;               /* supernode: index (struct ftrack_entry), sorted by file */
    struct ftrack_qentry *qc;         /* supernode: FTRACK_QCACHE remembered queries */
    uint16_t cload[FTRACK_CACHE];     /* the cached supernodes' workload, as last heard */
    uint16_t pload[FTRACK_PARENTS_MAX];  /* the parents' workload, as last heard */
    uint8_t role;                     /* enum ftrack_role */
    uint8_t phase;                    /* enum ftrack_phase */
    uint8_t nparents;
    uint8_t ncache;
    uint8_t pend;                     /* ATTACH_REQ / NEIGH_REQ in flight */
    uint8_t asking;                   /* SN_REQ in flight */
    uint8_t tries;                    /* introducer rounds without a supernode */
    uint8_t retry_armed;
};
#define FTRACK_NODE_BYTES 448
_Static_assert(sizeof(struct ftrack_node) == FTRACK_NODE_BYTES, "update the opening comment");

struct ftrack_nbr {                   /* one supernode neighbour */
    struct peer p;
    uint32_t load;                    /* its children, as last heard */
    uint32_t pad;
};
_Static_assert(sizeof(struct ftrack_nbr) == 24, "update the opening comment");

struct ftrack_child {
    struct peer p;
    int64_t heard_ms;                 /* last keep-alive or attach */
    uint32_t files;                   /* index entries uploaded */
};
_Static_assert(sizeof(struct ftrack_child) == 32, "update the opening comment");

struct ftrack_entry {                 /* one index entry: file -> holder (kit_vec_lower_bound
                                         finds a file: it is the 64-bit key at offset 0) */
    uint64_t file;
    struct addr holder;
};
_Static_assert(sizeof(struct ftrack_entry) == 16 && offsetof(struct ftrack_entry, file) == 0,
               "update the opening comment");

struct ftrack_cand {
    struct addr a;
    uint32_t hops;
};

enum ftrack_rec_phase { FTRACK_REC_COLLECT = 1, FTRACK_REC_PING };

/* A search in flight at its origin, a record of the searches' pool. */
struct ftrack_rec {
    struct kit_op op;
    uint64_t key;
    int64_t best_rtt;
    uint32_t lookup;
    uint8_t phase;                    /* enum ftrack_rec_phase */
    uint8_t nhits, pings_out, best;
    struct ftrack_cand hit[FTRACK_HITS];
};
_Static_assert(sizeof(struct ftrack_rec) == 240, "update the opening comment");

/* The gauges (gauges.csv), measured over the live nodes that have joined. */
enum ftrack_gauge {
    FTRACK_G_FRACTION,
    FTRACK_G_CHILDREN,
    FTRACK_G_INDEX,
    FTRACK_G_DEGREE,
    FTRACK_G_ORPHANS,
    FTRACK_G_COUNT
};
struct ftrack_global {
    enum ftrack_dist dist;
    double median, shape, threshold;
    uint32_t parents, degree, ttl, ping;
    int64_t window_us, keep_us, rpc_us;
    uint64_t salt;                    /* the run's capacity draws */
    node_t cap;
    struct kit_pool recs;             /* searches in flight (struct ftrack_rec) */
    node_t *live;                     /* scratch for the gauges */
    double gauge_val[FTRACK_G_COUNT]; /* the gauges of the last sample ... */
    int64_t gauge_at;                 /* ... taken at this time */
    bool gauge_valid;
};

/* The protocol's counters (counters.csv). */
enum ftrack_counter {
    FTRACK_C_QUERY_MSGS,
    FTRACK_C_QUERY_DUPS,
    FTRACK_C_HIT_MSGS,
    FTRACK_C_HIT_LOST,
    FTRACK_C_REATTACH,
    FTRACK_C_CHILD_DROPS,
    FTRACK_C_NEIGH_DROPS,
    FTRACK_C_PROMOTIONS,
};
static const char *const ftrack_counters[] = {
    [FTRACK_C_QUERY_MSGS] = "query_msgs",       /* QUERY transmissions */
    [FTRACK_C_QUERY_DUPS] = "query_dups",       /* QUERYs dropped as already seen */
    [FTRACK_C_HIT_MSGS] = "hit_msgs",           /* QUERYHIT transmissions */
    [FTRACK_C_HIT_LOST] = "hit_unroutable",     /* QUERYHITs whose query id was forgotten */
    [FTRACK_C_REATTACH] = "reattach",           /* children that lost a parent and re-attach */
    [FTRACK_C_CHILD_DROPS] = "child_drops",     /* children dropped for silence */
    [FTRACK_C_NEIGH_DROPS] = "neighbour_drops", /* supernode links lost to timeouts */
    [FTRACK_C_PROMOTIONS] = "promotions",       /* ordinary nodes that found no supernode */
    NULL,
};

static const char *const ftrack_gauges[] = {
    [FTRACK_G_FRACTION] = "super.fraction",       /* supernodes / joined nodes */
    [FTRACK_G_CHILDREN] = "super.children.mean",  /* children per supernode */
    [FTRACK_G_INDEX] = "super.index.mean",        /* index entries per supernode */
    [FTRACK_G_DEGREE] = "super.degree.mean",      /* supernode neighbours per supernode */
    [FTRACK_G_ORPHANS] = "ordinary.orphans",      /* share of ordinary nodes with no parent */
    NULL,
};

/* ==== small helpers ======================================================================= */

static struct ftrack_global *fg(struct sim *s) { return sim_protocol_data(s); }
static struct ftrack_node *fnode(struct sim *s, node_t n) { return sim_state(s, n); }

static struct ftrack_nbr *nb_of(struct ftrack_node *nd) { return nd->nb.v; }
static struct ftrack_child *ch_of(struct ftrack_node *nd) { return nd->ch.v; }
static struct ftrack_entry *idx_of(struct ftrack_node *nd) { return nd->idx.v; }

/* The kit's wrappers, bound to the table; `entries` sizes the message on the wire. */
static void send_msg(struct sim *s, node_t n, struct addr to, enum ftrack_msg type,
                     uint32_t lookup, const void *body, size_t len, unsigned entries)
{
    kit_send(s, &ftrack_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
                                                        .body = body, .len = len,
                                                        .entries = entries });
}

static void send_rpc(struct sim *s, node_t n, struct addr to, enum ftrack_msg type,
                     uint32_t lookup, const void *body, size_t len, unsigned entries,
                     uint64_t ctx0, uint64_t ctx1)
{
    kit_rpc(s, &ftrack_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
                                                       .body = body, .len = len,
                                                       .entries = entries },
            fg(s)->rpc_us, ctx0, ctx1);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum ftrack_msg type,
                      const void *body, size_t len, unsigned entries)
{
    kit_reply(s, &ftrack_msgs, n, req, &(struct kit_out){ .type = type, .body = body,
                                                          .len = len, .entries = entries });
}

#define LIST_LEN(c) (offsetof(struct ftrack_list, p) + (size_t)(c) * sizeof(struct peer))

/* ==== capacities ========================================================================== */

double ftrack_capacity_quantile(unsigned dist, double median, double shape, double u);
double ftrack_super_probability(unsigned dist, double median, double shape, double threshold);

/* The capacity, kbit/s, at quantile u in (0, 1): lognormal (median, sigma = shape), pareto
 * (tail index alpha = shape, scale chosen so that the median is `median`) or uniform on
 * median x [1 - shape, 1 + shape]. */
double ftrack_capacity_quantile(unsigned dist, double median, double shape, double u)
{
    switch (dist) {
    case FTRACK_PARETO:
        return median / pow(2.0, 1.0 / shape) * pow(1 - u, -1.0 / shape);
    case FTRACK_UNIFORM: {
        double w = shape > 1 ? 1 : shape;
        return median * (1 - w + 2 * w * u);
    }
    default:
        return median * exp(shape * gsl_cdf_ugaussian_Pinv(u));
    }
}

/* P(capacity > threshold): the share of supernodes the capacity rule makes. */
double ftrack_super_probability(unsigned dist, double median, double shape, double threshold)
{
    switch (dist) {
    case FTRACK_PARETO: {
        double b = median / pow(2.0, 1.0 / shape);
        return threshold <= b ? 1.0 : pow(b / threshold, shape);
    }
    case FTRACK_UNIFORM: {
        double w = shape > 1 ? 1 : shape, lo = median * (1 - w), hi = median * (1 + w);
        if (threshold <= lo)
            return 1.0;
        return threshold >= hi ? 0.0 : (hi - threshold) / (hi - lo);
    }
    default:
        return threshold <= 0 ? 1.0 : gsl_cdf_ugaussian_Q(log(threshold / median) / shape);
    }
}

/* Node n's capacity: a quantile drawn from the run's salt, n's slot and incarnation, so that a
 * host has the same capacity whether the run starts joined or converged (common random
 * numbers; the draw is n's own, like the engine's per-host access links). */
static double capacity_of(struct sim *s, node_t n)
{
    struct ftrack_global *g = fg(s);
    uint64_t z = g->salt ^ ((uint64_t)n << 32 | sim_addr(s, n).inc);
    z += UINT64_C(0x9E3779B97F4A7C15);                       /* splitmix64 */
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    double u = ((double)(z >> 11) + 0.5) / 9007199254740992.0;   /* (0, 1) */
    return ftrack_capacity_quantile(g->dist, g->median, g->shape, u);
}

/* ==== the supernode cache ================================================================= */

static bool is_parent(const struct ftrack_node *nd, struct addr a)
{
    for (unsigned k = 0; k < nd->nparents; k++)
        if (addr_eq(nd->parent[k].addr, a))
            return true;
    return false;
}

static int nb_find(struct ftrack_node *nd, struct addr a)
{
    const struct ftrack_nbr *v = nb_of(nd);
    for (uint32_t i = 0; i < nd->nb.n; i++)
        if (addr_eq(v[i].p.addr, a))
            return (int)i;
    return -1;
}

static uint16_t load16(uint32_t x) { return x > UINT16_MAX ? UINT16_MAX : (uint16_t)x; }

/* n learns that p is a supernode with `load` children: keep it as a candidate (a random old
 * entry makes room), or refresh what n knows of it. */
static void cache_offer(struct sim *s, node_t n, struct peer p, uint16_t load)
{
    struct ftrack_node *nd = fnode(s, n);
    if (p.addr.slot == NODE_NONE || addr_eq(p.addr, nd->self.addr))
        return;
    for (unsigned k = 0; k < nd->nparents; k++)
        if (addr_eq(nd->parent[k].addr, p.addr)) {
            nd->pload[k] = load;
            return;
        }
    if (nd->role == FTRACK_SUPER) {
        int i = nb_find(nd, p.addr);
        if (i >= 0) {
            nb_of(nd)[i].load = load;
            return;
        }
    }
    for (unsigned k = 0; k < nd->ncache; k++)
        if (addr_eq(nd->cache[k].addr, p.addr)) {
            nd->cload[k] = load;
            return;
        }
    unsigned k = nd->ncache < FTRACK_CACHE ? nd->ncache++
                                           : (unsigned)gsl_rng_uniform_int(sim_rng(s), FTRACK_CACHE);
    nd->cache[k] = p;
    nd->cload[k] = load;
}

static void cache_offer_list(struct sim *s, node_t n, const struct ftrack_list *l)
{
    for (unsigned k = 0; k < l->count && k < FTRACK_REFRESH; k++)
        cache_offer(s, n, l->p[k], l->load[k]);
}

static void cache_remove(struct ftrack_node *nd, unsigned k)
{
    nd->ncache--;
    nd->cache[k] = nd->cache[nd->ncache];
    nd->cload[k] = nd->cload[nd->ncache];
}

/* Takes a candidate out of n's cache; false if it is empty. A supernode takes one at random;
 * an ordinary node the less loaded of two random ones (the refresh list's workload field). */
static bool cache_take(struct sim *s, node_t n, struct peer *out, uint16_t *load)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->ncache == 0)
        return false;
    unsigned k = (unsigned)gsl_rng_uniform_int(sim_rng(s), nd->ncache);
    if (nd->role == FTRACK_ORDINARY && nd->ncache > 1) {
        unsigned j = (unsigned)gsl_rng_uniform_int(sim_rng(s), nd->ncache);
        if (nd->cload[j] < nd->cload[k])
            k = j;
    }
    *out = nd->cache[k];
    *load = nd->cload[k];
    cache_remove(nd, k);
    return true;
}

/* The refresh list n hands out: a supernode itself and random neighbours, an ordinary node its
 * parents and cached supernodes; `skip` (the asker) left out. */
static void refresh_list(struct sim *s, node_t n, struct addr skip, struct ftrack_list *l)
{
    struct ftrack_node *nd = fnode(s, n);
    struct peer pool[2 * FTRACK_DEGREE_MAX + FTRACK_CACHE + FTRACK_PARENTS_MAX];
    uint16_t pl[2 * FTRACK_DEGREE_MAX + FTRACK_CACHE + FTRACK_PARENTS_MAX];
    unsigned m = 0;
    l->count = 0;
    if (nd->role == FTRACK_SUPER) {
        l->load[0] = load16(nd->ch.n);
        l->p[l->count++] = nd->self;
        for (uint32_t i = 0; i < nd->nb.n; i++) {
            pl[m] = load16(nb_of(nd)[i].load);
            pool[m++] = nb_of(nd)[i].p;
        }
        for (unsigned k = 0; k < nd->ncache; k++) {   /* gossiped on: a wider sample */
            pl[m] = nd->cload[k];
            pool[m++] = nd->cache[k];
        }
    } else {
        for (unsigned k = 0; k < nd->nparents; k++) {
            pl[m] = nd->pload[k];
            pool[m++] = nd->parent[k];
        }
        for (unsigned k = 0; k < nd->ncache; k++) {
            pl[m] = nd->cload[k];
            pool[m++] = nd->cache[k];
        }
    }
    unsigned kept = 0;
    for (unsigned k = 0; k < m; k++)
        if (!addr_eq(pool[k].addr, skip)) {
            pl[kept] = pl[k];
            pool[kept++] = pool[k];
        }
    /* a random sample of `want` of the kept entries (partial Fisher-Yates) */
    unsigned want = FTRACK_REFRESH - l->count;
    for (unsigned k = 0; k < want && k < kept; k++) {
        unsigned j = k + (unsigned)gsl_rng_uniform_int(sim_rng(s), kept - k);
        struct peer tp = pool[j];
        uint16_t tl = pl[j];
        pool[j] = pool[k];
        pl[j] = pl[k];
        l->p[l->count] = tp;
        l->load[l->count++] = tl;
    }
}

/* ==== the index =========================================================================== */

static uint32_t idx_lower(const struct ftrack_node *nd, uint64_t file)
{
    return kit_vec_lower_bound(&nd->idx, sizeof(struct ftrack_entry), file);
}

static void idx_add(struct ftrack_node *nd, uint64_t file, struct addr holder)
{
    struct ftrack_entry *e = kit_vec_insert(&nd->idx, idx_lower(nd, file), sizeof *e,
                                            "a fasttrack index");
    *e = (struct ftrack_entry){ .file = file, .holder = holder };
}

static void idx_remove_holder(struct ftrack_node *nd, struct addr holder)
{
    struct ftrack_entry *e = idx_of(nd);
    uint32_t k = 0;
    for (uint32_t i = 0; i < nd->idx.n; i++)
        if (!addr_eq(e[i].holder, holder))
            e[k++] = e[i];
    nd->idx.n = k;
}

static void idx_add_own(struct sim *s, node_t n)
{
    uint32_t cnt = 0;
    const uint64_t *f = sim_node_files(s, n, &cnt);
    for (uint32_t k = 0; k < cnt; k++)
        idx_add(fnode(s, n), f[k], sim_addr(s, n));
}

/* ==== roles and links ===================================================================== */

static void become_super(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    nd->role = FTRACK_SUPER;
    if (!nd->qc)
        nd->qc = mem_calloc(FTRACK_QCACHE, sizeof *nd->qc, "a fasttrack query cache");
    idx_add_own(s, n);
}

static void nb_remove(struct ftrack_node *nd, struct addr a)
{
    int i = nb_find(nd, a);
    if (i < 0)
        return;
    struct ftrack_nbr *v = nb_of(nd);
    v[i] = v[--nd->nb.n];
}

static void nb_add(struct ftrack_node *nd, struct peer p, uint32_t load)
{
    if (nb_find(nd, p.addr) >= 0)
        return;
    kit_vec_reserve(&nd->nb, nd->nb.n + 1, sizeof(struct ftrack_nbr), "fasttrack neighbours");
    nb_of(nd)[nd->nb.n++] = (struct ftrack_nbr){ .p = p, .load = load };
}

static int ch_find(struct ftrack_node *nd, struct addr a)
{
    const struct ftrack_child *c = ch_of(nd);
    for (uint32_t i = 0; i < nd->ch.n; i++)
        if (addr_eq(c[i].p.addr, a))
            return (int)i;
    return -1;
}

static void ch_add(struct ftrack_node *nd, struct addr a, int64_t heard_ms, uint32_t files)
{
    kit_vec_reserve(&nd->ch, nd->ch.n + 1, sizeof(struct ftrack_child), "fasttrack children");
    ch_of(nd)[nd->ch.n++] = (struct ftrack_child){ .p = { .id = 0, .addr = a },
                                                   .heard_ms = heard_ms, .files = files };
}

static void ch_drop(struct ftrack_node *nd, uint32_t i)
{
    struct ftrack_child *c = ch_of(nd);
    idx_remove_holder(nd, c[i].p.addr);
    c[i] = c[--nd->ch.n];
}

static void parent_remove(struct ftrack_node *nd, struct addr a)
{
    for (unsigned k = 0; k < nd->nparents; k++)
        if (addr_eq(nd->parent[k].addr, a)) {
            nd->nparents--;
            nd->parent[k] = nd->parent[nd->nparents];
            nd->pload[k] = nd->pload[nd->nparents];
            return;
        }
}

static void join_done(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->phase == FTRACK_JOINED)
        return;
    nd->phase = FTRACK_JOINED;
    sim_introducer_register(s, n);
}

static void ask_introducer(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->retry_armed || nd->asking)
        return;
    nd->retry_armed = 1;
    int64_t d = (int64_t)FTRACK_RETRY_US << (nd->tries < 5 ? nd->tries : 5);
    if (d > fg(s)->keep_us)
        d = fg(s)->keep_us;
    sim_timer(s, n, FTRACK_TIMER_RETRY, nd->tries == 0 && nd->phase == FTRACK_JOINING ? 0 : d, 0);
}

/* Brings n's links up to target from its cache: parents for an ordinary node, supernode
 * connections for a supernode; with nothing left to try, asks the introducer. */
static void fill(struct sim *s, node_t n)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    struct peer p;
    uint16_t load;
    if (nd->role == FTRACK_SUPER) {
        while (nd->nb.n + nd->pend < g->degree && cache_take(s, n, &p, &load)) {
            nd->pend++;
            send_rpc(s, n, p.addr, FTRACK_MSG_NEIGH_REQ, LOOKUP_NONE, NULL, 0, 0, p.id, 0);
        }
        if (nd->nb.n + nd->pend == 0 && nd->ncache == 0)
            ask_introducer(s, n);
        return;
    }
    while (nd->nparents + nd->pend < g->parents && cache_take(s, n, &p, &load)) {
        nd->pend++;
        uint32_t cnt = 0;
        sim_node_files(s, n, &cnt);
        struct ftrack_attach_req b = { .files = cnt };
        send_rpc(s, n, p.addr, FTRACK_MSG_ATTACH_REQ, LOOKUP_NONE, &b, sizeof b, 0, p.id, 0);
    }
    if (nd->nparents + nd->pend == 0 && nd->ncache == 0)
        ask_introducer(s, n);
}

/* ==== joining ============================================================================= */

static void start_maint(struct sim *s, node_t n, int64_t first)
{
    sim_timer(s, n, FTRACK_TIMER_MAINT, first, 0);
}

static void ftrack_join(struct sim *s, node_t n)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    nd->self = (struct peer){ .id = sim_node_id(s, n), .addr = sim_addr(s, n) };
    nd->capacity = capacity_of(s, n);
    nd->phase = FTRACK_JOINING;
    if (nd->capacity > g->threshold)
        become_super(s, n);
    start_maint(s, n, sim_jitter(s, g->keep_us));
    sim_introducer_ask(s, n);
}

static void on_introducer_reply(struct sim *s, node_t n, const struct intro_reply *r)
{
    struct ftrack_node *nd = fnode(s, n);
    for (uint32_t k = 0; k < r->count && k < INTRO_CONTACTS; k++) {
        nd->asking++;
        send_rpc(s, n, r->contacts[k].addr, FTRACK_MSG_SN_REQ, LOOKUP_NONE, NULL, 0, 0, 0, 0);
    }
    if (r->count == 0) {
        if (nd->role == FTRACK_SUPER) {
            join_done(s, n);          /* the first supernode: the tier starts here */
            return;
        }
        nd->tries++;
        ask_introducer(s, n);
    }
}

/* Every SN_REQ of an introducer round has been answered or has timed out. */
static void sn_round_over(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->role == FTRACK_SUPER) {
        join_done(s, n);
        fill(s, n);
        return;
    }
    if (nd->ncache == 0 && nd->nparents + nd->pend == 0) {
        if (++nd->tries >= FTRACK_PROMOTE_TRIES) {
            sim_count(s, FTRACK_C_PROMOTIONS, 1);
            become_super(s, n);
            join_done(s, n);
            return;
        }
    }
    fill(s, n);
}

/* ==== handlers: links ===================================================================== */

static void on_sn_req(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_list l = { 0 };
    refresh_list(s, n, m->src, &l);
    reply_msg(s, n, m, FTRACK_MSG_SN_REP, &l, LIST_LEN(l.count), l.count);
}

static void on_attach_req(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    struct ftrack_list r = { 0 };
    refresh_list(s, n, m->src, &r);
    if (nd->role == FTRACK_SUPER && nd->phase == FTRACK_JOINED) {
        int i = ch_find(nd, m->src);
        if (i >= 0)
            ch_drop(nd, (uint32_t)i);   /* a re-attach: the child uploads its list anew */
        ch_add(nd, m->src, kit_now_ms(s), 0);
        r.flag = 1;
    }
    reply_msg(s, n, m, FTRACK_MSG_ATTACH_REP, &r, LIST_LEN(r.count), r.count);
}

static void upload_files(struct sim *s, node_t n, struct addr to)
{
    uint32_t cnt = 0;
    const uint64_t *f = sim_node_files(s, n, &cnt);
    for (uint32_t off = 0; off < cnt; off += FTRACK_CHUNK) {
        struct ftrack_upload u = { .count = cnt - off < FTRACK_CHUNK ? cnt - off : FTRACK_CHUNK };
        memcpy(u.file, f + off, u.count * sizeof u.file[0]);
        send_msg(s, n, to, FTRACK_MSG_UPLOAD, LOOKUP_NONE, &u,
                 offsetof(struct ftrack_upload, file) + u.count * sizeof u.file[0], u.count);
    }
}

static void on_attach_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_list *l = m->body;
    if (nd->pend)
        nd->pend--;
    if (l->flag && nd->role == FTRACK_ORDINARY) {
        struct peer p = { .id = m->rpc->ctx[0], .addr = m->src };
        if (nd->nparents < g->parents && !is_parent(nd, p.addr)) {
            nd->parent[nd->nparents++] = p;
            nd->tries = 0;
            upload_files(s, n, p.addr);
            join_done(s, n);
        } else if (!is_parent(nd, p.addr)) {
            send_msg(s, n, p.addr, FTRACK_MSG_GOODBYE, LOOKUP_NONE, NULL, 0, 0);
        }
    }
    cache_offer_list(s, n, l);
    fill(s, n);
}

static void on_upload(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    int i = nd->role == FTRACK_SUPER ? ch_find(nd, m->src) : -1;
    if (i < 0)
        return;                       /* not (or no longer) our child */
    const struct ftrack_upload *u = m->body;
    for (uint32_t k = 0; k < u->count && k < FTRACK_CHUNK; k++)
        idx_add(nd, u->file[k], m->src);
    ch_of(nd)[i].files += u->count;
}

static void on_neigh_req(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    struct ftrack_list r = { 0 };
    refresh_list(s, n, m->src, &r);
    if (nd->role == FTRACK_SUPER && nd->phase == FTRACK_JOINED &&
        (nb_find(nd, m->src) >= 0 || nd->nb.n < 2 * g->degree)) {
        nb_add(nd, (struct peer){ .id = 0, .addr = m->src }, 0);
        r.flag = 1;
    }
    reply_msg(s, n, m, FTRACK_MSG_NEIGH_REP, &r, LIST_LEN(r.count), r.count);
}

static void on_neigh_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_list *l = m->body;
    if (nd->pend)
        nd->pend--;
    if (l->flag) {
        if (nd->nb.n < 2 * g->degree)
            nb_add(nd, (struct peer){ .id = m->rpc->ctx[0], .addr = m->src }, 0);
        else
            send_msg(s, n, m->src, FTRACK_MSG_GOODBYE, LOOKUP_NONE, NULL, 0, 0);
    }
    cache_offer_list(s, n, l);
    fill(s, n);
}

static void on_keep_req(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_keep_req *b = m->body;
    struct ftrack_list r = { 0 };
    refresh_list(s, n, m->src, &r);
    if (nd->role == FTRACK_SUPER) {
        if (b->as_child) {
            int i = ch_find(nd, m->src);
            if (i >= 0) {
                ch_of(nd)[i].heard_ms = kit_now_ms(s);
                r.flag = 1;
            }
        } else {
            r.flag = nb_find(nd, m->src) >= 0;
        }
    }
    reply_msg(s, n, m, FTRACK_MSG_KEEP_REP, &r, LIST_LEN(r.count), r.count);
}

static void on_keep_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_list *l = m->body;
    if (!l->flag) {                   /* the other end has dropped us */
        if (nd->role == FTRACK_SUPER) {
            nb_remove(nd, m->src);
        } else if (is_parent(nd, m->src)) {
            parent_remove(nd, m->src);
            sim_count(s, FTRACK_C_REATTACH, 1);
        }
    }
    cache_offer_list(s, n, l);
    fill(s, n);
}

static void on_goodbye(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->role == FTRACK_SUPER) {
        int i = ch_find(nd, m->src);
        if (i >= 0)
            ch_drop(nd, (uint32_t)i);
        nb_remove(nd, m->src);
    } else if (is_parent(nd, m->src)) {
        parent_remove(nd, m->src);
        sim_count(s, FTRACK_C_REATTACH, 1);
    }
    fill(s, n);
}

static void ftrack_leave(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    if (nd->role == FTRACK_SUPER) {
        for (uint32_t i = 0; i < nd->ch.n; i++)
            send_msg(s, n, ch_of(nd)[i].p.addr, FTRACK_MSG_GOODBYE, LOOKUP_NONE, NULL, 0, 0);
        for (uint32_t i = 0; i < nd->nb.n; i++)
            send_msg(s, n, nb_of(nd)[i].p.addr, FTRACK_MSG_GOODBYE, LOOKUP_NONE, NULL, 0, 0);
    } else {
        for (unsigned k = 0; k < nd->nparents; k++)
            send_msg(s, n, nd->parent[k].addr, FTRACK_MSG_GOODBYE, LOOKUP_NONE, NULL, 0, 0);
    }
    nd->phase = FTRACK_OUT;
}

/* One keep-alive round. */
static void maintain(struct sim *s, node_t n)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    if (nd->role == FTRACK_SUPER) {
        struct ftrack_keep_req b = { .as_child = 0 };
        for (uint32_t i = 0; i < nd->nb.n; i++)
            send_rpc(s, n, nb_of(nd)[i].p.addr, FTRACK_MSG_KEEP_REQ, LOOKUP_NONE, &b, sizeof b, 0,
                     0, 0);
        int64_t limit = 3 * g->keep_us / 1000, t = kit_now_ms(s);
        for (uint32_t i = 0; i < nd->ch.n;) {
            if (t - ch_of(nd)[i].heard_ms > limit) {
                ch_drop(nd, i);
                sim_count(s, FTRACK_C_CHILD_DROPS, 1);
            } else {
                i++;
            }
        }
    } else {
        struct ftrack_keep_req b = { .as_child = 1 };
        for (unsigned k = 0; k < nd->nparents; k++)
            send_rpc(s, n, nd->parent[k].addr, FTRACK_MSG_KEEP_REQ, LOOKUP_NONE, &b, sizeof b, 0,
                     0, 0);
    }
    fill(s, n);
}

/* ==== search ============================================================================== */

static struct ftrack_rec *rec_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &fg(s)->recs, i); }

/* The record named by handle h, if it is a live search of node n; else KIT_NONE. */
static uint32_t rec_of(struct sim *s, node_t n, uint64_t h)
{
    return kit_pool_get(&fg(s)->recs, n, h);
}

static void on_window(struct sim *s, node_t n, uint64_t h);

/* The origin receives holders from a hit (its own address left out); with ping_candidates
 * of them in hand it stops waiting and pings them. */
static void rec_add_hits(struct sim *s, node_t n, uint32_t i, const struct addr *h, unsigned cnt,
                         uint32_t hops)
{
    struct ftrack_rec *r = rec_at(s, i);
    if (r->phase != FTRACK_REC_COLLECT)
        return;
    struct addr self = sim_addr(s, n);
    for (unsigned k = 0; k < cnt && r->nhits < FTRACK_HITS; k++) {
        if (addr_eq(h[k], self))
            continue;
        bool dup = false;
        for (unsigned j = 0; j < r->nhits && !dup; j++)
            dup = addr_eq(r->hit[j].a, h[k]);
        if (!dup)
            r->hit[r->nhits++] = (struct ftrack_cand){ .a = h[k], .hops = hops };
    }
    if (r->nhits >= fg(s)->ping)
        on_window(s, n, kit_pool_ctx(&fg(s)->recs, i));
}

static struct ftrack_qentry *qc_slot(struct ftrack_node *nd, uint32_t qid)
{
    return &nd->qc[qid & (FTRACK_QCACHE - 1)];
}

/* Supernode n handles a query first seen now, from prev (own address: n is the origin). */
static void sn_query(struct sim *s, node_t n, const struct ftrack_query *q, struct addr prev,
                     uint32_t lookup)
{
    struct ftrack_node *nd = fnode(s, n);
    struct addr self = sim_addr(s, n);
    *qc_slot(nd, q->qid) = (struct ftrack_qentry){ .qid1 = q->qid + 1, .prev = prev };
    /* answer from the index */
    struct ftrack_hit hit = { .handle = q->handle, .qid = q->qid, .hops = q->hops };
    const struct ftrack_entry *e = idx_of(nd);
    for (uint32_t i = idx_lower(nd, q->key); i < nd->idx.n && e[i].file == q->key &&
                                               hit.count < FTRACK_HIT_MAX; i++)
        if (!addr_eq(e[i].holder, prev))  /* the querying child itself */
            hit.holder[hit.count++] = e[i].holder;
    if (hit.count) {
        if (addr_eq(prev, self)) {
            uint32_t r = rec_of(s, n, q->handle);
            if (r != KIT_NONE)
                rec_add_hits(s, n, r, hit.holder, hit.count, hit.hops);
        } else {
            sim_count(s, FTRACK_C_HIT_MSGS, 1);
            send_msg(s, n, prev, FTRACK_MSG_QUERYHIT, lookup, &hit,
                     offsetof(struct ftrack_hit, holder) + hit.count * sizeof hit.holder[0],
                     hit.count);
        }
    }
    if (q->ttl == 0)
        return;
    struct ftrack_query fw = *q;
    fw.ttl--;
    fw.hops++;
    for (uint32_t i = 0; i < nd->nb.n; i++) {
        struct addr a = nb_of(nd)[i].p.addr;
        if (addr_eq(a, prev))
            continue;
        sim_count(s, FTRACK_C_QUERY_MSGS, 1);
        send_msg(s, n, a, FTRACK_MSG_QUERY, lookup, &fw, sizeof fw, 0);
    }
}

static void on_query(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_query *q = m->body;
    if (nd->role != FTRACK_SUPER)
        return;                       /* a stale address: an ordinary node indexes nothing */
    struct ftrack_qentry *c = qc_slot(nd, q->qid);
    if (c->qid1 == q->qid + 1) {
        sim_count(s, FTRACK_C_QUERY_DUPS, 1);
        return;
    }
    sn_query(s, n, q, m->src, m->lookup);
}

static void on_queryhit(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    const struct ftrack_hit *h = m->body;
    uint32_t r = rec_of(s, n, h->handle);
    if (r != KIT_NONE) {
        rec_add_hits(s, n, r, h->holder, h->count, h->hops);
        return;
    }
    if (nd->role != FTRACK_SUPER)
        return;
    const struct ftrack_qentry *c = qc_slot(nd, h->qid);
    if (c->qid1 != h->qid + 1 || addr_eq(c->prev, sim_addr(s, n))) {
        if (c->qid1 != h->qid + 1)
            sim_count(s, FTRACK_C_HIT_LOST, 1);
        return;
    }
    sim_count(s, FTRACK_C_HIT_MSGS, 1);
    send_msg(s, n, c->prev, FTRACK_MSG_QUERYHIT, m->lookup, h, m->len, h->count);
}

static void ftrack_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, origin);
    uint32_t i = kit_pool_alloc(&g->recs, origin);
    struct ftrack_rec *r = rec_at(s, i);
    r->key = key;
    r->lookup = lookup_id;
    r->phase = FTRACK_REC_COLLECT;
    uint64_t h = kit_pool_ctx(&g->recs, i);
    sim_timer(s, origin, FTRACK_TIMER_WINDOW, g->window_us, h);
    /* a random id, as a GUID is: the lookup's number would be dense and collision-free in the
     * direct-mapped query caches, which no real network gets */
    uint32_t qid = (uint32_t)gsl_rng_uniform_int(sim_rng(s), UINT32_MAX);
    struct ftrack_query q = { .key = key, .handle = h, .qid = qid, .ttl = (uint8_t)g->ttl,
                              .hops = 0 };
    if (nd->role == FTRACK_SUPER) {
        sn_query(s, origin, &q, sim_addr(s, origin), lookup_id);
        return;
    }
    q.hops = 1;
    for (unsigned k = 0; k < nd->nparents; k++) {
        sim_count(s, FTRACK_C_QUERY_MSGS, 1);
        send_msg(s, origin, nd->parent[k].addr, FTRACK_MSG_QUERY, lookup_id, &q, sizeof q, 0);
    }
}

static void rec_finish(struct sim *s, uint32_t i)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_rec *r = rec_at(s, i);
    if (r->best < r->nhits)
        sim_lookup_done(s, r->lookup, OUTCOME_OK, r->hit[r->best].a, r->hit[r->best].hops);
    else
        sim_lookup_done(s, r->lookup, OUTCOME_TIMEOUT, ADDR_NONE, 0);
    kit_pool_release(&g->recs, i);
}

/* The window is over, or enough holders are in: ping the first candidates, or give up. */
static void on_window(struct sim *s, node_t n, uint64_t h)
{
    struct ftrack_global *g = fg(s);
    uint32_t i = rec_of(s, n, h);
    if (i == KIT_NONE || rec_at(s, i)->phase != FTRACK_REC_COLLECT)
        return;
    struct ftrack_rec *r = rec_at(s, i);
    if (!sim_lookup_active(s, r->lookup)) {
        kit_pool_release(&g->recs, i);
        return;
    }
    if (r->nhits == 0) {
        sim_lookup_done(s, r->lookup, OUTCOME_TTL_EXPIRED, ADDR_NONE, 0);
        kit_pool_release(&g->recs, i);
        return;
    }
    r->phase = FTRACK_REC_PING;
    r->best = FTRACK_HITS;
    r->best_rtt = INT64_MAX;
    unsigned k = r->nhits < g->ping ? r->nhits : g->ping;
    r->pings_out = (uint8_t)k;
    for (unsigned j = 0; j < k; j++)
        send_rpc(s, n, r->hit[j].a, FTRACK_MSG_PING_REQ, r->lookup, NULL, 0, 0, h, j);
}

static void on_ping_done(struct sim *s, node_t n, const struct rpc *rpc, bool answered)
{
    uint32_t i = rec_of(s, n, rpc->ctx[0]);
    if (i == KIT_NONE || rec_at(s, i)->phase != FTRACK_REC_PING)
        return;
    struct ftrack_rec *r = rec_at(s, i);
    if (answered) {
        int64_t rtt = sim_now(s) - rpc->sent_us;
        if (rtt < r->best_rtt) {
            r->best_rtt = rtt;
            r->best = (uint8_t)rpc->ctx[1];
        }
    }
    if (--r->pings_out == 0)
        rec_finish(s, i);
}

/* ==== the protocol's entry points ========================================================= */

static void ftrack_on_message(struct sim *s, node_t n, const struct msg *m)
{
    struct ftrack_node *nd = fnode(s, n);
    if (m->type == MSG_INTRODUCER_REPLY) {
        on_introducer_reply(s, n, m->body);
        return;
    }
    if (m->rpc) {
        switch (m->rpc->type) {
        case FTRACK_MSG_SN_REQ:
            cache_offer_list(s, n, m->body);
            if (nd->asking && --nd->asking == 0)
                sn_round_over(s, n);
            break;
        case FTRACK_MSG_ATTACH_REQ:
            on_attach_rep(s, n, m);
            break;
        case FTRACK_MSG_NEIGH_REQ:
            on_neigh_rep(s, n, m);
            break;
        case FTRACK_MSG_KEEP_REQ:
            on_keep_rep(s, n, m);
            break;
        case FTRACK_MSG_PING_REQ:
            on_ping_done(s, n, m->rpc, true);
            break;
        default:
            break;
        }
        return;
    }
    switch (m->type) {
    case FTRACK_MSG_SN_REQ:
        on_sn_req(s, n, m);
        break;
    case FTRACK_MSG_ATTACH_REQ:
        on_attach_req(s, n, m);
        break;
    case FTRACK_MSG_UPLOAD:
        on_upload(s, n, m);
        break;
    case FTRACK_MSG_NEIGH_REQ:
        on_neigh_req(s, n, m);
        break;
    case FTRACK_MSG_KEEP_REQ:
        on_keep_req(s, n, m);
        break;
    case FTRACK_MSG_GOODBYE:
        on_goodbye(s, n, m);
        break;
    case FTRACK_MSG_QUERY:
        on_query(s, n, m);
        break;
    case FTRACK_MSG_QUERYHIT:
        on_queryhit(s, n, m);
        break;
    case FTRACK_MSG_PING_REQ:
        reply_msg(s, n, m, FTRACK_MSG_PING_REP, NULL, 0, 0);
        break;
    default:
        SIM_ASSERT(!"fasttrack: unexpected message type");
    }
}

static void ftrack_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    struct ftrack_node *nd = fnode(s, n);
    switch (rpc->type) {
    case FTRACK_MSG_SN_REQ:
        if (nd->asking && --nd->asking == 0)
            sn_round_over(s, n);
        break;
    case FTRACK_MSG_ATTACH_REQ:
    case FTRACK_MSG_NEIGH_REQ:
        if (nd->pend)
            nd->pend--;
        fill(s, n);
        break;
    case FTRACK_MSG_KEEP_REQ:
        if (nd->role == FTRACK_SUPER) {
            if (nb_find(nd, rpc->dst) >= 0) {
                nb_remove(nd, rpc->dst);
                sim_count(s, FTRACK_C_NEIGH_DROPS, 1);
            }
        } else if (is_parent(nd, rpc->dst)) {
            parent_remove(nd, rpc->dst);
            sim_count(s, FTRACK_C_REATTACH, 1);
        }
        fill(s, n);
        break;
    case FTRACK_MSG_PING_REQ:
        on_ping_done(s, n, rpc, false);
        break;
    default:
        break;
    }
}

static void ftrack_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct ftrack_global *g = fg(s);
    struct ftrack_node *nd = fnode(s, n);
    switch (kind) {
    case FTRACK_TIMER_MAINT:
        if (sim_maintenance_on(s) && nd->phase != FTRACK_OUT)
            maintain(s, n);
        start_maint(s, n, sim_jitter(s, g->keep_us));
        break;
    case FTRACK_TIMER_RETRY:
        nd->retry_armed = 0;
        if (nd->phase != FTRACK_OUT && !nd->asking)
            sim_introducer_ask(s, n);
        break;
    case FTRACK_TIMER_WINDOW:
        on_window(s, n, arg);
        break;
    default:
        SIM_ASSERT(!"fasttrack: unknown timer");
    }
}

/* A supernode: index entries + neighbours + children; an ordinary node: its parents. */
static size_t ftrack_state_entries(const struct sim *s, node_t n)
{
    const struct ftrack_node *nd = sim_state_const(s, n);
    if (nd->role == FTRACK_SUPER)
        return (size_t)nd->idx.n + nd->nb.n + nd->ch.n;
    return nd->nparents;
}

/* Measurement: every live node's state (global knowledge is allowed in gauges), taken once
 * per sample and kept for the other gauges of the same sample. */
static double ftrack_gauge(struct sim *s, uint32_t k)
{
    struct ftrack_global *g = fg(s);
    if (k >= FTRACK_G_COUNT)
        return NAN;
    if (g->gauge_at != sim_now(s) || !g->gauge_valid) {
        node_t m = sim_converge_live(s, g->live, g->cap);
        double joined = 0, sup = 0, children = 0, index = 0, degree = 0, ord = 0, orphans = 0;
        for (node_t j = 0; j < m; j++) {
            node_t n = g->live[j];
            const struct ftrack_node *nd = sim_state_const(s, n);
            if (nd->phase != FTRACK_JOINED)
                continue;
            joined++;
            if (nd->role == FTRACK_SUPER) {
                sup++;
                children += nd->ch.n;
                index += nd->idx.n;
                degree += nd->nb.n;
            } else {
                ord++;
                orphans += nd->nparents == 0;
            }
        }
        g->gauge_val[FTRACK_G_FRACTION] = joined ? sup / joined : NAN;
        g->gauge_val[FTRACK_G_CHILDREN] = sup ? children / sup : NAN;
        g->gauge_val[FTRACK_G_INDEX] = sup ? index / sup : NAN;
        g->gauge_val[FTRACK_G_DEGREE] = sup ? degree / sup : NAN;
        g->gauge_val[FTRACK_G_ORPHANS] = ord ? orphans / ord : NAN;
        g->gauge_at = sim_now(s);
        g->gauge_valid = true;
    }
    return g->gauge_val[k];
}

/* ==== converged start ===================================================================== */

/* The state a join phase and keep-alives reach: the capacity rule picks the supernodes (the
 * most capable node if none passes the threshold, as a joiner that finds none promotes
 * itself); nodes are taken in a random join order; each supernode opens super_degree
 * connections to random earlier supernodes that have room (fewer than 2 x super_degree), those
 * left short are topped up as maintenance would; each ordinary node attaches to `parents`
 * supernodes up before it, each the less loaded of two random ones, and its files are in their
 * indices; workloads and caches are what keep-alives and refresh lists would have brought. */
static void ftrack_converge(struct sim *s)
{
    struct ftrack_global *g = fg(s);
    node_t *live = mem_calloc(g->cap, sizeof *live, "fasttrack's converge");
    node_t *sup = mem_calloc(g->cap, sizeof *sup, "fasttrack's converge");
    node_t *pool = mem_calloc(g->cap, sizeof *pool, "fasttrack's converge");
    node_t *seen = mem_calloc(g->cap, sizeof *seen, "fasttrack's converge");
    node_t m = sim_converge_live(s, live, g->cap), ns = 0;
    node_t best = NODE_NONE;
    /* a random join order: supernodes connect to earlier ones, children attach to earlier
     * supernodes, so early supernodes end with more links and children, as in a join phase */
    if (m > 1)
        gsl_ran_shuffle(sim_rng(s), live, m, sizeof *live);
    for (node_t j = 0; j < m; j++) {
        node_t n = live[j];
        struct ftrack_node *nd = fnode(s, n);
        nd->self = (struct peer){ .id = sim_node_id(s, n), .addr = sim_addr(s, n) };
        nd->capacity = capacity_of(s, n);
        nd->phase = FTRACK_JOINED;
        if (nd->capacity > g->threshold) {
            become_super(s, n);
            sup[ns++] = n;
        }
        seen[j] = ns;                 /* supernodes up when node j joined */
        if (best == NODE_NONE || nd->capacity > fnode(s, best)->capacity)
            best = n;
    }
    if (ns == 0 && best != NODE_NONE) {
        become_super(s, best);
        sup[ns++] = best;
    }
#define FT_PEER(x) ((struct peer){ .id = sim_node_id(s, (x)), .addr = sim_addr(s, (x)) })
    /* supernodes join in order; then the short ones are topped up */
    for (int pass = 0; pass < 2; pass++) {
        for (node_t k = 0; k < ns; k++) {
            node_t a = sup[k];
            struct ftrack_node *an = fnode(s, a);
            if (an->nb.n >= g->degree)
                continue;
            node_t np = 0, upto = pass == 0 ? k : ns;
            for (node_t j = 0; j < upto; j++) {
                node_t b = sup[j];
                if (b != a && fnode(s, b)->nb.n < 2 * g->degree && nb_find(an, sim_addr(s, b)) < 0)
                    pool[np++] = b;
            }
            if (np > 1)
                gsl_ran_shuffle(sim_rng(s), pool, np, sizeof *pool);
            for (node_t j = 0; j < np && an->nb.n < g->degree; j++) {
                nb_add(an, FT_PEER(pool[j]), 0);
                nb_add(fnode(s, pool[j]), FT_PEER(a), 0);
            }
        }
    }
    /* children attach as fill does: the less loaded of two random supernodes */
    for (node_t j = 0; j < m; j++) {
        node_t n = live[j];
        struct ftrack_node *nd = fnode(s, n);
        if (nd->role == FTRACK_SUPER)
            continue;
        node_t up = seen[j] ? seen[j] : ns;
        unsigned want = g->parents < up ? g->parents : (unsigned)up;
        while (nd->nparents < want) {
            node_t p = sup[gsl_rng_uniform_int(sim_rng(s), up)];
            node_t q = sup[gsl_rng_uniform_int(sim_rng(s), up)];
            if (fnode(s, q)->ch.n < fnode(s, p)->ch.n && !is_parent(nd, sim_addr(s, q)))
                p = q;
            if (is_parent(nd, sim_addr(s, p)))
                continue;
            nd->parent[nd->nparents++] = FT_PEER(p);
            struct ftrack_node *pn = fnode(s, p);
            uint32_t cnt = 0;
            const uint64_t *f = sim_node_files(s, n, &cnt);
            ch_add(pn, sim_addr(s, n), 0, cnt);
            for (uint32_t x = 0; x < cnt; x++)
                idx_add(pn, f[x], sim_addr(s, n));
        }
    }
    /* workloads as keep-alives report them; caches as refresh lists fill them */
    for (node_t k = 0; k < ns; k++) {
        struct ftrack_node *an = fnode(s, sup[k]);
        for (uint32_t i = 0; i < an->nb.n; i++)
            nb_of(an)[i].load = fnode(s, nb_of(an)[i].p.addr.slot)->ch.n;
    }
    for (node_t j = 0; j < m; j++) {
        node_t n = live[j];
        struct ftrack_node *nd = fnode(s, n);
        if (nd->role == FTRACK_SUPER) {
            for (unsigned t = 0; t < FTRACK_REFRESH && ns > 1; t++) {
                node_t x = sup[gsl_rng_uniform_int(sim_rng(s), ns)];
                cache_offer(s, n, FT_PEER(x), load16(fnode(s, x)->ch.n));
            }
            continue;
        }
        for (unsigned k = 0; k < nd->nparents; k++)
            nd->pload[k] = load16(fnode(s, nd->parent[k].addr.slot)->ch.n);
        if (nd->nparents) {           /* backups: the parent's refresh list */
            struct ftrack_node *pn = fnode(s, nd->parent[0].addr.slot);
            for (unsigned t = 0; t < FTRACK_REFRESH && pn->nb.n; t++) {
                const struct ftrack_nbr *x = &nb_of(pn)[gsl_rng_uniform_int(sim_rng(s), pn->nb.n)];
                cache_offer(s, n, x->p, load16(x->load));
            }
        }
    }
#undef FT_PEER
    for (node_t j = 0; j < m; j++)
        start_maint(s, live[j], kit_phase(s, g->keep_us));
    free(seen);
    free(pool);
    free(sup);
    free(live);
}

/* ==== setup =============================================================================== */

static size_t ftrack_msg_body_max(const struct proto_config *cfg)
{
    (void)cfg;
    return sizeof(union ftrack_body);
}

/* n is down: free the tables it owned and its searches in flight. */
static void ftrack_down(struct sim *s, node_t n)
{
    struct ftrack_node *nd = fnode(s, n);
    kit_vec_free(&nd->nb);
    kit_vec_free(&nd->ch);
    kit_vec_free(&nd->idx);
    free(nd->qc);
    nd->qc = NULL;
    kit_pool_node_down(&fg(s)->recs, n);
}

static void ftrack_teardown(struct sim *s)
{
    struct ftrack_global *g = fg(s);
    if (!g)
        return;
    for (node_t n = 0; n < g->cap; n++)   /* the nodes still up; the others hold nothing */
        ftrack_down(s, n);
    kit_pool_free(&g->recs);
    free(g->live);
    free(g);
    sim_set_protocol_data(s, NULL);
}

static int ftrack_setup(struct sim *s, const struct proto_config *cfg)
{
    struct ftrack_global *g = mem_calloc(1, sizeof *g, "fasttrack's parameters");
    g->dist = (enum ftrack_dist)cfg->v[FTRACK_P_CAPACITY].i;
    g->median = cfg->v[FTRACK_P_CAP_MEDIAN].d;
    g->shape = cfg->v[FTRACK_P_CAP_SHAPE].d;
    g->threshold = cfg->v[FTRACK_P_THRESHOLD].d;
    g->parents = (uint32_t)cfg->v[FTRACK_P_PARENTS].i;
    g->degree = (uint32_t)cfg->v[FTRACK_P_DEGREE].i;
    g->ttl = (uint32_t)cfg->v[FTRACK_P_TTL].i;
    g->window_us = cfg->v[FTRACK_P_WINDOW].i;
    g->ping = (uint32_t)cfg->v[FTRACK_P_PING].i;
    g->keep_us = cfg->v[FTRACK_P_KEEPALIVE].i;
    g->rpc_us = cfg->v[FTRACK_P_RPC_TIMEOUT].i;
    if (g->dist == FTRACK_PARETO && g->shape <= 0) {
        free(g);
        return -1;
    }
    g->cap = sim_capacity(s);
    g->salt = kit_rand64(s);
    sim_set_protocol_data(s, g);
    g->live = mem_calloc(g->cap, sizeof *g->live, "the fasttrack gauges' scratch");
    kit_pool_init(&g->recs, sizeof(struct ftrack_rec), 1024, g->cap, "fasttrack searches");
    return 0;
}

const struct protocol fasttrack_protocol = {
    .msg_names = ftrack_msg_name,
    .n_msg_names = FTRACK_MSG_COUNT,
    .name = "fasttrack",
    .summary = "FastTrack/KaZaA: supernodes by capacity index their children, TTL flood among supernodes",
    .paper = "Liang, Kumar, Ross, The FastTrack overlay: a measurement study, Computer Networks "
             "50(6), 2006",
    .params = ftrack_params,
    .keys = KEYS_FILES,
    .node_state_size = sizeof(struct ftrack_node),
    .msg_body_max = ftrack_msg_body_max,
    .setup = ftrack_setup,
    .join = ftrack_join,
    .leave = ftrack_leave,
    .on_message = ftrack_on_message,
    .on_timer = ftrack_on_timer,
    .on_timeout = ftrack_on_timeout,
    .lookup = ftrack_lookup,
    .state_entries = ftrack_state_entries,
    .converge = ftrack_converge,
    .teardown = ftrack_teardown,
    .down = ftrack_down,
    .counters = ftrack_counters,
    .gauges = ftrack_gauges,
    .gauge = ftrack_gauge,
};
