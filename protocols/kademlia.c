/* kademlia.c — Kademlia (Maymounkov & Mazières, IPTPS 2002).
 *
 * 64-bit identifiers and the XOR metric d(x, y) = x ^ y. A node keeps 64 k-buckets: bucket i
 * holds up to k contacts at distance [2^i, 2^(i+1)), least recently seen first (§2.2). The
 * sender of every message, request or reply, is seen: moved to the tail if known, appended if
 * its bucket has room; if the bucket is full its least recently seen contact is pinged and
 * evicted only if the ping times out (the newcomer then takes its place; otherwise the
 * newcomer is dropped). Only RPC timeouts reveal failures: a contact is removed from its
 * bucket after `stale` timeouts in a row (§4.1 contact accounting).
 *
 * Lookups are the paper's iterative node lookup (§2.3): the origin keeps a shortlist of the
 * closest contacts it knows, sorted by XOR distance to the target, keeps α RPCs in flight to
 * the closest unqueried ones, merges the k closest contacts each reply names, and stops when
 * the k closest non-failed entries have all answered. A workload lookup is a FIND_VALUE lookup:
 * it ends as soon as a node returns the value; that node is the answer and the hop count is
 * the round of its RPC: the number of sequential waits the origin performed before the
 * answer, a wait ending on a reply or a timeout. An RPC's round is 1 + the larger of (a) the
 * round of the earliest reply that named its contact (0 for the origin's own contacts; a
 * contact keeps the smallest) and (b) the highest round of an RPC of this lookup that had
 * timed out when it was sent: a wave waited out by timeouts counts as a round, so a lookup
 * whose first α RPCs all time out reports at least 2 hops. Without failures (b) never applies
 * and the count is the depth of the answer in the reply tree. If no node returns the value
 * the lookup ends NOT_FOUND: the value is what the user asked for, and a node that does not
 * hold it is no answer, whatever its distance.
 *
 * Values (keys; the value is a 64-bit token) are stored on the k closest nodes: a STORE is a
 * node lookup for the key followed by STORE RPCs to the k closest that answered (§2.3). Every
 * holder re-publishes a key it has not received a STORE for within `republish` (1 h, §2.5:
 * the first holder to do so refreshes the others, who then skip); the original publisher
 * re-publishes every `publish` (24 h) and values expire `expire` (24 h) after publication. A
 * node that learns of a new contact w that is among the k closest to one of its keys, of all
 * the nodes it knows (itself included), STOREs the key to w (§2.5: "any node learning of a new
 * node issues STORE RPCs to transfer relevant key-value pairs"). A holder drops a value when
 * it expires, and, as the one optimisation, when its own republish lookup finds k nodes
 * closer to the key that answered that very lookup (verified alive seconds ago, and sent the
 * STORE): it never drops a value for contacts merely known, which may be dead and undetected.
 * Caching of values along the lookup path (§2.5) is not modelled. A lookup is judged by the
 * value, as for every protocol that stores data: it succeeds when a live node returns the value
 * (a holder that is no longer among the k closest live nodes, not having re-published yet, is a
 * right answer: it returned the value).
 *
 * Joining (§2.3): the node asks the introducer, inserts its contacts, looks up its own id, and
 * then refreshes every bucket farther than its closest neighbour. The introducer's question
 * or answer may be lost: a watchdog asks again after an RPC timeout, and a join whose own-id
 * lookup reaches no one starts over, both with exponential back-off. Bucket refresh (§2.3): a
 * bucket, from the lowest non-empty one up, in whose range the node has performed no lookup
 * for `refresh` (1 h) gets a node lookup for a random id in its range. Maintenance checks run on
 * a per-node tick every quarter of min(refresh, republish), jittered in [0.5, 1.5]x.
 *
 * Memory. A node's state is its slab record, struct kad_node, 480 bytes (own contact, the
 * bucket blocks' vector, ping-pending and non-empty bucket masks, 64 bucket fill counts, 64
 * block numbers, two more vectors, last own publication, 64 last-lookup times in seconds, the
 * join back-off and phase), and the buffers of those vectors, which only the node reaches:
 * its buckets, a block per non-empty bucket of k contacts plus k failure counts, 17·k bytes
 * rounded up to 8 (344 with k = 20; about log2 N non-empty buckets, room reserved in
 * doublings from 8 blocks; 132 contacts per node at N = 1,024, 212 at 16,384); the values it
 * holds, 16 bytes each (key, time of the last STORE, publication time), k·keys/N on average;
 * and the keys it published, 16 bytes each. Lookups in flight live in a kit pool of records
 * (struct kad_rec, 184 bytes, plus a shortlist of 2k entries of 24 bytes) named in RPC
 * contexts by index and generation. */
#include "protocols/kademlia_internal.h"

#include <stddef.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/kit.h"
#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define KAD_BITS 64                   /* identifier bits */
#define KAD_K_MAX 64                  /* the `k` parameter's maximum */
#define KAD_ALPHA_MAX 16              /* the `alpha` parameter's maximum */
#define KAD_DEAD_MAX 16               /* contacts a lookup remembers as timed out */
#define KAD_STEP_LIMIT 1024           /* RPCs per lookup, a guard against runaway lookups */
#define KAD_US_PER_S INT64_C(1000000)

/* ==== parameters ========================================================================== */

enum kad_param {
    KAD_P_K,
    KAD_P_ALPHA,
    KAD_P_REFRESH,
    KAD_P_REPUBLISH,
    KAD_P_PUBLISH,
    KAD_P_EXPIRE,
    KAD_P_TIMEOUT,
    KAD_P_STALE,
};

