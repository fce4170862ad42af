/* chord.c — Chord (Stoica, Morris, Karger, Kaashoek, Balakrishnan, SIGCOMM 2001 / ToN 2003),
 * with DHash's stored data (Dabek et al., CFS, SOSP 2001; Cates, MEng thesis 2003).
 *
 * A 64-bit identifier ring; a key belongs to its successor, the first node clockwise at or
 * after it. Each node keeps its predecessor, a list of its first r successors and 64 fingers,
 * finger i = successor(id + 2^i).
 *
 * Stored data. With `store: off` keys are owned implicitly, as in the paper's lookup
 * evaluation: a lookup succeeds when it names the key's live successor. With `store: on` nodes
 * hold the keys' values (value_size bytes each on the wire): a key is stored at its successor
 * and copied to the next replicas - 1 successors (DHash in CFS, SOSP 2001); an insert finds the
 * owner and sends it the value, which the owner copies on; a joining node receives from its
 * successor the keys it now owns, on the notify that makes it the successor's predecessor
 * (SIGCOMM 2001 §4.4); a leaving node hands its keys to its successor (ToN 2003 §IV-E.3); and
 * every `repair` period a node runs DHash's local maintenance: it lists the keys of its own
 * range (predecessor, self] to each of its next replicas - 1 successors, which answer with the
 * keys they lack (pushed to them) and push back the keys of that range the node lacks (a list
 * of keys stands in for the Merkle trees of Cates' synchronisation). Nodes never drop a copy
 * they hold (global maintenance, which moves misplaced keys, is not modelled). A lookup, once
 * routing has found the owner, fetches the value: iterative lookups ask the owner, then its
 * successors up to replicas in all, moving on after a "not here" or a timeout; recursive
 * lookups are answered by the owner with the value. A lookup that finds no copy ends
 * NOT_FOUND; the engine judges a lookup by the value (the answering node must hold it) and
 * measures keys.lost.
 *
 * Timers run the paper's maintenance (ToN §IV-E, Fig. 7), each period jittered uniformly in
 * [0.5, 1.5]x its mean: stabilize asks the successor for its predecessor and successor list and
 * notifies it; check_predecessor pings the predecessor; each fix_fingers call refreshes the
 * next finger in turn with one lookup (the paper's `next`; the variant finger_refresh: all
 * re-looks-up every distinct finger per call, about log2 N lookups). With pns > 1, proximity
 * neighbour selection (Gummadi et al., SIGCOMM 2003) makes each finger the node nearest by
 * measured RTT among the first pns successors of its start. Lookups are
 * iterative (the origin asks each hop for its closest preceding node) or recursive (each hop
 * forwards, acknowledged hop by hop); both end with an owner check at the key's successor,
 * which answers whether the key lies in (its predecessor, itself] and otherwise names that
 * predecessor, from which routing continues. The only failure detector is an RPC timeout (after
 * `retries` re-sends; 0 by default, the paper's lossless network; with network.loss > 0 use
 * 1-2, as Pastry's `retries`): the dead contact is dropped from fingers, successor list and
 * predecessor, and routing continues with the next-best contact. An iterative step carries the
 * addresses that have timed out during the lookup, and the asked node answers as if they were
 * absent (it does not drop them itself); its reply names next_hops candidates (the paper: one),
 * and when they time out the origin asks the node that named them again, for its next best.
 *
 * Beyond the ToN pseudocode, as the SIGCOMM'01 join does, a joining node takes its successor's
 * predecessor for its own; and a stabilize that finds a closer successor asks it at once, so a
 * node walks down the predecessor chain to its true successor within one round. Known limit:
 * like the paper's protocol, stabilization cannot untangle a ring whose successor pointers
 * interleave, which bursts of thousands of joins into a small ring can produce (Zave, "Using
 * lightweight modeling to understand Chord", 2012); joins spread over minutes converge. The
 * introducer's answer is a message that may be lost: a joining node that has no answer after
 * an RPC timeout asks again, backing off as failed joins do.
 *
 * Memory. Each node's slab record is struct chord_node (472 bytes: own contact, predecessor,
 * cursors, the join back-off, the vector of stored keys, and the 64 fingers as runs of equal
 * consecutive fingers, 24 of 16 bytes inline, since at N nodes only about log2 N fingers are
 * distinct) followed by its successor list, r contacts of 16 bytes whose length r is a
 * parameter: 472 + 16·r bytes per node, so 728 with the default r = 16; a node with more than
 * 24 runs keeps the rest in a buffer of its own (128 bytes for up to 8 more, doubling); with
 * store: on, 8 bytes per key held besides.
 * Lookups in flight live in a kit pool (struct chord_rec, 344 bytes, plus a list of max(r, 16)
 * contacts), named in the RPC context by index and generation and
 * freed when their node goes down; the pool keeps 4 bytes per slot (the head of the node's
 * records) and no record per node.
 *
 * Virtual nodes (SIGCOMM 2001 §6.2) come from the engine: with nodes.vnodes = v each host runs
 * v independent Chord nodes with their own identifiers, which share its network position and
 * its fate under churn. */
#include "protocols/protocol.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/chord_internal.h"
#include "protocols/kit.h"
#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define CHORD_BITS 64                 /* identifier bits m */
#define CHORD_SUCC_MAX 64             /* the `successors` parameter's maximum */
#define CHORD_CANDS 16                /* candidates an iterative lookup keeps at its origin */
#define CHORD_DEAD_MAX 16             /* contacts a lookup remembers as timed out */
#define CHORD_HOP_LIMIT (2 * CHORD_BITS)  /* routing loop guard: requests per lookup */
#define CHORD_STAB_CHAIN 32           /* follow-up stabilizes in one round (see on_stab_rep) */
#define CHORD_XFER_MAX 64             /* keys per STORE or SYNC message */
#define CHORD_NEXT_HOPS_MAX 16        /* the `next_hops` parameter's maximum */

/* ==== parameters ========================================================================== */

enum chord_param {
    CHORD_P_SUCCESSORS,
    CHORD_P_STABILIZE,
    CHORD_P_FIX_FINGERS,
    CHORD_P_CHECK_PRED,
    CHORD_P_MODE,
    CHORD_P_TIMEOUT,
    CHORD_P_RETRIES,
    CHORD_P_STORE,
    CHORD_P_REPLICAS,
    CHORD_P_VALUE_SIZE,
    CHORD_P_REPAIR,
    CHORD_P_FINGER_REFRESH,
    CHORD_P_NEXT_HOPS,
    CHORD_P_PNS,
};

enum chord_mode { CHORD_ITERATIVE, CHORD_RECURSIVE };
enum chord_refresh { CHORD_REFRESH_ONE, CHORD_REFRESH_ALL };

static const struct param chord_params[] = {
    [CHORD_P_SUCCESSORS] = { .name = "successors", .type = PARAM_INT, .def = "16", .min = 1,
      .max = CHORD_SUCC_MAX,
      .doc = "successor-list length r; the paper uses r = O(log N) (16)" },
    [CHORD_P_STABILIZE] = { .name = "stabilize", .type = PARAM_DURATION, .def = "30s",
      .min = 0.001, .max = 86400,
      .doc = "mean stabilize period, each round jittered in [0.5, 1.5]x (paper: randomized, 30 s mean)" },
    [CHORD_P_FIX_FINGERS] = { .name = "fix_fingers", .type = PARAM_DURATION, .def = "60s",
      .min = 0.001, .max = 86400,
      .doc = "mean period of fix_fingers, each jittered in [0.5, 1.5]x; what one call "
             "refreshes is finger_refresh" },
    [CHORD_P_CHECK_PRED] = { .name = "check_predecessor", .type = PARAM_DURATION, .def = "30s",
      .min = 0.001, .max = 86400,
      .doc = "mean period of the predecessor liveness ping, each jittered in [0.5, 1.5]x" },
    [CHORD_P_MODE] = { .name = "mode", .type = PARAM_ENUM, .def = "iterative",
      .choices = "iterative|recursive",
      .doc = "lookup style: the origin asks each hop (iterative) or each hop forwards (recursive)" },
    [CHORD_P_TIMEOUT] = { .name = "timeout", .type = PARAM_DURATION, .def = "1s", .min = 0.001,
      .max = 600,
      .doc = "RPC timeout after which a silent node is taken as failed" },
    [CHORD_P_RETRIES] = { .name = "retries", .type = PARAM_INT, .def = "0", .min = 0, .max = 8,
      .doc = "re-sends of an unanswered RPC before its target is taken as failed; the paper "
             "assumes no loss (0); use 1-2 with network.loss > 0, as UDP implementations retransmit" },
    [CHORD_P_STORE] = { .name = "store", .type = PARAM_ENUM, .def = "off", .choices = "off|on",
      .doc = "on: nodes store the keys' values (DHash, CFS SOSP 2001) and a lookup succeeds "
             "when it returns the value; off: routing only, a lookup succeeds when it reaches the "
             "key's live successor (the lookup experiments of SIGCOMM 2001 §6)" },
    [CHORD_P_REPLICAS] = { .name = "replicas", .type = PARAM_INT, .def = "1", .min = 1,
      .max = CHORD_SUCC_MAX,
      .doc = "store: on: copies of each key, at its successor and the next replicas - 1 "
             "successors (DHash in CFS, SOSP 2001); 1 stores each key once, as the failure "
             "experiment of SIGCOMM 2001 §6.4 assumes; at most `successors`" },
    [CHORD_P_VALUE_SIZE] = { .name = "value_size", .type = PARAM_INT, .def = "8192", .min = 0,
      .max = 999999,
      .doc = "store: on: bytes of a key's value on the wire, charged on every transfer and "
             "fetch, up to 999,999 (CFS, SOSP 2001, stores 8 KB blocks)" },
    [CHORD_P_REPAIR] = { .name = "repair", .type = PARAM_DURATION, .def = "30s", .min = 0.001,
      .max = 86400,
      .doc = "store: on: mean period of local maintenance (DHash; Cates, MEng thesis 2003): a "
             "node checks that its replicas - 1 successors hold its keys and pushes the missing ones; not "
             "given in the papers, the stabilize period by default" },
    [CHORD_P_FINGER_REFRESH] = { .name = "finger_refresh", .type = PARAM_ENUM, .def = "one",
      .choices = "one|all",
      .doc = "what a fix_fingers call refreshes: one: the next finger in turn, one lookup "
             "(SIGCOMM 2001 Fig. 6 and ToN 2003 Fig. 7, `next = next + 1`); all: every distinct "
             "finger, about log2 N lookups one after another (a variant: p2plab's earlier round)" },
    [CHORD_P_NEXT_HOPS] = { .name = "next_hops", .type = PARAM_INT, .def = "1", .min = 1,
      .max = CHORD_NEXT_HOPS_MAX,
      .doc = "next-hop candidates in an iterative step's reply, closest preceding first; the "
             "paper's step returns one node, closest_preceding_node (ToN 2003 Fig. 5), and after "
             "a timeout the lookup asks again for the next best (ToN §IV-E.3) (1)" },
    [CHORD_P_PNS] = { .name = "pns", .type = PARAM_INT, .def = "0", .min = 0,
      .max = CHORD_SUCC_MAX,
      .doc = "proximity neighbour selection: each finger is the node of lowest measured RTT "
             "among the first pns successors of its start that lie in its interval (at most r; "
             "Gummadi et al., SIGCOMM 2003, PNS(k); p2psim ChordFingerPNS); 0 or 1: off, "
             "the paper's fingers" },
    { .name = NULL },
};

/* Counters (sim_count), reported per run. */
enum chord_counter {
    CHORD_C_FINGER_LOOKUPS,           /* fix_fingers lookups started */
    CHORD_C_NEXT_REPLIES,             /* iterative replies naming next hops (CHORD_FIND_NEXT) */
    CHORD_C_NEXT_CONTACTS,            /* next-hop contacts those replies carried */
    CHORD_C_PNS_PINGS,                /* RTT probes sent to finger candidates */
};
static const char *const chord_counters[] = {
    [CHORD_C_FINGER_LOOKUPS] = "finger_lookups",
    [CHORD_C_NEXT_REPLIES] = "next_hop_replies",
    [CHORD_C_NEXT_CONTACTS] = "next_hop_contacts",
    [CHORD_C_PNS_PINGS] = "pns_pings",
    NULL,
};

/* ==== messages ============================================================================ */

/* The messages and their sizes on the wire are listed in chord_internal.h (CHORD_MESSAGES). */
KIT_MSG_TABLES(chord, CHORD, CHORD_MESSAGES, CHORD_WIRE_IP_UDP + CHORD_WIRE_HEADER);

/* Bodies: a tagged union, the tag being the message type. Lists are sent only up to their
 * count, so the bytes copied per event follow r, not CHORD_SUCC_MAX. */
