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
 * and the last node its leaf set; X then announces itself to every node in its state and, in
 * the join's second phase (Castro et al. 2002; `join_refine`), asks every entry of each row r
 * for its row r, keeping per slot the nearest candidate it measures. Every
 * candidate a node hears of is probed (PING) before it displaces a table entry, and every RPC
 * reply is a round-trip sample that may improve the table and the neighbourhood set.
 * Maintenance: leaf-set failure detection as MSPastry's (Castro, Costa & Rowstron, DSN 2004;
 * `leaf_keepalive: heartbeat`): every `keepalive` a node sends a heartbeat to its left
 * neighbour, unless another message went to it within the period; a node that has heard
 * nothing from its right neighbour for longer than the longest gap between two jittered
 * heartbeats (1.5 periods) and the timeout probes it. A node that finds an immediate neighbour
 * dead sends its leaf set to its other leaves, which probe any leaf of theirs within its range
 * that it lacks (so both neighbours of a dead node announce it, and every leaf set that held it
 * hears), and probes its new right neighbour at once (in a mass crash it may be dead too).
 * `leaf_keepalive: all` keeps the earlier keep-alive: pings to every other leaf, and to the two
 * immediate neighbours a request for their leaf sets, every period. A leaf
 * found dead by timeout is replaced by asking the farthest live leaf on its side for its leaf
 * set; a table entry found dead is repaired lazily by asking another entry of its row (else of
 * the next row) for its entry in that slot; every `table_maintenance` a node asks a random
 * entry of each row for that row (MSPastry, Castro et al. 2004); every `table_probe` a node
 * pings every table entry and neighbourhood-set member, so that a dead entry is replaced
 * without waiting for a lookup to meet it (MSPastry's periodic probing; 0 = lazy repair
 * only). The only failure detector is
 * an RPC timeout, after `retries` re-sends of the request (0 by default: the paper's lossless
 * network; with network.loss > 0 use 1-2, as MSPastry's per-hop acks are retransmitted). A
 * contact found dead is remembered for `dead_memory` and not re-learned from other nodes'
 * lists meanwhile (only a reply from the contact itself brings it back), so that leaves which
 * have not yet noticed a failure do not hand it back; the memory expires by time, so a live
 * node taken for dead after lost messages is re-learned at the latest one period later. With
 * retries > 0 the delivering node's answer to the origin is acknowledged and re-sent too. A
 * graceful leave is treated as a failure, as in the paper.
 *
 * Converged start: the nodes join one after another in a random order, each join (with its
 * second phase and its announcement) played out on the nodes placed before it, every
 * candidate measured as the protocol's probe would measure it; leaf sets are then made exact,
 * as the keep-alives make them. So `start: converged` lays down what `start: join` reaches
 * (the route ratio within 5%, docs/validation.md). `converge_candidates` k > 0 keeps the
 * earlier model: each slot the nearest of k random nodes with its prefix.
 *
 * Memory. Each node's slab record (sim_state) holds all of its state: struct pastry_node,
 * 216 bytes (with the recently-dead list and its expiry times), then its tables, sized from
 * the configuration: the routing table (rows x 2^b contacts of 16 bytes and a 4-byte
 * round-trip time each), the leaf set (16·l bytes) and the neighbourhood set (21·M bytes: a
 * contact, a round-trip time and a one-byte address hash each). With the defaults b = 4,
 * l = 16, M = 32: 216 + 16·16·20 + 256 + 672 = 6,264 bytes per node.
 * Lookups and joins in flight are records in the kit's pool (struct pastry_rec, 64 bytes),
 * named in RPC contexts by index and generation. */
#include "protocols/pastry_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define PASTRY_BITS 64                /* identifier bits */
#define PASTRY_B_MAX 6                /* largest digit width: 2^6 columns, 11 rows */
#define PASTRY_COLS_MAX (1u << PASTRY_B_MAX)
#define PASTRY_LEAF_MAX 64            /* the leaf_set parameter's maximum */
#define PASTRY_NBR_MAX 128            /* the neighbourhood parameter's maximum */
/* table entries at most: rows x columns grows with b, to ceil(64/6) x 2^6 */
#define PASTRY_TABLE_MAX (((PASTRY_BITS + PASTRY_B_MAX - 1) / PASTRY_B_MAX) << PASTRY_B_MAX)
#define PASTRY_ENTRIES_MAX (PASTRY_TABLE_MAX + PASTRY_LEAF_MAX + PASTRY_NBR_MAX)
/* the longest list a message carries: the neighbourhood set (a leaf set or a row is shorter) */
#define PASTRY_LIST_MAX PASTRY_NBR_MAX
_Static_assert(PASTRY_LIST_MAX >= PASTRY_LEAF_MAX && PASTRY_LIST_MAX >= PASTRY_COLS_MAX + 1,
               "a list message holds a leaf set and a row with its sender");
#define PASTRY_DEAD_RING 8            /* recently dead contacts remembered (the oldest goes first) */
#define PASTRY_HOP_LIMIT 64           /* routing loop guard: forwards per lookup */
#define PASTRY_RTT_NONE UINT32_MAX    /* round-trip time not measured */

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
    PASTRY_P_TABLE_PROBE,
    PASTRY_P_JOIN_REFINE,
    PASTRY_P_LEAF_KEEPALIVE,
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
    [PASTRY_P_CANDIDATES] = { .name = "converge_candidates", .type = PARAM_INT, .def = "0",
      .min = 0, .max = 4096,
      .doc = "start: converged only. 0: every node's join (with join_refine) is played out in a "
             "random order on the nodes placed before it, each candidate measured as its probe "
             "would (what the paper's join reaches); k > 0: each table slot gets the nearest of "
             "k random nodes with its prefix (the earlier sampling model)" },
    [PASTRY_P_RETRIES] = { .name = "retries", .type = PARAM_INT, .def = "0", .min = 0, .max = 8,
      .doc = "re-sends of an unanswered RPC before its target is taken as failed; the paper "
             "assumes no loss (0); use 1-2 with network.loss > 0, as MSPastry retransmits" },
    [PASTRY_P_DEAD_MEMORY] = { .name = "dead_memory", .type = PARAM_DURATION, .def = "60s",
      .min = 0.001, .max = 86400,
      .doc = "how long a contact found dead is not re-learned from other nodes' lists (two "
             "keep-alive periods: by then its other leaves have found it dead too)" },
    [PASTRY_P_TABLE_PROBE] = { .name = "table_probe", .type = PARAM_DURATION, .def = "2min",
      .min = 0, .max = 86400,
      .doc = "mean period at which a node probes every routing-table entry and neighbourhood-set "
             "member; a dead entry is replaced at once by asking another entry of its row "
             "(MSPastry, Castro et al. 2004, probes table entries periodically, its period "
             "self-tuned; fixed here); 0 = off: repair only when a message meets the dead entry "
             "(Rowstron & Druschel 2001, 3.5)" },
    [PASTRY_P_JOIN_REFINE] = { .name = "join_refine", .type = PARAM_INT, .def = "1", .min = 0,
      .max = 1,
      .doc = "1: a node that has joined asks each entry of each table row for its own row and "
             "probes the candidates, keeping the nearest (the join's second phase: Rowstron & "
             "Druschel 2001; Castro et al., Exploiting network proximity, 2002); 0: rows from "
             "the join's route only" },
    [PASTRY_P_LEAF_KEEPALIVE] = { .name = "leaf_keepalive", .type = PARAM_ENUM,
      .def = "heartbeat", .choices = "heartbeat|all",
      .doc = "leaf-set failure detection. heartbeat: every keepalive a node sends a heartbeat to "
             "its left neighbour (none if it sent it another message within the period); one "
             "that has heard nothing from its right neighbour for 1.5 keepalive + timeout probes "
             "it, and on finding it dead sends its leaf set to its other leaves, which probe the "
             "leaves of theirs it lacks (MSPastry: Castro, Costa & Rowstron, DSN 2004); all: "
             "every keepalive a node pings every leaf and asks its two immediate neighbours for "
             "their leaf sets (p2plab's earlier keep-alive, about l times the messages)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* The list, with each size's source, is in pastry_internal.h. */
KIT_MSG_TABLES(pastry, PASTRY, PASTRY_MESSAGES, PASTRY_WIRE_IP_UDP + PASTRY_WIRE_HEADER);

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
struct pastry_leaf_set {              /* LEAF_SET: the sender, its left leaves, then its right */
    struct peer from;
    uint8_t nleft, nright;
    struct peer peer[];
};

#define PASTRY_LIST_LEN(n) (offsetof(struct pastry_list, peer) + (size_t)(n) * sizeof(struct peer))
#define PASTRY_JS_LEN(n) (offsetof(struct pastry_join_state, peer) + (size_t)(n) * sizeof(struct peer))
#define PASTRY_LS_LEN(n) (offsetof(struct pastry_leaf_set, peer) + (size_t)(n) * sizeof(struct peer))

/* ==== state =============================================================================== */

enum pastry_timer {
    PASTRY_TIMER_KEEPALIVE,
    PASTRY_TIMER_TABLE,
    PASTRY_TIMER_JOIN_RETRY,
    PASTRY_TIMER_JOIN_WATCHDOG,
    PASTRY_TIMER_PROBE,
};

enum pastry_phase { PASTRY_OUT, PASTRY_JOINING, PASTRY_JOINED };

#define PASTRY_F_TIMERS 0x01          /* periodic timers armed for this incarnation */

/* One node: its slab record, the fixed part below followed by its tables (see the TAB, LEFT,
 * RIGHT and NBR accessors), all sized from the configuration by pastry_state_size. */
struct pastry_node {
    /* what every message reads, in the record's first 64 bytes */
    struct peer self;
    uint16_t ntable;                  /* non-empty table entries */
    uint8_t nleft, nright;            /* leaf-set entries on each side, closest first */
    uint8_t nnbr;                     /* neighbourhood-set entries */
    uint8_t nbr_worst;                /* the neighbourhood set's first entry of largest RTT */
    uint8_t phase;                    /* enum pastry_phase */
    uint8_t flags;                    /* PASTRY_F_* */
    uint8_t join_pending;             /* contact probes outstanding */
    /* the join back-off; its epoch is bumped per join attempt and when one fails, so that
     * stale probe replies and watchdogs are ignored; `asking` is cleared once joined */
    struct kit_join join;
    /* leaf_keepalive heartbeat: the left neighbour last sent anything and when (us), the
     * right neighbour watched and when it was last heard from (us) */
    struct addr hb_left, hb_right;
    int64_t hb_left_sent, hb_right_heard;
    struct peer join_best;            /* joining: the probed contact with the lowest RTT */
    uint32_t join_best_rtt;           /* us */
    uint32_t wait_head;               /* lookups waiting for the join to finish (records) */
    struct addr dead[PASTRY_DEAD_RING];  /* contacts found dead lately, ignored in gossip */
    int64_t dead_until[PASTRY_DEAD_RING];  /* us: when each entry of dead[] expires */
    /* rows x cols table entries, the leaf set (l/2 left, closest first, then l/2 right) and
     * the neighbourhood set (m); then the round-trip times (us) of the table's rows x cols
     * entries and of the neighbourhood set's m, and a one-byte hash of each neighbourhood-set
     * member's address (nfp), so that a contact is looked for there without reading them all */
    struct peer tab[];
};
#define PASTRY_NODE_BYTES 216
_Static_assert(sizeof(struct pastry_node) == PASTRY_NODE_BYTES, "update the opening comment");
_Static_assert(offsetof(struct pastry_node, hb_right_heard) + sizeof(int64_t) <= 64,
               "the fields every message reads fit in one cache line");

enum pastry_rec_phase {
    PASTRY_REC_FWD,                   /* a routing step: its forward awaits an ack */
    PASTRY_REC_WAIT,                  /* a lookup parked at its origin until it has joined */
    PASTRY_REC_DONE,                  /* retries > 0: the answer to the origin awaits an ack */
};

/* A routing step in flight at one node (a lookup or a join), or a lookup parked at its origin
 * until the origin has joined; a record of the kit's pool, owned by the node running it. */
struct pastry_rec {
    struct kit_op op;
    uint64_t key;
    struct peer origin;               /* where the answer (lookup) or the state (join) goes */
    uint32_t lookup;                  /* workload lookup id, or LOOKUP_NONE */
    uint16_t hops;                    /* forwards that brought the query here */
    uint8_t steps;                    /* forwards attempted here, against the loop guard */
    uint8_t kind;                     /* enum pastry_fwd_kind */
    uint8_t phase;                    /* enum pastry_rec_phase */
    uint8_t rows_sent;                /* join: this node's rows have gone to the joiner */
    uint8_t tries;                    /* re-sends of the RPC in flight so far */
};
_Static_assert(sizeof(struct pastry_rec) == 64, "update the figure in the opening comment");

/* The protocol's global data for one run: the configuration, and the pool of records. */
struct pastry_global {
    unsigned b, rows, cols;           /* digit bits, ceil(64/b), 2^b */
    unsigned l, half, m;              /* leaf-set size, l/2, neighbourhood-set size */
    int64_t keepalive_us, table_us, timeout_us;
    unsigned candidates;              /* converge: candidates per table slot */
    unsigned retries;                 /* re-sends before a silent node is taken as failed */
    int64_t dead_us;                  /* how long a contact found dead is remembered */
    int64_t probe_us;                 /* table-probe period, 0 = off */
    bool refine;                      /* the join's second phase */
    bool heartbeat;                   /* leaf_keepalive: heartbeat (else all) */
    node_t cap;                       /* node slots */
    struct kit_pool recs;             /* struct pastry_rec */
};

/* A node's tables, in its slab record after the fixed part (const if nd is). */
#define TAB(nd) ((nd)->tab)
#define LEFT(g, nd) ((nd)->tab + (size_t)(g)->rows * (g)->cols)
#define RIGHT(g, nd) (LEFT(g, nd) + (g)->half)
#define NBR(g, nd) (LEFT(g, nd) + (g)->l)

static uint32_t *trtt(const struct pastry_global *g, struct pastry_node *nd)
{
    return (uint32_t *)(NBR(g, nd) + g->m);
}
static uint32_t *nrtt(const struct pastry_global *g, struct pastry_node *nd)
{
    return trtt(g, nd) + (size_t)g->rows * g->cols;
}
static uint8_t *nfp(const struct pastry_global *g, struct pastry_node *nd)
{
    return (uint8_t *)(nrtt(g, nd) + g->m);
}
/* The one-byte hash of an address that nfp keeps per neighbourhood-set member. */
static uint8_t addr_fp(struct addr a)
{
    return (uint8_t)(((a.slot * 0x9E3779B1u) ^ (a.inc * 0x85EBCA77u)) >> 24);
}
/* The first of r[0..count) with the largest value (0 if none). */
static uint8_t first_max(const uint32_t *r, unsigned count)
{
    unsigned worst = 0;
    for (unsigned k = 1; k < count; k++)
        if (r[k] > r[worst])
            worst = k;
    return (uint8_t)worst;
}

/* The protocol's own counters (counters.csv): forwards by leaf set, by table, by the rare case. */
enum pastry_counter {
    PASTRY_C_LEAF, PASTRY_C_TABLE, PASTRY_C_RARE,
    PASTRY_C_PROBE,                   /* table probes sent (table_probe) */
    PASTRY_C_PROBE_DEAD,              /* table probes that timed out: a dead entry found */
    PASTRY_C_REPAIR_ENTRY,            /* ENTRY_REQs sent to replace a dead table entry */
    PASTRY_C_REPAIR_LEAF,             /* LEAF_REQs sent to replace a dead leaf */
};
static const char *const pastry_counters[] = { "route_leaf", "route_table", "route_rare",
                                               "probe_table", "probe_dead", "repair_entry",
                                               "repair_leaf", NULL };

/* Gauges (gauges.csv, summary.yaml): state.entries split by part, mean over joined nodes. */
enum pastry_gauge { PASTRY_G_TABLE, PASTRY_G_LEAF, PASTRY_G_NBR };
static const char *const pastry_gauges[] = { "state.table", "state.leaf", "state.nbr", NULL };

static const struct peer pastry_peer_none = { .id = 0, .addr = { NODE_NONE, 0 } };

/* ==== identifier arithmetic (exported for the unit tests) ================================= */

unsigned pastry_digit(uint64_t id, unsigned row, unsigned b)
{
    unsigned shift = row * b;
    if (shift >= PASTRY_BITS)
        return 0;
    return (unsigned)((id << shift) >> (PASTRY_BITS - b));
}

unsigned pastry_shl(uint64_t a, uint64_t c, unsigned b)
{
    uint64_t x = a ^ c;
    if (x == 0)
        return (PASTRY_BITS + b - 1) / b;
    return (unsigned)__builtin_clzll(x) / b;
}

uint64_t pastry_dist(uint64_t a, uint64_t c)
{
    uint64_t d = a - c;
    return d < c - a ? d : c - a;
}

/* Ties go to the id clockwise of the key, as the oracle breaks them. */
bool pastry_closer(uint64_t a, uint64_t c, uint64_t key)
{
    uint64_t da = pastry_dist(a, key), dc = pastry_dist(c, key);
    return da < dc || (da == dc && a != c && a - key < c - key);
}

size_t pastry_wire_size(unsigned type, size_t entries)
{
    return kit_wire_size(&pastry_msgs, type, entries);
}

/* The documented memory figure: the fixed part + table (contact + RTT per slot) + leaf set +
 * neighbourhood set (contact + RTT + address hash). */
size_t pastry_bytes_per_node(unsigned b, unsigned l, unsigned m)
{
    size_t rows = (PASTRY_BITS + b - 1) / b, cols = (size_t)1 << b;
    return sizeof(struct pastry_node) + rows * cols * (sizeof(struct peer) + sizeof(uint32_t)) +
           l * sizeof(struct peer) + m * (sizeof(struct peer) + sizeof(uint32_t) + sizeof(uint8_t));
}

/* ==== small helpers ======================================================================= */

static struct pastry_global *pastry_g(struct sim *s) { return sim_protocol_data(s); }
static struct pastry_node *pastry_node(struct sim *s, node_t n) { return sim_state(s, n); }
static bool peer_ok(struct peer p) { return p.addr.slot != NODE_NONE; }

/* leaf_keepalive heartbeat: a message to the left neighbour serves as a heartbeat. */
static void sent_to(struct sim *s, node_t n, struct addr to)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    if (nd->nleft && addr_eq(to, LEFT(g, nd)[0].addr)) {
        nd->hb_left = to;
        nd->hb_left_sent = sim_now(s);
    }
}

static void send_msg(struct sim *s, node_t n, struct addr to, enum pastry_msg type, uint32_t lookup,
                     const void *body, size_t len, size_t entries)
{
    sent_to(s, n, to);
    kit_send(s, &pastry_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
             .body = body, .len = len, .entries = entries });
}