static const struct param kad_params[] = {
    [KAD_P_K] = { .name = "k", .type = PARAM_INT, .def = "20", .min = 1, .max = KAD_K_MAX,
      .doc = "bucket size and replication factor k (paper §2.2: k = 20)" },
    [KAD_P_ALPHA] = { .name = "alpha", .type = PARAM_INT, .def = "3", .min = 1,
      .max = KAD_ALPHA_MAX,
      .doc = "RPCs a lookup keeps in flight, α (paper §2.3: α = 3)" },
    [KAD_P_REFRESH] = { .name = "refresh", .type = PARAM_DURATION, .def = "1h", .min = 1,
      .max = 864000,
      .doc = "a bucket with no lookup in its range for this long is refreshed (paper §2.3: 1 h)" },
    [KAD_P_REPUBLISH] = { .name = "republish", .type = PARAM_DURATION, .def = "1h", .min = 1,
      .max = 864000,
      .doc = "a holder re-publishes a value not STOREd to it for this long (paper §2.5: 1 h)" },
    [KAD_P_PUBLISH] = { .name = "publish", .type = PARAM_DURATION, .def = "24h", .min = 1,
      .max = 8640000,
      .doc = "the original publisher re-publishes its values this often (paper §2.5: 24 h)" },
    [KAD_P_EXPIRE] = { .name = "expire", .type = PARAM_DURATION, .def = "24h", .min = 1,
      .max = 8640000,
      .doc = "a value expires this long after its publication (paper §2.5: 24 h)" },
    [KAD_P_TIMEOUT] = { .name = "timeout", .type = PARAM_DURATION, .def = "1s", .min = 0.001,
      .max = 600,
      .doc = "RPC timeout after which a silent contact counts as failed (the paper gives none; "
             "1 s, as for the other protocols here)" },
    [KAD_P_STALE] = { .name = "stale", .type = PARAM_INT, .def = "1", .min = 1, .max = 16,
      .doc = "timeouts in a row before a contact leaves its bucket (paper §4.1 keeps stale "
             "contacts under loss; 1 = drop at the first timeout, for a lossless network)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* KAD_MESSAGES, with the sizes on the wire and where they come from, is in
 * kademlia_internal.h, for the tests. */
KIT_MSG_TABLES(kad, KAD, KAD_MESSAGES, KAD_WIRE_IP_UDP + KAD_WIRE_HEADER);

/* Bodies: a tagged union, the tag being the message type. Every body starts with the sender's
 * node id (the header's; the address is the datagram's source). */
struct kad_req {                      /* PING_REQ, FIND_NODE_REQ, FIND_VALUE_REQ, the bare replies */
    uint64_t from;
    uint64_t target;                  /* FIND_*: the id or key looked up */
};
struct kad_store {                    /* STORE_REQ */
    uint64_t from;
    uint64_t key;
    int32_t published_s;              /* publication time, seconds of simulated time */
};
struct kad_nodes {                    /* NODES_REP, VALUE_REP (count 0) */
    uint64_t from;
    uint8_t count;
    struct peer peer[KAD_K_MAX];
};

union kad_body {
    struct kad_req req;
    struct kad_store store;
    struct kad_nodes nodes;
};

#define KAD_NODES_LEN(n) (offsetof(struct kad_nodes, peer) + (size_t)(n) * sizeof(struct peer))

/* ==== state =============================================================================== */

enum kad_timer {
    KAD_TIMER_TICK,                   /* refresh, republish, expiry */
    KAD_TIMER_JOIN_RETRY,
    KAD_TIMER_JOIN_WATCHDOG,          /* arg: the join_epoch of the question it watches */
};

enum kad_phase { KAD_OUT, KAD_JOINING, KAD_JOINED };

/* A value held by a node. */
struct kad_val {
    uint64_t key;                     /* first: kit_vec_lower_bound's key */
    int32_t touched_s;                /* last STORE received or republish done, s */
    int32_t published_s;              /* publication by the original publisher, s */
};
_Static_assert(sizeof(struct kad_val) == 16, "update the figure in the opening comment");

/* One node, its slab record: all of its state, the vectors' buffers included. */
struct kad_node {                     /* what seen() and closest_known() read comes first */
    struct peer self;
    struct kit_vec blocks;            /* bucket blocks: k contacts, then k timeouts in a row */
    uint64_t ping_pending;            /* bit i: an eviction ping for bucket i is out */
    uint64_t filled;                  /* bit i: bucket i holds a contact (count[i] > 0) */
    uint8_t count[KAD_BITS];          /* contacts in bucket i */
    uint8_t blk[KAD_BITS];            /* 1 + bucket i's block in `blocks`; 0: none yet */
    struct kit_vec vals;              /* struct kad_val: values held, sorted by key */
    struct kit_vec pubs;              /* struct kad_val: values this node published */
    int64_t published_us;             /* when this node last (re-)published its own keys */
    int32_t used_s[KAD_BITS];         /* last lookup into bucket i's range, s of sim. time */
    struct kit_join join;             /* the join back-off and introducer watchdog */
    uint8_t phase;                    /* enum kad_phase */
};
#define KAD_NODE_BYTES 480
_Static_assert(sizeof(struct kad_node) == KAD_NODE_BYTES, "update the figure in the opening comment");

enum kad_purpose {
    KAD_FOR_VALUE,                    /* a workload lookup: FIND_VALUE */
    KAD_FOR_JOIN,                     /* a joining node's lookup of its own id */
    KAD_FOR_REFRESH,                  /* a bucket refresh */
    KAD_FOR_STORE,                    /* publish or republish: node lookup, then STOREs */
};

enum kad_cand_state { KAD_C_NEW, KAD_C_ASKED, KAD_C_DONE, KAD_C_FAILED };

/* A shortlist entry. */
struct kad_cand {
    struct peer p;
    uint8_t state;                    /* enum kad_cand_state */
    uint8_t depth;                    /* round of the reply that named it; 0: own contact */
};

/* A lookup in flight at its origin (op.owner), a record of the pool g->recs. */
struct kad_rec {
    struct kit_op op;
    uint64_t target;
    uint32_t lookup;                  /* workload lookup id, or LOOKUP_NONE */
    int32_t published_s;              /* STORE: the publication time carried */
    uint16_t ncand;                   /* shortlist entries */
    uint16_t steps;                   /* RPCs sent */
    uint8_t purpose;                  /* enum kad_purpose */
    uint8_t inflight;                 /* RPCs out */
    uint8_t ndead, dead_next;         /* timed-out contacts (a ring once full) */
    uint8_t waited;                   /* highest round of an RPC that timed out */
    struct addr dead[KAD_DEAD_MAX];
    struct kad_cand cand[];           /* the shortlist, g->stride entries, by XOR distance */
};
_Static_assert(sizeof(struct kad_rec) == 184, "update the figure in the opening comment");

/* The protocol's global data for one run: the configuration and the pool of lookups. */
struct kad_global {
    uint32_t k, alpha, stale;
    int64_t refresh_us, republish_us, publish_us, expire_us, timeout_us, tick_us;
    node_t cap;                       /* node slots */
    size_t blk_bytes;                 /* a bucket block: k contacts, k counts, 8-aligned */
    uint32_t stride;                  /* shortlist entries per record: 2k */
    struct kit_pool recs;             /* struct kad_rec + shortlist */
};

/* ==== XOR arithmetic (exported for the unit tests) ======================================== */

unsigned kad_bucket_index(uint64_t self, uint64_t id)
{
    return 63u - (unsigned)__builtin_clzll(self ^ id);
}

bool kad_closer(uint64_t a, uint64_t b, uint64_t key)
{
    return (a ^ key) < (b ^ key);
}

uint64_t kad_bucket_random(uint64_t self, unsigned i, uint64_t r)
{
    uint64_t low = i == 0 ? 0 : (r & ((UINT64_C(1) << i) - 1));
    return ((self ^ (UINT64_C(1) << i)) & ~((UINT64_C(1) << i) - 1)) | low;
}

uint32_t kad_wire_size(unsigned type, size_t entries)
{
    return kit_wire_size(&kad_msgs, type, entries);
}

/* ==== small helpers ======================================================================= */

static struct kad_global *kad_g(struct sim *s) { return sim_protocol_data(s); }
static struct kad_node *kad_node(struct sim *s, node_t n) { return sim_state(s, n); }
static int32_t now_s(struct sim *s) { return (int32_t)(sim_now(s) / KAD_US_PER_S); }


/* A request with no list, under the RPC timeout. */
static void send_rpc(struct sim *s, node_t n, struct addr to, enum kad_msg type, uint32_t lookup,
                     const void *body, size_t len, uint64_t ctx0, uint64_t ctx1)
{
    kit_rpc(s, &kad_msgs, n, to,
            &(struct kit_out){ .type = type, .lookup = lookup, .body = body, .len = len },
            kad_g(s)->timeout_us, ctx0, ctx1);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum kad_msg type,
                      const void *body, size_t len, size_t entries)
{
    kit_reply(s, &kad_msgs, n, req,
              &(struct kit_out){ .type = type, .body = body, .len = len, .entries = entries });
}

/* ==== values ============================================================================== */

static struct kad_val *vec_find(struct kit_vec *v, uint64_t key)
{
    uint32_t i = kit_vec_lower_bound(v, sizeof(struct kad_val), key);
    struct kad_val *e = v->v;
    return i < v->n && e[i].key == key ? &e[i] : NULL;
}

/* Inserts or updates key; returns the entry. */
static struct kad_val *vec_put(struct kit_vec *v, uint64_t key)
{
    uint32_t i = kit_vec_lower_bound(v, sizeof(struct kad_val), key);
    struct kad_val *e = v->v;
    if (i < v->n && e[i].key == key)
        return &e[i];
    e = kit_vec_insert(v, i, sizeof *e, "kademlia values");
    *e = (struct kad_val){ .key = key };
    return e;
}

static void vec_remove(struct kit_vec *v, const struct kad_val *e)
{
    kit_vec_remove(v, (uint32_t)(e - (const struct kad_val *)v->v), sizeof *e);
}

/* n's values (vals): every change is reported to the engine, which counts the holders of each
 * key (keys.lost). */
static struct kad_val *val_put(struct sim *s, node_t n, uint64_t key)
{
    struct kit_vec *v = &kad_node(s, n)->vals;
    if (!vec_find(v, key))
        sim_key_gained(s, n, key);
    return vec_put(v, key);
}

static void val_remove(struct sim *s, node_t n, const struct kad_val *e)
{
    sim_key_dropped(s, n, e->key);
    vec_remove(&kad_node(s, n)->vals, e);
}

/* ==== k-buckets =========================================================================== */

/* Bucket i of nd, NULL if it has no block yet. */
static struct peer *bucket(const struct kad_global *g, const struct kad_node *nd, unsigned i)
{
    if (!nd->blk[i])
        return NULL;
    return (struct peer *)((unsigned char *)nd->blocks.v + (size_t)(nd->blk[i] - 1) * g->blk_bytes);
}

/* The timeouts in a row of bucket i's contacts, after its k contacts. */
static uint8_t *bucket_fail(const struct kad_global *g, const struct kad_node *nd, unsigned i)
{
    return (uint8_t *)(bucket(g, nd, i) + g->k);
}

/* Bucket i of nd, given a block if it has none: blocks are kept until the node goes down. */
static struct peer *bucket_make(const struct kad_global *g, struct kad_node *nd, unsigned i)
{
    if (!nd->blk[i]) {
        kit_vec_reserve(&nd->blocks, nd->blocks.n + 1, g->blk_bytes, "kademlia buckets");
        nd->blk[i] = (uint8_t)++nd->blocks.n;
    }
    return bucket(g, nd, i);
}

static int bucket_pos(const struct peer *b, unsigned count, struct addr a)
{
    for (unsigned j = 0; j < count; j++)
        if (addr_eq(b[j].addr, a))
            return (int)j;
    return -1;
}

/* Removes entry j of bucket i. */
static void bucket_drop(const struct kad_global *g, struct kad_node *nd, unsigned i, unsigned j)
{
    struct peer *b = bucket(g, nd, i);
    uint8_t *f = bucket_fail(g, nd, i);
    unsigned c = nd->count[i];
    memmove(&b[j], &b[j + 1], (c - j - 1) * sizeof *b);
    memmove(&f[j], &f[j + 1], c - j - 1);
    if (--nd->count[i] == 0)
        nd->filled &= ~(UINT64_C(1) << i);
}

/* Appends p to bucket i (which has room) as most recently seen. */
static void bucket_append(const struct kad_global *g, struct kad_node *nd, unsigned i,
                          struct peer p)
{
    struct peer *b = bucket_make(g, nd, i);
    b[nd->count[i]] = p;
    bucket_fail(g, nd, i)[nd->count[i]] = 0;
    nd->count[i]++;
    nd->filled |= UINT64_C(1) << i;
}

static void handoff(struct sim *s, node_t n, struct peer w);

/* n heard from p (a request or reply from it): the paper's k-bucket update (§2.2). */
static void seen(struct sim *s, node_t n, struct peer p)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    if (p.id == nd->self.id || addr_eq(p.addr, nd->self.addr))
        return;
    unsigned i = kad_bucket_index(nd->self.id, p.id);
    struct peer *b = bucket(g, nd, i);
    unsigned c = nd->count[i];
    int j = b ? bucket_pos(b, c, p.addr) : -1;
    if (j >= 0) {                     /* known: to the tail, failures forgiven */
        bucket_drop(g, nd, i, (unsigned)j);
        bucket_append(g, nd, i, p);
        return;
    }
    if (c < g->k) {
        bucket_append(g, nd, i, p);
        handoff(s, n, p);
        return;
    }
    if (nd->ping_pending & (UINT64_C(1) << i))
        return;                       /* one probe per bucket at a time: drop the newcomer */
    nd->ping_pending |= UINT64_C(1) << i;
    struct kad_req body = { .from = nd->self.id };
    send_rpc(s, n, b[0].addr, KAD_MSG_PING_REQ, LOOKUP_NONE, &body, sizeof body, p.id,
             ((uint64_t)p.addr.slot << 32) | p.addr.inc);
}

/* An RPC from n to a timed out: count it against a's bucket entry, and drop the entry after
 * `stale` timeouts in a row. */
static void failed(struct sim *s, node_t n, struct addr a)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    for (unsigned i = 0; i < KAD_BITS; i++) {
        if (!nd->count[i])
            continue;
        int j = bucket_pos(bucket(g, nd, i), nd->count[i], a);
        if (j < 0)
            continue;
        uint8_t *f = bucket_fail(g, nd, i);
        if (++f[j] >= g->stale)
            bucket_drop(g, nd, i, (unsigned)j);
        return;
    }
}