struct chord_key_req {                /* CHECK_REQ */
    uint64_t key;
};
struct chord_find_req {               /* FIND_REQ */
    uint64_t key;
    uint8_t ndead;
    struct addr dead[CHORD_DEAD_MAX]; /* leave these out: they did not answer the asker */
};
enum chord_find_answer {
    CHORD_FIND_NEXT,                  /* the list holds the next hops, closest preceding first */
    CHORD_FIND_SUCC,                  /* key in (node, successor]: the list is its successor list */
    CHORD_FIND_MINE,                  /* key in (predecessor, node]: the node itself, then its list */
};
struct chord_list_rep {               /* FIND_REP, LEAVE_PRED */
    uint8_t done;                     /* FIND_REP: enum chord_find_answer */
    uint8_t count;
    struct peer peer[CHORD_SUCC_MAX + 1];
};
struct chord_check_rep {              /* CHECK_REP */
    uint8_t yes;
    struct peer pred;                 /* the answering node's predecessor */
};
struct chord_fwd_req {                /* FWD_REQ, FWD_CHECK_REQ */
    uint64_t key;
    struct addr origin;
    uint16_t hops;                    /* routing hops so far */
};
struct chord_done {                   /* DONE */
    uint8_t outcome;                  /* enum outcome */
    uint16_t hops;
    struct peer owner;
};
struct chord_stab_rep {               /* STAB_REP */
    struct peer pred;
    uint8_t count;
    struct peer peer[CHORD_SUCC_MAX];
};
struct chord_peer_msg {               /* NOTIFY (the sender), LEAVE_SUCC (its predecessor) */
    struct peer peer;
};
struct chord_get_rep {                /* GET_REP */
    uint8_t found;                    /* the value follows */
};
struct chord_store {                  /* STORE */
    uint8_t replicate;                /* an insert: the owner copies it to its successors */
    uint8_t count;
    uint64_t key[CHORD_XFER_MAX];
};
struct chord_sync {                   /* SYNC_REQ (range and keys held in it), SYNC_REP (lacked) */
    uint64_t lo, hi;                  /* SYNC_REQ: the keys in (lo, hi] */
    uint8_t count;
    uint64_t key[CHORD_XFER_MAX];
};

union chord_body {
    struct chord_key_req key_req;
    struct chord_find_req find_req;
    struct chord_list_rep list_rep;
    struct chord_check_rep check_rep;
    struct chord_fwd_req fwd_req;
    struct chord_done done;
    struct chord_stab_rep stab_rep;
    struct chord_peer_msg peer_msg;
    struct chord_get_rep get_rep;
    struct chord_store store;
    struct chord_sync sync;
};

#define CHORD_LIST_LEN(n) (offsetof(struct chord_list_rep, peer) + (size_t)(n) * sizeof(struct peer))
#define CHORD_FIND_LEN(n) (offsetof(struct chord_find_req, dead) + (size_t)(n) * sizeof(struct addr))
#define CHORD_STAB_LEN(n) (offsetof(struct chord_stab_rep, peer) + (size_t)(n) * sizeof(struct peer))
_Static_assert(sizeof(struct chord_store) <= sizeof(struct chord_sync),
               "msg_body_max counts the sync body only");
#define CHORD_STORE_LEN(n) (offsetof(struct chord_store, key) + (size_t)(n) * sizeof(uint64_t))
#define CHORD_SYNC_LEN(n) (offsetof(struct chord_sync, key) + (size_t)(n) * sizeof(uint64_t))

/* ==== state =============================================================================== */

enum chord_timer {
    CHORD_TIMER_STABILIZE,
    CHORD_TIMER_CHECK_PRED,
    CHORD_TIMER_FIX_FINGERS,
    CHORD_TIMER_JOIN_RETRY,
    CHORD_TIMER_JOIN_WATCHDOG,        /* arg: the join epoch of the question it watches */
    CHORD_TIMER_REPAIR,               /* store: on: local maintenance of the replicas */
};

enum chord_phase { CHORD_OUT, CHORD_JOINING, CHORD_JOINED };

#define CHORD_F_TIMERS 0x01           /* periodic timers armed for this incarnation */
#define CHORD_F_KNEW_OTHERS 0x02      /* has had a successor other than itself */
#define CHORD_F_FF_BUSY 0x04          /* a fix_fingers lookup for finger ff_next is in flight */

/* One node, its slab record: the fixed part, then its successor list (state_size). What every
 * event reads (self, predecessor, counts, phase, flags) shares the record's first 64 bytes, so
 * that a timer or a stabilize request touches that line and the successor list, not the
 * fingers between them. */
struct chord_node {
    struct peer self;
    struct peer pred;                 /* addr.slot == NODE_NONE: unknown */
    uint32_t wait_head;               /* lookups waiting for the join to finish (records) */
    uint8_t nsucc;                    /* entries in the successor list */
    uint8_t phase;                    /* enum chord_phase */
    uint8_t ff_next;                  /* fix_fingers' `next`: the finger being looked up
                                         (CHORD_F_FF_BUSY), else the next one to refresh */
    uint8_t flags;                    /* CHORD_F_* */
    struct kit_join join;             /* join back-off and introducer watchdog */
    struct kit_vec keys;              /* store: on: the keys whose values n holds (uint64_t,
                                         sorted); the buffer is n's, freed when it goes down */
    struct chord_fingers finger;      /* successor(id + 2^i), as runs ("fingers" below) */
    struct peer succ[];               /* the successor list: r contacts, nsucc of them valid */
};
#define CHORD_NODE_BYTES 472
_Static_assert(sizeof(struct chord_node) == CHORD_NODE_BYTES, "update the figure in the opening comment");
_Static_assert(offsetof(struct chord_node, finger) == 64, "the fields every event reads fill one cache line");

enum chord_purpose {
    CHORD_FOR_LOOKUP,                 /* a workload lookup, iterative, at its origin */
    CHORD_FOR_JOIN,                   /* a joining node's search for its successor */
    CHORD_FOR_FINGER,                 /* a fix_fingers lookup */
    CHORD_FOR_FORWARD,                /* a recursive lookup at one of its hops */
    CHORD_FOR_INSERT,                 /* store: on: finding a key's owner to store it there */
};

enum chord_rec_phase {
    CHORD_REC_WAIT,                   /* the owner has not joined yet */
    CHORD_REC_ROUTE,                  /* looking for the key's predecessor */
    CHORD_REC_CHECK,                  /* asking the owner candidates in turn */
    CHORD_REC_DONE,                   /* recursive: the answer is on its way to the origin */
    CHORD_REC_FETCH,                  /* store: on: asking the owner, then the replicas, for
                                         the value (the list holds them) */
    CHORD_REC_PNS,                    /* FINGER with pns: measuring the RTT to the candidates */
};

/* A lookup in flight at one node (op.owner), a record of the kit pool. Its list (g->stride
 * entries) holds the routing candidates, closest to the key first (ROUTE), or the owners to
 * try (CHECK). */
struct chord_rec {
    struct kit_op op;
    uint64_t key;
    struct addr origin;               /* FORWARD: where the answer goes */
    uint32_t lookup;                  /* workload lookup id, or LOOKUP_NONE */
    uint16_t hops;                    /* routing hops so far: the paper's path length */
    uint16_t steps;                   /* requests sent, retries included, against the loop guard */
    uint16_t nlist;                   /* entries in the list */
    uint16_t pos;                     /* CHECK: the entry being asked */
    uint8_t purpose;                  /* enum chord_purpose */
    uint8_t phase;                    /* enum chord_rec_phase */
    uint8_t finger;                   /* FINGER: the finger looked up */
    uint8_t ndead;                    /* entries in dead[] (a ring once full) */
    uint8_t dead_next;
    uint8_t nasked, asked_next;       /* entries in asked[] (a ring once full), the next slot */
    uint8_t tries;                    /* re-sends of the RPC in flight so far */
    uint8_t outcome;                  /* DONE: enum outcome; FETCH: the outcome if no one
                                         returns the value (NOT_FOUND once one answered);
                                         PNS: 1 once the owner answered */
    struct addr dead[CHORD_DEAD_MAX]; /* contacts that timed out during this lookup */
    struct addr asked[CHORD_DEAD_MAX];    /* iterative: the last nodes that answered a step */
    uint32_t best_rtt_us;             /* PNS: the lowest RTT measured so far */
    struct peer fallback;             /* said "not mine, ask my predecessor": the owner if that
                                         predecessor turns out dead; DONE: the answer;
                                         PNS: the nearest candidate so far */
    struct peer list[];               /* g->stride contacts */
};
_Static_assert(sizeof(struct chord_rec) == 344, "update the figure in the opening comment");

/* The protocol's global data for one run. */
struct chord_global {
    uint32_t r;                       /* successor-list length */
    int64_t stabilize_us, fix_us, check_us, timeout_us;  /* mean periods, RPC timeout */
    uint32_t retries;                 /* re-sends before a silent node is taken as failed */
    enum chord_mode mode;
    bool store;                       /* nodes store the keys' values */
    uint32_t replicas;                /* copies of each key (store: on) */
    uint32_t value_size;              /* bytes of a value on the wire */
    int64_t repair_us;                /* mean local-maintenance period */
    enum chord_refresh refresh;       /* what one fix_fingers call refreshes */
    uint32_t next_hops;               /* candidates in an iterative step's reply */
    uint32_t pns;                     /* PNS candidates per finger; 0 or 1: off */
    uint32_t stride;                  /* contacts per record list: max(r, CHORD_CANDS) */
    struct kit_pool rec;              /* lookups in flight: struct chord_rec + stride contacts */
};

static const struct peer chord_peer_none = { .id = 0, .addr = { NODE_NONE, 0 } };

/* ==== ring arithmetic (exported for the unit tests) ======================================= */

bool chord_in_oc(uint64_t x, uint64_t a, uint64_t b)
{
    if (a == b)
        return true;
    return x - a - 1 < b - a;
}

bool chord_in_oo(uint64_t x, uint64_t a, uint64_t b)
{
    if (a == b)
        return x != a;
    return x - a - 1 < b - a - 1;
}

uint64_t chord_finger_target(uint64_t id, unsigned i)
{
    return id + (UINT64_C(1) << i);
}

size_t chord_wire_size(unsigned type, size_t entries)
{
    return kit_wire_size(&chord_msgs, type, entries);
}

/* ==== small helpers ======================================================================= */

static struct chord_global *chord_g(struct sim *s) { return sim_protocol_data(s); }
static struct chord_node *chord_node(struct sim *s, node_t n) { return sim_state(s, n); }
static bool peer_ok(struct peer p) { return p.addr.slot != NODE_NONE; }
static bool peer_is(struct peer p, struct addr a) { return peer_ok(p) && addr_eq(p.addr, a); }

/* ==== fingers ============================================================================= */

/* Consecutive fingers mostly name the same node: in a ring of N nodes the fingers below about
 * 64 - log2 N all name the successor, and only about log2 N of the 64 are distinct. A node
 * keeps them as runs, in finger order: bit i of `start` is set where finger i differs from
 * finger i - 1 (bit 0 always), and run k, the contact of the fingers from the k-th set bit up
 * to the next, is run[k], or element k - CHORD_RUNS_INLINE of `more`. Adjacent runs always
 * differ (identifier or address), so a scan of the runs meets the contacts in the order and
 * with the repetitions that a scan of the 64 fingers skipping a repeat of the previous finger
 * meets. Readers scan the runs; writers change a copy of the 64 and store it back (fingers
 * change a few times per maintenance call, lookups read them at every hop). */
_Static_assert(CHORD_FINGERS == CHORD_BITS, "one finger per identifier bit");

static bool peer_same(struct peer a, struct peer b)
{
    return a.id == b.id && addr_eq(a.addr, b.addr);
}

unsigned chord_fingers_nruns(const struct chord_fingers *t)
{
    return (unsigned)__builtin_popcountll(t->start);
}

struct peer chord_fingers_run(const struct chord_fingers *t, unsigned k)
{
    if (k < CHORD_RUNS_INLINE)
        return t->run[k];
    return ((const struct peer *)t->more.v)[k - CHORD_RUNS_INLINE];
}

void chord_fingers_load(const struct chord_fingers *t, struct peer f[CHORD_FINGERS])
{
    unsigned k = 0;
    struct peer p = t->run[0];
    for (unsigned i = 0; i < CHORD_FINGERS; i++) {
        if (i && (t->start >> i & 1))
            p = chord_fingers_run(t, ++k);
        f[i] = p;
    }
}

void chord_fingers_store(struct chord_fingers *t, const struct peer f[CHORD_FINGERS])
{
    uint64_t start = 1;
    unsigned k = 0;
    t->run[0] = f[0];
    t->more.n = 0;
    for (unsigned i = 1; i < CHORD_FINGERS; i++) {
        if (peer_same(f[i], f[i - 1]))
            continue;
        start |= UINT64_C(1) << i;
        if (++k < CHORD_RUNS_INLINE) {
            t->run[k] = f[i];
            continue;
        }
        uint32_t more = k + 1 - CHORD_RUNS_INLINE;
        kit_vec_reserve(&t->more, more, sizeof(struct peer), "chord: finger runs");
        ((struct peer *)t->more.v)[more - 1] = f[i];
        t->more.n = more;
    }
    t->start = start;
}

void chord_fingers_clear(struct chord_fingers *t)
{
    t->start = 1;
    t->run[0] = chord_peer_none;
    t->more.n = 0;
}

void chord_fingers_set(struct chord_fingers *t, unsigned lo, unsigned hi, struct peer p)
{
    if (lo >= hi)
        return;
    /* most calls (fix_fingers' successor fingers) change nothing: lo..hi-1 lie in one run of p */
    uint64_t after = hi < CHORD_FINGERS ? t->start >> lo & ((UINT64_C(1) << (hi - lo)) - 1) : t->start >> lo;
    uint64_t upto = lo + 1 < CHORD_FINGERS ? (UINT64_C(2) << lo) - 1 : UINT64_MAX;
    if ((after >> 1) == 0 &&
        peer_same(chord_fingers_run(t, (unsigned)__builtin_popcountll(t->start & upto) - 1), p))
        return;
    struct peer f[CHORD_FINGERS];
    chord_fingers_load(t, f);
    bool changed = false;
    for (unsigned i = lo; i < hi; i++) {
        changed |= !peer_same(f[i], p);
        f[i] = p;
    }
    if (changed)
        chord_fingers_store(t, f);
}

void chord_fingers_free(struct chord_fingers *t)
{
    kit_vec_free(&t->more);
}

/* Does n hold key: key in (predecessor, n]? Unknown predecessor: n believes so. */
static bool owns(const struct chord_node *nd, uint64_t key)
{
    return !peer_ok(nd->pred) || chord_in_oc(key, nd->pred.id, nd->self.id);
}