/* Every RPC names its target's id in ctx1, so that a reply is a round-trip sample for the
 * contact and a timeout tells which table slot to repair. */
static void send_rpc(struct sim *s, node_t n, struct peer to, enum pastry_msg type, uint32_t lookup,
                     const void *body, size_t len, size_t entries, uint64_t ctx0)
{
    sent_to(s, n, to.addr);
    /* a lookup's forward is a step of its route, whose delays the engine sums */
    kit_rpc(s, &pastry_msgs, n, to.addr, &(struct kit_out){ .type = type, .lookup = lookup,
            .body = body, .len = len, .entries = entries,
            .route = type == PASTRY_MSG_FWD_REQ && lookup != LOOKUP_NONE },
            pastry_g(s)->timeout_us, ctx0, to.id);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum pastry_msg type,
                      const void *body, size_t len, size_t entries)
{
    sent_to(s, n, req->src);
    kit_reply(s, &pastry_msgs, n, req, &(struct kit_out){ .type = type, .body = body,
              .len = len, .entries = entries });
}

/* The context of RPCs without a record (maintenance, and the joiner's own join message):
 * PING purpose in ctx0 bits 0..7, a join probe's epoch in bits 8..39; ROW_REQ and ENTRY_REQ
 * name their row and column in bits 8..15 and 16..23; the joiner's FWD_REQ has KIT_NONE
 * in bits 0..31. Bits 56..63 count the re-sends so far. RPCs with a record (routing steps,
 * DONE) name it in ctx0 and count re-sends in the record. */