/* The eviction probe of bucket i's head: answered (the head was seen and moved to the tail;
 * the newcomer is dropped) or timed out (the head goes, the newcomer comes in). */
static void on_ping_done(struct sim *s, node_t n, const struct rpc *rpc, bool answered)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    struct peer w = { .id = rpc->ctx[0],
                      .addr = { (node_t)(rpc->ctx[1] >> 32), (uint32_t)rpc->ctx[1] } };
    unsigned i = kad_bucket_index(nd->self.id, w.id);
    nd->ping_pending &= ~(UINT64_C(1) << i);
    if (answered)
        return;
    struct peer *b = bucket(g, nd, i);
    int j = b ? bucket_pos(b, nd->count[i], rpc->dst) : -1;
    if (j >= 0) {
        uint8_t *f = bucket_fail(g, nd, i);
        if (++f[j] < g->stale)
            return;
        bucket_drop(g, nd, i, (unsigned)j);
    }
    if (nd->count[i] < g->k && bucket_pos(bucket_make(g, nd, i), nd->count[i], w.addr) < 0) {
        bucket_append(g, nd, i, w);
        handoff(s, n, w);
    }
}

/* Inserts p into list[0..*m) sorted by XOR distance to key, without duplicates, keeping at
 * most max entries. */
static void closest_insert(struct peer *list, unsigned *m, unsigned max, struct peer p, uint64_t key)
{
    uint64_t d = p.id ^ key;
    if (*m == max && d >= (list[*m - 1].id ^ key))
        return;                       /* no closer than the farthest kept (or kept itself) */
    for (unsigned j = 0; j < *m; j++)
        if (addr_eq(list[j].addr, p.addr))
            return;
    unsigned j = *m < max ? *m : max - 1;
    while (j > 0 && (list[j - 1].id ^ key) > d) {
        list[j] = list[j - 1];
        j--;
    }
    list[j] = p;
    if (*m < max)
        (*m)++;
}

/* Appends bucket i of nd to out[*m..max), but `skip`, sorted by XOR distance to key, ties in
 * bucket order; if the bucket holds more than fit, the closest are kept. The caller visits the
 * buckets in order of distance, so every contact already in out is strictly closer than these:
 * an insertion sort of this bucket alone gives closest_insert's list. No address is in two
 * bucket entries (seen, on_ping_done and converge_seen check before they append), so no
 * duplicate check is needed. */
static void closest_scan(const struct kad_global *g, const struct kad_node *nd, unsigned i,
                         uint64_t key, struct addr skip, struct peer *out, unsigned *m,
                         unsigned max)
{
    const struct peer *b = bucket(g, nd, i);
    struct peer *list = out + *m;
    unsigned room = max - *m, cnt = 0;
    for (unsigned j = 0; j < nd->count[i]; j++) {
        if (addr_eq(b[j].addr, skip))
            continue;
        uint64_t d = b[j].id ^ key;
        if (cnt == room && d >= (list[cnt - 1].id ^ key))
            continue;
        unsigned q = cnt < room ? cnt : room - 1;
        while (q > 0 && (list[q - 1].id ^ key) > d) {
            list[q] = list[q - 1];
            q--;
        }
        list[q] = b[j];
        if (cnt < room)
            cnt++;
    }
    *m += cnt;
}

/* Up to max contacts of n closest to key, leaving out the address `skip`. */
static unsigned closest_known(struct sim *s, node_t n, uint64_t key, struct addr skip,
                              struct peer *out, unsigned max)
{
    const struct kad_global *g = kad_g(s);
    const struct kad_node *nd = kad_node(s, n);
    uint64_t d = nd->self.id ^ key;
    unsigned m = 0;
    /* bucket i lies at distance [2^i, 2^(i+1)) from n, so its contacts' distances to key share
     * the bits of d above i and differ from d at bit i: the buckets where d has a 1, from the
     * highest down, hold contacts ever farther from key, then those where d has a 0, from the
     * lowest up. Each is a block of distances: once max are found, no later bucket helps. */
    uint64_t far = d & nd->filled, near = ~d & nd->filled;   /* non-empty buckets only */
    while (far && m < max) {
        unsigned i = 63u - (unsigned)__builtin_clzll(far);
        closest_scan(g, nd, i, key, skip, out, &m, max);
        far ^= UINT64_C(1) << i;
    }
    for (; near && m < max; near &= near - 1)
        closest_scan(g, nd, (unsigned)__builtin_ctzll(near), key, skip, out, &m, max);
    return m;
}