/* The kit's wrappers bound to Chord's table and RPC timeout. */
static void send_msg(struct sim *s, node_t n, struct addr to, enum chord_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned contacts)
{
    kit_send(s, &chord_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
             .body = body, .len = len, .entries = contacts });
}

static void send_rpc(struct sim *s, node_t n, struct addr to, enum chord_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned contacts, uint64_t ctx0, uint64_t ctx1)
{
    kit_rpc(s, &chord_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
            .body = body, .len = len, .entries = contacts }, chord_g(s)->timeout_us, ctx0, ctx1);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum chord_msg type,
                      const void *body, size_t len, unsigned contacts)
{
    kit_reply(s, &chord_msgs, n, req, &(struct kit_out){ .type = type, .body = body, .len = len,
              .entries = contacts });
}

/* ==== routing state ======================================================================= */

/* Replaces n's successor list by `first` (if valid) followed by list[0..count), skipping n
 * itself and duplicates, truncated to r. The list stops where it wraps round to n. */
static void set_successors(struct sim *s, node_t n, struct peer first, const struct peer *list,
                           unsigned count)
{
    struct chord_global *g = chord_g(s);
    struct chord_node *nd = chord_node(s, n);
    struct peer tmp[CHORD_SUCC_MAX + 1];
    unsigned m = 0;
    for (unsigned k = 0; k <= count && m < g->r; k++) {
        struct peer p = k == 0 ? first : list[k - 1];
        if (!peer_ok(p))
            continue;
        if (addr_eq(p.addr, nd->self.addr))
            break;
        bool dup = false;
        for (unsigned j = 0; j < m && !dup; j++)
            dup = addr_eq(tmp[j].addr, p.addr);
        if (!dup)
            tmp[m++] = p;
    }
    memcpy(nd->succ, tmp, m * sizeof *nd->succ);
    nd->nsucc = (uint8_t)m;
    if (m)
        nd->flags |= CHORD_F_KNEW_OTHERS;
}

/* With an empty successor list, the closest contact clockwise (a finger, else the predecessor)
 * stands in until stabilization repairs the list. */
static void refill_successor(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    if (nd->nsucc)
        return;
    struct peer best = chord_peer_none;
    for (unsigned k = 0, nr = chord_fingers_nruns(&nd->finger); k < nr; k++) {
        struct peer f = chord_fingers_run(&nd->finger, k);
        if (!peer_ok(f) || addr_eq(f.addr, nd->self.addr))
            continue;
        if (!peer_ok(best) || f.id - nd->self.id < best.id - nd->self.id)
            best = f;
    }
    if (!peer_ok(best))
        best = nd->pred;
    if (peer_ok(best))
        set_successors(s, n, best, NULL, 0);
}

/* n learned from a timeout that `a` is dead: drop it everywhere. */
static void forget(struct sim *s, node_t n, struct addr a)
{
    struct chord_node *nd = chord_node(s, n);
    unsigned m = 0;
    for (unsigned k = 0; k < nd->nsucc; k++)
        if (!addr_eq(nd->succ[k].addr, a))
            nd->succ[m++] = nd->succ[k];
    nd->nsucc = (uint8_t)m;
    for (unsigned k = 0, nr = chord_fingers_nruns(&nd->finger); k < nr; k++) {
        if (peer_is(chord_fingers_run(&nd->finger, k), a)) {
            struct peer f[CHORD_BITS];
            chord_fingers_load(&nd->finger, f);
            for (unsigned i = 0; i < CHORD_BITS; i++)
                if (peer_is(f[i], a))
                    f[i] = chord_peer_none;
            chord_fingers_store(&nd->finger, f);
            break;
        }
    }
    if (peer_is(nd->pred, a))
        nd->pred = chord_peer_none;
    refill_successor(s, n);
}

/* ==== stored data (store: on) ============================================================= */

static bool keys_has(const struct chord_node *nd, uint64_t key)
{
    uint32_t i = kit_vec_lower_bound(&nd->keys, sizeof(uint64_t), key);
    return i < nd->keys.n && ((const uint64_t *)nd->keys.v)[i] == key;
}

/* n now holds key's value (nothing changes if it did already). */
static void keys_add(struct sim *s, node_t n, uint64_t key)
{
    struct chord_node *nd = chord_node(s, n);
    uint32_t i = kit_vec_lower_bound(&nd->keys, sizeof(uint64_t), key);
    if (i < nd->keys.n && ((const uint64_t *)nd->keys.v)[i] == key)
        return;
    *(uint64_t *)kit_vec_insert(&nd->keys, i, sizeof(uint64_t), "chord: stored keys") = key;
    sim_key_gained(s, n, key);
}

/* n's keys in (lo, hi], in ring order from lo (lo == hi: all of them), in a fresh array the
 * caller frees; *count says how many. */
static uint64_t *keys_in(const struct chord_node *nd, uint64_t lo, uint64_t hi, unsigned *count)
{
    const uint64_t *k = nd->keys.v;
    uint32_t n = nd->keys.n;
    uint64_t *out = mem_calloc(n ? n : 1, sizeof *out, "chord: keys to transfer");
    uint32_t start = kit_vec_lower_bound(&nd->keys, sizeof(uint64_t), lo + 1);
    unsigned m = 0;
    for (uint32_t j = 0; j < n; j++) {
        uint64_t key = k[(start + j) % n];
        if (chord_in_oc(key, lo, hi))
            out[m++] = key;
    }
    *count = m;
    return out;
}

/* Sends keys[0..count) with their values (value_size bytes each on the wire) to `to`, in
 * messages of at most CHORD_XFER_MAX keys. */
static void store_send(struct sim *s, node_t n, struct addr to, const uint64_t *keys, unsigned count,
                       bool replicate)
{
    struct chord_global *g = chord_g(s);
    for (unsigned k = 0; k < count; k += CHORD_XFER_MAX) {
        unsigned m = count - k < CHORD_XFER_MAX ? count - k : CHORD_XFER_MAX;
        struct chord_store body = { .replicate = replicate, .count = (uint8_t)m };
        memcpy(body.key, keys + k, m * sizeof body.key[0]);
        kit_send(s, &chord_msgs, n, to, &(struct kit_out){ .type = CHORD_MSG_STORE,
                 .lookup = LOOKUP_NONE, .body = &body, .len = CHORD_STORE_LEN(m), .entries = m,
                 .extra = (size_t)m * g->value_size });
    }
}

/* n, the owner of key, stores it and copies it to its next replicas - 1 successors (an insert). */
static void store_at_owner(struct sim *s, node_t n, uint64_t key)
{
    struct chord_global *g = chord_g(s);
    keys_add(s, n, key);
    const struct chord_node *nd = chord_node(s, n);
    for (unsigned k = 0; k + 1 < g->replicas && k < nd->nsucc; k++)
        store_send(s, n, nd->succ[k].addr, &key, 1, false);
}

static void on_store(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_store *b = m->body;
    for (unsigned k = 0; k < b->count; k++) {
        if (b->replicate)
            store_at_owner(s, n, b->key[k]);
        else
            keys_add(s, n, b->key[k]);
    }
}

/* Local maintenance (DHash; Cates, MEng thesis 2003; Dabek et al., NSDI 2004): n lists the
 * keys it holds in its own range (predecessor, n] to each of its next replicas - 1 successors,
 * which answer with the keys they lack (n pushes them) and push to n the keys of that range
 * that n lacks. A plain list of keys stands in for the papers' Merkle-tree comparison: 8 bytes
 * per key. */
static void repair(struct sim *s, node_t n)
{
    struct chord_global *g = chord_g(s);
    const struct chord_node *nd = chord_node(s, n);
    if (!peer_ok(nd->pred) || nd->nsucc == 0 || g->replicas < 2)
        return;
    unsigned cnt;
    uint64_t *k = keys_in(nd, nd->pred.id, nd->self.id, &cnt);
    unsigned targets = g->replicas - 1 < nd->nsucc ? g->replicas - 1 : nd->nsucc;
    for (unsigned t = 0; t < targets; t++) {
        unsigned b = 0;
        do {
            unsigned m = cnt - b < CHORD_XFER_MAX ? cnt - b : CHORD_XFER_MAX;
            struct chord_sync body = { .lo = b ? k[b - 1] : nd->pred.id,
                                       .hi = b + m >= cnt ? nd->self.id : k[b + m - 1],
                                       .count = (uint8_t)m };
            memcpy(body.key, k + b, m * sizeof body.key[0]);
            send_rpc(s, n, nd->succ[t].addr, CHORD_MSG_SYNC_REQ, LOOKUP_NONE, &body,
                     CHORD_SYNC_LEN(m), m, 0, 0);
            b += m;
        } while (b < cnt);
    }
    free(k);
}

static bool key_listed(const uint64_t *k, unsigned n, uint64_t key)
{
    for (unsigned j = 0; j < n; j++)
        if (k[j] == key)
            return true;
    return false;
}

/* A predecessor's keys in (lo, hi]: n answers with those it lacks and pushes those the
 * predecessor lacks. */
static void on_sync_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_sync *b = m->body;
    const struct chord_node *nd = chord_node(s, n);
    struct chord_sync rep = { .count = 0 };
    for (unsigned j = 0; j < b->count; j++)
        if (!keys_has(nd, b->key[j]))
            rep.key[rep.count++] = b->key[j];
    kit_reply(s, &chord_msgs, n, m, &(struct kit_out){ .type = CHORD_MSG_SYNC_REP, .body = &rep,
              .len = CHORD_SYNC_LEN(rep.count), .entries = rep.count });
    unsigned cnt, extra = 0;
    uint64_t *k = keys_in(nd, b->lo, b->hi, &cnt);
    for (unsigned j = 0; j < cnt; j++)
        if (!key_listed(b->key, b->count, k[j]))
            k[extra++] = k[j];
    store_send(s, n, m->src, k, extra, false);
    free(k);
}

/* A successor lacks these of n's keys: n pushes those it still holds. */
static void on_sync_rep(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_sync *b = m->body;
    const struct chord_node *nd = chord_node(s, n);
    uint64_t k[CHORD_XFER_MAX];
    unsigned c = 0;
    for (unsigned j = 0; j < b->count; j++)
        if (keys_has(nd, b->key[j]))
            k[c++] = b->key[j];
    store_send(s, n, m->src, k, c, false);
}

static void on_get_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_key_req *b = m->body;
    struct chord_get_rep rep = { .found = keys_has(chord_node(s, n), b->key) };
    kit_reply(s, &chord_msgs, n, m, &(struct kit_out){ .type = CHORD_MSG_GET_REP, .body = &rep,
              .len = sizeof rep, .extra = rep.found ? chord_g(s)->value_size : 0 });
}

static bool addr_in(const struct addr *set, unsigned n, struct addr a)
{
    for (unsigned k = 0; k < n; k++)
        if (addr_eq(set[k], a))
            return true;
    return false;
}

/* Inserts p into out[0..*m) kept sorted by clockwise distance to key (closest first), without
 * duplicates, keeping at most k entries. */
static void cand_insert(struct peer *out, unsigned *m, unsigned k, struct peer p, uint64_t key)
{
    uint64_t d = key - p.id;
    for (unsigned j = 0; j < *m; j++)
        if (addr_eq(out[j].addr, p.addr))
            return;
    if (*m == k && d >= key - out[*m - 1].id)
        return;
    unsigned j = *m < k ? *m : k - 1;
    while (j > 0 && key - out[j - 1].id > d) {
        out[j] = out[j - 1];
        j--;
    }
    out[j] = p;
    if (*m < k)
        (*m)++;
}

/* closest_preceding for k = 1 (recursive steps, and iterative ones with next_hops 1): the
 * contact nearest before key, the first met of equals, in the scan order of the general case
 * and with its result; a contact is checked against skip[] only if it would be the best so
 * far. */
static unsigned closest_preceding_one(const struct chord_node *nd, uint64_t key,
                                      const struct addr *skip, unsigned nskip, struct peer *out)
{
    uint64_t self = nd->self.id, span = key - self - 1;     /* in (self, key): p.id - self - 1 < span */
    bool whole = key == self;                              /* (self, self): all but self */
    uint64_t best_d = 0;
    bool found = false;
    struct addr last = ADDR_NONE;
    for (unsigned k = chord_fingers_nruns(&nd->finger); k-- > 0;) {
        struct peer p = chord_fingers_run(&nd->finger, k);
        if (!peer_ok(p) || addr_eq(p.addr, last))
            continue;
        last = p.addr;
        uint64_t d = key - p.id;
        if ((found && d >= best_d) || addr_eq(p.addr, nd->self.addr) ||
            !(whole ? p.id != self : p.id - self - 1 < span) || addr_in(skip, nskip, p.addr))
            continue;
        *out = p;
        best_d = d;
        found = true;
    }
    for (unsigned j = 0; j < nd->nsucc; j++) {
        struct peer p = nd->succ[j];
        uint64_t d = key - p.id;
        if ((found && d >= best_d) || !(whole ? p.id != self : p.id - self - 1 < span) ||
            addr_in(skip, nskip, p.addr))
            continue;
        *out = p;
        best_d = d;
        found = true;
    }
    return found;
}

/* Up to k distinct contacts of n in (n, key), closest preceding first (fingers and successor
 * list, ToN Fig. 5 closest_preceding_node), leaving out the addresses in skip[]. */
static unsigned closest_preceding(struct sim *s, node_t n, uint64_t key, const struct addr *skip,
                                  unsigned nskip, struct peer *out, unsigned k)
{
    const struct chord_node *nd = chord_node(s, n);
    if (k == 1)
        return closest_preceding_one(nd, key, skip, nskip, out);
    unsigned m = 0;
    struct addr last = ADDR_NONE;
    for (unsigned r = chord_fingers_nruns(&nd->finger); r-- > 0;) {
        struct peer p = chord_fingers_run(&nd->finger, r);
        if (!peer_ok(p) || addr_eq(p.addr, last))
            continue;
        last = p.addr;
        if (addr_eq(p.addr, nd->self.addr) || !chord_in_oo(p.id, nd->self.id, key) ||
            addr_in(skip, nskip, p.addr))
            continue;
        cand_insert(out, &m, k, p, key);
    }
    for (unsigned j = 0; j < nd->nsucc; j++) {
        struct peer p = nd->succ[j];
        if (chord_in_oo(p.id, nd->self.id, key) && !addr_in(skip, nskip, p.addr))
            cand_insert(out, &m, k, p, key);
    }
    return m;
}

