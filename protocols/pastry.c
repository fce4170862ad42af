/* pastry.c — Pastry (Rowstron & Druschel, Middleware 2001), with proximity-aware routing tables.
 *
 * A 64-bit circular identifier space; a key belongs to the numerically closest live node.
 * Identifiers are read as digits of b bits, most significant first: ceil(64/b) digits, the
 * last one short when b does not divide 64 (its missing low bits read as zeros, so its column
 * index is a multiple of 2^(b - 64 mod b)). Each node keeps
 *   - a routing table of ceil(64/b) rows x 2^b columns: row r, column c holds a node whose id
 *     shares the first r digits with the node's own and has digit c at position r, chosen by
 *     measured round-trip time among the candidates it has heard of (the locality property);
 *   - a leaf set of the l/2 numerically closest nodes on each side;
 *   - a neighbourhood set of the M nodes closest by measured round-trip time.
 * Routing is the paper's Fig. 2: a key within the leaf set's range goes to the numerically
 * closest leaf (or is delivered); otherwise to the table entry sharing one more digit;
 * otherwise (the "rare case") to a known node sharing at least as long a prefix and
 * numerically closer. Lookups are recursive: each hop forwards with an RPC the next hop
 * acknowledges at once, so a dead next hop is found by timeout, dropped and routed around; the
 * node that delivers answers the origin directly.
 *
 * Join (§3.4): the new node X asks the introducer, pings its contacts and takes the one with the
 * lowest round-trip time as its nearby node A; a join message routed from A to X's id makes the
 * h-th node on the path send X its table rows h .. shl(node, X) (A also its neighbourhood set)
 * and the last node its leaf set; X then announces itself to every node in its state. Every
 * candidate a node hears of is probed (PING) before it displaces a table entry, and every RPC
 * reply is a round-trip sample that may improve the table and the neighbourhood set.
 * Maintenance: leaf-set keep-alives every `keepalive` (pings to the other leaves; to the two
 * immediate neighbours a request for their leaf sets, one way: each node asks its own
 * neighbours, so a pair exchanges sets only through two requests, one from each side); a leaf
 * found dead by timeout is replaced by asking the farthest live leaf on its side for its leaf
 * set; a table entry found dead is repaired lazily by asking another entry of its row (else of
 * the next row) for its entry in that slot; every `table_maintenance` a node asks a random
 * entry of each row for that row (MSPastry, Castro et al. 2004). The only failure detector is
 * an RPC timeout, after `retries` re-sends of the request (0 by default: the paper's lossless
 * network; with network.loss > 0 use 1-2, as MSPastry's per-hop acks are retransmitted). A
 * contact found dead is remembered for `dead_memory` and not re-learned from other nodes'
 * lists meanwhile (only a reply from the contact itself brings it back), so that leaves which
 * have not yet noticed a failure do not hand it back; the memory expires by time, so a live
 * node taken for dead after lost messages is re-learned at the latest one period later. With
 * retries > 0 the delivering node's answer to the origin is acknowledged and re-sent too. A
 * graceful leave is treated as a failure, as in the paper.
 *
 * Converged start: leaf sets exact; each table slot holds the closest (by round-trip time) of
 * up to `converge_candidates` (16) nodes drawn at random among those with the slot's prefix,
 * a model of what join and maintenance reach (not the global optimum, as the paper's join does
 * not reach it either); the neighbourhood set holds the M closest of 8·M random nodes.
 *
 * Memory. The engine's slab holds struct pastry_node, 184 bytes (with the recently-dead list
 * and its expiry times). The protocol's arrays hold, per node slot, the table (rows x 2^b
 * contacts of 16 bytes and a 4-byte round-trip time each), the leaf set (16·l bytes) and the
 * neighbourhood set (20·M bytes): with the defaults b = 4, l = 16, M = 32,
 * 184 + 16·16·20 + 256 + 640 = 6,200 bytes per node. Lookups and joins
 * in flight are records in a pool with a free list (struct pastry_rec, 56 bytes), named in
 * RPC contexts by index and generation. */
#include "protocols/protocol.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== constants =========================================================================== */

#define PASTRY_BITS 64                /* identifier bits */
#define PASTRY_B_MAX 6                /* largest digit width: 2^6 columns, 11 rows */
#define PASTRY_COLS_MAX (1u << PASTRY_B_MAX)
#define PASTRY_LEAF_MAX 64            /* the leaf_set parameter's maximum */
#define PASTRY_NBR_MAX 128            /* the neighbourhood parameter's maximum */
#define PASTRY_DEAD_RING 8            /* recently dead contacts remembered (the oldest goes first) */
#define PASTRY_HOP_LIMIT 64           /* routing loop guard: forwards per lookup */
#define PASTRY_JOIN_BACKOFF_MAX 6     /* join retries back off up to 2^6 RPC timeouts */
#define PASTRY_RTT_NONE UINT32_MAX    /* round-trip time not measured */
#define PASTRY_NONE32 UINT32_MAX      /* no record */

/* ==== parameters ========================================================================== */

enum pastry_param {
    PASTRY_P_B,
    PASTRY_P_LEAF,
    PASTRY_P_NBR,
    PASTRY_P_KEEPALIVE,
    PASTRY_P_TABLE_MAINT,
    PASTRY_P_TIMEOUT,
    PASTRY_P_CANDIDATES,
    PASTRY_P_RETRIES,
    PASTRY_P_DEAD_MEMORY,
};