static void store_send(struct sim *s, node_t n, struct peer to, uint64_t key, int32_t published_s)
{
    struct kad_store body = { .from = kad_node(s, n)->self.id, .key = key,
                              .published_s = published_s };
    send_rpc(s, n, to.addr, KAD_MSG_STORE_REQ, LOOKUP_NONE, &body, sizeof body, 0, 0);
}

/* Is w among the k closest to key that n knows of, n itself included? With top = msb(n ^ key),
 * n and its contacts in buckets 0..top all lie within 2^(top+1) of key: if w lies farther
 * (msb(w ^ key) > top) they are all closer than w and their count decides; otherwise the
 * contacts are compared one by one, stopping at k. */
static bool among_k_closest(struct sim *s, node_t n, uint64_t key, struct peer w)
{
    struct kad_global *g = kad_g(s);
    const struct kad_node *nd = kad_node(s, n);
    uint64_t dw = w.id ^ key, self = nd->self.id;
    unsigned c = (self ^ key) < dw;   /* n itself */
    if (self != key && dw != 0 && kad_bucket_index(0, dw) > kad_bucket_index(self, key)) {
        for (unsigned i = 0; i <= kad_bucket_index(self, key); i++)
            c += nd->count[i];
        if (c >= g->k)
            return false;
    }
    for (unsigned i = 0; i < KAD_BITS && c < g->k; i++) {
        const struct peer *b = bucket(g, nd, i);
        for (unsigned j = 0; j < nd->count[i] && c < g->k; j++)
            if ((b[j].id ^ key) < dw && !addr_eq(b[j].addr, w.addr))
                c++;
    }
    return c < g->k;
}

/* n added w to a bucket: n hands w every value it holds to which w is among the k closest
 * nodes n knows of (§2.5: "any node learning of a new node issues STORE RPCs to transfer
 * relevant key-value pairs to the new node"). n keeps its own copy: the paper drops values
 * only when they expire, never on hearing of closer nodes, which may be dead and undetected. */
static void handoff(struct sim *s, node_t n, struct peer w)
{
    struct kad_node *nd = kad_node(s, n);
    if (nd->phase != KAD_JOINED)
        return;
    const struct kad_val *v = nd->vals.v;
    for (uint32_t j = 0; j < nd->vals.n; j++)
        if (among_k_closest(s, n, v[j].key, w))
            store_send(s, n, w, v[j].key, v[j].published_s);
}

/* ==== lookup records ====================================================================== */

static struct kad_rec *rec_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &kad_g(s)->recs, i); }
static struct kad_cand *rec_cand(struct sim *s, uint32_t i) { return rec_at(s, i)->cand; }
static void rec_free(struct sim *s, uint32_t i) { kit_pool_release(&kad_g(s)->recs, i); }

static uint32_t rec_alloc(struct sim *s, node_t n, enum kad_purpose purpose, uint64_t target,
                          uint32_t lookup)
{
    uint32_t i = kit_pool_alloc(&kad_g(s)->recs, n);
    struct kad_rec *r = rec_at(s, i);
    r->target = target;
    r->lookup = lookup;
    r->purpose = (uint8_t)purpose;
    return i;
}

static bool rec_is_dead(const struct kad_rec *r, struct addr a)
{
    for (unsigned k = 0; k < r->ndead; k++)
        if (addr_eq(r->dead[k], a))
            return true;
    return false;
}

/* A shortlist c[0..n) is sorted by XOR distance to key, ties in the order of arrival. An
 * address always comes with the same id (a node's id is fixed for its incarnation, and every
 * contact a node stores or sends was heard from that node), so an address in the list lies
 * among the entries at its id's distance: a binary search finds it. */

/* The first position in c[0..n) at distance >= d from key (> d if `past`). */
static unsigned cand_bound(const struct kad_cand *c, unsigned n, uint64_t key, uint64_t d,
                           bool past)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        uint64_t dm = c[mid].p.id ^ key;
        if (dm < d || (past && dm == d))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The position of p's address in c[0..n), or -1. */
static int cand_find(const struct kad_cand *c, unsigned n, uint64_t key, struct peer p)
{
    uint64_t d = p.id ^ key;
    for (unsigned j = cand_bound(c, n, key, d, false); j < n && (c[j].p.id ^ key) == d; j++)
        if (addr_eq(c[j].p.addr, p.addr))
            return (int)j;
    return -1;
}

/* Inserts e (not in the list) after the entries no farther from key, keeping at most max: a
 * full list drops its farthest entry, or e if e is no closer than it. */
static void cand_insert(struct kad_cand *c, unsigned *n, unsigned max, uint64_t key,
                        struct kad_cand e)
{
    uint64_t d = e.p.id ^ key;
    if (*n == max && d >= (c[max - 1].p.id ^ key))
        return;
    unsigned j = cand_bound(c, *n, key, d, true);   /* after the ties */
    unsigned keep = *n < max ? *n : max - 1;
    memmove(&c[j + 1], &c[j], (keep - j) * sizeof *c);
    c[j] = e;
    if (*n < max)
        (*n)++;
}

/* Adds p to record i's shortlist (sorted by XOR distance to the target), unless known. */
static void cand_add(struct sim *s, uint32_t i, struct peer p, uint8_t depth)
{
    struct kad_global *g = kad_g(s);
    struct kad_rec *r = rec_at(s, i);
    struct kad_cand *c = rec_cand(s, i);
    if (addr_eq(p.addr, sim_addr(s, r->op.owner)) || rec_is_dead(r, p.addr))
        return;
    int j = cand_find(c, r->ncand, r->target, p);
    if (j >= 0) {
        if (c[j].state == KAD_C_NEW && depth < c[j].depth)
            c[j].depth = depth;       /* named again, by an earlier round */
        return;
    }
    unsigned nc = r->ncand;
    cand_insert(c, &nc, g->stride, r->target,
                (struct kad_cand){ .p = p, .state = KAD_C_NEW, .depth = depth });
    r->ncand = (uint16_t)nc;
}

/* The position of address a in record i's shortlist, or -1. */
static int cand_pos(struct sim *s, uint32_t i, struct addr a)
{
    const struct kad_rec *r = rec_at(s, i);
    const struct kad_cand *c = rec_cand(s, i);
    for (unsigned j = 0; j < r->ncand; j++)
        if (addr_eq(c[j].p.addr, a))
            return (int)j;
    return -1;
}

/* ==== lookups ============================================================================= */

static void lookup_step(struct sim *s, uint32_t i);
static void refresh_far(struct sim *s, node_t n);
static void join_retry(struct sim *s, node_t n);
static void join_ask(struct sim *s, node_t n);

/* Marks bucket of target as looked up now (for the refresh rule). */
static void touch_bucket(struct sim *s, node_t n, uint64_t target)
{
    struct kad_node *nd = kad_node(s, n);
    if (target != nd->self.id)
        nd->used_s[kad_bucket_index(nd->self.id, target)] = now_s(s);
}

/* Starts a lookup run by n for target. */
static uint32_t lookup_start(struct sim *s, node_t n, enum kad_purpose purpose, uint64_t target,
                             uint32_t lookup)
{
    struct kad_global *g = kad_g(s);
    uint32_t i = rec_alloc(s, n, purpose, target, lookup);
    struct peer seed[2 * KAD_K_MAX];
    unsigned m = closest_known(s, n, target, ADDR_NONE, seed, g->stride);
    for (unsigned j = 0; j < m; j++)
        cand_add(s, i, seed[j], 0);
    touch_bucket(s, n, target);
    return i;
}

/* The k closest answered entries of record i (after the lookup has ended). */
static unsigned rec_answered(struct sim *s, uint32_t i, struct peer *out)
{
    struct kad_global *g = kad_g(s);
    const struct kad_rec *r = rec_at(s, i);
    const struct kad_cand *c = rec_cand(s, i);
    unsigned m = 0;
    for (unsigned j = 0; j < r->ncand && m < g->k; j++)
        if (c[j].state == KAD_C_DONE)
            out[m++] = c[j].p;
    return m;
}