enum pastry_ping { PASTRY_PING_PROBE, PASTRY_PING_KEEPALIVE, PASTRY_PING_JOIN, PASTRY_PING_TABLE,
                   PASTRY_PING_RIGHT };
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
    bool clockwise = d == p.id - self;
    /* the side is sorted, closest first: on a full side, a p farther than the last entry is
     * neither there nor taken (one entry read instead of the whole side) */
    if (c == max && c && (clockwise ? side[c - 1].id - self : self - side[c - 1].id) < d)
        return false;
    for (unsigned k = 0; k < c; k++)
        if (addr_eq(side[k].addr, p.addr))
            return true;
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
    side_insert(RIGHT(g, nd), &nd->nright, g->half, p, p.id - self, self);
    side_insert(LEFT(g, nd), &nd->nleft, g->half, p, self - p.id, self);
}

/* Neighbourhood set: the M closest by round-trip time. */
static void nbr_consider(struct sim *s, node_t n, struct peer p, uint32_t rtt)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    if (g->m == 0 || rtt == PASTRY_RTT_NONE)
        return;
    struct peer *v = NBR(g, nd);
    uint32_t *r = nrtt(g, nd);
    uint8_t *fp = nfp(g, nd), f = addr_fp(p.addr);
    for (unsigned k = 0; k < nd->nnbr; k++)
        if (fp[k] == f && addr_eq(v[k].addr, p.addr)) {
            r[k] = rtt;
            nd->nbr_worst = first_max(r, nd->nnbr);
            return;
        }
    if (nd->nnbr < g->m) {
        unsigned k = nd->nnbr++;
        v[k] = p;
        r[k] = rtt;
        fp[k] = f;
        if (k == 0 || rtt > r[nd->nbr_worst])
            nd->nbr_worst = (uint8_t)k;
    } else if (rtt < r[nd->nbr_worst]) {
        unsigned k = nd->nbr_worst;
        v[k] = p;
        r[k] = rtt;
        fp[k] = f;
        nd->nbr_worst = first_max(r, nd->nnbr);
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
        struct peer *e = &TAB(nd)[k];
        uint32_t *er = &trtt(g, nd)[k];
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
    const struct peer *lf = LEFT(g, nd), *rt = RIGHT(g, nd);
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
    struct peer e = TAB(nd)[r * g->cols + pastry_digit(key, r, g->b)];
    if (peer_ok(e)) {
        *next = e;
        return PASTRY_R_TABLE;
    }
    /* rare case: any known node with a prefix at least as long, numerically closer */
    struct peer best = nd->self;
    const struct peer *t = TAB(nd);
    for (unsigned k = r * g->cols; k < g->rows * g->cols; k++)
        if (peer_ok(t[k]) && pastry_closer(t[k].id, best.id, key))
            best = t[k];
    for (unsigned k = 0; k < nd->nleft; k++)
        if (pastry_shl(lf[k].id, key, g->b) >= r && pastry_closer(lf[k].id, best.id, key))
            best = lf[k];
    for (unsigned k = 0; k < nd->nright; k++)
        if (pastry_shl(rt[k].id, key, g->b) >= r && pastry_closer(rt[k].id, best.id, key))
            best = rt[k];
    const struct peer *v = NBR(g, nd);
    for (unsigned k = 0; k < nd->nnbr; k++)
        if (pastry_shl(v[k].id, key, g->b) >= r && pastry_closer(v[k].id, best.id, key))
            best = v[k];
    *next = best;
    return addr_eq(best.addr, nd->self.addr) ? PASTRY_R_SELF : PASTRY_R_RARE;
}

/* ==== repair ============================================================================== */

/* The non-empty entries of row r of table t into out (room for a row); their count. */
static unsigned row_entries(const struct pastry_global *g, const struct peer *t, unsigned r,
                            struct peer *out)
{
    unsigned c = 0;
    for (unsigned k = 0; k < g->cols; k++)
        if (peer_ok(t[r * g->cols + k]))
            out[c++] = t[r * g->cols + k];
    return c;
}

/* Lazy table repair (§3.5): ask another entry of row r (else of row r + 1) for its entry at
 * (r, c). */