static const struct param pastry_params[] = {
    [PASTRY_P_B] = { .name = "b", .type = PARAM_INT, .def = "4", .min = 1, .max = PASTRY_B_MAX,
      .doc = "bits per digit: 2^b columns, ceil(64/b) rows, the last digit short if b does not "
             "divide 64 (paper: b = 4)" },
    [PASTRY_P_LEAF] = { .name = "leaf_set", .type = PARAM_INT, .def = "16", .min = 2,
      .max = PASTRY_LEAF_MAX, .doc = "leaf-set size l, even: l/2 closest ids on each side (paper: 16)" },
    [PASTRY_P_NBR] = { .name = "neighbourhood", .type = PARAM_INT, .def = "32", .min = 0,
      .max = PASTRY_NBR_MAX, .doc = "neighbourhood-set size M, closest by round-trip time (paper: 32)" },
    [PASTRY_P_KEEPALIVE] = { .name = "keepalive", .type = PARAM_DURATION, .def = "30s",
      .min = 0.001, .max = 86400,
      .doc = "mean leaf-set keep-alive period, jittered in [0.5, 1.5]x (MSPastry, Castro et al. "
             "2004: 30 s)" },
    [PASTRY_P_TABLE_MAINT] = { .name = "table_maintenance", .type = PARAM_DURATION, .def = "20min",
      .min = 0.001, .max = 86400,
      .doc = "mean period of routing-table maintenance: ask a random entry of each row for its "
             "row (MSPastry, Castro et al. 2004: 20 min)" },
    [PASTRY_P_TIMEOUT] = { .name = "timeout", .type = PARAM_DURATION, .def = "1s", .min = 0.001,
      .max = 600, .doc = "RPC timeout after which a silent node is taken as failed" },
    [PASTRY_P_CANDIDATES] = { .name = "converge_candidates", .type = PARAM_INT, .def = "16",
      .min = 1, .max = 4096,
      .doc = "start: converged only: random candidates per table slot among which the closest "
             "by round-trip time is taken (a model of what join and maintenance reach)" },
    [PASTRY_P_RETRIES] = { .name = "retries", .type = PARAM_INT, .def = "0", .min = 0, .max = 8,
      .doc = "re-sends of an unanswered RPC before its target is taken as failed; the paper "
             "assumes no loss (0); use 1-2 with network.loss > 0, as MSPastry retransmits" },
    [PASTRY_P_DEAD_MEMORY] = { .name = "dead_memory", .type = PARAM_DURATION, .def = "60s",
      .min = 0.001, .max = 86400,
      .doc = "how long a contact found dead is not re-learned from other nodes' lists (two "
             "keep-alive periods: by then its other leaves have found it dead too)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* Sizes on the wire. Every datagram carries IPv4 (20 B) + UDP (8 B) headers and a Pastry
 * header of 8 B: type (1), hop count (1), reserved (2), request or lookup id (4). A contact is
 * an IPv4 address, a port and the 8-byte identifier (14 B); an address alone is 6 B; a list is
 * a count byte and its contacts. */
#define PASTRY_WIRE_IP_UDP 28
#define PASTRY_WIRE_HEADER 8
#define PASTRY_WIRE_KEY 8
#define PASTRY_WIRE_ADDR 6
#define PASTRY_WIRE_CONTACT 14
#define PASTRY_WIRE_FLAG 1
#define PASTRY_WIRE_COUNT 1

/* X(name, fixed payload bytes, bytes per list entry) on the wire */
#define PASTRY_MESSAGES(X)                                                                     \
    /* one routing step: key, the origin's contact, a join/lookup flag; acknowledged at once */ \
    X(FWD_REQ, PASTRY_WIRE_KEY + PASTRY_WIRE_CONTACT + PASTRY_WIRE_FLAG, 0)                    \
    X(FWD_ACK, 0, 0)                                                                           \
    /* the delivering node to the origin: the owner's contact; acknowledged if retries > 0 */  \
    X(DONE, PASTRY_WIRE_CONTACT, 0)                                                            \
    /* to a joining node, one per table row, neighbourhood set or leaf set: a flag (the last  \
     * node's leaf set) and a counted list */                                                  \
    X(JOIN_STATE, PASTRY_WIRE_FLAG + PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                   \
    /* "I have joined": the new node's contact, to every node in its state */                  \
    X(ANNOUNCE, PASTRY_WIRE_CONTACT, 0)                                                        \
    /* liveness and round-trip probe */                                                        \
    X(PING_REQ, 0, 0)                                                                          \
    X(PING_REP, 0, 0)                                                                          \
    /* "your leaf set?" */                                                                     \
    X(LEAF_REQ, 0, 0)                                                                          \
    X(LEAF_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                                        \
    /* "your table row r?" */                                                                  \
    X(ROW_REQ, PASTRY_WIRE_FLAG, 0)                                                            \
    X(ROW_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                                         \
    /* lazy repair: "your entry at row r, column c?" */                                        \
    X(ENTRY_REQ, 2 * PASTRY_WIRE_FLAG, 0)                                                      \
    X(ENTRY_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                                       \
    /* the origin's acknowledgement of DONE, when retries > 0 */                                \
    X(DONE_ACK, 0, 0)

enum pastry_msg {
#define PASTRY_MSG_ENUM(name, fixed, entry) PASTRY_MSG_##name,
    PASTRY_MESSAGES(PASTRY_MSG_ENUM)
#undef PASTRY_MSG_ENUM
    PASTRY_MSG_COUNT
};

extern const char *const pastry_msg_name[PASTRY_MSG_COUNT];   /* for traces and tests */
const char *const pastry_msg_name[PASTRY_MSG_COUNT] = {
#define PASTRY_MSG_NAME(name, fixed, entry) #name,
    PASTRY_MESSAGES(PASTRY_MSG_NAME)
#undef PASTRY_MSG_NAME
};

static const uint16_t pastry_msg_fixed[PASTRY_MSG_COUNT] = {
#define PASTRY_MSG_FIXED(name, fixed, entry) fixed,
    PASTRY_MESSAGES(PASTRY_MSG_FIXED)
#undef PASTRY_MSG_FIXED
};

static const uint16_t pastry_msg_entry[PASTRY_MSG_COUNT] = {
#define PASTRY_MSG_ENTRY(name, fixed, entry) entry,
    PASTRY_MESSAGES(PASTRY_MSG_ENTRY)
#undef PASTRY_MSG_ENTRY
};

/* Bodies: a tagged union, the tag being the message type. Lists are sent up to their count. */
enum pastry_fwd_kind { PASTRY_KIND_LOOKUP, PASTRY_KIND_JOIN };

struct pastry_fwd_req {               /* FWD_REQ */
    uint64_t key;
    struct peer origin;               /* lookup: the origin; join: the joining node */
    uint16_t hops;                    /* forwards so far, this one included */
    uint8_t kind;                     /* enum pastry_fwd_kind */
};
struct pastry_peer_msg {              /* ANNOUNCE: the new node */
    struct peer peer;
};
struct pastry_done {                  /* DONE */
    struct peer owner;
    uint16_t hops;                    /* carried in the header's hop byte */
};
#define PASTRY_JS_LAST 0x01           /* JOIN_STATE from the node the join was delivered to */
struct pastry_join_state {            /* JOIN_STATE: a row, a neighbourhood set or a leaf set */
    uint8_t flags;
    uint16_t count;
    struct peer peer[];
};
struct pastry_list {                  /* LEAF_REP, ROW_REP, ENTRY_REP */
    uint16_t count;
    struct peer peer[];
};
struct pastry_row_req {               /* ROW_REQ, ENTRY_REQ */
    uint8_t row, col;
};

#define PASTRY_LIST_LEN(n) (offsetof(struct pastry_list, peer) + (size_t)(n) * sizeof(struct peer))
#define PASTRY_JS_LEN(n) (offsetof(struct pastry_join_state, peer) + (size_t)(n) * sizeof(struct peer))

/* ==== state =============================================================================== */

enum pastry_timer {
    PASTRY_TIMER_KEEPALIVE,
    PASTRY_TIMER_TABLE,
    PASTRY_TIMER_JOIN_RETRY,
    PASTRY_TIMER_JOIN_WATCHDOG,
};

enum pastry_phase { PASTRY_OUT, PASTRY_JOINING, PASTRY_JOINED };

#define PASTRY_F_TIMERS 0x01          /* periodic timers armed for this incarnation */

/* One node, in the engine's slab. The leaf set, table and neighbourhood set live in the
 * protocol's arrays, indexed by slot. */
struct pastry_node {
    struct peer self;
    struct peer join_best;            /* joining: the probed contact with the lowest RTT */
    struct addr dead[PASTRY_DEAD_RING];  /* contacts found dead lately, ignored in gossip */
    int64_t dead_until[PASTRY_DEAD_RING];  /* us: when each entry of dead[] expires */
    uint32_t join_best_rtt;           /* us */
    uint32_t wait_head;               /* lookups waiting for the join to finish (records) */
    uint32_t join_epoch;              /* bumped per join attempt: stale probe replies ignored */
    uint16_t ntable;                  /* non-empty table entries */
    uint8_t nleft, nright;            /* leaf-set entries on each side, closest first */
    uint8_t nnbr;                     /* neighbourhood-set entries */
    uint8_t phase;                    /* enum pastry_phase */
    uint8_t flags;                    /* PASTRY_F_* */
    uint8_t join_pending;             /* contact probes outstanding */
    uint8_t join_tries;               /* consecutive failed joins, for the back-off */
};
#define PASTRY_NODE_BYTES 184
_Static_assert(sizeof(struct pastry_node) == PASTRY_NODE_BYTES, "update the opening comment");

enum pastry_rec_phase {
    PASTRY_REC_FREE,
    PASTRY_REC_WAIT,                  /* a lookup parked at its origin until it has joined */
    PASTRY_REC_FWD,                   /* a routing step: its forward awaits an ack */
    PASTRY_REC_DONE,                  /* retries > 0: the answer to the origin awaits an ack */
};

/* A routing step in flight at one node (a lookup or a join), or a lookup parked at its origin
 * until the origin has joined. */
struct pastry_rec {
    uint64_t key;
    struct peer origin;               /* where the answer (lookup) or the state (join) goes */
    node_t owner;                     /* the node running this record */
    uint32_t owner_inc;               /* ... and its incarnation */
    uint32_t gen;                     /* bumped when freed: stale RPC contexts are ignored */
    uint32_t next;                    /* free list / the owner's wait list */
    uint32_t lookup;                  /* workload lookup id, or LOOKUP_NONE */
    uint16_t hops;                    /* forwards that brought the query here */
    uint8_t steps;                    /* forwards attempted here, against the loop guard */
    uint8_t kind;                     /* enum pastry_fwd_kind */
    uint8_t phase;                    /* enum pastry_rec_phase */
    uint8_t rows_sent;                /* join: this node's rows have gone to the joiner */
    uint8_t tries;                    /* re-sends of the RPC in flight so far */
};
_Static_assert(sizeof(struct pastry_rec) == 56, "update the figure in the opening comment");

/* The protocol's global data for one run. */
struct pastry_global {
    unsigned b, rows, cols;           /* digit bits, ceil(64/b), 2^b */
    unsigned l, half, m;              /* leaf-set size, l/2, neighbourhood-set size */
    int64_t keepalive_us, table_us, timeout_us;
    unsigned candidates;              /* converge: candidates per table slot */
    unsigned retries;                 /* re-sends before a silent node is taken as failed */
    int64_t dead_us;                  /* how long a contact found dead is remembered */
    node_t cap;                       /* node slots */
    struct peer *table;               /* cap x rows x cols */
    uint32_t *trtt;                   /* cap x rows x cols round-trip times, us */
    struct peer *leaf;                /* cap x l: left half (closest first), then right half */
    struct peer *nbr;                 /* cap x m */
    uint32_t *nrtt;                   /* cap x m round-trip times, us */
    struct pastry_rec *rec;
    uint32_t rec_cap, rec_free;
    struct peer *scratch;             /* state_entries' work space */
};

/* The protocol's own counters (counters.csv): forwards by leaf set, by table, by the rare case. */
enum pastry_counter { PASTRY_C_LEAF, PASTRY_C_TABLE, PASTRY_C_RARE };
static const char *const pastry_counters[] = { "route_leaf", "route_table", "route_rare", NULL };

static const struct peer pastry_peer_none = { .id = 0, .addr = { NODE_NONE, 0 } };

/* ==== identifier arithmetic (exported for the unit tests) ================================= */

unsigned pastry_digit(uint64_t id, unsigned row, unsigned b);
unsigned pastry_shl(uint64_t a, uint64_t c, unsigned b);
uint64_t pastry_dist(uint64_t a, uint64_t c);
bool pastry_closer(uint64_t a, uint64_t c, uint64_t key);
size_t pastry_wire_size(unsigned type, unsigned entries);
size_t pastry_bytes_per_node(unsigned b, unsigned l, unsigned m);

/* Digit `row` of id, b bits, most significant first; the last digit, if short, is padded
 * with zero bits on the right. */
unsigned pastry_digit(uint64_t id, unsigned row, unsigned b)
{
    unsigned shift = row * b;
    if (shift >= PASTRY_BITS)
        return 0;
    return (unsigned)((id << shift) >> (PASTRY_BITS - b));
}

/* Length in digits of the longest common prefix of a and c (ceil(64/b) if equal). */
unsigned pastry_shl(uint64_t a, uint64_t c, unsigned b)
{
    uint64_t x = a ^ c;
    if (x == 0)
        return (PASTRY_BITS + b - 1) / b;
    return (unsigned)__builtin_clzll(x) / b;
}

/* Distance on the circular id space. */
uint64_t pastry_dist(uint64_t a, uint64_t c)
{
    uint64_t d = a - c;
    return d < c - a ? d : c - a;
}

/* Is a strictly closer to key than c? Ties go to the id clockwise of the key, as the oracle
 * breaks them. */
bool pastry_closer(uint64_t a, uint64_t c, uint64_t key)
{
    uint64_t da = pastry_dist(a, key), dc = pastry_dist(c, key);
    return da < dc || (da == dc && a != c && a - key < c - key);
}

size_t pastry_wire_size(unsigned type, unsigned entries)
{
    return PASTRY_WIRE_IP_UDP + PASTRY_WIRE_HEADER + pastry_msg_fixed[type] +
           (size_t)entries * pastry_msg_entry[type];
}

/* The documented memory figure: slab + table (contact + RTT per slot) + leaf set +
 * neighbourhood set (contact + RTT). */
size_t pastry_bytes_per_node(unsigned b, unsigned l, unsigned m)
{
    size_t rows = (PASTRY_BITS + b - 1) / b, cols = (size_t)1 << b;
    return sizeof(struct pastry_node) + rows * cols * (sizeof(struct peer) + sizeof(uint32_t)) +
           l * sizeof(struct peer) + m * (sizeof(struct peer) + sizeof(uint32_t));
}

/* ==== small helpers ======================================================================= */

static struct pastry_global *pastry_g(struct sim *s) { return sim_protocol_data(s); }
static struct pastry_node *pastry_node(struct sim *s, node_t n) { return sim_state(s, n); }
static bool peer_ok(struct peer p) { return p.addr.slot != NODE_NONE; }

static struct peer *tab(struct pastry_global *g, node_t n) { return g->table + (size_t)n * g->rows * g->cols; }
static uint32_t *trtt(struct pastry_global *g, node_t n) { return g->trtt + (size_t)n * g->rows * g->cols; }
static struct peer *left(struct pastry_global *g, node_t n) { return g->leaf + (size_t)n * g->l; }
static struct peer *right(struct pastry_global *g, node_t n) { return g->leaf + (size_t)n * g->l + g->half; }
static struct peer *nbr(struct pastry_global *g, node_t n) { return g->nbr + (size_t)n * g->m; }
static uint32_t *nrtt(struct pastry_global *g, node_t n) { return g->nrtt + (size_t)n * g->m; }

static void send_msg(struct sim *s, node_t n, struct addr to, enum pastry_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned entries)
{
    struct out o = { .type = type, .cat = lookup == LOOKUP_NONE ? CAT_MAINT : CAT_LOOKUP,
                     .size = (uint32_t)pastry_wire_size(type, entries), .lookup = lookup,
                     .body = body, .len = (uint32_t)len };
    net_send(s, n, to, &o);
}

/* Every RPC names its target's id in ctx1, so that a reply is a round-trip sample for the
 * contact and a timeout tells which table slot to repair. */
static void send_rpc(struct sim *s, node_t n, struct peer to, enum pastry_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned entries, uint64_t ctx0)
{
    struct out o = { .type = type, .cat = lookup == LOOKUP_NONE ? CAT_MAINT : CAT_LOOKUP,
                     .size = (uint32_t)pastry_wire_size(type, entries), .lookup = lookup,
                     .body = body, .len = (uint32_t)len };
    net_rpc(s, n, to.addr, &o, pastry_g(s)->timeout_us, ctx0, to.id);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum pastry_msg type,
                      const void *body, size_t len, unsigned entries)
{
    struct out o = { .type = type, .cat = req->cat, .size = (uint32_t)pastry_wire_size(type, entries),
                     .lookup = req->lookup, .body = body, .len = (uint32_t)len };
    net_reply(s, n, req, &o);
}

/* The context of RPCs without a record (maintenance, and the joiner's own join message):
 * PING purpose in ctx0 bits 0..7, a join probe's epoch in bits 8..39; ROW_REQ and ENTRY_REQ
 * name their row and column in bits 8..15 and 16..23; the joiner's FWD_REQ has PASTRY_NONE32
 * in bits 0..31. Bits 56..63 count the re-sends so far. RPCs with a record (routing steps,
 * DONE) name it in ctx0 and count re-sends in the record. */
enum pastry_ping { PASTRY_PING_PROBE, PASTRY_PING_KEEPALIVE, PASTRY_PING_JOIN };
#define PASTRY_CTX_TRY_SHIFT 56
#define PASTRY_CTX_TRY_MASK UINT64_C(0xFF)
#define PASTRY_CTX_EPOCH(ctx) (((ctx) >> 8) & 0xFFFFFFFFu)

static void ping(struct sim *s, node_t n, struct peer p, enum pastry_ping why, uint64_t extra)
{
    send_rpc(s, n, p, PASTRY_MSG_PING_REQ, LOOKUP_NONE, NULL, 0, 0, (uint64_t)why | (extra << 8));
}

/* Was a is found dead by n within the last dead_memory? */
static bool recently_dead(struct sim *s, const struct pastry_node *nd, struct addr a)
{
    int64_t now = sim_now(s);
    for (unsigned k = 0; k < PASTRY_DEAD_RING; k++)
        if (addr_eq(nd->dead[k], a) && now < nd->dead_until[k])
            return true;
    return false;
}

/* Remembers a as dead until now + dead_memory: its own entry is refreshed, else the entry that
 * expires first (an expired one, or the oldest) is reused. */
static void remember_dead(struct sim *s, struct pastry_node *nd, struct addr a)
{
    unsigned at = 0;
    for (unsigned k = 0; k < PASTRY_DEAD_RING; k++) {
        if (addr_eq(nd->dead[k], a)) {
            at = k;
            break;
        }
        if (nd->dead_until[k] < nd->dead_until[at])
            at = k;
    }
    nd->dead[at] = a;
    nd->dead_until[at] = sim_now(s) + pastry_g(s)->dead_us;
}

/* ==== routing state ======================================================================= */

/* The table slot p belongs in at n, or -1 if none (p is n). */
static long slot_of(const struct pastry_global *g, uint64_t self, uint64_t id)
{
    unsigned r = pastry_shl(self, id, g->b);
    if (r >= g->rows)
        return -1;
    return (long)(r * g->cols + pastry_digit(id, r, g->b));
}

/* Inserts p into one side of n's leaf set (dist = its distance on that side), closest first.
 * Returns true if p is now on that side. */
static bool side_insert(struct peer *side, uint8_t *count, unsigned max, struct peer p, uint64_t d,
                        uint64_t self)
{
    unsigned c = *count;
    for (unsigned k = 0; k < c; k++)
        if (addr_eq(side[k].addr, p.addr))
            return true;
    bool clockwise = d == p.id - self;
    unsigned pos = 0;
    while (pos < c && (clockwise ? side[pos].id - self : self - side[pos].id) < d)
        pos++;
    if (pos >= max)
        return false;
    unsigned end = c < max ? c : max - 1;
    memmove(&side[pos + 1], &side[pos], (end - pos) * sizeof *side);
    side[pos] = p;
    if (c < max)
        (*count)++;
    return true;
}

static void leaf_consider(struct sim *s, node_t n, struct peer p)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    uint64_t self = nd->self.id;
    if (p.id == self)
        return;
    side_insert(right(g, n), &nd->nright, g->half, p, p.id - self, self);
    side_insert(left(g, n), &nd->nleft, g->half, p, self - p.id, self);
}

/* Neighbourhood set: the M closest by round-trip time. */
static void nbr_consider(struct sim *s, node_t n, struct peer p, uint32_t rtt)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    if (g->m == 0 || rtt == PASTRY_RTT_NONE)
        return;
    struct peer *v = nbr(g, n);
    uint32_t *r = nrtt(g, n);
    unsigned worst = 0;
    for (unsigned k = 0; k < nd->nnbr; k++) {
        if (addr_eq(v[k].addr, p.addr)) {
            r[k] = rtt;
            return;
        }
        if (r[k] > r[worst])
            worst = k;
    }
    if (nd->nnbr < g->m) {
        v[nd->nnbr] = p;
        r[nd->nnbr++] = rtt;
    } else if (rtt < r[worst]) {
        v[worst] = p;
        r[worst] = rtt;
    }
}

/* n has heard of p, with a measured round-trip time or PASTRY_RTT_NONE: p may enter the leaf
 * set, the table (if its slot is empty, or p is nearer than the entry there) and the
 * neighbourhood set. A table candidate whose distance is unknown is probed first, unless it
 * came from leaf-set gossip (`probe` false): leaves are chosen by id, not distance, and the
 * entry's round-trip time is then measured by the next reply it sends. */
static void consider_from(struct sim *s, node_t n, struct peer p, uint32_t rtt, bool probe_ok)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    if (!peer_ok(p) || addr_eq(p.addr, nd->self.addr) || p.id == nd->self.id)
        return;
    if (rtt == PASTRY_RTT_NONE && recently_dead(s, nd, p.addr))
        return;
    leaf_consider(s, n, p);
    long k = slot_of(g, nd->self.id, p.id);
    bool probe = false;
    if (k >= 0) {
        struct peer *e = &tab(g, n)[k];
        uint32_t *er = &trtt(g, n)[k];
        if (!peer_ok(*e)) {
            *e = p;
            *er = rtt;
            nd->ntable++;
            probe = rtt == PASTRY_RTT_NONE && probe_ok;
        } else if (addr_eq(e->addr, p.addr)) {
            if (rtt != PASTRY_RTT_NONE)
                *er = rtt;
        } else if (rtt == PASTRY_RTT_NONE) {
            probe = probe_ok;
        } else if (*er == PASTRY_RTT_NONE || rtt < *er) {
            *e = p;
            *er = rtt;
        }
    }
    if (rtt != PASTRY_RTT_NONE)
        nbr_consider(s, n, p, rtt);
    else if (!probe && probe_ok && g->m && nd->nnbr < g->m)
        probe = true;
    if (probe && nd->phase != PASTRY_OUT)
        ping(s, n, p, PASTRY_PING_PROBE, 0);
}

static void consider(struct sim *s, node_t n, struct peer p, uint32_t rtt)
{
    consider_from(s, n, p, rtt, true);
}

/* Does n's leaf set cover key: is key between its farthest left and farthest right leaf?
 * When the two sides overlap (fewer than l + 1 nodes in all), n knows the whole ring. */
static bool leaf_covers(const struct pastry_node *nd, const struct peer *lf, const struct peer *rt,
                        uint64_t key)
{
    uint64_t self = nd->self.id;
    if (nd->nleft && nd->nright && rt[nd->nright - 1].id - self >= lf[nd->nleft - 1].id - self)
        return true;
    uint64_t lo = nd->nleft ? lf[nd->nleft - 1].id : self;
    uint64_t hi = nd->nright ? rt[nd->nright - 1].id : self;
    return key - lo <= hi - lo;
}

enum pastry_route { PASTRY_R_SELF, PASTRY_R_LEAF, PASTRY_R_TABLE, PASTRY_R_RARE };

/* The paper's Fig. 2 at node n: where to send key next (*next), or PASTRY_R_SELF to deliver. */
static enum pastry_route next_hop(struct sim *s, node_t n, uint64_t key, struct peer *next)
{
    struct pastry_global *g = pastry_g(s);
    const struct pastry_node *nd = pastry_node(s, n);
    const struct peer *lf = left(g, n), *rt = right(g, n);
    uint64_t self = nd->self.id;
    if (leaf_covers(nd, lf, rt, key)) {
        struct peer best = nd->self;
        for (unsigned k = 0; k < nd->nleft; k++)
            if (pastry_closer(lf[k].id, best.id, key))
                best = lf[k];
        for (unsigned k = 0; k < nd->nright; k++)
            if (pastry_closer(rt[k].id, best.id, key))
                best = rt[k];
        *next = best;
        return addr_eq(best.addr, nd->self.addr) ? PASTRY_R_SELF : PASTRY_R_LEAF;
    }
    unsigned r = pastry_shl(key, self, g->b);
    if (r >= g->rows)
        return PASTRY_R_SELF;
    struct peer e = tab(g, n)[r * g->cols + pastry_digit(key, r, g->b)];
    if (peer_ok(e)) {
        *next = e;
        return PASTRY_R_TABLE;
    }
    /* rare case: any known node with a prefix at least as long, numerically closer */
    struct peer best = nd->self;
    const struct peer *t = tab(g, n);
    for (unsigned k = r * g->cols; k < g->rows * g->cols; k++)
        if (peer_ok(t[k]) && pastry_closer(t[k].id, best.id, key))
            best = t[k];
    for (unsigned k = 0; k < nd->nleft; k++)
        if (pastry_shl(lf[k].id, key, g->b) >= r && pastry_closer(lf[k].id, best.id, key))
            best = lf[k];
    for (unsigned k = 0; k < nd->nright; k++)
        if (pastry_shl(rt[k].id, key, g->b) >= r && pastry_closer(rt[k].id, best.id, key))
            best = rt[k];
    const struct peer *v = nbr(g, n);
    for (unsigned k = 0; k < nd->nnbr; k++)
        if (pastry_shl(v[k].id, key, g->b) >= r && pastry_closer(v[k].id, best.id, key))
            best = v[k];
    *next = best;
    return addr_eq(best.addr, nd->self.addr) ? PASTRY_R_SELF : PASTRY_R_RARE;
}

/* ==== repair ============================================================================== */

/* Lazy table repair (§3.5): ask another entry of row r (else of row r + 1) for its entry at
 * (r, c). */
static void table_repair(struct sim *s, node_t n, unsigned r, unsigned c)
{
    struct pastry_global *g = pastry_g(s);
    const struct peer *t = tab(g, n);
    for (unsigned row = r; row < g->rows && row <= r + 1; row++) {
        struct peer cand[PASTRY_COLS_MAX];
        unsigned m = 0;
        for (unsigned k = 0; k < g->cols; k++)
            if (peer_ok(t[row * g->cols + k]))
                cand[m++] = t[row * g->cols + k];
        if (m == 0)
            continue;
        struct peer p = cand[gsl_rng_uniform_int(sim_rng(s), m)];
        struct pastry_row_req body = { .row = (uint8_t)r, .col = (uint8_t)c };
        send_rpc(s, n, p, PASTRY_MSG_ENTRY_REQ, LOOKUP_NONE, &body, sizeof body, 0,
                 ((uint64_t)c << 16) | ((uint64_t)r << 8));
        return;
    }
}

/* Leaf-set repair (§3.5): ask the farthest live leaf on the side that lost one for its leaf
 * set (the other side's farthest if that side is empty). */
static void leaf_repair(struct sim *s, node_t n, bool left_side)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    struct peer p = pastry_peer_none;
    if (left_side && nd->nleft)
        p = left(g, n)[nd->nleft - 1];
    else if (!left_side && nd->nright)
        p = right(g, n)[nd->nright - 1];
    else if (nd->nleft)
        p = left(g, n)[nd->nleft - 1];
    else if (nd->nright)
        p = right(g, n)[nd->nright - 1];
    if (peer_ok(p))
        send_rpc(s, n, p, PASTRY_MSG_LEAF_REQ, LOOKUP_NONE, NULL, 0, 0, 0);
}

static bool side_remove(struct peer *side, uint8_t *count, struct addr a)
{
    unsigned m = 0;
    for (unsigned k = 0; k < *count; k++)
        if (!addr_eq(side[k].addr, a))
            side[m++] = side[k];
    bool hit = m != *count;
    *count = (uint8_t)m;
    return hit;
}

/* n learned from a timeout that p is dead: drop it everywhere and start the repairs (for the
 * parts of the state it was still in, even if it had been found dead before and came back). */
static void forget(struct sim *s, node_t n, struct peer p)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    remember_dead(s, nd, p.addr);
    bool lhit = side_remove(left(g, n), &nd->nleft, p.addr);
    bool rhit = side_remove(right(g, n), &nd->nright, p.addr);
    struct peer *v = nbr(g, n);
    uint32_t *vr = nrtt(g, n);
    for (unsigned k = 0; k < nd->nnbr; k++)
        if (addr_eq(v[k].addr, p.addr)) {
            v[k] = v[nd->nnbr - 1];
            vr[k] = vr[nd->nnbr - 1];
            nd->nnbr--;
            break;
        }
    long k = slot_of(g, nd->self.id, p.id);
    bool thit = k >= 0 && addr_eq(tab(g, n)[k].addr, p.addr);
    if (thit) {
        tab(g, n)[k] = pastry_peer_none;
        trtt(g, n)[k] = PASTRY_RTT_NONE;
        nd->ntable--;
    }
    if (nd->phase != PASTRY_JOINED)
        return;
    if (lhit)
        leaf_repair(s, n, true);
    if (rhit)
        leaf_repair(s, n, false);
    if (thit)
        table_repair(s, n, (unsigned)k / g->cols, (unsigned)k % g->cols);
}

/* ==== records ============================================================================= */

static struct pastry_rec *rec_at(struct sim *s, uint32_t i) { return &pastry_g(s)->rec[i]; }

static void rec_free(struct sim *s, uint32_t i)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_rec *r = &g->rec[i];
    r->gen++;
    r->phase = PASTRY_REC_FREE;
    r->next = g->rec_free;
    g->rec_free = i;
}