/* ==== lookup records ====================================================================== */

static struct chord_rec *rec_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &chord_g(s)->rec, i); }
static struct peer *rec_list(struct sim *s, uint32_t i) { return rec_at(s, i)->list; }
static void rec_free(struct sim *s, uint32_t i) { kit_pool_release(&chord_g(s)->rec, i); }
static uint64_t rec_ctx(struct sim *s, uint32_t i) { return kit_pool_ctx(&chord_g(s)->rec, i); }

/* The record an RPC context names, if it is still the same lookup at n; else KIT_NONE. */
static uint32_t rec_from_ctx(struct sim *s, node_t n, uint64_t ctx)
{
    return kit_pool_get(&chord_g(s)->rec, n, ctx);
}

/* A fresh record run by n. Pointers into the pool do not survive this call. */
static uint32_t rec_alloc(struct sim *s, node_t n, enum chord_purpose purpose, uint64_t key,
                          uint32_t lookup)
{
    uint32_t i = kit_pool_alloc(&chord_g(s)->rec, n);
    struct chord_rec *r = rec_at(s, i);
    r->key = key;
    r->origin = ADDR_NONE;
    r->lookup = lookup;
    r->purpose = (uint8_t)purpose;
    r->phase = CHORD_REC_ROUTE;
    r->fallback = chord_peer_none;
    return i;
}

static void rec_dead(struct chord_rec *r, struct addr a)
{
    r->dead[r->dead_next] = a;
    r->dead_next = (uint8_t)((r->dead_next + 1) % CHORD_DEAD_MAX);
    if (r->ndead < CHORD_DEAD_MAX)
        r->ndead++;
}

static bool rec_is_dead(const struct chord_rec *r, struct addr a) { return addr_in(r->dead, r->ndead, a); }

/* Removes the list entry with address a, if any. */
static void rec_list_remove(struct sim *s, uint32_t i, struct addr a)
{
    struct chord_rec *r = rec_at(s, i);
    struct peer *l = rec_list(s, i);
    unsigned m = 0;
    for (unsigned k = 0; k < r->nlist; k++)
        if (!addr_eq(l[k].addr, a))
            l[m++] = l[k];
    r->nlist = (uint16_t)m;
}

/* Enters CHECK with n's own successor list, less the contacts known dead. */
static void rec_check_own(struct sim *s, uint32_t i, node_t n)
{
    const struct chord_node *nd = chord_node(s, n);
    struct chord_rec *r = rec_at(s, i);
    struct peer *l = rec_list(s, i);
    unsigned m = 0;
    for (unsigned k = 0; k < nd->nsucc; k++)
        if (!rec_is_dead(r, nd->succ[k].addr))
            l[m++] = nd->succ[k];
    r->nlist = (uint16_t)m;
    r->pos = 0;
    r->phase = CHORD_REC_CHECK;
}

/* ==== forward declarations (the lookup machinery and maintenance call each other) ========= */

static void iter_send(struct sim *s, uint32_t i);
static void rec_step(struct sim *s, uint32_t i);
static void lookup_begin(struct sim *s, uint32_t i);
static void ff_continue(struct sim *s, node_t n, unsigned i);
static bool ff_current(const struct chord_node *nd, unsigned f);
static void ff_done(struct sim *s, node_t n, unsigned j);
static void ff_apply(struct sim *s, node_t n, unsigned f, struct peer owner, struct peer pick);
static bool pns_start(struct sim *s, uint32_t i, struct peer owner);
static void stabilize(struct sim *s, node_t n, bool joining, unsigned depth);
static void join_retry(struct sim *s, node_t n);
static void join_ask(struct sim *s, node_t n);

/* ==== iterative lookups =================================================================== */

/* The lookup found `owner` after `hops` routing hops. */
static void iter_finish(struct sim *s, uint32_t i, struct peer owner)
{
    if (rec_at(s, i)->purpose == CHORD_FOR_FINGER && chord_g(s)->pns > 1 && pns_start(s, i, owner))
        return;                       /* the finger is chosen when the RTTs are in */
    struct chord_rec r = *rec_at(s, i);
    rec_free(s, i);
    node_t n = r.op.owner;
    struct chord_node *nd = chord_node(s, n);
    switch (r.purpose) {
    case CHORD_FOR_LOOKUP:
        sim_lookup_done(s, r.lookup, OUTCOME_OK, owner.addr, r.hops);
        break;
    case CHORD_FOR_INSERT:
        if (addr_eq(owner.addr, nd->self.addr))
            store_at_owner(s, n, r.key);
        else
            store_send(s, n, owner.addr, &r.key, 1, true);
        break;
    case CHORD_FOR_JOIN:
        if (addr_eq(owner.addr, nd->self.addr)) {
            join_retry(s, n);
            break;
        }
        set_successors(s, n, owner, NULL, 0);
        stabilize(s, n, true, 0);
        break;
    case CHORD_FOR_FINGER:
        if (ff_current(nd, r.finger))
            ff_apply(s, n, r.finger, owner, owner);
        break;
    default:
        SIM_ASSERT(!"iterative record of a recursive lookup");
    }
}

static void iter_fail(struct sim *s, uint32_t i, enum outcome o)
{
    struct chord_rec r = *rec_at(s, i);
    rec_free(s, i);
    node_t n = r.op.owner;
    switch (r.purpose) {
    case CHORD_FOR_LOOKUP:
        sim_lookup_done(s, r.lookup, o, ADDR_NONE, r.hops);
        break;
    case CHORD_FOR_JOIN:
        join_retry(s, n);
        break;
    case CHORD_FOR_FINGER:
        if (ff_current(chord_node(s, n), r.finger))
            ff_done(s, n, r.finger + 1u);
        break;
    case CHORD_FOR_INSERT:
        break;                        /* not stored: keys.lost shows it */
    default:
        SIM_ASSERT(!"iterative record of a recursive lookup");
    }
}

/* store: on: asks the owner, then its successors (the replicas), for the value; a node that
 * answers without it, or times out, sends the lookup to the next. The origin asks itself
 * without a message. */