static void table_repair(struct sim *s, node_t n, unsigned r, unsigned c)
{
    struct pastry_global *g = pastry_g(s);
    const struct peer *t = TAB(pastry_node(s, n));
    for (unsigned row = r; row < g->rows && row <= r + 1; row++) {
        struct peer cand[PASTRY_COLS_MAX];
        unsigned m = row_entries(g, t, row, cand);
        if (m == 0)
            continue;
        struct peer p = cand[gsl_rng_uniform_int(sim_rng(s), m)];
        struct pastry_row_req body = { .row = (uint8_t)r, .col = (uint8_t)c };
        send_rpc(s, n, p, PASTRY_MSG_ENTRY_REQ, LOOKUP_NONE, &body, sizeof body, 0,
                 ((uint64_t)c << 16) | ((uint64_t)r << 8));
        sim_count(s, PASTRY_C_REPAIR_ENTRY, 1);
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
        p = LEFT(g, nd)[nd->nleft - 1];
    else if (!left_side && nd->nright)
        p = RIGHT(g, nd)[nd->nright - 1];
    else if (nd->nleft)
        p = LEFT(g, nd)[nd->nleft - 1];
    else if (nd->nright)
        p = RIGHT(g, nd)[nd->nright - 1];
    if (peer_ok(p)) {
        send_rpc(s, n, p, PASTRY_MSG_LEAF_REQ, LOOKUP_NONE, NULL, 0, 0, 0);
        sim_count(s, PASTRY_C_REPAIR_LEAF, 1);
    }
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

static void leaf_lost_neighbour(struct sim *s, node_t n);

/* n learned from a timeout that p is dead: drop it everywhere and start the repairs (for the
 * parts of the state it was still in, even if it had been found dead before and came back). */
static void forget(struct sim *s, node_t n, struct peer p)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    remember_dead(s, nd, p.addr);
    bool nearest = (nd->nleft && addr_eq(LEFT(g, nd)[0].addr, p.addr)) ||
                   (nd->nright && addr_eq(RIGHT(g, nd)[0].addr, p.addr));
    bool lhit = side_remove(LEFT(g, nd), &nd->nleft, p.addr);
    bool rhit = side_remove(RIGHT(g, nd), &nd->nright, p.addr);
    struct peer *v = NBR(g, nd);
    uint32_t *vr = nrtt(g, nd);
    uint8_t *fp = nfp(g, nd), f = addr_fp(p.addr);
    for (unsigned k = 0; k < nd->nnbr; k++)
        if (fp[k] == f && addr_eq(v[k].addr, p.addr)) {
            v[k] = v[nd->nnbr - 1];
            vr[k] = vr[nd->nnbr - 1];
            fp[k] = fp[nd->nnbr - 1];
            nd->nnbr--;
            nd->nbr_worst = first_max(vr, nd->nnbr);
            break;
        }
    long k = slot_of(g, nd->self.id, p.id);
    bool thit = k >= 0 && addr_eq(TAB(nd)[k].addr, p.addr);
    if (thit) {
        TAB(nd)[k] = pastry_peer_none;
        trtt(g, nd)[k] = PASTRY_RTT_NONE;
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
    if (g->heartbeat && nearest)
        leaf_lost_neighbour(s, n);
}

/* ==== records ============================================================================= */

static struct pastry_rec *rec_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &pastry_g(s)->recs, i); }
static void rec_free(struct sim *s, uint32_t i) { kit_pool_release(&pastry_g(s)->recs, i); }
static uint64_t rec_ctx(struct sim *s, uint32_t i) { return kit_pool_ctx(&pastry_g(s)->recs, i); }
/* The record an RPC context names, if it is still n's; else KIT_NONE. */
static uint32_t rec_from_ctx(struct sim *s, node_t n, uint64_t ctx)
{
    return kit_pool_get(&pastry_g(s)->recs, n, ctx);
}

static uint32_t rec_alloc(struct sim *s, node_t n, enum pastry_fwd_kind kind, uint64_t key,
                          struct peer origin, uint32_t lookup, uint16_t hops)
{
    uint32_t i = kit_pool_alloc(&pastry_g(s)->recs, n);
    struct pastry_rec *r = rec_at(s, i);
    r->key = key;
    r->origin = origin;
    r->lookup = lookup;
    r->hops = hops;
    r->kind = (uint8_t)kind;
    r->phase = PASTRY_REC_FWD;
    return i;
}

/* ==== routing ============================================================================= */

/* The contacts a[0..na) then c[0..nc) into a list body's array; their count. */
static uint16_t list_fill(struct peer *out, const struct peer *a, unsigned na, const struct peer *c,
                          unsigned nc)
{
    SIM_ASSERT(na + nc <= PASTRY_LIST_MAX);
    memcpy(out, a, na * sizeof *a);
    if (nc)
        memcpy(out + na, c, nc * sizeof *c);
    return (uint16_t)(na + nc);
}

static void send_js(struct sim *s, node_t n, struct addr to, uint8_t flags, const struct peer *a,
                    unsigned na, const struct peer *c, unsigned nc)
{
    _Alignas(struct peer) unsigned char buf[PASTRY_JS_LEN(PASTRY_LIST_MAX)];
    struct pastry_join_state *b = (struct pastry_join_state *)buf;
    b->flags = flags;
    b->count = list_fill(b->peer, a, na, c, nc);
    send_msg(s, n, to, PASTRY_MSG_JOIN_STATE, LOOKUP_NONE, b, PASTRY_JS_LEN(na + nc), na + nc);
}

/* Sends the joining node this node's rows [hops, shl(node, joiner)], one message each (the h-th
 * node on the path gives row h, §3.4) with itself in the last, the first node on the path its
 * neighbourhood set too, and the last node its leaf set, flagged: the joiner's cue to finish. */
static void send_join_state(struct sim *s, uint32_t i, bool last)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
    struct pastry_node *nd = pastry_node(s, n);
    struct addr to = r->origin.addr;
    if (!r->rows_sent) {
        unsigned top = pastry_shl(nd->self.id, r->key, g->b);
        top = top < g->rows ? top : g->rows - 1;
        const struct peer *t = TAB(nd);
        struct peer row[PASTRY_COLS_MAX + 1];
        for (unsigned rw = r->hops; rw <= top; rw++) {
            unsigned c = row_entries(g, t, rw, row);
            if (rw == top)
                row[c++] = nd->self;
            if (c)
                send_js(s, n, to, 0, row, c, NULL, 0);
        }
        if (r->hops > top)
            send_js(s, n, to, 0, &nd->self, 1, NULL, 0);
        if (r->hops == 0 && nd->nnbr)
            send_js(s, n, to, 0, NBR(g, nd), nd->nnbr, NULL, 0);
        r->rows_sent = 1;
    }
    if (last)
        send_js(s, n, to, PASTRY_JS_LAST, LEFT(g, nd), nd->nleft, RIGHT(g, nd), nd->nright);
}

/* Sends record i's forward to `next` (again, on a re-send). */
static void fwd_send(struct sim *s, uint32_t i, struct peer next)
{
    struct pastry_rec *r = rec_at(s, i);
    struct pastry_fwd_req body = { .key = r->key, .origin = r->origin,
                                   .hops = (uint16_t)(r->hops + 1), .kind = r->kind };
    send_rpc(s, r->op.owner, next, PASTRY_MSG_FWD_REQ, r->lookup, &body, sizeof body, 0, rec_ctx(s, i));
}

static void done_send(struct sim *s, uint32_t i)
{
    struct pastry_rec *r = rec_at(s, i);
    struct pastry_done done = { .owner = pastry_node(s, r->op.owner)->self, .hops = r->hops };
    send_rpc(s, r->op.owner, r->origin, PASTRY_MSG_DONE, r->lookup, &done, sizeof done, 0,
             rec_ctx(s, i));
}

/* One routing step at the node running record i: deliver, or forward to the next hop. Only
 * the origin knows whether its lookup is still running; a forwarding node carries on. */
static void rec_step(struct sim *s, uint32_t i)
{
    struct pastry_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
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
    if (g->probe_us)
        sim_timer(s, n, PASTRY_TIMER_PROBE, (int64_t)(gsl_rng_uniform(rng) * (double)g->probe_us), 0);
}

static void lookup_start(struct sim *s, uint32_t i);
static void ask_rows(struct sim *s, node_t n, bool every);

/* Every distinct contact in nd's state into out (room for PASTRY_ENTRIES_MAX): the table's
 * entries, then the leaves and neighbours not already there; their count. Reads only. A
 * contact is in the table only at the slot of its id (consider_from puts it there, and an
 * address always comes with the same id), so a leaf or neighbour is checked against that slot
 * and against the leaves and neighbours taken before it. */