/* Frees records whose owner's incarnation is gone, then grows the pool if that did not free a
 * quarter of it. */
static void rec_reclaim(struct sim *s)
{
    struct pastry_global *g = pastry_g(s);
    uint32_t freed = 0;
    for (uint32_t i = 0; i < g->rec_cap; i++) {
        struct pastry_rec *r = &g->rec[i];
        if (r->phase != PASTRY_REC_FREE && sim_addr(s, r->owner).inc != r->owner_inc) {
            rec_free(s, i);
            freed++;
        }
    }
    if (freed >= g->rec_cap / 4)
        return;
    uint32_t old = g->rec_cap, cap = old * 2;
    struct pastry_rec *rec = realloc(g->rec, (size_t)cap * sizeof *rec);
    if (!rec) {
        fprintf(stderr, "p2plab: pastry: out of memory allocating %u routing records\n", cap);
        exit(1);
    }
    g->rec = rec;
    for (uint32_t i = old; i < cap; i++)
        g->rec[i] = (struct pastry_rec){ .phase = PASTRY_REC_FREE,
                                         .next = i + 1 < cap ? i + 1 : g->rec_free };
    g->rec_free = old;
    g->rec_cap = cap;
}

static uint32_t rec_alloc(struct sim *s, node_t n, enum pastry_fwd_kind kind, uint64_t key,
                          struct peer origin, uint32_t lookup, uint16_t hops)
{
    struct pastry_global *g = pastry_g(s);
    if (g->rec_free == PASTRY_NONE32)
        rec_reclaim(s);
    uint32_t i = g->rec_free;
    struct pastry_rec *r = &g->rec[i];
    g->rec_free = r->next;
    *r = (struct pastry_rec){ .key = key, .origin = origin, .owner = n,
                              .owner_inc = sim_addr(s, n).inc, .gen = r->gen,
                              .next = PASTRY_NONE32, .lookup = lookup, .hops = hops,
                              .kind = (uint8_t)kind, .phase = PASTRY_REC_FWD };
    return i;
}