/* The lookup has converged: the k closest non-failed entries answered (or none is left). */
static void lookup_finish(struct sim *s, uint32_t i)
{
    struct kad_global *g = kad_g(s);
    struct kad_rec r = *rec_at(s, i);
    node_t n = r.op.owner;
    struct kad_node *nd = kad_node(s, n);
    struct peer best[KAD_K_MAX];
    unsigned m = rec_answered(s, i, best);
    uint8_t depth = 0;
    for (unsigned j = 0; j < r.ncand; j++)
        if (rec_cand(s, i)[j].state == KAD_C_DONE && rec_cand(s, i)[j].depth + 1u > depth)
            depth = (uint8_t)(rec_cand(s, i)[j].depth + 1u);
    rec_free(s, i);
    switch (r.purpose) {
    case KAD_FOR_VALUE:
        sim_lookup_done(s, r.lookup, OUTCOME_NOT_FOUND, ADDR_NONE, depth);
        break;
    case KAD_FOR_JOIN:
        if (m == 0) {
            join_retry(s, n);
            break;
        }
        nd->phase = KAD_JOINED;
        nd->join.tries = 0;
        sim_introducer_register(s, n);
        refresh_far(s, n);
        break;
    case KAD_FOR_REFRESH:
        break;
    case KAD_FOR_STORE: {
        /* STORE on the k closest that answered; n keeps its own copy only if it is one of
         * the k closest it now knows (republish), or stores it if so (publish) */
        unsigned closer = 0;
        for (unsigned j = 0; j < m; j++)
            if (kad_closer(best[j].id, nd->self.id, r.target))
                closer++;
        unsigned others = closer < g->k ? g->k - 1 : g->k;   /* n itself is one of the k */
        for (unsigned j = 0; j < m && j < others; j++)
            store_send(s, n, best[j], r.target, r.published_s);
        struct kit_vec *v = &nd->vals;
        struct kad_val *e = vec_find(v, r.target);
        if (closer >= g->k) {
            if (e)
                val_remove(s, n, e);
        } else {
            e = val_put(s, n, r.target);
            e->touched_s = now_s(s);
            e->published_s = r.published_s;
        }
        break;
    }
    default:
        SIM_ASSERT(!"kademlia: unknown lookup purpose");
    }
}

/* Sends RPCs until α are in flight, or ends the lookup when the k closest non-failed entries
 * have all answered. */
static void lookup_step(struct sim *s, uint32_t i)
{
    struct kad_global *g = kad_g(s);
    struct kad_rec *r = rec_at(s, i);
    if (r->lookup != LOOKUP_NONE && !sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    struct kad_cand *c = rec_cand(s, i);
    bool all_done = true;
    unsigned seen_live = 0;
    for (unsigned j = 0; j < r->ncand && seen_live < g->k; j++) {
        if (c[j].state == KAD_C_FAILED)
            continue;
        seen_live++;
        if (c[j].state == KAD_C_DONE)
            continue;
        all_done = false;
        if (c[j].state != KAD_C_NEW || r->inflight >= g->alpha)
            continue;
        if (r->steps >= KAD_STEP_LIMIT)
            break;
        c[j].state = KAD_C_ASKED;
        r->inflight++;
        r->steps++;
        struct kad_req body = { .from = kad_node(s, r->op.owner)->self.id, .target = r->target };
        enum kad_msg type = r->purpose == KAD_FOR_VALUE ? KAD_MSG_FIND_VALUE_REQ : KAD_MSG_FIND_NODE_REQ;
        uint64_t ctx = kit_pool_ctx(&g->recs, i);
        unsigned round = (c[j].depth > r->waited ? c[j].depth : r->waited) + 1u;
        send_rpc(s, r->op.owner, c[j].p.addr, type, r->lookup, &body, sizeof body, ctx,
                 round < UINT8_MAX ? round : UINT8_MAX);
        r = rec_at(s, i);             /* net_rpc does not touch the pool, but stay safe */
        c = rec_cand(s, i);
    }
    if (r->inflight == 0 && (all_done || r->steps >= KAD_STEP_LIMIT)) {
        if (r->steps >= KAD_STEP_LIMIT && !all_done && r->purpose == KAD_FOR_VALUE) {
            struct kad_rec copy = *r;
            rec_free(s, i);
            sim_lookup_done(s, copy.lookup, OUTCOME_TTL_EXPIRED, ADDR_NONE, 0);
            return;
        }
        lookup_finish(s, i);
    }
}

static void on_nodes_rep(struct sim *s, const struct msg *m, uint32_t i)
{
    const struct kad_nodes *b = m->body;
    struct kad_rec *r = rec_at(s, i);
    uint8_t depth = (uint8_t)m->rpc->ctx[1];
    r->inflight--;
    int j = cand_find(rec_cand(s, i), r->ncand, r->target, (struct peer){ .id = b->from, .addr = m->rpc->dst });
    if (j >= 0)
        rec_cand(s, i)[j].state = KAD_C_DONE;
    unsigned count = b->count < KAD_K_MAX ? b->count : KAD_K_MAX;
    for (unsigned k = 0; k < count; k++)
        cand_add(s, i, b->peer[k], depth);
    lookup_step(s, i);
}

static void on_value_rep(struct sim *s, const struct msg *m, uint32_t i)
{
    struct kad_rec r = *rec_at(s, i);
    rec_free(s, i);
    sim_lookup_done(s, r.lookup, OUTCOME_OK, m->src, (uint32_t)m->rpc->ctx[1]);
}

static void on_lookup_timeout(struct sim *s, const struct rpc *rpc, uint32_t i)
{
    struct kad_rec *r = rec_at(s, i);
    r->inflight--;
    if ((uint8_t)rpc->ctx[1] > r->waited)
        r->waited = (uint8_t)rpc->ctx[1];   /* a wave waited out: what follows is a round later */
    r->dead[r->dead_next] = rpc->dst;
    r->dead_next = (uint8_t)((r->dead_next + 1) % KAD_DEAD_MAX);
    if (r->ndead < KAD_DEAD_MAX)
        r->ndead++;
    int j = cand_pos(s, i, rpc->dst);
    if (j >= 0)
        rec_cand(s, i)[j].state = KAD_C_FAILED;
    lookup_step(s, i);
}

/* ==== joining and maintenance ============================================================= */

static void start_tick(struct sim *s, node_t n)
{
    struct kad_global *g = kad_g(s);
    sim_timer(s, n, KAD_TIMER_TICK, kit_phase(s, g->tick_us) + 1, 0);
}

/* n comes up with the zeroed state the engine gives a fresh incarnation. */
static void kad_join(struct sim *s, node_t n)
{
    struct kad_node *nd = kad_node(s, n);
    *nd = (struct kad_node){ .self = { .id = sim_node_id(s, n), .addr = sim_addr(s, n) },
                             .phase = KAD_JOINING, .published_us = sim_now(s) };
    for (unsigned i = 0; i < KAD_BITS; i++)
        nd->used_s[i] = now_s(s);
    start_tick(s, n);
    join_ask(s, n);
}

static void join_retry(struct sim *s, node_t n)
{
    int64_t delay = kit_backoff(s, &kad_node(s, n)->join, kad_g(s)->timeout_us);
    sim_timer(s, n, KAD_TIMER_JOIN_RETRY, delay, 0);
}

/* Asks the introducer for contacts. The question or its answer may be lost: a watchdog asks
 * again after an RPC timeout, with the back-off of a failed join (as chord.c does). */
static void join_ask(struct sim *s, node_t n)
{
    kit_join_ask(s, n, &kad_node(s, n)->join, KAD_TIMER_JOIN_WATCHDOG, kad_g(s)->timeout_us);
}

static void on_introducer_reply(struct sim *s, node_t n, const struct intro_reply *b)
{
    struct kad_node *nd = kad_node(s, n);
    if (nd->phase != KAD_JOINING || !kit_join_answered(&nd->join))
        return;                       /* not joining, or a second answer to a repeated question */
    unsigned added = 0;
    for (uint32_t k = 0; k < b->count && k < INTRO_CONTACTS; k++)
        if (!addr_eq(b->contacts[k].addr, nd->self.addr)) {
            seen(s, n, b->contacts[k]);
            added++;
        }
    if (added == 0) {                 /* the first node: alone in the overlay */
        nd->phase = KAD_JOINED;
        sim_introducer_register(s, n);
        return;
    }
    lookup_step(s, lookup_start(s, n, KAD_FOR_JOIN, nd->self.id, LOOKUP_NONE));
}

/* After the join lookup: refresh every bucket farther than the closest neighbour (§2.3). */
static void refresh_far(struct sim *s, node_t n)
{
    struct kad_node *nd = kad_node(s, n);
    unsigned low = nd->filled ? (unsigned)__builtin_ctzll(nd->filled) : KAD_BITS;
    for (unsigned i = low + 1; i < KAD_BITS; i++)
        lookup_step(s, lookup_start(s, n, KAD_FOR_REFRESH,
                                    kad_bucket_random(nd->self.id, i, kit_rand64(s)), LOOKUP_NONE));
}

/* STOREs key from n: a node lookup for it, then STORE RPCs (lookup_finish). */
static void publish(struct sim *s, node_t n, uint64_t key, int32_t published_s)
{
    uint32_t i = lookup_start(s, n, KAD_FOR_STORE, key, LOOKUP_NONE);
    rec_at(s, i)->published_s = published_s;
    lookup_step(s, i);
}

/* The periodic checks: expiry, republish, the publisher's republish, bucket refresh. */
static void tick(struct sim *s, node_t n)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    int32_t now = now_s(s);
    int32_t expire = (int32_t)(g->expire_us / KAD_US_PER_S);
    int32_t repub = (int32_t)(g->republish_us / KAD_US_PER_S);
    int32_t refresh = (int32_t)(g->refresh_us / KAD_US_PER_S);
    struct kit_vec *v = &nd->vals;
    /* first the due values, then their republishing: a lookup that ends at once (no
     * contacts) edits v */
    struct kad_val *due = NULL;
    uint32_t ndue = 0;
    for (uint32_t j = 0; j < v->n;) {
        struct kad_val *e = (struct kad_val *)v->v + j;
        if (now - e->published_s >= expire) {
            val_remove(s, n, e);
            continue;
        }
        if (now - e->touched_s >= repub) {
            e->touched_s = now;
            if (!due)
                due = mem_calloc(v->n, sizeof *due, "kademlia values to republish");
            due[ndue++] = *e;
        }
        j++;
    }
    for (uint32_t j = 0; j < ndue; j++)
        publish(s, n, due[j].key, due[j].published_s);
    free(due);
    if (sim_now(s) - nd->published_us >= g->publish_us) {
        nd->published_us = sim_now(s);
        const struct kad_val *p = nd->pubs.v;
        for (uint32_t j = 0; j < nd->pubs.n; j++)
            publish(s, n, p[j].key, now);
    }
    unsigned low = nd->filled ? (unsigned)__builtin_ctzll(nd->filled) : KAD_BITS;
    for (unsigned i = low; i < KAD_BITS; i++)
        if (now - nd->used_s[i] >= refresh)
            lookup_step(s, lookup_start(s, n, KAD_FOR_REFRESH,
                                        kad_bucket_random(nd->self.id, i, kit_rand64(s)), LOOKUP_NONE));
}