static unsigned collect(const struct pastry_global *g, const struct pastry_node *nd, struct peer *out)
{
    unsigned c = 0;
    const struct peer *t = TAB(nd);
    for (unsigned k = 0; k < g->rows * g->cols; k++)
        if (peer_ok(t[k]))
            out[c++] = t[k];
    unsigned from_table = c;
    const struct peer *lists[3] = { LEFT(g, nd), RIGHT(g, nd), NBR(g, nd) };
    unsigned counts[3] = { nd->nleft, nd->nright, nd->nnbr };
    for (unsigned j = 0; j < 3; j++)
        for (unsigned k = 0; k < counts[j]; k++) {
            struct peer p = lists[j][k];
            long slot = slot_of(g, nd->self.id, p.id);
            if (slot >= 0 && addr_eq(t[slot].addr, p.addr))
                continue;
            bool dup = false;
            for (unsigned q = from_table; q < c && !dup; q++)
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
    nd->join.tries = 0;
    nd->join.asking = 0;              /* the attempt is over: its probes and watchdog are stale */
    sim_introducer_register(s, n);
    start_timers(s, n);
    struct peer all[PASTRY_ENTRIES_MAX];
    unsigned c = collect(g, nd, all);
    struct pastry_peer_msg body = { .peer = nd->self };
    for (unsigned k = 0; k < c; k++)
        send_msg(s, n, all[k].addr, PASTRY_MSG_ANNOUNCE, LOOKUP_NONE, &body, sizeof body, 0);
    if (g->refine)
        ask_rows(s, n, true);
    for (uint32_t w; (w = kit_unpark(&pastry_g(s)->recs, &nd->wait_head)) != KIT_NONE;)
        lookup_start(s, w);
}

/* The attempt failed: its probes and watchdog go stale, and the next one starts after the
 * back-off (timeout x 2^tries, jittered). */
static void join_retry(struct sim *s, node_t n)
{
    struct pastry_node *nd = pastry_node(s, n);
    nd->phase = PASTRY_JOINING;
    nd->join.epoch++;
    sim_timer(s, n, PASTRY_TIMER_JOIN_RETRY, kit_backoff(s, &nd->join, pastry_g(s)->timeout_us), 0);
}

/* A join attempt: ask the introducer, under a watchdog that covers the whole attempt (the
 * answer, the probes and the routed join): if the join's state never arrives (a node on the
 * path died), start again. The watchdog is stale once the attempt ends (the epoch moves on). */
static void join_begin(struct sim *s, node_t n)
{
    struct pastry_node *nd = pastry_node(s, n);
    nd->join_pending = 0;
    nd->join_best = pastry_peer_none;
    nd->join_best_rtt = PASTRY_RTT_NONE;
    kit_join_ask(s, n, &nd->join, PASTRY_TIMER_JOIN_WATCHDOG, 16 * pastry_g(s)->timeout_us);
}

static void pastry_join(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    *nd = (struct pastry_node){ .self = { .id = sim_node_id(s, n), .addr = sim_addr(s, n) },
                                .wait_head = KIT_NONE, .phase = PASTRY_JOINING,
                                .join_best = pastry_peer_none };
    for (unsigned k = 0; k < PASTRY_DEAD_RING; k++)
        nd->dead[k] = ADDR_NONE;          /* dead_until = 0: expired */
    nd->hb_left = nd->hb_right = ADDR_NONE;
    struct peer *t = TAB(nd);
    uint32_t *tr = trtt(g, nd);
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
            ping(s, n, b->contacts[j], PASTRY_PING_JOIN, nd->join.epoch);
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
    if (nd->phase != PASTRY_JOINING || !kit_join_unanswered(&nd->join, epoch) || !nd->join_pending)
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
    send_rpc(s, n, nd->join_best, PASTRY_MSG_FWD_REQ, LOOKUP_NONE, &body, sizeof body, 0, KIT_NONE);
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
        kit_park(&pastry_g(s)->recs, &nd->wait_head, i);
        return;
    }
    rec_step(s, i);
}

/* ==== maintenance ========================================================================= */

static void send_list(struct sim *s, node_t n, const struct msg *m, enum pastry_msg type,
                      const struct peer *a, unsigned na, const struct peer *c, unsigned nc)
{
    _Alignas(struct peer) unsigned char buf[PASTRY_LIST_LEN(PASTRY_LIST_MAX)];
    struct pastry_list *b = (struct pastry_list *)buf;
    b->count = list_fill(b->peer, a, na, c, nc);
    reply_msg(s, n, m, type, b, PASTRY_LIST_LEN(na + nc), na + nc);
}

static void on_row_req(struct sim *s, node_t n, const struct msg *m)
{
    struct pastry_global *g = pastry_g(s);
    const struct pastry_row_req *b = m->body;
    struct peer row[PASTRY_COLS_MAX];
    unsigned c = b->row < g->rows ? row_entries(g, TAB(pastry_node(s, n)), b->row, row) : 0;
    send_list(s, n, m, PASTRY_MSG_ROW_REP, row, c, NULL, 0);
}

static void on_entry_req(struct sim *s, node_t n, const struct msg *m)
{
    struct pastry_global *g = pastry_g(s);
    const struct pastry_row_req *b = m->body;
    struct peer e = pastry_peer_none;
    if (b->row < g->rows && b->col < g->cols)
        e = TAB(pastry_node(s, n))[b->row * g->cols + b->col];
    send_list(s, n, m, PASTRY_MSG_ENTRY_REP, &e, peer_ok(e) ? 1 : 0, NULL, 0);
}

/* leaf_keepalive heartbeat (MSPastry, Castro, Costa & Rowstron, DSN 2004): a heartbeat to the
 * left neighbour unless another message went to it within the period; a probe of the right
 * neighbour if nothing came from it for longer than the longest gap between its jittered
 * heartbeats (1.5 periods) and the timeout. A new right neighbour is given that long. */
static void keepalive_heartbeat(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    int64_t now = sim_now(s);
    if (nd->nleft) {
        struct peer left = LEFT(g, nd)[0];
        if (!addr_eq(nd->hb_left, left.addr) || now - nd->hb_left_sent >= g->keepalive_us)
            kit_send(s, &pastry_msgs, n, left.addr,   /* not send_msg: it serves as no other */
                     &(struct kit_out){ .type = PASTRY_MSG_HEARTBEAT, .lookup = LOOKUP_NONE });
    }
    if (nd->nright) {
        struct peer right = RIGHT(g, nd)[0];
        if (!addr_eq(nd->hb_right, right.addr)) {
            nd->hb_right = right.addr;
            nd->hb_right_heard = now;
        } else if (now - nd->hb_right_heard > g->keepalive_us * 3 / 2 + g->timeout_us) {
            ping(s, n, right, PASTRY_PING_RIGHT, 0);
        }
    }
}

/* leaf_keepalive heartbeat: n found an immediate neighbour dead. Its leaf set goes to its other
 * leaves, so that those which hold the dead node probe it (both neighbours of a dead node
 * announce it: the leaves of the two cover every node whose leaf set held it), and the new right
 * neighbour is probed at once (it too may have failed: consecutive nodes do in a mass crash). */
static void leaf_lost_neighbour(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    _Alignas(struct peer) unsigned char buf[PASTRY_LS_LEN(PASTRY_LEAF_MAX)];
    struct pastry_leaf_set *b = (struct pastry_leaf_set *)buf;
    const struct peer *lf = LEFT(g, nd), *rt = RIGHT(g, nd);
    b->from = nd->self;
    b->nleft = nd->nleft;
    b->nright = nd->nright;
    list_fill(b->peer, lf, nd->nleft, rt, nd->nright);
    unsigned len = nd->nleft + nd->nright;
    for (unsigned k = 0; k < len; k++) {
        bool dup = false;             /* a small ring: the same node on both sides */
        for (unsigned q = 0; q < k && !dup; q++)
            dup = addr_eq(b->peer[q].addr, b->peer[k].addr);
        if (!dup)
            send_msg(s, n, b->peer[k].addr, PASTRY_MSG_LEAF_SET, LOOKUP_NONE, b, PASTRY_LS_LEN(len),
                     len);
    }
    if (nd->nright && !addr_eq(nd->hb_right, rt[0].addr)) {
        nd->hb_right = rt[0].addr;
        nd->hb_right_heard = sim_now(s);
        ping(s, n, rt[0], PASTRY_PING_RIGHT, 0);
    }
}

/* Is p in the list? */
static bool listed(const struct peer *v, unsigned len, struct addr a)
{
    for (unsigned k = 0; k < len; k++)
        if (addr_eq(v[k].addr, a))
            return true;
    return false;
}