static uint64_t rec_ctx(struct sim *s, uint32_t i) { return ((uint64_t)rec_at(s, i)->gen << 32) | i; }

static uint32_t rec_from_ctx(struct sim *s, node_t n, uint64_t ctx)
{
    struct pastry_global *g = pastry_g(s);
    uint32_t i = (uint32_t)ctx;
    if (i >= g->rec_cap)
        return PASTRY_NONE32;
    const struct pastry_rec *r = &g->rec[i];
    if ((r->phase != PASTRY_REC_FWD && r->phase != PASTRY_REC_DONE) ||
        r->gen != (uint32_t)(ctx >> 32) || r->owner != n ||
        sim_addr(s, n).inc != r->owner_inc)
        return PASTRY_NONE32;
    return i;
}

/* ==== routing ============================================================================= */

static void send_js(struct sim *s, node_t n, struct addr to, uint8_t flags, const struct peer *a,
                    unsigned na, const struct peer *c, unsigned nc)
{
    struct pastry_join_state *b = malloc(PASTRY_JS_LEN(na + nc));
    if (!b) {
        fprintf(stderr, "p2plab: pastry: out of memory building a join reply\n");
        exit(1);
    }
    b->flags = flags;
    b->count = (uint16_t)(na + nc);
    memcpy(b->peer, a, na * sizeof *a);
    if (nc)
        memcpy(b->peer + na, c, nc * sizeof *c);
    send_msg(s, n, to, PASTRY_MSG_JOIN_STATE, LOOKUP_NONE, b, PASTRY_JS_LEN(na + nc), na + nc);
    free(b);
}