/* ==== requests ============================================================================ */

static void on_find_req(struct sim *s, node_t n, const struct msg *m, bool value)
{
    struct kad_global *g = kad_g(s);
    const struct kad_req *b = m->body;
    struct kad_nodes rep = { .from = kad_node(s, n)->self.id };
    if (value && vec_find(&kad_node(s, n)->vals, b->target)) {
        reply_msg(s, n, m, KAD_MSG_VALUE_REP, &rep, KAD_NODES_LEN(0), 0);
        return;
    }
    unsigned c = closest_known(s, n, b->target, m->src, rep.peer, g->k);
    rep.count = (uint8_t)c;
    reply_msg(s, n, m, KAD_MSG_NODES_REP, &rep, KAD_NODES_LEN(c), c);
}

static void on_store_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct kad_store *b = m->body;
    struct kad_val *e = val_put(s, n, b->key);
    e->touched_s = now_s(s);
    if (b->published_s > e->published_s || e->published_s == 0)
        e->published_s = b->published_s;
    struct kad_nodes rep = { .from = kad_node(s, n)->self.id };
    reply_msg(s, n, m, KAD_MSG_STORE_REP, &rep, KAD_NODES_LEN(0), 0);
}

/* ==== the protocol's entry points ========================================================= */

static void kad_on_message(struct sim *s, node_t n, const struct msg *m)
{
    if (m->type == MSG_INTRODUCER_REPLY) {
        on_introducer_reply(s, n, m->body);
        return;
    }
    seen(s, n, (struct peer){ .id = *(const uint64_t *)m->body, .addr = m->src });
    if (m->rpc) {                     /* a reply: dispatched by the request it answers */
        uint32_t i;
        switch (m->rpc->type) {
        case KAD_MSG_FIND_NODE_REQ:
        case KAD_MSG_FIND_VALUE_REQ:
            if ((i = kit_pool_get(&kad_g(s)->recs, n, m->rpc->ctx[0])) == KIT_NONE)
                break;
            if (m->type == KAD_MSG_VALUE_REP)
                on_value_rep(s, m, i);
            else
                on_nodes_rep(s, m, i);
            break;
        case KAD_MSG_PING_REQ:
            on_ping_done(s, n, m->rpc, true);
            break;
        default:
            break;                    /* STORE_REQ: stored */
        }
        return;
    }
    struct kad_req pong = { .from = kad_node(s, n)->self.id };
    switch (m->type) {
    case KAD_MSG_PING_REQ:
        reply_msg(s, n, m, KAD_MSG_PING_REP, &pong, sizeof pong.from, 0);
        break;
    case KAD_MSG_STORE_REQ:
        on_store_req(s, n, m);
        break;
    case KAD_MSG_FIND_NODE_REQ:
        on_find_req(s, n, m, false);
        break;
    case KAD_MSG_FIND_VALUE_REQ:
        on_find_req(s, n, m, true);
        break;
    default:
        SIM_ASSERT(!"kademlia: unexpected message type");
    }
}

static void kad_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    uint32_t i;
    switch (rpc->type) {
    case KAD_MSG_PING_REQ:
        on_ping_done(s, n, rpc, false);
        break;
    case KAD_MSG_FIND_NODE_REQ:
    case KAD_MSG_FIND_VALUE_REQ:
        failed(s, n, rpc->dst);
        if ((i = kit_pool_get(&kad_g(s)->recs, n, rpc->ctx[0])) != KIT_NONE)
            on_lookup_timeout(s, rpc, i);
        break;
    default:                          /* STORE_REQ */
        failed(s, n, rpc->dst);
        break;
    }
}

static void kad_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    switch (kind) {
    case KAD_TIMER_TICK:
        if (sim_maintenance_on(s) && nd->phase == KAD_JOINED)
            tick(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->tick_us), 0);
        break;
    case KAD_TIMER_JOIN_RETRY:
        if (nd->phase == KAD_JOINING)
            join_ask(s, n);
        break;
    case KAD_TIMER_JOIN_WATCHDOG:
        if (nd->phase == KAD_JOINING && kit_join_timed_out(&nd->join, arg)) {
            join_retry(s, n);         /* no answer from the introducer: ask again, later */
        }
        break;
    default:
        SIM_ASSERT(!"kademlia: unknown timer");
    }
}

static void kad_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    if (vec_find(&kad_node(s, origin)->vals, key)) {
        touch_bucket(s, origin, key);
        sim_lookup_done(s, lookup_id, OUTCOME_OK, sim_addr(s, origin), 0);
        return;
    }
    lookup_step(s, lookup_start(s, origin, KAD_FOR_VALUE, key, lookup_id));
}

/* start: join: `origin` publishes `key` (§2.3 STORE after a node lookup) and re-publishes it
 * every `publish`. */
static void kad_insert(struct sim *s, node_t origin, uint64_t key)
{
    struct kad_val *e = vec_put(&kad_node(s, origin)->pubs, key);
    e->published_s = now_s(s);
    e->touched_s = now_s(s);
    publish(s, origin, key, now_s(s));
}