static void fetch_send(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (!sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    node_t n = r->op.owner;
    const struct chord_node *nd = chord_node(s, n);
    struct peer *l = rec_list(s, i);
    while (r->pos < r->nlist && addr_eq(l[r->pos].addr, nd->self.addr)) {
        if (keys_has(nd, r->key)) {
            struct chord_rec done = *r;
            rec_free(s, i);
            sim_lookup_done(s, done.lookup, OUTCOME_OK, nd->self.addr, done.hops);
            return;
        }
        r->outcome = OUTCOME_NOT_FOUND;
        r->pos++;
    }
    if (r->pos >= r->nlist) {
        iter_fail(s, i, (enum outcome)r->outcome);
        return;
    }
    struct chord_key_req body = { .key = r->key };
    r->steps++;
    send_rpc(s, n, l[r->pos].addr, CHORD_MSG_GET_REQ, r->lookup, &body, sizeof body, 0,
             rec_ctx(s, i), 0);
}

/* Routing found the key's owner c[0], followed by its successors as far as known: a lookup
 * of stored data fetches the value from the first replicas of them; anything else ends. */
static void iter_found(struct sim *s, uint32_t i, const struct peer *c, unsigned nc)
{
    struct chord_global *g = chord_g(s);
    struct chord_rec *r = rec_at(s, i);
    if (!g->store || r->purpose != CHORD_FOR_LOOKUP) {
        iter_finish(s, i, c[0]);
        return;
    }
    struct peer tmp[CHORD_SUCC_MAX + 1];
    unsigned m = 0;
    for (unsigned k = 0; k < nc && m < g->replicas; k++)
        if (!rec_is_dead(r, c[k].addr))
            tmp[m++] = c[k];
    memcpy(rec_list(s, i), tmp, m * sizeof tmp[0]);
    r->nlist = (uint16_t)m;
    r->pos = 0;
    r->tries = 0;
    r->phase = CHORD_REC_FETCH;
    r->outcome = OUTCOME_TIMEOUT;
    fetch_send(s, i);
}

static void fetch_on_rep(struct sim *s, const struct msg *m, uint32_t i)
{
    const struct chord_get_rep *b = m->body;
    struct chord_rec *r = rec_at(s, i);
    if (r->phase != CHORD_REC_FETCH)
        return;
    r->tries = 0;
    if (b->found) {
        struct chord_rec done = *r;
        rec_free(s, i);
        sim_lookup_done(s, done.lookup, OUTCOME_OK, m->src, done.hops);
        return;
    }
    r->outcome = OUTCOME_NOT_FOUND;
    r->pos++;
    fetch_send(s, i);
}

static void fetch_on_timeout(struct sim *s, node_t n, const struct rpc *rpc, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (r->tries < chord_g(s)->retries) {
        r->tries++;
        fetch_send(s, i);             /* the same request to the same node */
        return;
    }
    r->tries = 0;
    forget(s, n, rpc->dst);
    rec_dead(r, rpc->dst);
    r->pos++;
    fetch_send(s, i);
}

/* Asks the next node: the best routing candidate (ROUTE) or the owner to check (CHECK). */
static void iter_send(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (r->lookup != LOOKUP_NONE && !sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    if (r->steps >= CHORD_HOP_LIMIT) {
        iter_fail(s, i, OUTCOME_TTL_EXPIRED);
        return;
    }
    struct peer *l = rec_list(s, i);
    struct chord_key_req body = { .key = r->key };
    r->steps++;
    if (r->phase == CHORD_REC_ROUTE) {
        struct chord_find_req find = { .key = r->key, .ndead = r->ndead };
        if (r->nlist == 0) {
            if (peer_ok(r->fallback))
                iter_found(s, i, &r->fallback, 1);
            else
                iter_fail(s, i, OUTCOME_TIMEOUT);
            return;
        }
        memcpy(find.dead, r->dead, r->ndead * sizeof find.dead[0]);
        send_rpc(s, r->op.owner, l[0].addr, CHORD_MSG_FIND_REQ, r->lookup, &find,
                 CHORD_FIND_LEN(r->ndead), r->ndead, rec_ctx(s, i), l[0].id);
    } else {
        if (r->pos >= r->nlist) {
            iter_fail(s, i, OUTCOME_TIMEOUT);
            return;
        }
        send_rpc(s, r->op.owner, l[r->pos].addr, CHORD_MSG_CHECK_REQ, r->lookup, &body, sizeof body,
                 0, rec_ctx(s, i), 0);
    }
}

/* The origin's own first step: answer locally when it can, else route from its own table. */
static void iter_start(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
    struct chord_node *nd = chord_node(s, n);
    if (nd->nsucc == 0 || (peer_ok(nd->pred) && owns(nd, r->key))) {
        /* alone on the ring, or the key is n's own */
        struct peer c[CHORD_SUCC_MAX + 1];
        c[0] = nd->self;
        memcpy(&c[1], nd->succ, nd->nsucc * sizeof c[0]);
        iter_found(s, i, c, nd->nsucc + 1u);
        return;
    }
    if (chord_in_oc(r->key, nd->self.id, nd->succ[0].id)) {
        rec_check_own(s, i, n);       /* n is the key's predecessor: 0 hops */
    } else {
        r->nlist = (uint16_t)closest_preceding(s, n, r->key, NULL, 0, rec_list(s, i), CHORD_CANDS);
        r->phase = CHORD_REC_ROUTE;
    }
    iter_send(s, i);
}

/* A node's answer to an iterative step. */
static void iter_on_find_rep(struct sim *s, node_t n, const struct msg *m, uint32_t i)
{
    const struct chord_list_rep *b = m->body;
    struct chord_global *g = chord_g(s);
    struct chord_rec *r = rec_at(s, i);
    if (r->phase != CHORD_REC_ROUTE)
        return;
    r->tries = 0;
    if (b->done == CHORD_FIND_MINE && b->count) {
        if (r->purpose == CHORD_FOR_FINGER && g->pns > 1) {
            unsigned k = b->count < g->stride ? b->count : g->stride;  /* owner, successors */
            memcpy(rec_list(s, i), b->peer, k * sizeof b->peer[0]);
            r->nlist = (uint16_t)k;
        }
        iter_found(s, i, b->peer, b->count);  /* the owner itself answered: not a routing hop */
        return;
    }
    if (!addr_in(r->asked, r->nasked, m->rpc->dst)) {
        r->hops++;                    /* a node traversed: each counts once, though the lookup
                                         asks it again after a timeout (the paper's path length
                                         counts nodes, ToN 2003 §V) */
        r->asked[r->asked_next] = m->rpc->dst;
        r->asked_next = (uint8_t)((r->asked_next + 1) % CHORD_DEAD_MAX);
        if (r->nasked < CHORD_DEAD_MAX)
            r->nasked++;
    }
    r->fallback = chord_peer_none;
    struct peer *l = rec_list(s, i);
    unsigned count = b->count;
    if (b->done == CHORD_FIND_SUCC)
        rec_list_remove(s, i, m->rpc->dst);
    if (b->done == CHORD_FIND_SUCC) {
        unsigned k = 0;
        for (unsigned j = 0; j < count && k < g->stride; j++)
            if (!rec_is_dead(r, b->peer[j].addr))
                l[k++] = b->peer[j];
        r->nlist = (uint16_t)k;
        r->pos = 0;
        r->phase = CHORD_REC_CHECK;
    } else {
        /* The answering node stays in the list behind the nodes it named, which are closer to
         * the key: if they time out, the lookup asks it again, and it answers with its next
         * best (ToN §IV-E.3: "the lookup proceeds, after a timeout, by trying the next best
         * predecessor"); it leaves the list when it names nobody new. */
        unsigned k = r->nlist;
        bool named = false;
        for (unsigned j = 0; j < count; j++) {
            struct peer p = b->peer[j];
            if (rec_is_dead(r, p.addr) || addr_eq(p.addr, sim_addr(s, n)))
                continue;
            bool known = false;
            for (unsigned q = 0; q < k && !known; q++)
                known = addr_eq(l[q].addr, p.addr);
            named |= !known;
            cand_insert(l, &k, CHORD_CANDS, p, r->key);
        }
        r->nlist = (uint16_t)k;
        if (!named)
            rec_list_remove(s, i, m->rpc->dst);
    }
    iter_send(s, i);
}

/* An owner check's "no, my predecessor is p": key lies in [p, cur), so routing continues from p
 * (which answers CHORD_FIND_MINE if it holds the key); cur was visited for routing. If p is
 * unknown, known dead, cur itself or the asking node, cur is the owner as far as anyone knows.
 * Returns true if routing continues. */
static bool check_continue(struct sim *s, uint32_t i, const struct chord_check_rep *b)
{
    struct chord_rec *r = rec_at(s, i);
    struct peer cur = rec_list(s, i)[r->pos];
    struct peer p = b->pred;
    if (!peer_ok(p) || rec_is_dead(r, p.addr) || addr_eq(p.addr, cur.addr) ||
        addr_eq(p.addr, sim_addr(s, r->op.owner)))
        return false;
    r->hops++;
    r->fallback = cur;
    r->phase = CHORD_REC_ROUTE;
    rec_list(s, i)[0] = p;
    r->nlist = 1;
    r->pos = 0;
    return true;
}

static void iter_on_check_rep(struct sim *s, const struct msg *m, uint32_t i)
{
    const struct chord_check_rep *b = m->body;
    struct chord_rec *r = rec_at(s, i);
    if (r->phase != CHORD_REC_CHECK || r->pos >= r->nlist)
        return;
    r->tries = 0;
    if (b->yes || !check_continue(s, i, b)) {
        struct peer c[CHORD_SUCC_MAX + CHORD_CANDS];
        unsigned nc = (unsigned)(r->nlist - r->pos);
        memcpy(c, rec_list(s, i) + r->pos, nc * sizeof c[0]);
        iter_found(s, i, c, nc);
        return;
    }
    iter_send(s, i);
}

static void iter_on_timeout(struct sim *s, node_t n, const struct rpc *rpc, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (r->tries < chord_g(s)->retries) {
        r->tries++;
        iter_send(s, i);              /* the same request to the same node */
        return;
    }
    r->tries = 0;
    forget(s, n, rpc->dst);
    rec_dead(r, rpc->dst);
    if (rpc->type == CHORD_MSG_FIND_REQ) {
        rec_list_remove(s, i, rpc->dst);
    } else if (r->pos < r->nlist && addr_eq(rec_list(s, i)[r->pos].addr, rpc->dst)) {
        r->pos++;
    }
    iter_send(s, i);
}

/* ==== recursive lookups =================================================================== */

/* store: on: a DONE sent by the owner itself carries the value (value_size bytes). */
static size_t done_extra(struct sim *s, node_t n, enum outcome o, struct peer owner)
{
    struct chord_global *g = chord_g(s);
    return g->store && o == OUTCOME_OK && addr_eq(owner.addr, sim_addr(s, n)) ? g->value_size : 0;
}

static void done_send(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    struct chord_done body = { .outcome = r->outcome, .hops = r->hops, .owner = r->fallback };
    kit_rpc(s, &chord_msgs, r->op.owner, r->origin, &(struct kit_out){ .type = CHORD_MSG_DONE,
            .lookup = r->lookup, .body = &body, .len = sizeof body,
            .extra = done_extra(s, r->op.owner, (enum outcome)r->outcome, r->fallback) },
            chord_g(s)->timeout_us, rec_ctx(s, i), 0);
}

/* Ends recursive record i: the answer goes to the origin. Without retries it is one message,
 * as in the paper; with retries the origin acknowledges it and it is re-sent until then. */
static void send_done(struct sim *s, uint32_t i, enum outcome o, struct peer owner)
{
    struct chord_rec *r = rec_at(s, i);
    if (chord_g(s)->store && o == OUTCOME_OK && addr_eq(owner.addr, sim_addr(s, r->op.owner)) &&
        !keys_has(chord_node(s, r->op.owner), r->key))
        o = OUTCOME_NOT_FOUND;        /* the owner has no value for the key */
    if (chord_g(s)->retries == 0) {
        struct chord_done body = { .outcome = (uint8_t)o, .hops = r->hops, .owner = owner };
        kit_send(s, &chord_msgs, r->op.owner, r->origin, &(struct kit_out){
                 .type = CHORD_MSG_DONE, .lookup = r->lookup, .body = &body, .len = sizeof body,
                 .extra = done_extra(s, r->op.owner, o, owner) });
        rec_free(s, i);
        return;
    }
    r->phase = CHORD_REC_DONE;
    r->fallback = owner;
    r->outcome = (uint8_t)o;
    r->tries = 0;
    done_send(s, i);
}

/* Hands the query to `next`, which acknowledges at once and carries on. */
static void rec_forward(struct sim *s, uint32_t i, struct peer next)
{
    struct chord_rec *r = rec_at(s, i);
    struct chord_fwd_req body = { .key = r->key, .origin = r->origin, .hops = (uint16_t)(r->hops + 1) };
    r->steps++;
    send_rpc(s, r->op.owner, next.addr, CHORD_MSG_FWD_REQ, r->lookup, &body, sizeof body, 0,
             rec_ctx(s, i), 0);
}

/* One step of a recursive lookup at the node running record i. Only the origin knows whether
 * its lookup is still running; a forwarding node carries on regardless. */
static void rec_step(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
    struct chord_node *nd = chord_node(s, n);
    if (addr_eq(r->origin, nd->self.addr) && !sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    if (r->steps >= CHORD_HOP_LIMIT || r->hops >= CHORD_HOP_LIMIT) {
        send_done(s, i, OUTCOME_TTL_EXPIRED, chord_peer_none);
        return;
    }
    struct chord_fwd_req body = { .key = r->key, .origin = r->origin, .hops = r->hops };
    if (r->phase == CHORD_REC_ROUTE) {
        if (nd->nsucc == 0 || (peer_ok(nd->pred) && owns(nd, r->key))) {
            /* alone as far as n knows, or n holds the key: it was not a routing hop */
            if (r->hops && !addr_eq(r->origin, nd->self.addr))
                r->hops--;
            send_done(s, i, OUTCOME_OK, nd->self);
            return;
        }
        if (chord_in_oc(r->key, nd->self.id, nd->succ[0].id)) {
            rec_check_own(s, i, n);
        } else {
            struct peer next;
            if (closest_preceding(s, n, r->key, r->dead, r->ndead, &next, 1) == 0) {
                send_done(s, i, OUTCOME_TIMEOUT, chord_peer_none);
                return;
            }
            rec_forward(s, i, next);
            return;
        }
    }
    if (r->pos >= r->nlist) {
        send_done(s, i, OUTCOME_TIMEOUT, chord_peer_none);
        return;
    }
    r->steps++;
    send_rpc(s, n, rec_list(s, i)[r->pos].addr, CHORD_MSG_FWD_CHECK_REQ, r->lookup, &body,
             sizeof body, 0, rec_ctx(s, i), 0);
}

static void rec_on_check_rep(struct sim *s, const struct msg *m, uint32_t i)
{
    const struct chord_check_rep *b = m->body;
    struct chord_rec *r = rec_at(s, i);
    if (r->phase != CHORD_REC_CHECK || r->pos >= r->nlist)
        return;
    r->tries = 0;
    if (b->yes) {
        rec_free(s, i);               /* the owner answers the origin itself */
        return;
    }
    struct peer cur = rec_list(s, i)[r->pos];
    if (!check_continue(s, i, b)) {
        send_done(s, i, OUTCOME_OK, cur);
        return;
    }
    rec_forward(s, i, b->pred);
}

static void rec_on_timeout(struct sim *s, node_t n, const struct rpc *rpc, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (rpc->type == CHORD_MSG_DONE) {
        if (r->tries++ < chord_g(s)->retries)
            done_send(s, i);
        else
            rec_free(s, i);
        return;
    }
    if (r->tries < chord_g(s)->retries) {
        r->tries++;                   /* the same request to the same node */
        if (rpc->type == CHORD_MSG_FWD_REQ)
            rec_forward(s, i, (struct peer){ .id = 0, .addr = rpc->dst });
        else
            rec_step(s, i);
        return;
    }
    r->tries = 0;
    forget(s, n, rpc->dst);
    rec_dead(r, rpc->dst);
    if (rpc->type == CHORD_MSG_FWD_CHECK_REQ && r->pos < r->nlist &&
        addr_eq(rec_list(s, i)[r->pos].addr, rpc->dst))
        r->pos++;
    rec_step(s, i);
}

/* ==== starting lookups ==================================================================== */

/* Starts record i at its owner, or parks it until the owner has joined. */
static void lookup_begin(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
    struct chord_node *nd = chord_node(s, n);
    if (r->lookup != LOOKUP_NONE && !sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    if (nd->phase != CHORD_JOINED) {
        if (r->purpose == CHORD_FOR_FINGER) {
            iter_fail(s, i, OUTCOME_TIMEOUT);
            return;
        }
        r->phase = CHORD_REC_WAIT;
        kit_park(&chord_g(s)->rec, &nd->wait_head, i);
        return;
    }
    if (r->purpose != CHORD_FOR_FORWARD) {
        iter_start(s, i);
        return;
    }
    if (nd->nsucc == 0 || (peer_ok(nd->pred) && owns(nd, r->key))) {
        bool found = !chord_g(s)->store || keys_has(nd, r->key);
        sim_lookup_done(s, r->lookup, found ? OUTCOME_OK : OUTCOME_NOT_FOUND, nd->self.addr, 0);
        rec_free(s, i);
        return;
    }
    r->phase = CHORD_REC_ROUTE;
    rec_step(s, i);
}

static void chord_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    struct chord_global *g = chord_g(s);
    bool recursive = g->mode == CHORD_RECURSIVE;
    uint32_t i = rec_alloc(s, origin, recursive ? CHORD_FOR_FORWARD : CHORD_FOR_LOOKUP, key, lookup_id);
    rec_at(s, i)->origin = sim_addr(s, origin);
    lookup_begin(s, i);
}

/* start: join, store: on: `origin` finds key's owner and sends it the value, which the owner
 * copies to its successors (store_at_owner). */
static void chord_insert(struct sim *s, node_t origin, uint64_t key)
{
    if (!chord_g(s)->store)
        return;
    uint32_t i = rec_alloc(s, origin, CHORD_FOR_INSERT, key, LOOKUP_NONE);
    rec_at(s, i)->origin = sim_addr(s, origin);
    lookup_begin(s, i);
}

/* ==== fix_fingers ========================================================================= */

/* SIGCOMM 2001 Fig. 6 / ToN 2003 Fig. 7: each call of fix_fingers refreshes finger `next` and
 * advances it (finger_refresh: one). Fingers whose start falls in (n, successor] are the
 * successor itself, which find_successor answers at n without a message, so a call skips them
 * and looks up the first finger beyond; its answer also covers every later finger whose start
 * it succeeds, and `next` moves past those: each call costs one lookup, and each distinct finger
 * is refreshed once in about log2 N calls. With finger_refresh: all, a call runs every lookup of
 * a round one after another (about log2 N per call). */

/* Is the fix_fingers lookup of finger f still the one n is waiting for? */
static bool ff_current(const struct chord_node *nd, unsigned f)
{
    return (nd->flags & CHORD_F_FF_BUSY) && nd->ff_next == f;
}

/* Starts the lookup of finger i, or of the first finger after it that needs one. With
 * finger_refresh: one, a call that runs past the last finger starts again at the first. */
static void ff_continue(struct sim *s, node_t n, unsigned i)
{
    struct chord_global *g = chord_g(s);
    struct chord_node *nd = chord_node(s, n);
    nd->flags &= (uint8_t)~CHORD_F_FF_BUSY;
    nd->ff_next = 0;
    if (nd->nsucc == 0) {
        chord_fingers_clear(&nd->finger);
        return;
    }
    struct peer succ0 = nd->succ[0];
    for (bool wrapped = i == 0;; wrapped = true, i = 0) {
        unsigned lo = i;
        while (i < CHORD_BITS && chord_in_oc(chord_finger_target(nd->self.id, i), nd->self.id, succ0.id))
            i++;
        chord_fingers_set(&nd->finger, lo, i, succ0);
        if (i < CHORD_BITS)
            break;
        if (g->refresh == CHORD_REFRESH_ALL || wrapped)
            return;                   /* the round is over, or the successor is every finger */
    }
    nd->ff_next = (uint8_t)i;
    nd->flags |= CHORD_F_FF_BUSY;
    sim_count(s, CHORD_C_FINGER_LOOKUPS, 1);
    uint32_t r = rec_alloc(s, n, CHORD_FOR_FINGER, chord_finger_target(nd->self.id, i), LOOKUP_NONE);
    rec_at(s, r)->finger = (uint8_t)i;
    lookup_begin(s, r);
}

/* n is done with the lookup it was running; j is the first finger its answer did not cover:
 * the round goes on there (all), or the next call starts there (one). */
static void ff_done(struct sim *s, node_t n, unsigned j)
{
    struct chord_node *nd = chord_node(s, n);
    nd->flags &= (uint8_t)~CHORD_F_FF_BUSY;
    if (chord_g(s)->refresh == CHORD_REFRESH_ALL && j < CHORD_BITS) {
        ff_continue(s, n, j);
        return;
    }
    nd->ff_next = (uint8_t)(j < CHORD_BITS ? j : 0);
}

/* The lookup of finger f found owner = successor(start of f); `pick` is the finger chosen (the
 * owner, or with pns the nearest node of the finger's interval). */
static void ff_apply(struct sim *s, node_t n, unsigned f, struct peer owner, struct peer pick)
{
    struct chord_node *nd = chord_node(s, n);
    if (addr_eq(owner.addr, nd->self.addr)) {
        /* nobody in [start, n): every later finger wraps round to n itself */
        chord_fingers_set(&nd->finger, f, CHORD_BITS, chord_peer_none);
        ff_done(s, n, CHORD_BITS);
        return;
    }
    chord_fingers_set(&nd->finger, f, f + 1, pick);
    unsigned j = f + 1;
    while (j < CHORD_BITS && chord_in_oc(chord_finger_target(nd->self.id, j), nd->self.id, owner.id))
        j++;                          /* empty intervals: their successor is the owner */
    chord_fingers_set(&nd->finger, f + 1, j, owner);
    ff_done(s, n, j);
}

/* ==== proximity neighbour selection ======================================================= */

/* PNS (Gummadi et al., SIGCOMM 2003, PNS(k); p2psim's ChordFingerPNS): finger f may be any node
 * of its interval [start_f, start_f+1); n takes the one nearest to it among the first `pns`
 * successors of start_f. The finger's lookup returns them (the key's predecessor answers with
 * its successor list, or the owner with itself and its list); n pings each and keeps the lowest
 * round trip it measured itself (the reply's arrival less the request's departure). */

#define CHORD_CTX_PNS (UINT64_C(1) << 32)     /* ctx1 of a PNS probe: this flag | list index */

/* x in finger f's interval [start_f, start_f+1) of a node with identifier self; the last
 * interval ends at self. */
static bool in_finger_interval(uint64_t x, uint64_t self, unsigned f)
{
    uint64_t a = chord_finger_target(self, f);
    uint64_t end = f + 1 < CHORD_BITS ? chord_finger_target(self, f + 1) : self;
    return x - a < end - a;
}

/* Finger record i found `owner`: with two candidates or more in the interval, probes them and
 * returns true (the record lives on in CHORD_REC_PNS); else false. */
static bool pns_start(struct sim *s, uint32_t i, struct peer owner)
{
    struct chord_global *g = chord_g(s);
    struct chord_rec *r = rec_at(s, i);
    node_t n = r->op.owner;
    const struct chord_node *nd = chord_node(s, n);
    unsigned f = r->finger;
    if (!ff_current(nd, f) || addr_eq(owner.addr, nd->self.addr) ||
        !in_finger_interval(owner.id, nd->self.id, f))
        return false;
    struct peer *l = rec_list(s, i);
    unsigned at = r->nlist;           /* the owner's place in the list; its successors follow */
    for (unsigned k = 0; k < r->nlist && at == r->nlist; k++)
        if (addr_eq(l[k].addr, owner.addr))
            at = k;
    unsigned m = 0;
    l[m++] = owner;
    for (unsigned k = at + 1; k < r->nlist && m < g->pns; k++) {
        struct peer p = l[k];
        if (!in_finger_interval(p.id, nd->self.id, f))
            break;                    /* successors in ring order: the rest lie beyond */
        if (!addr_eq(p.addr, nd->self.addr) && !rec_is_dead(r, p.addr))
            l[m++] = p;
    }
    if (m < 2)
        return false;
    r->phase = CHORD_REC_PNS;
    r->nlist = (uint16_t)m;
    r->pos = (uint16_t)m;             /* probes outstanding */
    r->outcome = 0;                   /* 1 once the owner has answered */
    r->fallback = chord_peer_none;
    r->best_rtt_us = UINT32_MAX;
    uint64_t ctx = rec_ctx(s, i);
    for (unsigned k = 0; k < m; k++)
        send_rpc(s, n, l[k].addr, CHORD_MSG_PING_REQ, LOOKUP_NONE, NULL, 0, 0, ctx, CHORD_CTX_PNS | k);
    sim_count(s, CHORD_C_PNS_PINGS, m);
    return true;
}

/* One probe of record i has been answered or has timed out; after the last, the finger is
 * set to the nearest candidate that answered. */
static void pns_settle(struct sim *s, uint32_t i)
{
    struct chord_rec *r = rec_at(s, i);
    if (--r->pos)
        return;
    struct chord_rec c = *r;
    struct peer owner = rec_list(s, i)[0];
    rec_free(s, i);
    node_t n = c.op.owner;
    struct chord_node *nd = chord_node(s, n);
    if (!ff_current(nd, c.finger))
        return;
    if (!peer_ok(c.fallback)) {
        ff_done(s, n, c.finger + 1u);         /* nobody answered */
    } else if (c.outcome) {
        ff_apply(s, n, c.finger, owner, c.fallback);
    } else {
        chord_fingers_set(&nd->finger, c.finger, c.finger + 1u, c.fallback);  /* the owner is gone: its successor is unsure */
        ff_done(s, n, c.finger + 1u);
    }
}

static void pns_on_reply(struct sim *s, node_t n, const struct msg *m)
{
    uint32_t i = rec_from_ctx(s, n, m->rpc->ctx[0]);
    if (i == KIT_NONE || rec_at(s, i)->phase != CHORD_REC_PNS)
        return;
    struct chord_rec *r = rec_at(s, i);
    unsigned k = (unsigned)(m->rpc->ctx[1] & 0xFF);
    int64_t rtt = sim_now(s) - m->rpc->sent_us;
    if (k == 0)
        r->outcome = 1;
    if (k < r->nlist && rtt < (int64_t)r->best_rtt_us) {
        r->best_rtt_us = rtt < (int64_t)UINT32_MAX ? (uint32_t)rtt : UINT32_MAX - 1;
        r->fallback = rec_list(s, i)[k];
    }
    pns_settle(s, i);
}

static void pns_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    if (chord_g(s)->retries == 0)
        forget(s, n, rpc->dst);       /* silent: taken as failed, as after any timeout */
    uint32_t i = rec_from_ctx(s, n, rpc->ctx[0]);
    if (i != KIT_NONE && rec_at(s, i)->phase == CHORD_REC_PNS)
        pns_settle(s, i);
}

/* ==== stabilization ======================================================================= */

#define CHORD_STAB_JOINING 0x100      /* ctx0 flag: this stabilize completes a join */
#define CHORD_STAB_DEPTH 0xFF         /* ctx0 bits: follow-ups so far in this round */
#define CHORD_CTX_TRY_SHIFT 16        /* ctx0 bits 16..23 of maintenance RPCs: re-sends so far */
#define CHORD_CTX_TRY_MASK 0xFFu

/* Asks n's successor for its predecessor and successor list (ToN Fig. 7 stabilize). */
static void stabilize(struct sim *s, node_t n, bool joining, unsigned depth)
{
    struct chord_node *nd = chord_node(s, n);
    if (nd->nsucc == 0) {
        if (joining) {
            join_retry(s, n);
        } else if (nd->flags & CHORD_F_KNEW_OTHERS) {
            nd->phase = CHORD_JOINING;        /* lost every contact: join again */
            join_ask(s, n);
        }
        return;
    }
    struct peer succ0 = nd->succ[0];
    uint64_t ctx = (joining ? CHORD_STAB_JOINING : 0) | (depth < CHORD_STAB_DEPTH ? depth : CHORD_STAB_DEPTH);
    send_rpc(s, n, succ0.addr, CHORD_MSG_STAB_REQ, LOOKUP_NONE, NULL, 0, 0, ctx, succ0.id);
}

static void finish_join(struct sim *s, node_t n);

static void on_stab_rep(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_stab_rep *b = m->body;
    struct chord_node *nd = chord_node(s, n);
    bool joining = (m->rpc->ctx[0] & CHORD_STAB_JOINING) != 0;
    unsigned depth = (unsigned)(m->rpc->ctx[0] & CHORD_STAB_DEPTH);
    struct peer succ = { .id = m->rpc->ctx[1], .addr = m->rpc->dst };
    struct peer x = b->pred;
    const struct peer *cur = nd->succ;
    if (nd->nsucc && !addr_eq(cur[0].addr, succ.addr) && chord_in_oo(cur[0].id, nd->self.id, succ.id)) {
        /* n found a closer successor while this answer was on its way: it is stale */
        if (joining)
            finish_join(s, n);
        return;
    }
    if (peer_ok(x) && !addr_eq(x.addr, nd->self.addr) && chord_in_oo(x.id, nd->self.id, succ.id) &&
        depth < CHORD_STAB_CHAIN) {
        /* a node joined between n and its successor: it is n's successor now. n asks it at
         * once rather than a period later, so that after a burst of joins n walks down the
         * predecessor chain to its true successor within one round. */
        struct peer tmp[CHORD_SUCC_MAX + 1];
        tmp[0] = succ;
        memcpy(&tmp[1], b->peer, b->count * sizeof tmp[0]);
        set_successors(s, n, x, tmp, b->count + 1u);
        stabilize(s, n, joining, depth + 1);
        return;
    }
    set_successors(s, n, succ, b->peer, b->count);
    struct chord_peer_msg note = { .peer = nd->self };
    send_msg(s, n, succ.addr, CHORD_MSG_NOTIFY, LOOKUP_NONE, &note, sizeof note, 0);
    if (joining && !peer_ok(nd->pred) && peer_ok(x) && !addr_eq(x.addr, nd->self.addr) &&
        !addr_eq(x.addr, succ.addr))
        nd->pred = x;                 /* SIGCOMM'01 Fig. 6 join: predecessor = successor.predecessor */
    if (joining)
        finish_join(s, n);
}

static void on_stab_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    bool joining = (rpc->ctx[0] & CHORD_STAB_JOINING) != 0;
    unsigned depth = (unsigned)(rpc->ctx[0] & CHORD_STAB_DEPTH);
    uint32_t tries = (uint32_t)(rpc->ctx[0] >> CHORD_CTX_TRY_SHIFT) & CHORD_CTX_TRY_MASK;
    if (tries < chord_g(s)->retries) {
        uint64_t ctx = (rpc->ctx[0] & ~((uint64_t)CHORD_CTX_TRY_MASK << CHORD_CTX_TRY_SHIFT)) |
                       ((uint64_t)(tries + 1) << CHORD_CTX_TRY_SHIFT);
        send_rpc(s, n, rpc->dst, CHORD_MSG_STAB_REQ, LOOKUP_NONE, NULL, 0, 0, ctx, rpc->ctx[1]);
        return;
    }
    forget(s, n, rpc->dst);
    if (joining)
        stabilize(s, n, true, depth + 1);
    else if (depth < CHORD_STAB_CHAIN)
        stabilize(s, n, false, depth + 1);
}

/* notify: p thinks it might be n's predecessor (ToN Fig. 7). */
static void on_notify(struct sim *s, node_t n, struct peer p)
{
    struct chord_node *nd = chord_node(s, n);
    if (!peer_ok(p) || addr_eq(p.addr, nd->self.addr))
        return;
    struct peer old = nd->pred;
    if (!peer_ok(nd->pred) || chord_in_oo(p.id, nd->pred.id, nd->self.id))
        nd->pred = p;
    if (chord_g(s)->store && peer_ok(old) && peer_is(nd->pred, p.addr) && !addr_eq(old.addr, p.addr)) {
        /* p joined between old and n: it receives the keys it now owns, (old, p] (SIGCOMM 2001 §4.4, join step 3);
         * n keeps its copies, as a replica or until they are no longer asked for */
        unsigned cnt;
        uint64_t *k = keys_in(nd, old.id, p.id, &cnt);
        store_send(s, n, p.addr, k, cnt, false);
        free(k);
    }
    if (nd->nsucc == 0 && nd->phase == CHORD_JOINED)
        set_successors(s, n, p, NULL, 0);     /* the ring's first node meets its second */
}

/* ==== join and leave ====================================================================== */

static void start_timers(struct sim *s, node_t n)
{
    struct chord_global *g = chord_g(s);
    struct chord_node *nd = chord_node(s, n);
    if (nd->flags & CHORD_F_TIMERS)
        return;
    nd->flags |= CHORD_F_TIMERS;
    gsl_rng *rng = sim_rng(s);
    sim_timer(s, n, CHORD_TIMER_STABILIZE, (int64_t)(gsl_rng_uniform(rng) * (double)g->stabilize_us), 0);
    sim_timer(s, n, CHORD_TIMER_CHECK_PRED, (int64_t)(gsl_rng_uniform(rng) * (double)g->check_us), 0);
    sim_timer(s, n, CHORD_TIMER_FIX_FINGERS, (int64_t)(gsl_rng_uniform(rng) * (double)g->fix_us), 0);
    if (g->store)
        sim_timer(s, n, CHORD_TIMER_REPAIR, (int64_t)(gsl_rng_uniform(rng) * (double)g->repair_us), 0);
}

static void finish_join(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    nd->phase = CHORD_JOINED;
    nd->join.tries = 0;
    sim_introducer_register(s, n);
    start_timers(s, n);
    if (chord_g(s)->refresh == CHORD_REFRESH_ALL && !(nd->flags & CHORD_F_FF_BUSY))
        ff_continue(s, n, 0);         /* one: the fingers wait for fix_fingers (SIGCOMM Fig. 6) */
    for (uint32_t w; (w = kit_unpark(&chord_g(s)->rec, &nd->wait_head)) != KIT_NONE;)
        lookup_begin(s, w);
}

static void join_retry(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    nd->phase = CHORD_JOINING;
    sim_timer(s, n, CHORD_TIMER_JOIN_RETRY, kit_backoff(s, &nd->join, chord_g(s)->timeout_us), 0);
}

/* Asks the introducer for contacts. Its answer may be lost: a watchdog asks again after an
 * RPC timeout, with the back-off of a failed join. */
static void join_ask(struct sim *s, node_t n)
{
    kit_join_ask(s, n, &chord_node(s, n)->join, CHORD_TIMER_JOIN_WATCHDOG, chord_g(s)->timeout_us);
}

static void chord_join(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    *nd = (struct chord_node){ .self = { .id = sim_node_id(s, n), .addr = sim_addr(s, n) },
                               .pred = chord_peer_none, .wait_head = KIT_NONE,
                               .phase = CHORD_JOINING };
    chord_fingers_clear(&nd->finger);
    join_ask(s, n);
}

/* The introducer's contacts: find successor(own id) through them, the closest first. */
static void on_introducer_reply(struct sim *s, node_t n, const struct intro_reply *b)
{
    struct chord_node *nd = chord_node(s, n);
    if (nd->phase != CHORD_JOINING || !kit_join_answered(&nd->join))
        return;                       /* not joining, or a second answer to a repeated question */
    if (b->count == 0) {
        /* nobody ever registered: n founds the ring (with whoever has notified it already) */
        if (peer_ok(nd->pred))
            set_successors(s, n, nd->pred, NULL, 0);
        finish_join(s, n);
        return;
    }
    uint32_t i = rec_alloc(s, n, CHORD_FOR_JOIN, nd->self.id, LOOKUP_NONE);
    struct peer *l = rec_list(s, i);
    unsigned k = 0;
    for (unsigned j = 0; j < b->count && j < INTRO_CONTACTS; j++)
        if (b->contacts[j].addr.slot != n)
            cand_insert(l, &k, CHORD_CANDS, b->contacts[j], nd->self.id);
    rec_at(s, i)->nlist = (uint16_t)k;
    iter_send(s, i);
}

/* Voluntary departure (ToN §IV-E.3): the predecessor gets n's successor list, the successor
 * gets n's predecessor. */
static void chord_leave(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    if (nd->phase != CHORD_JOINED)
        return;
    if (peer_ok(nd->pred)) {
        struct chord_list_rep body = { .count = nd->nsucc };
        memcpy(body.peer, nd->succ, nd->nsucc * sizeof body.peer[0]);
        send_msg(s, n, nd->pred.addr, CHORD_MSG_LEAVE_PRED, LOOKUP_NONE, &body,
                 CHORD_LIST_LEN(nd->nsucc), nd->nsucc);
    }
    if (nd->nsucc) {
        struct chord_peer_msg body = { .peer = nd->pred };
        send_msg(s, n, nd->succ[0].addr, CHORD_MSG_LEAVE_SUCC, LOOKUP_NONE, &body,
                 sizeof body, 0);
        if (chord_g(s)->store)        /* the successor takes over n's keys (ToN 2003 §IV-E.3) */
            store_send(s, n, nd->succ[0].addr, nd->keys.v, nd->keys.n, false);
    }
    nd->phase = CHORD_OUT;
}

static void on_leave_pred(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_list_rep *b = m->body;
    struct chord_node *nd = chord_node(s, n);
    bool was_first = nd->nsucc && addr_eq(nd->succ[0].addr, m->src);
    forget(s, n, m->src);
    if (was_first && b->count)
        set_successors(s, n, chord_peer_none, b->peer, b->count);
}

static void on_leave_succ(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_peer_msg *b = m->body;
    struct chord_node *nd = chord_node(s, n);
    bool was_pred = peer_is(nd->pred, m->src);
    forget(s, n, m->src);
    if (was_pred && peer_ok(b->peer) && !addr_eq(b->peer.addr, nd->self.addr))
        nd->pred = b->peer;
}

/* ==== requests ============================================================================ */

/* An iterative step, answered as if the asker's dead contacts were absent (n itself learns
 * nothing from the list: only its own timeouts tell it that a node failed). */
static void on_find_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_find_req *b = m->body;
    struct chord_global *g = chord_g(s);
    const struct chord_node *nd = chord_node(s, n);
    unsigned ndead = b->ndead < CHORD_DEAD_MAX ? b->ndead : CHORD_DEAD_MAX;
    struct peer live[CHORD_SUCC_MAX];
    unsigned nlive = 0;
    for (unsigned k = 0; k < nd->nsucc; k++)
        if (!addr_in(b->dead, ndead, nd->succ[k].addr))
            live[nlive++] = nd->succ[k];
    struct chord_list_rep rep = { .done = CHORD_FIND_MINE };
    unsigned count = 0;
    if (nd->nsucc == 0 || (peer_ok(nd->pred) && owns(nd, b->key))) {
        rep.peer[count++] = nd->self;         /* alone, or n holds the key: n, then its list */
        for (unsigned k = 0; k < nlive && count < g->r; k++)
            rep.peer[count++] = live[k];
    } else if (nlive && chord_in_oc(b->key, nd->self.id, live[0].id)) {
        rep.done = CHORD_FIND_SUCC;
        memcpy(rep.peer, live, nlive * sizeof rep.peer[0]);
        count = nlive;
    } else {
        rep.done = CHORD_FIND_NEXT;
        count = closest_preceding(s, n, b->key, b->dead, ndead, rep.peer, g->next_hops);
        sim_count(s, CHORD_C_NEXT_REPLIES, 1);
        sim_count(s, CHORD_C_NEXT_CONTACTS, count);
    }
    rep.count = (uint8_t)count;
    reply_msg(s, n, m, CHORD_MSG_FIND_REP, &rep, CHORD_LIST_LEN(count), count);
}