/* Sends the joining node this node's rows [hops, shl(node, joiner)], one message each (the h-th
 * node on the path gives row h, §3.4) with itself in the last, the first node on the path its
 * neighbourhood set too, and the last node its leaf set, flagged: the joiner's cue to finish. */
static void send_join_state(struct sim *s, uint32_t i, bool last)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_rec *r = rec_at(s, i);
    node_t n = r->owner;
    struct pastry_node *nd = pastry_node(s, n);
    struct addr to = r->origin.addr;
    if (!r->rows_sent) {
        unsigned top = pastry_shl(nd->self.id, r->key, g->b);
        top = top < g->rows ? top : g->rows - 1;
        const struct peer *t = tab(g, n);
        struct peer row[PASTRY_COLS_MAX + 1];
        for (unsigned rw = r->hops; rw <= top; rw++) {
            unsigned c = 0;
            for (unsigned k = 0; k < g->cols; k++)
                if (peer_ok(t[rw * g->cols + k]))
                    row[c++] = t[rw * g->cols + k];
            if (rw == top)
                row[c++] = nd->self;
            if (c)
                send_js(s, n, to, 0, row, c, NULL, 0);
        }
        if (r->hops > top)
            send_js(s, n, to, 0, &nd->self, 1, NULL, 0);
        if (r->hops == 0 && nd->nnbr)
            send_js(s, n, to, 0, nbr(g, n), nd->nnbr, NULL, 0);
        r->rows_sent = 1;
    }
    if (last)
        send_js(s, n, to, PASTRY_JS_LAST, left(g, n), nd->nleft, right(g, n), nd->nright);
}

/* Sends record i's forward to `next` (again, on a re-send). */
static void fwd_send(struct sim *s, uint32_t i, struct peer next)
{
    struct pastry_rec *r = rec_at(s, i);
    struct pastry_fwd_req body = { .key = r->key, .origin = r->origin,
                                   .hops = (uint16_t)(r->hops + 1), .kind = r->kind };
    send_rpc(s, r->owner, next, PASTRY_MSG_FWD_REQ, r->lookup, &body, sizeof body, 0, rec_ctx(s, i));
}

static void done_send(struct sim *s, uint32_t i)
{
    struct pastry_rec *r = rec_at(s, i);
    struct pastry_done done = { .owner = pastry_node(s, r->owner)->self, .hops = r->hops };
    send_rpc(s, r->owner, r->origin, PASTRY_MSG_DONE, r->lookup, &done, sizeof done, 0,
             rec_ctx(s, i));
}

/* One routing step at the node running record i: deliver, or forward to the next hop. Only
 * the origin knows whether its lookup is still running; a forwarding node carries on. */
static void rec_step(struct sim *s, uint32_t i)
{
    struct pastry_rec *r = rec_at(s, i);
    node_t n = r->owner;
    r->tries = 0;
    if (r->kind == PASTRY_KIND_LOOKUP && addr_eq(r->origin.addr, sim_addr(s, n)) &&
        !sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    if (r->hops >= PASTRY_HOP_LIMIT || r->steps >= PASTRY_HOP_LIMIT) {
        if (r->kind == PASTRY_KIND_LOOKUP)
            sim_lookup_done(s, r->lookup, OUTCOME_TTL_EXPIRED, ADDR_NONE, r->hops);
        rec_free(s, i);
        return;
    }
    struct peer next;
    enum pastry_route how = next_hop(s, n, r->key, &next);
    if (r->kind == PASTRY_KIND_JOIN && (how == PASTRY_R_SELF || !r->rows_sent))
        send_join_state(s, i, how == PASTRY_R_SELF);
    if (how == PASTRY_R_SELF) {
        struct peer self = pastry_node(s, n)->self;
        if (r->kind == PASTRY_KIND_LOOKUP) {
            if (addr_eq(r->origin.addr, self.addr)) {
                sim_lookup_done(s, r->lookup, OUTCOME_OK, self.addr, r->hops);
            } else if (pastry_g(s)->retries) {
                r->phase = PASTRY_REC_DONE;   /* kept until the origin acknowledges */
                done_send(s, i);
                return;
            } else {
                struct pastry_done done = { .owner = self, .hops = r->hops };
                send_msg(s, n, r->origin.addr, PASTRY_MSG_DONE, r->lookup, &done, sizeof done, 0);
            }
        }
        rec_free(s, i);
        return;
    }
    sim_count(s, how == PASTRY_R_LEAF ? PASTRY_C_LEAF
                 : how == PASTRY_R_TABLE ? PASTRY_C_TABLE : PASTRY_C_RARE, 1);
    r->steps++;
    fwd_send(s, i, next);
}

static void on_fwd_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct pastry_fwd_req *b = m->body;
    reply_msg(s, n, m, PASTRY_MSG_FWD_ACK, NULL, 0, 0);
    if (pastry_node(s, n)->phase != PASTRY_JOINED && b->kind == PASTRY_KIND_JOIN)
        return;                       /* not in the overlay yet: the joiner's watchdog retries */
    uint32_t i = rec_alloc(s, n, (enum pastry_fwd_kind)b->kind, b->key, b->origin, m->lookup, b->hops);
    rec_step(s, i);
}

/* ==== join ================================================================================ */

static void start_timers(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    if (nd->flags & PASTRY_F_TIMERS)
        return;
    nd->flags |= PASTRY_F_TIMERS;
    gsl_rng *rng = sim_rng(s);
    sim_timer(s, n, PASTRY_TIMER_KEEPALIVE, (int64_t)(gsl_rng_uniform(rng) * (double)g->keepalive_us), 0);
    sim_timer(s, n, PASTRY_TIMER_TABLE, (int64_t)(gsl_rng_uniform(rng) * (double)g->table_us), 0);
}

static void lookup_start(struct sim *s, uint32_t i);

/* Every distinct contact in n's state, through fn. */
static unsigned collect(struct sim *s, node_t n, struct peer *out, unsigned max)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    unsigned c = 0;
    const struct peer *t = tab(g, n);
    for (unsigned k = 0; k < g->rows * g->cols && c < max; k++)
        if (peer_ok(t[k]))
            out[c++] = t[k];
    const struct peer *lists[3] = { left(g, n), right(g, n), nbr(g, n) };
    unsigned counts[3] = { nd->nleft, nd->nright, nd->nnbr };
    for (unsigned j = 0; j < 3; j++)
        for (unsigned k = 0; k < counts[j] && c < max; k++) {
            struct peer p = lists[j][k];
            long slot = slot_of(g, nd->self.id, p.id);
            if (slot >= 0 && addr_eq(t[slot].addr, p.addr))
                continue;
            bool dup = false;
            for (unsigned q = 0; q < c && !dup; q++)
                dup = addr_eq(out[q].addr, p.addr);
            if (!dup)
                out[c++] = p;
        }
    return c;
}