/* Contacts in all buckets. */
static size_t kad_state_entries(const struct sim *s, node_t n)
{
    const struct kad_node *nd = sim_state_const(s, n);
    size_t c = 0;
    for (unsigned i = 0; i < KAD_BITS; i++)
        c += nd->count[i];
    return c;
}

/* ==== converged start ===================================================================== */

static uint64_t low_mask(unsigned bits) { return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1; }

/* The index range [*lo, *hi) of ids in the aligned block [first, first + 2^bits). */
static void block_range(const struct converge_node *v, size_t len, uint64_t first, unsigned bits,
                        size_t *lo, size_t *hi)
{
    *lo = converge_lower_bound(v, len, first);
    uint64_t last = first | low_mask(bits);
    size_t h = converge_lower_bound(v, len, last);
    *hi = h < len && v[h].id == last ? h + 1 : h;
}

/* The introducer's memory of recent registrations (the engine's INTRODUCER_MEMORY). */
#define KAD_INTRO_MEMORY 16

/* n hears from p, with no message: seen()'s k-bucket update (§2.2), nothing failing at t = 0:
 * a full bucket's head is pinged, answers and moves to the tail, and p is dropped. */
static void converge_seen(struct sim *s, node_t n, struct peer p)
{
    struct kad_global *g = kad_g(s);
    struct kad_node *nd = kad_node(s, n);
    if (p.id == nd->self.id)
        return;
    unsigned i = kad_bucket_index(nd->self.id, p.id);
    const struct peer *b = bucket(g, nd, i);
    int j = b ? bucket_pos(b, nd->count[i], p.addr) : -1;
    if (j < 0 && nd->count[i] < g->k) {
        bucket_append(g, nd, i, p);
        return;
    }
    struct peer tail = j >= 0 ? p : b[0];
    bucket_drop(g, nd, i, j >= 0 ? (unsigned)j : 0);
    bucket_append(g, nd, i, tail);
}

/* Converge visits nodes in a random order, each far in memory: ask for what converge_seen and
 * closest_known will read of a node (its first cache lines, then a bucket) steps ahead. */
static void prefetch_node(struct sim *s, node_t n)
{
    const char *p = (const char *)kad_node(s, n);
    for (size_t off = 0; off < offsetof(struct kad_node, vals); off += 64)
        __builtin_prefetch(p + off);
}

static void prefetch_bucket(struct sim *s, node_t n, unsigned i)
{
    const struct kad_global *g = kad_g(s);
    const struct kad_node *nd = kad_node(s, n);
    const char *b = (const char *)bucket(g, nd, i);
    if (b)
        for (size_t off = 0; off < g->blk_bytes; off += 64)
            __builtin_prefetch(b + off);
}

/* lookup_step's node lookup, run at once over the current tables: the α requests in flight
 * are answered in the order sent; the responder hears from n, then answers with its k closest
 * contacts (but n), and n hears from the responder. */
static void converge_lookup(struct sim *s, node_t n, uint64_t target)
{
    struct kad_global *g = kad_g(s);
    struct kad_cand c[2 * KAD_K_MAX];
    struct peer seed[2 * KAD_K_MAX], named[KAD_K_MAX];
    struct peer fifo[KAD_ALPHA_MAX];
    unsigned nc = 0, head = 0, inflight = 0;
    struct peer self = kad_node(s, n)->self;
    unsigned m = closest_known(s, n, target, ADDR_NONE, seed, g->stride);
    for (unsigned j = 0; j < m; j++)
        c[nc++] = (struct kad_cand){ .p = seed[j], .state = KAD_C_NEW };
    for (unsigned steps = 0; steps < KAD_STEP_LIMIT; steps++) {
        for (unsigned j = 0, live = 0; j < nc && live < g->k && inflight < g->alpha; j++, live++)
            if (c[j].state == KAD_C_NEW) {
                c[j].state = KAD_C_ASKED;
                fifo[(head + inflight++) % KAD_ALPHA_MAX] = c[j].p;
                prefetch_node(s, c[j].p.addr.slot);
            }
        if (inflight == 0)
            break;
        struct peer r = fifo[head];
        head = (head + 1) % KAD_ALPHA_MAX;
        inflight--;
        if (inflight > 0) {           /* the next responder's buckets for self and target */
            struct peer next = fifo[head];
            prefetch_bucket(s, next.addr.slot, kad_bucket_index(next.id, self.id));
            if (next.id != target)
                prefetch_bucket(s, next.addr.slot, kad_bucket_index(next.id, target));
        }
        converge_seen(s, r.addr.slot, self);
        unsigned cnt = closest_known(s, r.addr.slot, target, self.addr, named, g->k);
        converge_seen(s, n, r);
        int at = cand_find(c, nc, target, r);
        if (at >= 0)
            c[at].state = KAD_C_DONE;
        for (unsigned q = 0; q < cnt; q++)
            if (!addr_eq(named[q].addr, self.addr) && cand_find(c, nc, target, named[q]) < 0)
                cand_insert(c, &nc, g->stride, target,
                            (struct kad_cand){ .p = named[q], .state = KAD_C_NEW });
    }
}

/* Lays down the state the protocol's own joins would reach, at t = 0 only (the one place a
 * protocol may use global knowledge), with no messages: the live nodes join one after another in a random order, each
 * given up to INTRO_CONTACTS of the KAD_INTRO_MEMORY latest joiners, as the introducer does;
 * each then runs, at once over the current tables, its own-id lookup and refresh_far's
 * lookups (converge_lookup), both sides of every exchange updating their buckets. Bucket
 * refresh and republish phases are spread uniformly over their periods, and every key is
 * stored on its k XOR-closest nodes, as published by a random node. */
static void kad_converge(struct sim *s)
{
    struct kad_global *g = kad_g(s);
    node_t *live = mem_calloc(g->cap, sizeof *live, "kademlia's converged start");
    struct converge_node *v = mem_calloc(g->cap, sizeof *v, "kademlia's converged start");
    size_t len = sim_converge_live(s, live, g->cap);
    size_t sorted = sim_converge_sorted(s, v, g->cap);
    SIM_ASSERT(sorted == len);
    gsl_rng *rng = sim_rng(s);
    int32_t refresh = (int32_t)(g->refresh_us / KAD_US_PER_S);
    for (size_t k = 0; k < len; k++) {
        node_t n = v[k].slot;
        struct kad_node *nd = kad_node(s, n);         /* fresh, as the engine zeroed it */
        *nd = (struct kad_node){ .self = { .id = v[k].id, .addr = sim_addr(s, n) },
                                 .phase = KAD_JOINED,
                                 .published_us = -(int64_t)(gsl_rng_uniform(rng) * (double)g->publish_us) };
        for (unsigned i = 0; i < KAD_BITS; i++)
            nd->used_s[i] = -(int32_t)(gsl_rng_uniform(rng) * refresh);
    }
    /* the joins, in a random order */
    node_t *order = mem_calloc(len, sizeof *order, "kademlia's converged start");
    memcpy(order, live, len * sizeof *order);
    gsl_ran_shuffle(rng, order, len, sizeof *order);
    for (size_t t = 1; t < len; t++) {
        node_t n = order[t];
        size_t mem = t < KAD_INTRO_MEMORY ? t : KAD_INTRO_MEMORY;
        node_t intro[KAD_INTRO_MEMORY], pick[INTRO_CONTACTS];
        memcpy(intro, order + t - mem, mem * sizeof *intro);
        size_t np = mem < INTRO_CONTACTS ? mem : INTRO_CONTACTS;
        gsl_ran_choose(rng, pick, np, intro, mem, sizeof *pick);
        gsl_ran_shuffle(rng, pick, np, sizeof *pick);
        for (size_t j = 0; j < np; j++)
            converge_seen(s, n, kad_node(s, pick[j])->self);
        struct kad_node *nd = kad_node(s, n);
        converge_lookup(s, n, nd->self.id);
        unsigned low = nd->filled ? (unsigned)__builtin_ctzll(nd->filled) : KAD_BITS;
        for (unsigned i = low + 1; i < KAD_BITS; i++)
            converge_lookup(s, n, kad_bucket_random(nd->self.id, i, kit_rand64(s)));
    }
    free(order);
    /* values: the k closest of each key; the smallest aligned block around the key holding
     * at least k nodes contains them */
    uint32_t nkeys;
    const uint64_t *keys = sim_converge_keys(s, &nkeys);
    int32_t repub = (int32_t)(g->republish_us / KAD_US_PER_S);
    for (uint32_t q = 0; q < nkeys && len > 0; q++) {
        uint64_t key = keys[q];
        size_t lo = 0, hi = len;
        for (unsigned bits = 0; bits <= 64; bits++) {
            block_range(v, len, key & ~low_mask(bits), bits, &lo, &hi);
            if (hi - lo >= g->k)
                break;
        }
        struct peer best[KAD_K_MAX];
        unsigned nb = 0;
        for (size_t j = lo; j < hi; j++)
            closest_insert(best, &nb, g->k, (struct peer){ .id = v[j].id, .addr = { v[j].slot, 0 } }, key);
        int32_t touched = -(int32_t)(gsl_rng_uniform(rng) * repub);
        for (unsigned j = 0; j < nb; j++) {
            struct kad_val *e = val_put(s, best[j].addr.slot, key);
            e->touched_s = touched;
            e->published_s = 0;
        }
        node_t publisher = v[gsl_rng_uniform_int(rng, len)].slot;
        struct kad_val *e = vec_put(&kad_node(s, publisher)->pubs, key);
        e->published_s = 0;
        e->touched_s = 0;
    }
    for (size_t k = 0; k < len; k++)
        start_tick(s, live[k]);
    free(v);
    free(live);
}