/* A leaf set from a node that found a leaf dead: n probes each leaf of its own that lies within
 * the sender's leaf-set range but is missing from it (the dead one among them), and takes the
 * sender's leaves as leaf-set gossip. */
static void on_leaf_set(struct sim *s, node_t n, const struct msg *m)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    const struct pastry_leaf_set *b = m->body;
    if (nd->phase != PASTRY_JOINED)
        return;
    unsigned len = b->nleft + b->nright;
    uint64_t from = b->from.id;
    uint64_t reach_left = b->nleft ? from - b->peer[b->nleft - 1].id : 0;
    uint64_t reach_right = b->nright ? b->peer[len - 1].id - from : 0;
    const struct peer *sides[2] = { LEFT(g, nd), RIGHT(g, nd) };
    unsigned counts[2] = { nd->nleft, nd->nright };
    for (unsigned j = 0; j < 2; j++)
        for (unsigned k = 0; k < counts[j]; k++) {
            struct peer p = sides[j][k];
            if (addr_eq(p.addr, b->from.addr) || listed(b->peer, len, p.addr))
                continue;
            if (j == 1 && listed(sides[0], counts[0], p.addr))
                continue;             /* probed on the left side already */
            uint64_t cw = p.id - from, ccw = from - p.id;
            if (cw <= ccw ? cw < reach_right : ccw < reach_left)
                ping(s, n, p, PASTRY_PING_KEEPALIVE, 0);
        }
    consider_from(s, n, b->from, PASTRY_RTT_NONE, false);
    for (unsigned k = 0; k < len; k++)
        consider_from(s, n, b->peer[k], PASTRY_RTT_NONE, false);
}

static void keepalive(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    struct peer all[2 * PASTRY_LEAF_MAX / 2];
    unsigned c = 0;
    const struct peer *lf = LEFT(g, nd), *rt = RIGHT(g, nd);
    for (unsigned k = 0; k < nd->nleft; k++)
        all[c++] = lf[k];
    for (unsigned k = 0; k < nd->nright; k++) {
        bool dup = false;
        for (unsigned q = 0; q < nd->nleft && !dup; q++)
            dup = addr_eq(all[q].addr, rt[k].addr);
        if (!dup)
            all[c++] = rt[k];
    }
    /* the immediate neighbours exchange leaf sets; the others are pinged */
    for (unsigned k = 0; k < c; k++) {
        bool nearest = (nd->nleft && addr_eq(all[k].addr, lf[0].addr)) ||
                       (nd->nright && addr_eq(all[k].addr, rt[0].addr));
        if (nearest)
            send_rpc(s, n, all[k], PASTRY_MSG_LEAF_REQ, LOOKUP_NONE, NULL, 0, 0, 0);
        else
            ping(s, n, all[k], PASTRY_PING_KEEPALIVE, 0);
    }
}

/* Asks entries of each row r of n's table for their row r: one at random (the periodic table
 * maintenance of MSPastry) or every one (the join's second phase, Castro et al. 2002); the
 * candidates in the replies are probed and the nearest kept (consider). */
static void ask_rows(struct sim *s, node_t n, bool every)
{
    struct pastry_global *g = pastry_g(s);
    const struct peer *t = TAB(pastry_node(s, n));
    for (unsigned r = 0; r < g->rows; r++) {
        struct peer cand[PASTRY_COLS_MAX];
        unsigned m = row_entries(g, t, r, cand);
        if (m == 0)
            continue;
        struct pastry_row_req body = { .row = (uint8_t)r, .col = 0 };
        unsigned first = every ? 0 : (unsigned)gsl_rng_uniform_int(sim_rng(s), m);
        unsigned last = every ? m : first + 1;
        for (unsigned k = first; k < last; k++)
            send_rpc(s, n, cand[k], PASTRY_MSG_ROW_REQ, LOOKUP_NONE, &body, sizeof body, 0,
                     (uint64_t)r << 8);
    }
}

/* Periodic routing-table maintenance (MSPastry): probe every table entry, and every member
 * of the neighbourhood set not in the table (whose liveness the paper also checks
 * periodically, Sec. 3.5); one that does not answer is dropped and a table entry replaced
 * (forget -> table_repair) without waiting for a lookup to meet it. */
static void table_probe(struct sim *s, node_t n)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    const struct peer *t = TAB(nd);
    for (unsigned k = 0; k < g->rows * g->cols; k++)
        if (peer_ok(t[k])) {
            ping(s, n, t[k], PASTRY_PING_TABLE, 0);
            sim_count(s, PASTRY_C_PROBE, 1);
        }
    const struct peer *v = NBR(g, nd);
    for (unsigned k = 0; k < nd->nnbr; k++) {
        long slot = slot_of(g, nd->self.id, v[k].id);
        if (slot >= 0 && addr_eq(t[slot].addr, v[k].addr))
            continue;                 /* probed above */
        ping(s, n, v[k], PASTRY_PING_TABLE, 0);
        sim_count(s, PASTRY_C_PROBE, 1);
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
        if (i != KIT_NONE)
            rec_free(s, i);           /* the next hop has it */
        break;
    }
    case PASTRY_MSG_PING_REQ:
        if ((rpc->ctx[0] & 0xFF) == PASTRY_PING_JOIN)
            join_probe_done(s, n, from, rtt, PASTRY_CTX_EPOCH(rpc->ctx[0]));
        break;
    case PASTRY_MSG_DONE: {
        uint32_t i = rec_from_ctx(s, n, rpc->ctx[0]);
        if (i != KIT_NONE)
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
    {
        struct pastry_node *nd = pastry_node(s, n);
        if (nd->nright && addr_eq(m->src, nd->hb_right))
            nd->hb_right_heard = sim_now(s);   /* any message from the right neighbour */
    }
    if (m->rpc) {
        on_reply(s, n, m);
        return;
    }
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    switch (m->type) {
    case PASTRY_MSG_HEARTBEAT:
        break;                        /* heard from: noted above */
    case PASTRY_MSG_LEAF_SET:
        on_leaf_set(s, n, m);
        break;
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
        send_list(s, n, m, PASTRY_MSG_LEAF_REP, LEFT(g, nd), nd->nleft, RIGHT(g, nd), nd->nright);
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
    uint32_t i = KIT_NONE;
    if (rpc->type == PASTRY_MSG_FWD_REQ || rpc->type == PASTRY_MSG_DONE)
        i = rec_from_ctx(s, n, rpc->ctx[0]);
    if (i != KIT_NONE) {              /* a routing step's forward, or a DONE */
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
    bool joiner = rpc->type == PASTRY_MSG_FWD_REQ && (uint32_t)rpc->ctx[0] == KIT_NONE;
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
    if (rpc->type == PASTRY_MSG_PING_REQ && (rpc->ctx[0] & 0xFF) == PASTRY_PING_TABLE)
        sim_count(s, PASTRY_C_PROBE_DEAD, 1);
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
        if (work && g->heartbeat)
            keepalive_heartbeat(s, n);
        else if (work)
            keepalive(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->keepalive_us), 0);
        break;
    case PASTRY_TIMER_TABLE:
        if (work)
            ask_rows(s, n, false);
        sim_timer(s, n, kind, sim_jitter(s, g->table_us), 0);
        break;
    case PASTRY_TIMER_PROBE:
        if (work)
            table_probe(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->probe_us), 0);
        break;
    case PASTRY_TIMER_JOIN_RETRY:
        if (nd->phase == PASTRY_JOINING)
            join_begin(s, n);
        break;
    case PASTRY_TIMER_JOIN_WATCHDOG:
        if (nd->phase == PASTRY_JOINING && kit_join_unanswered(&nd->join, arg))
            join_retry(s, n);
        break;
    default:
        SIM_ASSERT(!"pastry: unknown timer");
    }
}

static void config_read(struct pastry_global *g, const struct proto_config *cfg);

/* Distinct contacts in leaf set, table and neighbourhood set, read through the const state
 * (the table's dimensions from the configuration) into a buffer of its own. */
static size_t pastry_state_entries(const struct sim *s, node_t n)
{
    struct pastry_global g;
    config_read(&g, sim_config(s));
    struct peer all[PASTRY_ENTRIES_MAX];
    return collect(&g, sim_state_const(s, n), all);
}