static void finish_join(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    nd->phase = PASTRY_JOINED;
    nd->join_tries = 0;
    nd->join_epoch++;
    sim_introducer_register(s, n);
    start_timers(s, n);
    size_t max = (size_t)g->rows * g->cols + g->l + g->m;
    struct peer *all = malloc(max * sizeof *all);
    if (!all) {
        fprintf(stderr, "p2plab: pastry: out of memory announcing a join\n");
        exit(1);
    }
    unsigned c = collect(s, n, all, (unsigned)max);
    struct pastry_peer_msg body = { .peer = nd->self };
    for (unsigned k = 0; k < c; k++)
        send_msg(s, n, all[k].addr, PASTRY_MSG_ANNOUNCE, LOOKUP_NONE, &body, sizeof body, 0);
    free(all);
    uint32_t w = nd->wait_head;
    nd->wait_head = PASTRY_NONE32;
    while (w != PASTRY_NONE32) {
        uint32_t next = rec_at(s, w)->next;
        rec_at(s, w)->next = PASTRY_NONE32;
        lookup_start(s, w);
        w = next;
    }
}

static void join_retry(struct sim *s, node_t n)
{
    struct pastry_node *nd = pastry_node(s, n);
    nd->phase = PASTRY_JOINING;
    nd->join_epoch++;
    unsigned e = nd->join_tries < PASTRY_JOIN_BACKOFF_MAX ? nd->join_tries : PASTRY_JOIN_BACKOFF_MAX;
    if (nd->join_tries < UINT8_MAX)
        nd->join_tries++;
    sim_timer(s, n, PASTRY_TIMER_JOIN_RETRY, sim_jitter(s, pastry_g(s)->timeout_us << e), 0);
}

static void join_begin(struct sim *s, node_t n)
{
    struct pastry_node *nd = pastry_node(s, n);
    nd->join_epoch++;
    nd->join_pending = 0;
    nd->join_best = pastry_peer_none;
    nd->join_best_rtt = PASTRY_RTT_NONE;
    sim_introducer_ask(s, n);
    /* if the join's state never arrives (a node on the path died), start again */
    sim_timer(s, n, PASTRY_TIMER_JOIN_WATCHDOG, 16 * pastry_g(s)->timeout_us, nd->join_epoch);
}

static void pastry_join(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    *nd = (struct pastry_node){ .self = { .id = sim_node_id(s, n), .addr = sim_addr(s, n) },
                                .wait_head = PASTRY_NONE32, .phase = PASTRY_JOINING,
                                .join_best = pastry_peer_none };
    for (unsigned k = 0; k < PASTRY_DEAD_RING; k++)
        nd->dead[k] = ADDR_NONE;          /* dead_until = 0: expired */
    struct peer *t = tab(g, n);
    uint32_t *tr = trtt(g, n);
    for (unsigned k = 0; k < g->rows * g->cols; k++) {
        t[k] = pastry_peer_none;
        tr[k] = PASTRY_RTT_NONE;
    }
    join_begin(s, n);
}

/* The introducer's contacts: probe them all, and route the join from the nearest. */
static void on_introducer_reply(struct sim *s, node_t n, const struct intro_reply *b)
{
    struct pastry_node *nd = pastry_node(s, n);
    if (nd->phase != PASTRY_JOINING || nd->join_pending)
        return;
    unsigned sent = 0;
    for (unsigned j = 0; j < b->count && j < INTRO_CONTACTS; j++)
        if (b->contacts[j].addr.slot != n) {
            ping(s, n, b->contacts[j], PASTRY_PING_JOIN, nd->join_epoch);
            sent++;
        }
    if (sent == 0) {                  /* nobody registered yet: n founds the overlay */
        finish_join(s, n);
        return;
    }
    nd->join_pending = (uint8_t)sent;
}

static void join_probe_done(struct sim *s, node_t n, struct peer p, uint32_t rtt, uint64_t epoch)
{
    struct pastry_node *nd = pastry_node(s, n);
    if (nd->phase != PASTRY_JOINING || epoch != (nd->join_epoch & 0xFFFFFFFFu) || !nd->join_pending)
        return;
    if (rtt != PASTRY_RTT_NONE && rtt < nd->join_best_rtt) {
        nd->join_best = p;
        nd->join_best_rtt = rtt;
    }
    if (--nd->join_pending)
        return;
    if (!peer_ok(nd->join_best)) {
        join_retry(s, n);
        return;
    }
    /* the join message, routed from the nearby node A to n's own id; A counts as hop 0 */
    struct pastry_fwd_req body = { .key = nd->self.id, .origin = nd->self, .hops = 0,
                                   .kind = PASTRY_KIND_JOIN };
    send_rpc(s, n, nd->join_best, PASTRY_MSG_FWD_REQ, LOOKUP_NONE, &body, sizeof body, 0,
             PASTRY_NONE32);
}

static void on_join_state(struct sim *s, node_t n, const struct msg *m)
{
    const struct pastry_join_state *b = m->body;
    struct pastry_node *nd = pastry_node(s, n);
    for (unsigned k = 0; k < b->count; k++)
        consider(s, n, b->peer[k], PASTRY_RTT_NONE);
    if ((b->flags & PASTRY_JS_LAST) && nd->phase == PASTRY_JOINING)
        finish_join(s, n);
}

/* ==== lookups ============================================================================= */

static void lookup_start(struct sim *s, uint32_t i)
{
    struct pastry_rec *r = rec_at(s, i);
    if (!sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    r->phase = PASTRY_REC_FWD;
    rec_step(s, i);
}

static void pastry_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    struct pastry_node *nd = pastry_node(s, origin);
    uint32_t i = rec_alloc(s, origin, PASTRY_KIND_LOOKUP, key, nd->self, lookup_id, 0);
    if (nd->phase != PASTRY_JOINED) {
        struct pastry_rec *r = rec_at(s, i);
        r->phase = PASTRY_REC_WAIT;
        r->next = nd->wait_head;
        nd->wait_head = i;
        return;
    }
    rec_step(s, i);
}

/* ==== maintenance ========================================================================= */

static void send_list(struct sim *s, node_t n, const struct msg *m, enum pastry_msg type,
                      const struct peer *a, unsigned na, const struct peer *c, unsigned nc)
{
    struct pastry_list *b = malloc(PASTRY_LIST_LEN(na + nc));
    if (!b) {
        fprintf(stderr, "p2plab: pastry: out of memory building a reply\n");
        exit(1);
    }
    b->count = (uint16_t)(na + nc);
    memcpy(b->peer, a, na * sizeof *a);
    if (nc)
        memcpy(b->peer + na, c, nc * sizeof *c);
    reply_msg(s, n, m, type, b, PASTRY_LIST_LEN(na + nc), na + nc);
    free(b);
}

static void on_row_req(struct sim *s, node_t n, const struct msg *m)
{
    struct pastry_global *g = pastry_g(s);
    const struct pastry_row_req *b = m->body;
    struct peer row[PASTRY_COLS_MAX];
    unsigned c = 0;
    if (b->row < g->rows) {
        const struct peer *t = tab(g, n) + (size_t)b->row * g->cols;
        for (unsigned k = 0; k < g->cols; k++)
            if (peer_ok(t[k]))
                row[c++] = t[k];
    }
    send_list(s, n, m, PASTRY_MSG_ROW_REP, row, c, NULL, 0);
}

static void on_entry_req(struct sim *s, node_t n, const struct msg *m)
{
    struct pastry_global *g = pastry_g(s);
    const struct pastry_row_req *b = m->body;
    struct peer e = pastry_peer_none;
    if (b->row < g->rows && b->col < g->cols)
        e = tab(g, n)[b->row * g->cols + b->col];
    send_list(s, n, m, PASTRY_MSG_ENTRY_REP, &e, peer_ok(e) ? 1 : 0, NULL, 0);
}

static void keepalive(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    struct peer all[2 * PASTRY_LEAF_MAX / 2];
    unsigned c = 0;
    for (unsigned k = 0; k < nd->nleft; k++)
        all[c++] = left(g, n)[k];
    for (unsigned k = 0; k < nd->nright; k++) {
        bool dup = false;
        for (unsigned q = 0; q < nd->nleft && !dup; q++)
            dup = addr_eq(all[q].addr, right(g, n)[k].addr);
        if (!dup)
            all[c++] = right(g, n)[k];
    }
    /* the immediate neighbours exchange leaf sets; the others are pinged */
    for (unsigned k = 0; k < c; k++) {
        bool nearest = (nd->nleft && addr_eq(all[k].addr, left(g, n)[0].addr)) ||
                       (nd->nright && addr_eq(all[k].addr, right(g, n)[0].addr));
        if (nearest)
            send_rpc(s, n, all[k], PASTRY_MSG_LEAF_REQ, LOOKUP_NONE, NULL, 0, 0, 0);
        else
            ping(s, n, all[k], PASTRY_PING_KEEPALIVE, 0);
    }
}