static void on_check_req(struct sim *s, node_t n, const struct msg *m, uint64_t key, bool *yes)
{
    const struct chord_node *nd = chord_node(s, n);
    struct chord_check_rep rep = { .yes = nd->nsucc == 0 || owns(nd, key), .pred = nd->pred };
    *yes = rep.yes;
    reply_msg(s, n, m, CHORD_MSG_CHECK_REP, &rep, sizeof rep, 0);
}

static void on_fwd_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_fwd_req *b = m->body;
    reply_msg(s, n, m, CHORD_MSG_FWD_ACK, NULL, 0, 0);
    uint32_t i = rec_alloc(s, n, CHORD_FOR_FORWARD, b->key, m->lookup);
    struct chord_rec *r = rec_at(s, i);
    r->origin = b->origin;
    r->hops = b->hops;
    rec_step(s, i);
}

static void on_fwd_check_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_fwd_req *b = m->body;
    bool yes;
    on_check_req(s, n, m, b->key, &yes);
    if (yes) {                        /* n holds the key: it answers the origin */
        uint32_t i = rec_alloc(s, n, CHORD_FOR_FORWARD, b->key, m->lookup);
        struct chord_rec *r = rec_at(s, i);
        r->origin = b->origin;
        r->hops = b->hops;
        send_done(s, i, OUTCOME_OK, chord_node(s, n)->self);
    }
}