/* state.entries by part, mean over joined nodes (measurement: reads every node). */
static double pastry_gauge(struct sim *s, uint32_t which)
{
    struct pastry_global *g = pastry_g(s);
    node_t *live = mem_calloc(g->cap ? g->cap : 1, sizeof *live, "pastry: the live nodes");
    node_t len = sim_converge_live(s, live, g->cap);
    double sum = 0;
    uint64_t nodes = 0;
    for (node_t i = 0; i < len; i++) {
        const struct pastry_node *nd = sim_state_const(s, live[i]);
        if (nd->phase != PASTRY_JOINED)
            continue;
        nodes++;
        if (which == PASTRY_G_TABLE)
            sum += nd->ntable;
        else if (which == PASTRY_G_LEAF)
            sum += nd->nleft + nd->nright;
        else
            sum += nd->nnbr;
    }
    free(live);
    return nodes ? sum / (double)nodes : NAN;
}

/* ==== converged start ===================================================================== */

#define PASTRY_PEER_AT(k) ((struct peer){ .id = v[k].id, .addr = sim_addr(s, v[k].slot) })

/* n as a fresh joined node with empty tables. */
static void converge_reset(struct sim *s, node_t n, struct peer self)
{
    struct pastry_global *g = pastry_g(s);
    struct pastry_node *nd = pastry_node(s, n);
    *nd = (struct pastry_node){ .self = self, .wait_head = KIT_NONE, .phase = PASTRY_JOINED,
                                .join_best = pastry_peer_none };
    for (unsigned q = 0; q < PASTRY_DEAD_RING; q++)
        nd->dead[q] = ADDR_NONE;
    nd->hb_left = nd->hb_right = ADDR_NONE;
    struct peer *t = TAB(nd);
    uint32_t *tr = trtt(g, nd);
    for (unsigned k = 0; k < g->rows * g->cols; k++) {
        t[k] = pastry_peer_none;
        tr[k] = PASTRY_RTT_NONE;
    }
}

/* n hears of p and measures it, as the probe the protocol sends would (converge only). */
static void converge_meet(struct sim *s, node_t n, struct peer p)
{
    if (!addr_eq(p.addr, pastry_node(s, n)->self.addr))
        consider(s, n, p, (uint32_t)sim_converge_rtt(s, n, p.addr.slot));
}

/* The join of x (Sec. 3.4 and the second phase of Castro et al. 2002), played out on the
 * nodes placed so far with global knowledge, each candidate measured as the protocol's probe
 * would: the nearest of INTRO_CONTACTS random nodes among the INTRODUCER_RECENT last placed is
 * the nearby node A; the join is routed from A to x's id, the h-th node on the route giving
 * its rows h .. shl(node, x), A its neighbourhood set, the last node its leaf set; x then
 * announces itself to every node in its state (each measures x) and, with join_refine, asks
 * every entry of each row r for its row r. */
#define PASTRY_INTRODUCER_RECENT 16   /* the introducer's memory (sim/world.h) */
static void converge_join(struct sim *s, node_t x, const struct peer *placed, size_t np)
{
    struct pastry_global *g = pastry_g(s);
    gsl_rng *rng = sim_rng(s);
    struct pastry_node *xd = pastry_node(s, x);
    uint64_t key = xd->self.id;
    if (np == 0)
        return;
    size_t recent = np < PASTRY_INTRODUCER_RECENT ? np : PASTRY_INTRODUCER_RECENT;
    struct peer pool[PASTRY_INTRODUCER_RECENT], contacts[INTRO_CONTACTS];
    memcpy(pool, placed + np - recent, recent * sizeof *pool);
    size_t nc = recent < INTRO_CONTACTS ? recent : INTRO_CONTACTS;
    gsl_ran_choose(rng, contacts, nc, pool, recent, sizeof *pool);   /* distinct, as handed */
    struct peer a = pastry_peer_none;
    int64_t best = 0;
    for (size_t q = 0; q < nc; q++) {
        struct peer c = contacts[q];
        int64_t rtt = sim_converge_rtt(s, x, c.addr.slot);
        if (!peer_ok(a) || rtt < best) {
            a = c;
            best = rtt;
        }
    }
    struct peer cur = a;
    for (unsigned h = 0; h < PASTRY_HOP_LIMIT; h++) {
        node_t c = cur.addr.slot;
        struct pastry_node *cd = pastry_node(s, c);
        struct peer next;
        enum pastry_route how = next_hop(s, c, key, &next);
        unsigned top = pastry_shl(cd->self.id, key, g->b);
        top = top < g->rows ? top : g->rows - 1;
        for (unsigned rw = h; rw <= top; rw++)
            for (unsigned k = 0; k < g->cols; k++)
                if (peer_ok(TAB(cd)[rw * g->cols + k]))
                    converge_meet(s, x, TAB(cd)[rw * g->cols + k]);
        converge_meet(s, x, cd->self);
        if (h == 0)
            for (unsigned k = 0; k < cd->nnbr; k++)
                converge_meet(s, x, NBR(g, cd)[k]);
        if (how == PASTRY_R_SELF) {
            for (unsigned k = 0; k < cd->nleft; k++)
                converge_meet(s, x, LEFT(g, cd)[k]);
            for (unsigned k = 0; k < cd->nright; k++)
                converge_meet(s, x, RIGHT(g, cd)[k]);
            break;
        }
        cur = next;
    }
    struct peer all[PASTRY_ENTRIES_MAX];
    unsigned c = collect(g, xd, all);
    for (unsigned k = 0; k < c; k++)
        converge_meet(s, all[k].addr.slot, xd->self);
    if (!g->refine)
        return;
    for (unsigned r = 0; r < g->rows; r++) {
        struct peer row[PASTRY_COLS_MAX];
        unsigned m = row_entries(g, TAB(xd), r, row);
        for (unsigned k = 0; k < m; k++) {
            struct peer theirs[PASTRY_COLS_MAX];
            unsigned mt = row_entries(g, TAB(pastry_node(s, row[k].addr.slot)), r, theirs);
            for (unsigned q = 0; q < mt; q++)
                converge_meet(s, x, theirs[q]);
        }
    }
}

/* Today's sampling model (converge_candidates > 0): per table slot the nearest of up to that
 * many random nodes with the slot's prefix; the M nearest of 8·M random nodes as the
 * neighbourhood set. */