static void table_maintenance(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    const struct peer *t = tab(g, n);
    for (unsigned r = 0; r < g->rows; r++) {
        struct peer cand[PASTRY_COLS_MAX];
        unsigned m = 0;
        for (unsigned k = 0; k < g->cols; k++)
            if (peer_ok(t[r * g->cols + k]))
                cand[m++] = t[r * g->cols + k];
        if (m == 0)
            continue;
        struct peer p = cand[gsl_rng_uniform_int(sim_rng(s), m)];
        struct pastry_row_req body = { .row = (uint8_t)r, .col = 0 };
        send_rpc(s, n, p, PASTRY_MSG_ROW_REQ, LOOKUP_NONE, &body, sizeof body, 0, (uint64_t)r << 8);
    }
}

/* ==== the protocol's entry points ========================================================= */

static void on_reply(struct sim *s, node_t n, const struct msg *m)
{
    const struct rpc *rpc = m->rpc;
    struct peer from = { .id = rpc->ctx[1], .addr = rpc->dst };
    int64_t rtt64 = sim_now(s) - rpc->sent_us;
    uint32_t rtt = rtt64 >= 0 && rtt64 < (int64_t)PASTRY_RTT_NONE ? (uint32_t)rtt64 : PASTRY_RTT_NONE - 1;
    /* every reply is a round-trip sample: the contact may improve the table or neighbourhood */
    consider(s, n, from, rtt);
    switch (rpc->type) {
    case PASTRY_MSG_FWD_REQ: {
        uint32_t i = rec_from_ctx(s, n, rpc->ctx[0]);
        if (i != PASTRY_NONE32)
            rec_free(s, i);           /* the next hop has it */
        break;
    }
    case PASTRY_MSG_PING_REQ:
        if ((rpc->ctx[0] & 0xFF) == PASTRY_PING_JOIN)
            join_probe_done(s, n, from, rtt, PASTRY_CTX_EPOCH(rpc->ctx[0]));
        break;
    case PASTRY_MSG_DONE: {
        uint32_t i = rec_from_ctx(s, n, rpc->ctx[0]);
        if (i != PASTRY_NONE32)
            rec_free(s, i);           /* the origin has the answer */
        break;
    }
    case PASTRY_MSG_LEAF_REQ:
    case PASTRY_MSG_ROW_REQ:
    case PASTRY_MSG_ENTRY_REQ: {
        const struct pastry_list *b = m->body;
        for (unsigned k = 0; k < b->count; k++)
            consider_from(s, n, b->peer[k], PASTRY_RTT_NONE, rpc->type != PASTRY_MSG_LEAF_REQ);
        break;
    }
    default:
        break;
    }
}

static void pastry_on_message(struct sim *s, node_t n, const struct msg *m)
{
    if (m->type == MSG_INTRODUCER_REPLY) {
        on_introducer_reply(s, n, m->body);
        return;
    }
    if (m->rpc) {
        on_reply(s, n, m);
        return;
    }
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    switch (m->type) {
    case PASTRY_MSG_FWD_REQ:
        on_fwd_req(s, n, m);
        break;
    case PASTRY_MSG_DONE: {
        const struct pastry_done *b = m->body;
        if (m->req)
            reply_msg(s, n, m, PASTRY_MSG_DONE_ACK, NULL, 0, 0);
        sim_lookup_done(s, m->lookup, OUTCOME_OK, b->owner.addr, b->hops);
        break;
    }
    case PASTRY_MSG_JOIN_STATE:
        on_join_state(s, n, m);
        break;
    case PASTRY_MSG_ANNOUNCE:
        if (nd->phase == PASTRY_JOINED)
            consider(s, n, ((const struct pastry_peer_msg *)m->body)->peer, PASTRY_RTT_NONE);
        break;
    case PASTRY_MSG_PING_REQ:
        reply_msg(s, n, m, PASTRY_MSG_PING_REP, NULL, 0, 0);
        break;
    case PASTRY_MSG_LEAF_REQ:
        send_list(s, n, m, PASTRY_MSG_LEAF_REP, left(g, n), nd->nleft, right(g, n), nd->nright);
        break;
    case PASTRY_MSG_ROW_REQ:
        on_row_req(s, n, m);
        break;
    case PASTRY_MSG_ENTRY_REQ:
        on_entry_req(s, n, m);
        break;
    default:
        SIM_ASSERT(!"pastry: unexpected message type");
    }
}

/* Re-sends an unanswered RPC that has no record, rebuilt from its context, with one more
 * re-send counted there. */
static void resend(struct sim *s, node_t n, const struct rpc *rpc)
{
    struct peer to = { .id = rpc->ctx[1], .addr = rpc->dst };
    uint64_t tries = (rpc->ctx[0] >> PASTRY_CTX_TRY_SHIFT) & PASTRY_CTX_TRY_MASK;
    uint64_t ctx = (rpc->ctx[0] & ~(PASTRY_CTX_TRY_MASK << PASTRY_CTX_TRY_SHIFT)) |
                   ((tries + 1) << PASTRY_CTX_TRY_SHIFT);
    struct pastry_node *nd = pastry_node(s, n);
    struct pastry_row_req rq = { .row = (uint8_t)(rpc->ctx[0] >> 8), .col = (uint8_t)(rpc->ctx[0] >> 16) };
    struct pastry_fwd_req join = { .key = nd->self.id, .origin = nd->self, .hops = 0,
                                   .kind = PASTRY_KIND_JOIN };
    switch (rpc->type) {
    case PASTRY_MSG_FWD_REQ:
        send_rpc(s, n, to, PASTRY_MSG_FWD_REQ, LOOKUP_NONE, &join, sizeof join, 0, ctx);
        break;
    case PASTRY_MSG_ROW_REQ:
    case PASTRY_MSG_ENTRY_REQ:
        send_rpc(s, n, to, (enum pastry_msg)rpc->type, LOOKUP_NONE, &rq, sizeof rq, 0, ctx);
        break;
    default:                          /* PING_REQ, LEAF_REQ: no body */
        send_rpc(s, n, to, (enum pastry_msg)rpc->type, LOOKUP_NONE, NULL, 0, 0, ctx);
        break;
    }
}

static void pastry_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    struct pastry_global *g = pastry_g(s);
    struct peer to = { .id = rpc->ctx[1], .addr = rpc->dst };
    struct pastry_node *nd = pastry_node(s, n);
    uint32_t i = PASTRY_NONE32;
    if (rpc->type == PASTRY_MSG_FWD_REQ || rpc->type == PASTRY_MSG_DONE)
        i = rec_from_ctx(s, n, rpc->ctx[0]);
    if (i != PASTRY_NONE32) {         /* a routing step's forward, or a DONE */
        struct pastry_rec *r = rec_at(s, i);
        if (r->tries < g->retries) {
            r->tries++;
            if (rpc->type == PASTRY_MSG_DONE)
                done_send(s, i);
            else
                fwd_send(s, i, to);   /* the same forward to the same node */
            return;
        }
        if (rpc->type == PASTRY_MSG_DONE) {
            rec_free(s, i);           /* the origin, not a routing contact: nothing to forget */
            return;
        }
        forget(s, n, to);
        rec_step(s, i);               /* route around the dead next hop */
        return;
    }
    if (rpc->type == PASTRY_MSG_DONE)
        return;
    bool joiner = rpc->type == PASTRY_MSG_FWD_REQ && (uint32_t)rpc->ctx[0] == PASTRY_NONE32;
    if (rpc->type == PASTRY_MSG_FWD_REQ && !joiner) {
        forget(s, n, to);             /* a stale step: its record is gone */
        return;
    }
    if (((rpc->ctx[0] >> PASTRY_CTX_TRY_SHIFT) & PASTRY_CTX_TRY_MASK) < g->retries &&
        (!joiner || nd->phase == PASTRY_JOINING)) {
        resend(s, n, rpc);
        return;
    }
    if (rpc->type == PASTRY_MSG_PING_REQ && (rpc->ctx[0] & 0xFF) == PASTRY_PING_JOIN) {
        join_probe_done(s, n, to, PASTRY_RTT_NONE, PASTRY_CTX_EPOCH(rpc->ctx[0]));
        return;                       /* an introducer's contact, not in n's state */
    }
    forget(s, n, to);
    if (joiner && nd->phase == PASTRY_JOINING)
        join_retry(s, n);             /* the nearby node died before taking the join */
}

static void pastry_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    bool work = sim_maintenance_on(s) && nd->phase == PASTRY_JOINED;
    switch (kind) {
    case PASTRY_TIMER_KEEPALIVE:
        if (work)
            keepalive(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->keepalive_us), 0);
        break;
    case PASTRY_TIMER_TABLE:
        if (work)
            table_maintenance(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->table_us), 0);
        break;
    case PASTRY_TIMER_JOIN_RETRY:
        if (nd->phase == PASTRY_JOINING)
            join_begin(s, n);
        break;
    case PASTRY_TIMER_JOIN_WATCHDOG:
        if (nd->phase == PASTRY_JOINING && arg == nd->join_epoch)
            join_retry(s, n);
        break;
    default:
        SIM_ASSERT(!"pastry: unknown timer");
    }
}

/* Distinct contacts in leaf set, table and neighbourhood set. */
static size_t pastry_state_entries(const struct sim *s, node_t n)
{
    struct sim *w = (struct sim *)s;  /* read-only use of the accessors below */
    struct pastry_global *g = pastry_g(w);
    return collect(w, n, g->scratch, g->rows * g->cols + g->l + g->m);
}

/* ==== converged start ===================================================================== */