static void on_stab_req(struct sim *s, node_t n, const struct msg *m)
{
    const struct chord_node *nd = chord_node(s, n);
    struct chord_stab_rep rep = { .pred = nd->pred, .count = nd->nsucc };
    memcpy(rep.peer, nd->succ, nd->nsucc * sizeof rep.peer[0]);
    reply_msg(s, n, m, CHORD_MSG_STAB_REP, &rep, CHORD_STAB_LEN(nd->nsucc), nd->nsucc);
}

/* ==== the protocol's entry points ========================================================= */

static void chord_on_message(struct sim *s, node_t n, const struct msg *m)
{
    if (m->type == MSG_INTRODUCER_REPLY) {
        on_introducer_reply(s, n, m->body);
        return;
    }
    if (m->rpc) {                     /* a reply: dispatched by the request it answers */
        uint32_t i;
        switch (m->rpc->type) {
        case CHORD_MSG_FIND_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                iter_on_find_rep(s, n, m, i);
            break;
        case CHORD_MSG_CHECK_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                iter_on_check_rep(s, m, i);
            break;
        case CHORD_MSG_FWD_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                rec_free(s, i);       /* the next hop has it */
            break;
        case CHORD_MSG_FWD_CHECK_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                rec_on_check_rep(s, m, i);
            break;
        case CHORD_MSG_DONE:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                rec_free(s, i);       /* the origin has the answer */
            break;
        case CHORD_MSG_STAB_REQ:
            on_stab_rep(s, n, m);
            break;
        case CHORD_MSG_GET_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                fetch_on_rep(s, m, i);
            break;
        case CHORD_MSG_SYNC_REQ:
            on_sync_rep(s, n, m);
            break;
        case CHORD_MSG_PING_REQ:
            if (m->rpc->ctx[1] & CHORD_CTX_PNS)
                pns_on_reply(s, n, m);
            break;                    /* check_predecessor: alive, nothing to do */
        default:
            break;
        }
        return;
    }
    switch (m->type) {
    case CHORD_MSG_FIND_REQ:
        on_find_req(s, n, m);
        break;
    case CHORD_MSG_CHECK_REQ: {
        bool yes;
        on_check_req(s, n, m, ((const struct chord_key_req *)m->body)->key, &yes);
        break;
    }
    case CHORD_MSG_FWD_REQ:
        on_fwd_req(s, n, m);
        break;
    case CHORD_MSG_FWD_CHECK_REQ:
        on_fwd_check_req(s, n, m);
        break;
    case CHORD_MSG_DONE: {
        const struct chord_done *b = m->body;
        if (m->req)
            reply_msg(s, n, m, CHORD_MSG_DONE_ACK, NULL, 0, 0);
        sim_lookup_done(s, m->lookup, (enum outcome)b->outcome, b->owner.addr, b->hops);
        break;
    }
    case CHORD_MSG_STAB_REQ:
        on_stab_req(s, n, m);
        break;
    case CHORD_MSG_NOTIFY:
        on_notify(s, n, ((const struct chord_peer_msg *)m->body)->peer);
        break;
    case CHORD_MSG_PING_REQ:
        reply_msg(s, n, m, CHORD_MSG_PING_REP, NULL, 0, 0);
        break;
    case CHORD_MSG_LEAVE_PRED:
        on_leave_pred(s, n, m);
        break;
    case CHORD_MSG_LEAVE_SUCC:
        on_leave_succ(s, n, m);
        break;
    case CHORD_MSG_GET_REQ:
        on_get_req(s, n, m);
        break;
    case CHORD_MSG_STORE:
        on_store(s, n, m);
        break;
    case CHORD_MSG_SYNC_REQ:
        on_sync_req(s, n, m);
        break;
    default:
        SIM_ASSERT(!"chord: unexpected message type");
    }
}

static void chord_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    uint32_t i;
    switch (rpc->type) {
    case CHORD_MSG_FIND_REQ:
    case CHORD_MSG_CHECK_REQ:
        if ((i = rec_from_ctx(s, n, rpc->ctx[0])) != KIT_NONE)
            iter_on_timeout(s, n, rpc, i);
        else
            forget(s, n, rpc->dst);
        break;
    case CHORD_MSG_FWD_REQ:
    case CHORD_MSG_FWD_CHECK_REQ:
        if ((i = rec_from_ctx(s, n, rpc->ctx[0])) != KIT_NONE)
            rec_on_timeout(s, n, rpc, i);
        else
            forget(s, n, rpc->dst);
        break;
    case CHORD_MSG_DONE:              /* the origin, not a routing contact: nothing to forget */
        if ((i = rec_from_ctx(s, n, rpc->ctx[0])) != KIT_NONE)
            rec_on_timeout(s, n, rpc, i);
        break;
    case CHORD_MSG_STAB_REQ:
        on_stab_timeout(s, n, rpc);
        break;
    case CHORD_MSG_GET_REQ:
        if ((i = rec_from_ctx(s, n, rpc->ctx[0])) != KIT_NONE)
            fetch_on_timeout(s, n, rpc, i);
        else
            forget(s, n, rpc->dst);
        break;
    case CHORD_MSG_SYNC_REQ:          /* a successor is gone */
        forget(s, n, rpc->dst);
        break;
    default: {                        /* PING_REQ: the predecessor is gone */
        if (rpc->ctx[1] & CHORD_CTX_PNS) {
            pns_on_timeout(s, n, rpc);
            break;
        }
        uint32_t tries = (uint32_t)(rpc->ctx[0] >> CHORD_CTX_TRY_SHIFT) & CHORD_CTX_TRY_MASK;
        if (tries < chord_g(s)->retries)
            send_rpc(s, n, rpc->dst, CHORD_MSG_PING_REQ, LOOKUP_NONE, NULL, 0, 0,
                     (uint64_t)(tries + 1) << CHORD_CTX_TRY_SHIFT, 0);
        else
            forget(s, n, rpc->dst);
        break;
    }
    }
}

static void chord_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct chord_global *g = chord_g(s);
    struct chord_node *nd = chord_node(s, n);
    bool work = sim_maintenance_on(s) && nd->phase == CHORD_JOINED;
    switch (kind) {
    case CHORD_TIMER_STABILIZE:
        if (work)
            stabilize(s, n, false, 0);
        sim_timer(s, n, kind, sim_jitter(s, g->stabilize_us), 0);
        break;
    case CHORD_TIMER_CHECK_PRED:
        if (work && peer_ok(nd->pred))
            send_rpc(s, n, nd->pred.addr, CHORD_MSG_PING_REQ, LOOKUP_NONE, NULL, 0, 0, 0, 0);
        sim_timer(s, n, kind, sim_jitter(s, g->check_us), 0);
        break;
    case CHORD_TIMER_FIX_FINGERS:
        if (work && !(nd->flags & CHORD_F_FF_BUSY))
            ff_continue(s, n, g->refresh == CHORD_REFRESH_ALL ? 0 : nd->ff_next);
        sim_timer(s, n, kind, sim_jitter(s, g->fix_us), 0);
        break;
    case CHORD_TIMER_REPAIR:
        if (work)
            repair(s, n);
        sim_timer(s, n, kind, sim_jitter(s, g->repair_us), 0);
        break;
    case CHORD_TIMER_JOIN_RETRY:
        if (nd->phase == CHORD_JOINING)
            join_ask(s, n);
        break;
    case CHORD_TIMER_JOIN_WATCHDOG:
        if (nd->phase == CHORD_JOINING && kit_join_timed_out(&nd->join, arg)) {
            join_retry(s, n);         /* no answer from the introducer: ask again, later */
        }
        break;
    default:
        SIM_ASSERT(!"chord: unknown timer");
    }
}