/* ==== setup =============================================================================== */

static size_t kad_msg_body_max(const struct proto_config *cfg)
{
    size_t k = (size_t)cfg->v[KAD_P_K].i;
    size_t max = sizeof(struct kad_req);
    if (sizeof(struct kad_store) > max)
        max = sizeof(struct kad_store);
    if (KAD_NODES_LEN(k) > max)
        max = KAD_NODES_LEN(k);
    return max;
}

/* The judge's question: does n hold key's value? */
static bool kad_holds(const struct sim *s, node_t n, uint64_t key)
{
    const struct kad_node *nd = sim_state_const(s, n);
    uint32_t i = kit_vec_lower_bound(&nd->vals, sizeof(struct kad_val), key);
    return i < nd->vals.n && ((const struct kad_val *)nd->vals.v)[i].key == key;
}

/* n's incarnation has ended: its vectors' buffers and its lookups in flight go. */
static void kad_down(struct sim *s, node_t n)
{
    struct kad_node *nd = kad_node(s, n);
    kit_vec_free(&nd->blocks);
    const struct kad_val *v = nd->vals.v;
    for (uint32_t j = 0; j < nd->vals.n; j++)
        sim_key_dropped(s, n, v[j].key);
    kit_vec_free(&nd->vals);
    kit_vec_free(&nd->pubs);
    kit_pool_node_down(&kad_g(s)->recs, n);
}

static void kad_teardown(struct sim *s)
{
    struct kad_global *g = kad_g(s);
    if (!g)
        return;
    for (node_t n = 0; n < g->cap; n++)   /* a slot that never came up, or went down, is zero */
        kad_down(s, n);
    kit_pool_free(&g->recs);
    free(g);
    sim_set_protocol_data(s, NULL);
}

static int kad_setup(struct sim *s, const struct proto_config *cfg)
{
    struct kad_global *g = mem_calloc(1, sizeof *g, "kademlia's configuration");
    sim_set_protocol_data(s, g);
    g->k = (uint32_t)cfg->v[KAD_P_K].i;
    g->alpha = (uint32_t)cfg->v[KAD_P_ALPHA].i;
    g->stale = (uint32_t)cfg->v[KAD_P_STALE].i;
    g->refresh_us = cfg->v[KAD_P_REFRESH].i;
    g->republish_us = cfg->v[KAD_P_REPUBLISH].i;
    g->publish_us = cfg->v[KAD_P_PUBLISH].i;
    g->expire_us = cfg->v[KAD_P_EXPIRE].i;
    g->timeout_us = cfg->v[KAD_P_TIMEOUT].i;
    g->tick_us = (g->refresh_us < g->republish_us ? g->refresh_us : g->republish_us) / 4;
    if (g->tick_us < 1)
        g->tick_us = 1;
    g->cap = sim_capacity(s);
    g->blk_bytes = g->k * sizeof(struct peer) + ((g->k + 7) & ~(size_t)7);
    g->stride = 2 * g->k;
    kit_pool_init(&g->recs, sizeof(struct kad_rec) + g->stride * sizeof(struct kad_cand), 1024,
                  g->cap, "kademlia lookups");
    sim_set_replicas(s, g->k);
    sim_store_data(s);                /* a lookup succeeds when a holder returns the value */
    return 0;
}

/* ==== invariants (checked builds) ========================================================= */

#ifdef P2PLAB_CHECK
#include "sim/invariant.h"

/* Always: bucket i of a node holds at most k contacts, each at an XOR distance in
 * [2^i, 2^(i+1)) from the node's id (so never the node itself), each once (Maymounkov &
 * Mazières, IPTPS 2002, sec. 2.2). */
static void kad_check_invariants(struct sim *s)
{
    const struct kad_global *g = kad_g(s);
    node_t pick[SIM_INVARIANT_NODES];
    node_t n_pick = sim_invariant_nodes(s, pick);
    for (node_t q = 0; q < n_pick; q++) {
        const struct kad_node *nd = kad_node(s, pick[q]);
        for (unsigned i = 0; i < KAD_BITS; i++) {
            if (nd->count[i] == 0)
                continue;
            const struct peer *b = bucket(g, nd, i);
            if (!b || nd->count[i] > g->k)
                sim_invariant_fail(s, pick[q], "bucket %u holds %u contacts, more than k = %u",
                                   i, nd->count[i], g->k);
            for (unsigned j = 0; j < nd->count[i]; j++) {
                uint64_t d = nd->self.id ^ b[j].id;
                if (d >> i != 1)
                    sim_invariant_fail(s, pick[q], "bucket %u holds node %u (id %016llx) at XOR "
                                       "distance %016llx, outside [2^%u, 2^%u)", i,
                                       b[j].addr.slot, (unsigned long long)b[j].id,
                                       (unsigned long long)d, i, i + 1);
                for (unsigned h = 0; h < j; h++)
                    if (addr_eq(b[h].addr, b[j].addr))
                        sim_invariant_fail(s, pick[q], "bucket %u holds node %u twice", i,
                                           b[j].addr.slot);
            }
        }
    }
}

/* Test only: n's first bucket contact moves to the next bucket's range, which
 * check_invariants catches. */
static void kad_invariant_break(struct sim *s, node_t n)
{
    struct kad_node *nd = kad_node(s, n);
    for (unsigned i = 0; i + 1 < KAD_BITS; i++)
        if (nd->count[i] > 0) {
            bucket(kad_g(s), nd, i)[0].id ^= (uint64_t)1 << (i + 1);
            return;
        }
}
#endif

const struct protocol kademlia_protocol = {
    .msg_names = kad_msg_name,
    .n_msg_names = KAD_MSG_COUNT,
    .name = "kademlia",
    .summary = "Kademlia: XOR metric, k-buckets, α-parallel iterative lookups, republish",
    .paper = "Maymounkov and Mazières, Kademlia: a peer-to-peer information system based on "
             "the XOR metric, IPTPS 2002",
    .params = kad_params,
    .keys = KEYS_XOR,
    .node_state_size = sizeof(struct kad_node),
    .msg_body_max = kad_msg_body_max,
    .setup = kad_setup,
    .join = kad_join,
    .on_message = kad_on_message,
    .on_timer = kad_on_timer,
    .on_timeout = kad_on_timeout,
    .lookup = kad_lookup,
    .state_entries = kad_state_entries,
    .converge = kad_converge,
    .insert = kad_insert,
    .holds = kad_holds,
    .teardown = kad_teardown,
    .down = kad_down,
#ifdef P2PLAB_CHECK
    .check_invariants = kad_check_invariants,
    .invariant_break = kad_invariant_break,
#endif
};