static void converge_sample(struct sim *s, const struct converge_node *v, size_t len, size_t k)
{
    struct pastry_global *g = pastry_g(s);
    gsl_rng *rng = sim_rng(s);
    node_t n = v[k].slot;
    struct pastry_node *nd = pastry_node(s, n);
    uint64_t self = v[k].id;
    struct peer *t = TAB(nd);
    uint32_t *tr = trtt(g, nd);
    for (unsigned r = 0; r < g->rows; r++) {
        unsigned width = r * g->b;           /* bits of the shared prefix */
        for (unsigned c = 0; c < g->cols; c++) {
            unsigned slot = r * g->cols + c;
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

/* Lays down what the join reaches: every live node joins in a random order, the join played
 * out on the nodes placed before it (converge_join), or, with converge_candidates > 0, tables
 * sampled (converge_sample). Leaf sets end exact, as the keep-alives make them. Then starts
 * every node's timers with random phases. */
static void pastry_converge(struct sim *s)
{
    struct pastry_global *g = pastry_g(s);
    node_t *live = mem_calloc(g->cap, sizeof *live, "pastry: the live nodes");
    struct converge_node *v = mem_calloc(g->cap, sizeof *v, "pastry: the nodes by id");
    struct peer *placed = mem_calloc(g->cap, sizeof *placed, "pastry: the nodes in join order");
    size_t len = sim_converge_live(s, live, g->cap);
    size_t sorted = sim_converge_sorted(s, v, g->cap);
    SIM_ASSERT(sorted == len);
    for (size_t k = 0; k < len; k++)
        converge_reset(s, v[k].slot, PASTRY_PEER_AT(k));
    if (g->candidates) {
        for (size_t k = 0; k < len; k++)
            converge_sample(s, v, len, k);
    } else {
        size_t *order = mem_calloc(len ? len : 1, sizeof *order, "pastry: the join order");
        for (size_t k = 0; k < len; k++)
            order[k] = k;
        if (len)
            gsl_ran_shuffle(sim_rng(s), order, len, sizeof *order);
        for (size_t q = 0; q < len; q++) {
            converge_join(s, v[order[q]].slot, placed, q);
            placed[q] = PASTRY_PEER_AT(order[q]);
        }
        free(order);
    }
    for (size_t k = 0; k < len; k++) {
        struct pastry_node *nd = pastry_node(s, v[k].slot);
        nd->nleft = nd->nright = 0;
        for (size_t j = 1; j < len && j <= g->half; j++) {
            RIGHT(g, nd)[nd->nright++] = PASTRY_PEER_AT((k + j) % len);
            LEFT(g, nd)[nd->nleft++] = PASTRY_PEER_AT((k + len - j) % len);
        }
    }
    for (size_t k = 0; k < len; k++)
        start_timers(s, live[k]);
    free(placed);
    free(v);
    free(live);
}
#undef PASTRY_PEER_AT

/* ==== setup =============================================================================== */

static size_t pastry_msg_body_max(const struct proto_config *cfg)
{
    size_t b = (size_t)cfg->v[PASTRY_P_B].i, cols = (size_t)1 << b;
    size_t l = (size_t)cfg->v[PASTRY_P_LEAF].i, m = (size_t)cfg->v[PASTRY_P_NBR].i;
    size_t max = PASTRY_JS_LEN(cols + 1);
    size_t cand[] = { sizeof(struct pastry_fwd_req), sizeof(struct pastry_done),
                      PASTRY_LIST_LEN(l), PASTRY_LIST_LEN(cols), PASTRY_JS_LEN(l), PASTRY_JS_LEN(m),
                      PASTRY_LS_LEN(l) };
    for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
        if (cand[k] > max)
            max = cand[k];
    return max;
}

/* The configuration, as setup and state_entries read it. */
static void config_read(struct pastry_global *g, const struct proto_config *cfg)
{
    g->b = (unsigned)cfg->v[PASTRY_P_B].i;
    g->rows = (PASTRY_BITS + g->b - 1) / g->b;
    g->cols = 1u << g->b;
    g->l = (unsigned)cfg->v[PASTRY_P_LEAF].i;
    g->half = g->l / 2;
    g->m = (unsigned)cfg->v[PASTRY_P_NBR].i;
    g->keepalive_us = cfg->v[PASTRY_P_KEEPALIVE].i;
    g->table_us = cfg->v[PASTRY_P_TABLE_MAINT].i;
    g->timeout_us = cfg->v[PASTRY_P_TIMEOUT].i;
    g->candidates = (unsigned)cfg->v[PASTRY_P_CANDIDATES].i;
    g->retries = (unsigned)cfg->v[PASTRY_P_RETRIES].i;
    g->dead_us = cfg->v[PASTRY_P_DEAD_MEMORY].i;
    g->probe_us = cfg->v[PASTRY_P_TABLE_PROBE].i;
    g->refine = cfg->v[PASTRY_P_JOIN_REFINE].i != 0;
    g->heartbeat = cfg->v[PASTRY_P_LEAF_KEEPALIVE].i == 0;
}

/* A node's slab record: the fixed part and its tables. */
static size_t pastry_state_size(const struct proto_config *cfg)
{
    return pastry_bytes_per_node((unsigned)cfg->v[PASTRY_P_B].i, (unsigned)cfg->v[PASTRY_P_LEAF].i,
                                 (unsigned)cfg->v[PASTRY_P_NBR].i);
}

static int pastry_setup(struct sim *s, const struct proto_config *cfg)
{
    unsigned l = (unsigned)cfg->v[PASTRY_P_LEAF].i;
    if (l % 2) {
        fprintf(stderr, "p2plab: pastry: leaf_set must be even, l/2 on each side (got %u)\n", l);
        return -1;
    }
    struct pastry_global *g = mem_calloc(1, sizeof *g, "pastry");
    config_read(g, cfg);
    g->cap = sim_capacity(s);
    kit_pool_init(&g->recs, sizeof(struct pastry_rec), 1024, g->cap, "pastry: routing records");
    sim_set_protocol_data(s, g);
    return 0;
}

/* n is down: its records in flight die with it (its tables are in its slab record). */
static void pastry_down(struct sim *s, node_t n)
{
    kit_pool_node_down(&pastry_g(s)->recs, n);
}

static void pastry_teardown(struct sim *s)
{
    struct pastry_global *g = pastry_g(s);
    if (!g)
        return;
    kit_pool_free(&g->recs);
    free(g);
    sim_set_protocol_data(s, NULL);
}

/* Rules the table cannot say, checked when the scenario is loaded (see protocol.h). */
static int pastry_validate(const struct proto_config *cfg, const struct proto_env *env,
                           const char **param, char *why, size_t len)
{
    (void)env;
    long long l = (long long)cfg->v[PASTRY_P_LEAF].i;
    if (l % 2 == 0)
        return 0;
    *param = "leaf_set";
    snprintf(why, len, "protocols.pastry.leaf_set must be even, l/2 on each side of the node "
             "(got %lld): use %lld or %lld", l, l - 1, l + 1);
    return -1;
}

/* ==== invariants (checked builds) ========================================================= */

#ifdef P2PLAB_CHECK
#include "sim/invariant.h"

/* In a stable network (a converged start, nothing since: sim_invariant_stable) each node's
 * leaf set holds the true neighbours: on each side, closest first, the min(l/2, N - 1) live
 * nodes numerically next to it (Rowstron & Druschel, Middleware 2001, sec. 2.1). */
static void pastry_check_invariants(struct sim *s)
{
    if (!sim_invariant_stable(s))
        return;
    const struct pastry_global *g = pastry_g(s);
    node_t cap = sim_capacity(s);
    struct converge_node *v = mem_calloc(cap, sizeof *v, "pastry: the ring, for its invariants");
    size_t len = sim_invariant_sorted(s, v, cap);
    size_t want = len - 1 < g->half ? len - 1 : g->half;
    node_t pick[SIM_INVARIANT_NODES];
    node_t n_pick = sim_invariant_nodes(s, pick);
    for (node_t q = 0; q < n_pick && len > 0; q++) {
        struct pastry_node *nd = pastry_node(s, pick[q]);
        size_t k = converge_lower_bound(v, len, nd->self.id);
        while (k < len && v[k].slot != pick[q])
            k++;
        if (k == len)
            sim_invariant_fail(s, pick[q], "its own identifier is not the one it joined with");
        if (nd->nleft != want || nd->nright != want)
            sim_invariant_fail(s, pick[q], "the network is stable, but its leaf set holds %u left "
                               "and %u right entries, not %zu each", nd->nleft, nd->nright, want);
        const struct peer *left = LEFT(g, nd), *right = RIGHT(g, nd);
        for (size_t j = 0; j < want; j++) {
            const struct converge_node *l = &v[(k + len - 1 - j) % len], *r = &v[(k + 1 + j) % len];
            if (left[j].addr.slot != l->slot || left[j].id != l->id)
                sim_invariant_fail(s, pick[q], "the network is stable, but left leaf %zu is node "
                                   "%u, not its true neighbour node %u (id %016llx)", j,
                                   left[j].addr.slot, l->slot, (unsigned long long)l->id);
            if (right[j].addr.slot != r->slot || right[j].id != r->id)
                sim_invariant_fail(s, pick[q], "the network is stable, but right leaf %zu is node "
                                   "%u, not its true neighbour node %u (id %016llx)", j,
                                   right[j].addr.slot, r->slot, (unsigned long long)r->id);
        }
    }
    free(v);
}

/* Test only: n forgets its closest right-hand leaf, which check_invariants catches. */
static void pastry_invariant_break(struct sim *s, node_t n)
{
    struct pastry_node *nd = pastry_node(s, n);
    if (nd->nright > 0)
        nd->nright--;
}
#endif

const struct protocol pastry_protocol = {
    .msg_names = pastry_msg_name,
    .n_msg_names = PASTRY_MSG_COUNT,
    .name = "pastry",
    .summary = "Pastry: prefix routing in base 2^b, leaf set, proximity-aware routing table",
    .paper = "Rowstron & Druschel, Pastry: scalable, decentralized object location and routing "
             "for large-scale peer-to-peer systems, Middleware 2001",
    .params = pastry_params,
    .counters = pastry_counters,
    .gauges = pastry_gauges,
    .gauge = pastry_gauge,
    .keys = KEYS_NUMERIC,
    .node_state_size = sizeof(struct pastry_node),
    .state_size = pastry_state_size,
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
    .down = pastry_down,
    .validate = pastry_validate,
#ifdef P2PLAB_CHECK
    .check_invariants = pastry_check_invariants,
    .invariant_break = pastry_invariant_break,
#endif
};