/* Distinct contacts in fingers, successor list and predecessor. */
static size_t chord_state_entries(const struct sim *s, node_t n)
{
    const struct chord_node *nd = sim_state_const(s, n);
    struct addr seen[CHORD_BITS + CHORD_SUCC_MAX + 1];
    unsigned m = 0;
    struct addr last = ADDR_NONE;
    for (unsigned k = 0, nr = chord_fingers_nruns(&nd->finger); k < nr; k++) {
        struct peer p = chord_fingers_run(&nd->finger, k);
        if (!peer_ok(p) || addr_eq(p.addr, last))
            continue;
        last = p.addr;
        if (!addr_in(seen, m, p.addr))
            seen[m++] = p.addr;
    }
    for (unsigned k = 0; k < nd->nsucc; k++)
        if (!addr_in(seen, m, nd->succ[k].addr))
            seen[m++] = nd->succ[k].addr;
    if (peer_ok(nd->pred) && !addr_in(seen, m, nd->pred.addr))
        seen[m++] = nd->pred.addr;
    return m;
}

/* ==== converged start ===================================================================== */

/* The first index in [lo, len] whose id is >= key, every index below lo being known to hold a
 * smaller id: converge_lower_bound's answer, found by galloping from lo (a node's fingers lie
 * mostly a few places after it, so this costs a few comparisons rather than log2 N). */
static size_t gallop_lower_bound(const struct converge_node *v, size_t len, size_t lo, uint64_t key)
{
    size_t step = 1, hi = lo;
    while (hi < len && v[hi].id < key) {
        lo = hi + 1;
        hi = lo + step;
        step *= 2;
    }
    if (hi > len)
        hi = len;
    return lo + converge_lower_bound(v + lo, hi - lo, key);
}

/* Lays down exactly the state join and stabilization converge to: predecessor, r successors,
 * every finger; then starts every node's timers with random phases. */
static void chord_converge(struct sim *s)
{
    struct chord_global *g = chord_g(s);
    node_t cap = sim_capacity(s);
    node_t *live = mem_calloc(cap, sizeof *live, "chord: converging nodes");
    struct converge_node *v = mem_calloc(cap, sizeof *v, "chord: converging nodes");
    size_t len = sim_converge_live(s, live, cap);
    size_t sorted = sim_converge_sorted(s, v, cap);
    SIM_ASSERT(sorted == len);
    size_t pns = g->pns < g->r ? g->pns : g->r;       /* a lookup returns at most r successors */
    struct addr *addr = mem_calloc(len ? len : 1, sizeof *addr, "chord: converging addresses");
    for (size_t k = 0; k < len; k++)
        addr[k] = sim_addr(s, v[k].slot);
#define CHORD_PEER_AT(k) ((struct peer){ .id = v[k].id, .addr = addr[k] })
    for (size_t k = 0; k < len; k++) {
        node_t n = v[k].slot;
        struct chord_node *nd = chord_node(s, n);
        *nd = (struct chord_node){ .self = CHORD_PEER_AT(k), .pred = chord_peer_none,
                                   .wait_head = KIT_NONE, .phase = CHORD_JOINED };
        unsigned m = 0;
        for (size_t j = 1; j < len && m < g->r; j++)
            nd->succ[m++] = CHORD_PEER_AT((k + j) % len);
        nd->nsucc = (uint8_t)m;
        if (len > 1) {
            nd->pred = CHORD_PEER_AT((k + len - 1) % len);
            nd->flags |= CHORD_F_KNEW_OTHERS;
        }
        /* finger i = successor(id + 2^i): the targets grow with i until they wrap round
         * past 2^64 (once at most), and their lower bounds with them */
        size_t lo = k;
        struct peer finger[CHORD_BITS];
        for (unsigned i = 0; i < CHORD_BITS; i++) {
            uint64_t target = chord_finger_target(v[k].id, i);
            if (target < v[k].id && lo >= k)
                lo = 0;                       /* wrapped: the rest lie from index 0 on */
            lo = gallop_lower_bound(v, len, lo, target);
            size_t f = lo == len ? 0 : lo;
            finger[i] = f == k ? chord_peer_none : CHORD_PEER_AT(f);
            if (f == k || pns < 2 || !in_finger_interval(v[f].id, v[k].id, i))
                continue;
            /* PNS: the nearest of the first pns successors of the start in the interval, by
             * the round trip n would measure */
            int64_t best = sim_converge_rtt(s, n, v[f].slot);
            for (size_t j = 1; j < pns; j++) {
                size_t c = (f + j) % len;
                if (c == k || !in_finger_interval(v[c].id, v[k].id, i))
                    break;
                int64_t rtt = sim_converge_rtt(s, n, v[c].slot);
                if (rtt < best) {
                    best = rtt;
                    finger[i] = CHORD_PEER_AT(c);
                }
            }
        }
        chord_fingers_store(&nd->finger, finger);
    }
#undef CHORD_PEER_AT
    if (g->store && len) {            /* every key at its successor and the next replicas - 1 */
        uint32_t nkeys;
        const uint64_t *keys = sim_converge_keys(s, &nkeys);
        for (uint32_t q = 0; q < nkeys; q++) {
            size_t f = converge_lower_bound(v, len, keys[q]);
            f = f == len ? 0 : f;
            for (size_t j = 0; j < g->replicas && j < len; j++)
                keys_add(s, v[(f + j) % len].slot, keys[q]);
        }
    }
    for (size_t k = 0; k < len; k++)
        start_timers(s, live[k]);
    free(addr);
    free(v);
    free(live);
}

/* ==== setup =============================================================================== */

static size_t chord_msg_body_max(const struct proto_config *cfg)
{
    size_t r = (size_t)cfg->v[CHORD_P_SUCCESSORS].i;
    size_t max = sizeof(struct chord_check_rep);
    size_t cand[] = { sizeof(struct chord_find_req), sizeof(struct chord_fwd_req),
                      sizeof(struct chord_done), sizeof(struct chord_peer_msg),
                      CHORD_LIST_LEN(r + 1), CHORD_LIST_LEN(CHORD_NEXT_HOPS_MAX), CHORD_STAB_LEN(r),
                      cfg->v[CHORD_P_STORE].i ? sizeof(struct chord_sync) : 0 };
    for (size_t k = 0; k < sizeof cand / sizeof cand[0]; k++)
        if (cand[k] > max)
            max = cand[k];
    return max;
}

/* The slab record: the fixed part, then the successor list. */
static size_t chord_state_size(const struct proto_config *cfg)
{
    return sizeof(struct chord_node) + (size_t)cfg->v[CHORD_P_SUCCESSORS].i * sizeof(struct peer);
}

static int chord_setup(struct sim *s, const struct proto_config *cfg)
{
    uint32_t r = (uint32_t)cfg->v[CHORD_P_SUCCESSORS].i;
    struct chord_global *g = mem_calloc(1, sizeof *g, "chord: global data");
    g->r = r;
    g->stabilize_us = cfg->v[CHORD_P_STABILIZE].i;
    g->fix_us = cfg->v[CHORD_P_FIX_FINGERS].i;
    g->check_us = cfg->v[CHORD_P_CHECK_PRED].i;
    g->timeout_us = cfg->v[CHORD_P_TIMEOUT].i;
    g->retries = (uint32_t)cfg->v[CHORD_P_RETRIES].i;
    g->mode = cfg->v[CHORD_P_MODE].i == CHORD_RECURSIVE ? CHORD_RECURSIVE : CHORD_ITERATIVE;
    g->store = cfg->v[CHORD_P_STORE].i == 1;
    g->replicas = (uint32_t)cfg->v[CHORD_P_REPLICAS].i;
    if (g->replicas > r)
        g->replicas = r;              /* the copies live on the successor list */
    g->value_size = (uint32_t)cfg->v[CHORD_P_VALUE_SIZE].i;
    g->repair_us = cfg->v[CHORD_P_REPAIR].i;
    g->refresh = cfg->v[CHORD_P_FINGER_REFRESH].i == CHORD_REFRESH_ALL ? CHORD_REFRESH_ALL
                                                                         : CHORD_REFRESH_ONE;
    g->next_hops = (uint32_t)cfg->v[CHORD_P_NEXT_HOPS].i;
    g->pns = (uint32_t)cfg->v[CHORD_P_PNS].i;
    g->stride = r > CHORD_CANDS ? r : CHORD_CANDS;
    kit_pool_init(&g->rec, sizeof(struct chord_rec) + g->stride * sizeof(struct peer), 1024,
                  sim_capacity(s), "chord: lookup records");
    sim_set_protocol_data(s, g);
    if (g->store)
        sim_store_data(s);
    return 0;
}

/* n is down: the lookups it was running will never hear back, and the values it held are
 * gone with it. */
static void chord_down(struct sim *s, node_t n)
{
    kit_pool_node_down(&chord_g(s)->rec, n);
    struct chord_node *nd = chord_node(s, n);
    const uint64_t *k = nd->keys.v;
    for (uint32_t j = 0; j < nd->keys.n; j++)
        sim_key_dropped(s, n, k[j]);
    kit_vec_free(&nd->keys);
    chord_fingers_free(&nd->finger);
}

/* The judge's question (store: on): does n hold key's value? */
static bool chord_holds(const struct sim *s, node_t n, uint64_t key)
{
    return keys_has(sim_state_const(s, n), key);
}

static void chord_teardown(struct sim *s)
{
    struct chord_global *g = chord_g(s);
    if (!g)
        return;
    kit_pool_free(&g->rec);
    for (node_t n = 0; n < sim_capacity(s); n++) {  /* a slot that never came up is zero */
        kit_vec_free(&chord_node(s, n)->keys);
        chord_fingers_free(&chord_node(s, n)->finger);
    }
    free(g);
    sim_set_protocol_data(s, NULL);
}

/* ==== invariants (checked builds) ========================================================= */

#ifdef P2PLAB_CHECK
#include "sim/invariant.h"

/* Once the ring is stable (a converged start, nothing since: sim_invariant_stable), each
 * node's successor is the next live node clockwise and its predecessor the previous one, so
 * the successor pointers form one ring through every live node (Stoica et al., SIGCOMM 2001,
 * sec. 4.3: the invariant stabilization maintains). */
static void chord_check_invariants(struct sim *s)
{
    if (!sim_invariant_stable(s))
        return;
    node_t cap = sim_capacity(s);
    struct converge_node *v = mem_calloc(cap, sizeof *v, "chord: the ring, for its invariants");
    size_t len = sim_invariant_sorted(s, v, cap);
    node_t pick[SIM_INVARIANT_NODES];
    node_t n_pick = sim_invariant_nodes(s, pick);
    for (node_t q = 0; q < n_pick && len > 1; q++) {
        const struct chord_node *nd = chord_node(s, pick[q]);
        size_t k = converge_lower_bound(v, len, nd->self.id);
        while (k < len && v[k].slot != pick[q])
            k++;
        if (k == len)
            sim_invariant_fail(s, pick[q], "its own identifier is not the one it joined with");
        const struct converge_node *next = &v[(k + 1) % len], *prev = &v[(k + len - 1) % len];
        if (nd->nsucc == 0 || nd->succ[0].addr.slot != next->slot || nd->succ[0].id != next->id)
            sim_invariant_fail(s, pick[q], "the ring is stable, but its successor is not the next "
                               "live node clockwise (node %u, id %016llx)", next->slot,
                               (unsigned long long)next->id);
        if (nd->pred.addr.slot != prev->slot || nd->pred.id != prev->id)
            sim_invariant_fail(s, pick[q], "the ring is stable, but its predecessor is not the "
                               "previous live node (node %u, id %016llx)", prev->slot,
                               (unsigned long long)prev->id);
    }
    free(v);
}

/* Test only: n's successor pointer skips its true successor, which check_invariants catches. */
static void chord_invariant_break(struct sim *s, node_t n)
{
    struct chord_node *nd = chord_node(s, n);
    if (nd->nsucc > 1)
        nd->succ[0] = nd->succ[1];
}
#endif

const struct protocol chord_protocol = {
    .msg_names = chord_msg_name,
    .n_msg_names = CHORD_MSG_COUNT,
    .name = "chord",
    .summary = "Chord: 64-bit ring, fingers, successor list, stabilization",
    .paper = "Stoica et al., Chord: a scalable peer-to-peer lookup service, SIGCOMM 2001",
    .params = chord_params,
    .counters = chord_counters,
    .keys = KEYS_SUCCESSOR,
    .node_state_size = sizeof(struct chord_node),
    .state_size = chord_state_size,
    .msg_body_max = chord_msg_body_max,
    .setup = chord_setup,
    .join = chord_join,
    .leave = chord_leave,
    .on_message = chord_on_message,
    .on_timer = chord_on_timer,
    .on_timeout = chord_on_timeout,
    .lookup = chord_lookup,
    .state_entries = chord_state_entries,
    .converge = chord_converge,
    .insert = chord_insert,
    .holds = chord_holds,
    .teardown = chord_teardown,
    .down = chord_down,
#ifdef P2PLAB_CHECK
    .check_invariants = chord_check_invariants,
    .invariant_break = chord_invariant_break,
#endif
};