/* Lays down what join and maintenance reach: exact leaf sets; per table slot the nearest of up
 * to `converge_candidates` random nodes with the slot's prefix; the M nearest of 8·M random
 * nodes as neighbourhood set. Then starts every node's timers with random phases. */
static void pastry_converge(struct sim *s)
{
    struct pastry_global *g = pastry_g(s);
    node_t *live = malloc((size_t)g->cap * sizeof *live);
    struct converge_node *v = malloc((size_t)g->cap * sizeof *v);
    if (!live || !v) {
        fprintf(stderr, "p2plab: pastry: out of memory converging %u nodes\n", g->cap);
        exit(1);
    }
    size_t len = sim_converge_live(s, live, g->cap);
    size_t sorted = sim_converge_sorted(s, v, g->cap);
    SIM_ASSERT(sorted == len);
    gsl_rng *rng = sim_rng(s);
#define PASTRY_PEER_AT(k) ((struct peer){ .id = v[k].id, .addr = sim_addr(s, v[k].slot) })
    for (size_t k = 0; k < len; k++) {
        node_t n = v[k].slot;
        struct pastry_node *nd = pastry_node(s, n);
        *nd = (struct pastry_node){ .self = PASTRY_PEER_AT(k), .wait_head = PASTRY_NONE32,
                                    .phase = PASTRY_JOINED, .join_best = pastry_peer_none };
        for (unsigned q = 0; q < PASTRY_DEAD_RING; q++)
            nd->dead[q] = ADDR_NONE;
        uint64_t self = v[k].id;
        for (size_t j = 1; j < len && j <= g->half; j++) {
            right(g, n)[nd->nright++] = PASTRY_PEER_AT((k + j) % len);
            left(g, n)[nd->nleft++] = PASTRY_PEER_AT((k + len - j) % len);
        }
        struct peer *t = tab(g, n);
        uint32_t *tr = trtt(g, n);
        for (unsigned r = 0; r < g->rows; r++) {
            unsigned width = r * g->b;           /* bits of the shared prefix */
            for (unsigned c = 0; c < g->cols; c++) {
                unsigned slot = r * g->cols + c;
                t[slot] = pastry_peer_none;
                tr[slot] = PASTRY_RTT_NONE;
                if (c == pastry_digit(self, r, g->b))
                    continue;
                /* ids with self's first r digits and digit c next: one contiguous range */
                unsigned dbits = PASTRY_BITS - width < g->b ? PASTRY_BITS - width : g->b;
                if (c & ((1u << (g->b - dbits)) - 1))
                    continue;                    /* a short last digit cannot take this value */
                unsigned shift = PASTRY_BITS - width - dbits;   /* free low bits, < 64 */
                uint64_t prefix = width ? (self >> (PASTRY_BITS - width)) << (PASTRY_BITS - width) : 0;
                uint64_t lo = prefix | ((uint64_t)(c >> (g->b - dbits)) << shift);
                uint64_t hi = lo + (shift ? (UINT64_C(1) << shift) - 1 : 0);
                size_t a = converge_lower_bound(v, len, lo);
                size_t z = hi == UINT64_MAX ? len : converge_lower_bound(v, len, hi + 1);
                if (a >= z)
                    continue;
                size_t count = z - a, best = len;
                int64_t best_rtt = 0;
                unsigned tries = count < g->candidates ? (unsigned)count : g->candidates;
                for (unsigned q = 0; q < tries; q++) {
                    size_t pick = count <= g->candidates ? a + q : a + gsl_rng_uniform_int(rng, count);
                    int64_t rtt = sim_converge_rtt(s, n, v[pick].slot);
                    if (best == len || rtt < best_rtt) {
                        best = pick;
                        best_rtt = rtt;
                    }
                }
                t[slot] = PASTRY_PEER_AT(best);
                tr[slot] = (uint32_t)best_rtt;
                nd->ntable++;
            }
        }
        unsigned sample = 8 * g->m;
        for (unsigned q = 0; q < sample && len > 1 && g->m; q++) {
            size_t pick = gsl_rng_uniform_int(rng, len);
            if (pick == k)
                continue;
            nbr_consider(s, n, PASTRY_PEER_AT(pick), (uint32_t)sim_converge_rtt(s, n, v[pick].slot));
        }
    }
#undef PASTRY_PEER_AT
    for (size_t k = 0; k < len; k++)
        start_timers(s, live[k]);
    free(v);
    free(live);
}

/* ==== setup =============================================================================== */

static size_t pastry_msg_body_max(const struct proto_config *cfg)
{
    size_t b = (size_t)cfg->v[PASTRY_P_B].i, cols = (size_t)1 << b;
    size_t l = (size_t)cfg->v[PASTRY_P_LEAF].i, m = (size_t)cfg->v[PASTRY_P_NBR].i;
    size_t max = PASTRY_JS_LEN(cols + 1);
    size_t cand[] = { sizeof(struct pastry_fwd_req), sizeof(struct pastry_done),
                      PASTRY_LIST_LEN(l), PASTRY_LIST_LEN(cols), PASTRY_JS_LEN(l), PASTRY_JS_LEN(m) };
    for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
        if (cand[k] > max)
            max = cand[k];
    return max;
}

static int pastry_setup(struct sim *s, const struct proto_config *cfg)
{
    unsigned l = (unsigned)cfg->v[PASTRY_P_LEAF].i;
    if (l % 2) {
        fprintf(stderr, "p2plab: pastry: leaf_set must be even, l/2 on each side (got %u)\n", l);
        return -1;
    }
    struct pastry_global *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    g->b = (unsigned)cfg->v[PASTRY_P_B].i;
    g->rows = (PASTRY_BITS + g->b - 1) / g->b;
    g->cols = 1u << g->b;
    g->l = l;
    g->half = l / 2;
    g->m = (unsigned)cfg->v[PASTRY_P_NBR].i;
    g->keepalive_us = cfg->v[PASTRY_P_KEEPALIVE].i;
    g->table_us = cfg->v[PASTRY_P_TABLE_MAINT].i;
    g->timeout_us = cfg->v[PASTRY_P_TIMEOUT].i;
    g->candidates = (unsigned)cfg->v[PASTRY_P_CANDIDATES].i;
    g->retries = (unsigned)cfg->v[PASTRY_P_RETRIES].i;
    g->dead_us = cfg->v[PASTRY_P_DEAD_MEMORY].i;
    g->cap = sim_capacity(s);
    size_t slots = (size_t)g->cap * g->rows * g->cols;
    g->table = malloc(slots * sizeof *g->table);
    g->trtt = malloc(slots * sizeof *g->trtt);
    g->leaf = calloc((size_t)g->cap * g->l, sizeof *g->leaf);
    g->nbr = calloc((size_t)g->cap * (g->m ? g->m : 1), sizeof *g->nbr);
    g->nrtt = calloc((size_t)g->cap * (g->m ? g->m : 1), sizeof *g->nrtt);
    g->scratch = malloc(((size_t)g->rows * g->cols + g->l + g->m) * sizeof(struct peer));
    g->rec_cap = 1024;
    g->rec = calloc(g->rec_cap, sizeof *g->rec);
    if (!g->table || !g->trtt || !g->leaf || !g->nbr || !g->nrtt || !g->scratch || !g->rec) {
        fprintf(stderr, "p2plab: pastry: out of memory for %u node slots\n", g->cap);
        free(g->table), free(g->trtt), free(g->leaf), free(g->nbr), free(g->nrtt);
        free(g->scratch), free(g->rec), free(g);
        return -1;
    }
    for (size_t k = 0; k < slots; k++) {
        g->table[k] = pastry_peer_none;
        g->trtt[k] = PASTRY_RTT_NONE;
    }
    for (uint32_t i = 0; i < g->rec_cap; i++)
        g->rec[i] = (struct pastry_rec){ .phase = PASTRY_REC_FREE,
                                         .next = i + 1 < g->rec_cap ? i + 1 : PASTRY_NONE32 };
    g->rec_free = 0;
    sim_set_protocol_data(s, g);
    return 0;
}

static void pastry_teardown(struct sim *s)
{
    struct pastry_global *g = pastry_g(s);
    if (!g)
        return;
    free(g->table), free(g->trtt), free(g->leaf), free(g->nbr), free(g->nrtt);
    free(g->scratch), free(g->rec), free(g);
    sim_set_protocol_data(s, NULL);
}

const struct protocol pastry_protocol = {
    .msg_names = pastry_msg_name,
    .n_msg_names = PASTRY_MSG_COUNT,
    .name = "pastry",
    .summary = "Pastry: prefix routing in base 2^b, leaf set, proximity-aware routing table",
    .paper = "Rowstron & Druschel, Pastry: scalable, decentralized object location and routing "
             "for large-scale peer-to-peer systems, Middleware 2001",
    .params = pastry_params,
    .counters = pastry_counters,
    .keys = KEYS_NUMERIC,
    .node_state_size = sizeof(struct pastry_node),
    .msg_body_max = pastry_msg_body_max,
    .setup = pastry_setup,
    .join = pastry_join,
    .leave = NULL,
    .on_message = pastry_on_message,
    .on_timer = pastry_on_timer,
    .on_timeout = pastry_on_timeout,
    .lookup = pastry_lookup,
    .state_entries = pastry_state_entries,
    .converge = pastry_converge,
    .insert = NULL,
    .teardown = pastry_teardown,
};
