/* bittorrent.c — BitTorrent (Cohen, "Incentives build robustness in BitTorrent", P2PEcon 2003;
 * the wire protocol of BEP 3).
 *
 * Roles. Server 0 is the tracker; servers 1..seeds are the initial seeds, up from t = 0 and
 * never churned; the scenario's peers are the leechers. They arrive as the scenario's joins: a
 * flash crowd is `nodes: { count: N, start: join, join_over: 1s }`; a Poisson stream of rate
 * λ is `join_over: T` with N = λT, since N joins drawn uniformly over T are a Poisson process
 * conditioned on N arrivals. (`start: converged` is refused by the engine: no converge hook.)
 * A leecher's download starts when it joins (sim_download_start) and ends when it holds every
 * piece (sim_download_done); then it seeds for `seed_time` and leaves (sim_depart). Churn
 * applies to leechers; the engine counts a leecher that goes down unfinished as aborted.
 *
 * The content: `pieces` pieces of `piece_size` bytes, split into 16 KiB blocks (BEP 3 and
 * every mainstream client request 16 KiB). A peer announces to the tracker (HTTP GET) when
 * it joins, every `announce` interval, when it has fewer than `min_peers` connections (at most
 * once a minute) and with event=stopped when it leaves gracefully; the tracker answers with up
 * to `peer_list` random peers of the swarm (entries not refreshed for 2 intervals expire). A
 * peer opens connections (handshake RPC) to known peers until it has initiated `max_initiate`,
 * and accepts incoming ones up to `max_conns` in all. Connected peers exchange bitfields, then
 * `have` on every completed piece, and interested / not interested as their needs change.
 *
 * Piece selection (Cohen §2.3): strict priority (blocks of a started piece first), random
 * first piece (until one piece is complete), then local rarest first among the pieces the
 * peer has (availability counted over our connections; ties broken at random); endgame mode
 * when every missing block is requested: ask every peer that has a block for it and cancel
 * the others when it arrives. `pipeline` requests are kept outstanding per unchoking peer.
 * Each requested block travels as one bulk transfer (net_transfer), so the uploader's link is
 * shared among its blocks in flight; control messages are net_send.
 *
 * Choking (Cohen §2.4-2.5): every 10 s a leecher unchokes the 4 interested peers that sent it
 * the most in the last 20 s (two choke rounds); every 30 s it rotates one optimistic unchoke
 * to a random choked interested peer. A seed ranks by what it sent to each peer instead (the
 * fastest downloaders). Between rounds a peer that becomes interested is unchoked at once if a
 * regular slot is free. Free-riders (`free_riders`, a share of the leechers drawn at join)
 * never unchoke anyone and answer no request. Choking a peer cancels our transfers to it, and
 * the choked peer forgets its requests there (BEP 3: choke discards pending requests).
 *
 * Failures are learnt only by timeouts: a handshake RPC that times out drops the address; a
 * connection silent for 3 keep-alive intervals, or that has left our requests unanswered for
 * `snub` (60 s, mainline's anti-snubbing delay) while unchoking us, is closed. A graceful leave
 * sends every connection a FIN.
 *
 * Memory: a node's slab record is struct bt_node (80 bytes) followed by its tables, sized from
 * the configuration (struct bt_layout): its own bitfield and two more of the pieces started and
 * fully requested (what the picker reads, ⌈pieces/64⌉ words each); an index of the connections
 * by the peer's address (a byte per slot, twice max_conns rounded up to a power of two); per
 * connection a 24-byte link record with the peer's bitfield (what every message received
 * touches: finding its connection reads one index byte and one link) and a 432-byte record
 * with room for 16 uploads in flight; 16 bytes of block masks and 2 bytes of availability per
 * piece; and `peer_list` known addresses of 8 bytes. With the defaults (80 connections, 256
 * pieces, 50 known) 80 + 3·32 + 256 + 80·(24+32+432) + 256·18 + 400 = 44,480 bytes per node
 * slot. The tracker's swarm, 24 bytes per member, is a
 * vector in the tracker's record. */
#include "protocols/bittorrent_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "protocols/kit.h"
#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define BT_BLOCK 16384u               /* bytes per block (BEP 3 practice) */
#define BT_BLOCKS_MAX 64              /* blocks per piece: one uint64 mask (1 MiB pieces) */
#define BT_PIECES_MAX 2048
#define BT_PIPELINE_MAX 16
#define BT_PEERLIST_MAX 100
#define BT_CONNS_MAX 128
#define BT_REANNOUNCE_MIN_US (60 * INT64_C(1000000))   /* fewest peers: at most once a minute */
#define BT_KEEPALIVE_US (120 * INT64_C(1000000))      /* BEP 3: keep-alive every two minutes */

/* ==== parameters ========================================================================== */

enum bt_param {
    BT_P_PIECES,
    BT_P_PIECE_SIZE,
    BT_P_SEEDS,
    BT_P_PEER_LIST,
    BT_P_MAX_INITIATE,
    BT_P_MAX_CONNS,
    BT_P_MIN_PEERS,
    BT_P_ANNOUNCE,
    BT_P_UNCHOKE_SLOTS,
    BT_P_CHOKE,
    BT_P_OPTIMISTIC,
    BT_P_PIPELINE,
    BT_P_SNUB,
    BT_P_RPC_TIMEOUT,
    BT_P_SEED_TIME,
    BT_P_FREE_RIDERS,
};

static const struct param bt_params[] = {
    [BT_P_PIECES] = { .name = "pieces", .type = PARAM_INT, .def = "256", .min = 1,
      .max = BT_PIECES_MAX, .doc = "pieces in the content, P (a 64 MiB file at the default size)" },
    [BT_P_PIECE_SIZE] = { .name = "piece_size", .type = PARAM_INT, .def = "262144",
      .min = BT_BLOCK, .max = (double)BT_BLOCK * BT_BLOCKS_MAX,
      .doc = "bytes per piece, a multiple of 16384 (256 KiB: mainline's default)" },
    [BT_P_SEEDS] = { .name = "seeds", .type = PARAM_INT, .def = "1", .min = 1, .max = 16,
      .doc = "initial seeds: dedicated server nodes up from t = 0, never churned" },
    [BT_P_PEER_LIST] = { .name = "peer_list", .type = PARAM_INT, .def = "50", .min = 1,
      .max = BT_PEERLIST_MAX, .doc = "peers the tracker returns per announce (numwant, mainline: 50)" },
    [BT_P_MAX_INITIATE] = { .name = "max_initiate", .type = PARAM_INT, .def = "40", .min = 1,
      .max = BT_CONNS_MAX, .doc = "connections a peer opens itself (mainline: 40)" },
    [BT_P_MAX_CONNS] = { .name = "max_conns", .type = PARAM_INT, .def = "80", .min = 1,
      .max = BT_CONNS_MAX, .doc = "connections in all, incoming included (mainline: 80)" },
    [BT_P_MIN_PEERS] = { .name = "min_peers", .type = PARAM_INT, .def = "20", .min = 0,
      .max = BT_CONNS_MAX, .doc = "below this many connections a peer re-announces (mainline: 20)" },
    [BT_P_ANNOUNCE] = { .name = "announce", .type = PARAM_DURATION, .def = "30min", .min = 1,
      .max = 86400, .doc = "tracker re-announce interval (mainline: 30 min)" },
    [BT_P_UNCHOKE_SLOTS] = { .name = "unchoke_slots", .type = PARAM_INT, .def = "4", .min = 1,
      .max = 32, .doc = "regular unchokes, by rate (Cohen 2003 §2.4: 4)" },
    [BT_P_CHOKE] = { .name = "choke", .type = PARAM_DURATION, .def = "10s", .min = 0.1,
      .max = 3600, .doc = "choke round; rates are measured over two rounds (Cohen: 10 s, 20 s)" },
    [BT_P_OPTIMISTIC] = { .name = "optimistic", .type = PARAM_DURATION, .def = "30s", .min = 0.1,
      .max = 3600, .doc = "optimistic unchoke rotation (Cohen 2003 §2.5: 30 s)" },
    [BT_P_PIPELINE] = { .name = "pipeline", .type = PARAM_INT, .def = "5", .min = 1,
      .max = BT_PIPELINE_MAX, .doc = "block requests kept outstanding per peer (mainline: 5)" },
    [BT_P_SNUB] = { .name = "snub", .type = PARAM_DURATION, .def = "60s", .min = 1, .max = 3600,
      .doc = "an unchoking peer that sends no requested block for this long is dropped "
             "(mainline's anti-snubbing: 60 s)" },
    [BT_P_RPC_TIMEOUT] = { .name = "rpc_timeout", .type = PARAM_DURATION, .def = "10s",
      .min = 0.001, .max = 600, .doc = "handshake and tracker timeout" },
    [BT_P_SEED_TIME] = { .name = "seed_time", .type = PARAM_DURATION, .def = "0", .min = 0,
      .max = 31536000, .doc = "a leecher seeds this long after completing, then leaves (0: at once)" },
    [BT_P_FREE_RIDERS] = { .name = "free_riders", .type = PARAM_DOUBLE, .def = "0", .min = 0,
      .max = 1, .doc = "share of leechers that never upload (never unchoke, answer no request)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* Sizes on the wire, BEP 3: a peer message is a 4-byte length prefix, a 1-byte id and its
 * payload; the handshake is 68 bytes (1 + 19-byte "BitTorrent protocol" + 8 reserved +
 * 20-byte info hash + 20-byte peer id); each TCP segment adds 40 bytes of TCP/IP headers
 * (every message's overhead). A 16 KiB block (piece message: index, begin, data) spans 12 TCP
 * segments of 1,460 bytes: 12 x 40 header bytes. The tracker announce is an HTTP GET of about
 * 300 bytes (info_hash, peer_id, port, uploaded, downloaded, left, event, numwant, compact);
 * the reply about 150 bytes of HTTP and bencoding plus 6 bytes per peer (BEP 23 compact
 * format). */
#define BT_TCPIP 40
#define BT_PREFIX 5                   /* length + id */
#define BT_SEGMENT 1460
#define BT_BLOCK_WIRE (BT_PREFIX + 8 + BT_BLOCK)
#define BT_BLOCK_SEGMENTS ((BT_BLOCK_WIRE + BT_SEGMENT - 1) / BT_SEGMENT)
#define BT_COMPACT_PEER 6

#define BT_MESSAGES(X)                                                                         \
    X(BT_MSG_ANNOUNCE_REQ, 300, 0)                                                             \
    X(BT_MSG_ANNOUNCE_REP, 150, BT_COMPACT_PEER)                                               \
    X(BT_MSG_HANDSHAKE_REQ, 68, 0)                                                             \
    X(BT_MSG_HANDSHAKE_REP, 68, 0)                                                             \
    X(BT_MSG_REFUSE, 0, 0)                  /* connection refused or closed: FIN */            \
    X(BT_MSG_CLOSE, 0, 0)                                                                      \
    X(BT_MSG_KEEPALIVE, 4, 0)                                                                  \
    X(BT_MSG_CHOKE, BT_PREFIX, 0)                                                              \
    X(BT_MSG_UNCHOKE, BT_PREFIX, 0)                                                            \
    X(BT_MSG_INTERESTED, BT_PREFIX, 0)                                                         \
    X(BT_MSG_NOT_INTERESTED, BT_PREFIX, 0)                                                     \
    X(BT_MSG_HAVE, BT_PREFIX + 4, 0)                                                           \
    X(BT_MSG_BITFIELD, BT_PREFIX, 1)        /* + ceil(pieces / 8) */                           \
    X(BT_MSG_REQUEST, BT_PREFIX + 12, 0)    /* index, begin, length */                         \
    X(BT_MSG_CANCEL, BT_PREFIX + 12, 0)                                                        \
    X(BT_MSG_PIECE, BT_BLOCK_WIRE + (BT_BLOCK_SEGMENTS - 1) * BT_TCPIP, 0)  /* 12 headers in all */
KIT_MSG_TABLE(bt, BT, BT_MESSAGES, BT_TCPIP);

uint32_t bt_wire_size(unsigned type, uint32_t pieces, uint32_t peers)
{
    return kit_wire_size(&bt_msgs, type, type == BT_MSG_BITFIELD ? (pieces + 7) / 8 :
                                         type == BT_MSG_ANNOUNCE_REP ? peers : 0);
}

enum bt_event { BT_EV_NONE, BT_EV_STARTED, BT_EV_COMPLETED, BT_EV_STOPPED };

/* Bodies, a tagged union by message type. */
struct bt_announce_req {              /* ANNOUNCE_REQ */
    uint8_t event;                    /* enum bt_event */
    uint8_t seed;                     /* left = 0 */
    uint32_t numwant;
};
struct bt_announce_rep {              /* ANNOUNCE_REP: n addresses */
    uint32_t n;
    struct addr peer[BT_PEERLIST_MAX];
};
struct bt_block_ref {                 /* HAVE (block unused), REQUEST, CANCEL, PIECE */
    uint32_t piece, block;
};
struct bt_bitfield {                  /* BITFIELD */
    uint64_t bits[BT_PIECES_MAX / 64];
};

/* ==== state =============================================================================== */

enum bt_role { BT_LEECHER, BT_TRACKER, BT_SEED };

enum bt_timer { BT_T_CHOKE, BT_T_ANNOUNCE, BT_T_DEPART };

/* Connection flags. */
#define BT_AM_CHOKING 0x01u           /* we choke the peer */
#define BT_AM_INTERESTED 0x02u
#define BT_PEER_CHOKING 0x04u         /* the peer chokes us */
#define BT_PEER_INTERESTED 0x08u
#define BT_OPTIMISTIC 0x10u           /* our optimistic unchoke */
#define BT_INITIATED 0x20u            /* we opened it (counts against max_initiate) */

struct bt_req {                       /* a block request outstanding at a peer */
    uint32_t piece;
    uint16_t block;
    uint16_t pad;
};

/* What every message on a connection touches, kept together (one or two cache lines) apart
 * from the rest of the connection: the record is followed by the peer's bitfield,
 * ceil(pieces / 64) words. */
struct bt_link {
    struct addr peer;
    int64_t heard_us;                 /* last message from the peer */
    uint32_t npieces;                 /* pieces the peer has */
    uint32_t pad;
};

struct bt_conn {
    struct addr peer;
    uint8_t flags;
    uint8_t n_req;                    /* our requests outstanding at the peer */
    uint8_t up_head;
    int64_t sent_us;                  /* last message to the peer */
    int64_t block_us;                 /* last block from the peer, or when requests began */
    uint32_t down[2], up[2];          /* bytes from / to the peer: this round, the last */
    struct bt_req req[BT_PIPELINE_MAX];
    /* our latest transfers to the peer: as many as it may have requests outstanding */
    struct { uint64_t handle; uint32_t piece, block; } upl[BT_PIPELINE_MAX];
};

struct bt_tracker_entry {             /* a member of the tracker's swarm */
    struct addr addr;
    int64_t seen_us;                  /* its last announce */
    uint32_t seed;
    uint32_t pad;
};

/* A node's slab record: this fixed part, then its tables (struct bt_layout). */
struct bt_node {
    uint8_t role;                     /* enum bt_role */
    uint8_t free_rider, complete, endgame;
    uint32_t have;                    /* complete pieces */
    uint32_t n_conn, n_known, n_initiated, n_pending;   /* pending: handshakes in flight */
    uint32_t rounds;                  /* choke rounds so far */
    int64_t joined_us, announced_us;
    uint64_t announce_timer;
    uint32_t unchoked;                /* regular unchokes now */
    uint32_t pad;
    struct kit_vec swarm;             /* the tracker's: struct bt_tracker_entry */
};

_Static_assert(sizeof(struct bt_conn) == 432 && sizeof(struct bt_link) == 24 &&
               sizeof(struct bt_node) == 80,
               "the memory figures in the header comment");

/* Where a node's tables start in its slab record, bytes from its start, and the record's size:
 * every table is a multiple of 8 bytes but the last. */
struct bt_layout {
    size_t have;                      /* ceil(pieces / 64) words: our bitfield */
    size_t started;                   /* ceil(pieces / 64) words: pieces with a block received
                                         or requested (got | req != 0) */
    size_t taken;                     /* ceil(pieces / 64) words: pieces with every block
                                         received or requested (got | req == full) */
    size_t index;                     /* index_slots bytes: the connections by the peer's slot,
                                         an open-addressing table of connection index + 1 */
    size_t link;                      /* max_conns x link_size: struct bt_link + bitfield */
    size_t conn;                      /* max_conns x struct bt_conn */
    size_t got, req;                  /* pieces x block masks: received, requested */
    size_t known;                     /* peer_list x struct addr: addresses to try */
    size_t avail;                     /* pieces x uint16_t: copies among our connections */
    size_t size;
    size_t link_size;                 /* bytes per connection's link record */
    uint32_t index_slots;             /* a power of two, at least 2 x max_conns */
};

static struct bt_layout bt_layout(const struct proto_config *cfg)
{
    size_t P = (size_t)cfg->v[BT_P_PIECES].i, C = (size_t)cfg->v[BT_P_MAX_CONNS].i;
    size_t words = (P + 63) / 64, K = (size_t)cfg->v[BT_P_PEER_LIST].i;
    struct bt_layout l = { .have = sizeof(struct bt_node), .index_slots = 8 };
    while (l.index_slots < 2 * C)
        l.index_slots *= 2;
    l.link_size = sizeof(struct bt_link) + words * sizeof(uint64_t);
    l.started = l.have + words * sizeof(uint64_t);
    l.taken = l.started + words * sizeof(uint64_t);
    l.index = l.taken + words * sizeof(uint64_t);
    l.link = l.index + l.index_slots;
    l.conn = l.link + C * l.link_size;
    l.got = l.conn + C * sizeof(struct bt_conn);
    l.req = l.got + P * sizeof(uint64_t);
    l.known = l.req + P * sizeof(uint64_t);
    l.avail = l.known + K * sizeof(struct addr);
    l.size = l.avail + P * sizeof(uint16_t);
    return l;
}

static size_t bt_state_size(const struct proto_config *cfg) { return bt_layout(cfg).size; }

struct bt_world {
    uint32_t P, blocks, last_blocks, words, C;   /* pieces, blocks per piece, ... */
    uint64_t F;                       /* content bytes */
    node_t cap;
    struct bt_layout at;              /* the tables in every node's record */
    /* measurement only (gauges) */
    double dl_sum[2];                 /* [free rider?]: download seconds, completed */
    uint64_t dl_n[2];
    double up_sum, down_min;          /* leechers' uploads (contributors), smallest download */
    double leech_up_all, leech_down_all;
    uint64_t leechers;                /* leechers that joined */
    double delivered;                 /* block bytes delivered since the last sample */
    double cap_live;                  /* upload capacity of the peers and seeds up, B/s */
    double cap_integral;              /* its integral since the last sample, bytes */
    int64_t cap_us;                   /* when the integral was last brought up to date */
    int64_t last_sample_us;
    double cache[PROTO_GAUGES_MAX];
    int64_t cache_us;
    node_t *live;
    uint32_t copies[BT_PIECES_MAX];   /* gauges' scratch: copies of each piece */
    uint64_t full[BT_PIECES_MAX];     /* each piece's mask of all its blocks */
};

enum bt_counter { BT_C_REFUSED, BT_C_DROPPED, BT_C_SNUBBED, BT_C_CANCELS, BT_C_DUPLICATES,
                  BT_C_ANNOUNCES, BT_C_FR_DONE, BT_C_FR_MS, BT_C_CO_DONE, BT_C_CO_MS };
static const char *const bt_counters[] = {
    [BT_C_REFUSED] = "conn.refused", [BT_C_DROPPED] = "conn.timed_out",
    [BT_C_SNUBBED] = "conn.snubbed", [BT_C_CANCELS] = "endgame.cancels",
    [BT_C_DUPLICATES] = "blocks.duplicate", [BT_C_ANNOUNCES] = "tracker.announces",
    [BT_C_FR_DONE] = "download.free_rider_done", [BT_C_FR_MS] = "download.free_rider_ms",
    [BT_C_CO_DONE] = "download.contributor_done", [BT_C_CO_MS] = "download.contributor_ms",
    NULL,
};

enum bt_gauge { BT_G_MIN_COPIES, BT_G_MEAN_COPIES, BT_G_UTIL, BT_G_LOWER, BT_G_FLUID,
                BT_G_CONTRIB, BT_G_FREE, BT_G_LEECHERS };
static const char *const bt_gauges[] = {
    [BT_G_MIN_COPIES] = "pieces.min_copies", [BT_G_MEAN_COPIES] = "pieces.mean_copies",
    [BT_G_UTIL] = "upload.utilisation", [BT_G_LOWER] = "model.lower_bound_s",
    [BT_G_FLUID] = "model.fluid_time_s", [BT_G_CONTRIB] = "download.contributor_mean_s",
    [BT_G_FREE] = "download.free_rider_mean_s", [BT_G_LEECHERS] = "swarm.leechers",
    NULL,
};

static struct bt_world *W(struct sim *s) { return sim_protocol_data(s); }
static struct bt_node *node(struct sim *s, node_t n) { return sim_state(s, n); }
static int64_t P_(struct sim *s, enum bt_param p) { return sim_config(s)->v[p].i; }

static void *tab(struct bt_node *b, size_t off) { return (unsigned char *)b + off; }
static struct bt_conn *conns(const struct bt_world *w, struct bt_node *b)
{
    return tab(b, w->at.conn);
}
static uint64_t *got_of(const struct bt_world *w, struct bt_node *b) { return tab(b, w->at.got); }
static uint64_t *req_of(const struct bt_world *w, struct bt_node *b) { return tab(b, w->at.req); }
static uint64_t *have_of(const struct bt_world *w, struct bt_node *b) { return tab(b, w->at.have); }
static struct addr *known_of(const struct bt_world *w, struct bt_node *b)
{
    return tab(b, w->at.known);
}
static uint64_t *started_of(const struct bt_world *w, struct bt_node *b)
{
    return tab(b, w->at.started);
}
static uint64_t *taken_of(const struct bt_world *w, struct bt_node *b)
{
    return tab(b, w->at.taken);
}
static uint8_t *index_of(const struct bt_world *w, struct bt_node *b) { return tab(b, w->at.index); }
static struct bt_link *link_of(const struct bt_world *w, struct bt_node *b, uint32_t c)
{
    return tab(b, w->at.link + (size_t)c * w->at.link_size);
}
static uint16_t *avail_of(const struct bt_world *w, struct bt_node *b)
{
    return tab(b, w->at.avail);
}
static uint64_t *peer_bits(const struct bt_world *w, struct bt_node *b, uint32_t c)
{
    return (uint64_t *)(link_of(w, b, c) + 1);
}
static bool bit(const uint64_t *b, uint32_t i) { return b[i / 64] >> (i % 64) & 1; }
static void set_bit(uint64_t *b, uint32_t i) { b[i / 64] |= UINT64_C(1) << (i % 64); }
static void put_bit(uint64_t *b, uint32_t i, bool v)
{
    b[i / 64] = (b[i / 64] & ~(UINT64_C(1) << (i % 64))) | (uint64_t)v << (i % 64);
}

/* Brings piece p's bits in `started` and `taken` in line with its block masks. */
static void mark_piece(const struct bt_world *w, struct bt_node *b, uint32_t p)
{
    uint64_t used = got_of(w, b)[p] | req_of(w, b)[p];
    put_bit(started_of(w, b), p, used != 0);
    put_bit(taken_of(w, b), p, used == w->full[p]);
}

/* Brings the capacity integral up to now, then adds d to the live capacity. */
static void capacity_change(struct sim *s, double d)
{
    struct bt_world *w = W(s);
    w->cap_integral += w->cap_live * (double)(sim_now(s) - w->cap_us) / 1e6;
    w->cap_us = sim_now(s);
    w->cap_live += d;
}

/* ==== the piece picker (pure functions) ==================================================== */

uint64_t bt_full_mask(uint32_t blocks)
{
    return blocks >= 64 ? UINT64_MAX : (UINT64_C(1) << blocks) - 1;
}

/* Piece p's bits in `started` (a block received or requested) and `taken` (every block
 * received or requested), from its block masks: what the picker reads instead of scanning them. */
void bt_pick_marks(uint32_t P, const uint64_t *got, const uint64_t *req, const uint64_t *full,
                   uint64_t *started, uint64_t *taken)
{
    memset(started, 0, (P + 63) / 64 * sizeof *started);
    memset(taken, 0, (P + 63) / 64 * sizeof *taken);
    for (uint32_t p = 0; p < P; p++) {
        uint64_t used = got[p] | req[p];
        if (used)
            set_bit(started, p);
        if (used == full[p])
            set_bit(taken, p);
    }
}

/* The piece to request a block of from a peer that has `peer_has`, or BT_NONE. Strict priority:
 * a started piece with a block not yet requested (the one with the fewest such blocks left,
 * the lowest on a tie); then, for a peer with no complete piece yet, a random piece; otherwise
 * the rarest by `avail`, ties broken uniformly at random (a reservoir over the candidates in
 * increasing order). Only the pieces the peer has and we lack are visited, a word of 64 at a
 * time. */
uint32_t bt_pick_piece(const struct bt_pick *k, const uint64_t *peer_has, bool random_first,
                       gsl_rng *r)
{
    uint32_t words = (k->P + 63) / 64;
    uint64_t last = k->P % 64 ? (UINT64_C(1) << (k->P % 64)) - 1 : UINT64_MAX;
    uint32_t best = BT_NONE, best_left = UINT32_MAX;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t cand = peer_has[w] & ~k->have[w] & k->started[w] & ~k->taken[w];
        if (w + 1 == words)
            cand &= last;
        for (; cand; cand &= cand - 1) {
            uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(cand);
            uint32_t left = (uint32_t)__builtin_popcountll(k->full[p] & ~(k->got[p] | k->req[p]));
            if (left < best_left) {
                best_left = left;
                best = p;
            }
        }
    }
    if (best != BT_NONE)
        return best;
    uint32_t ties = 0, rarest = UINT32_MAX;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t cand = peer_has[w] & ~k->have[w] & ~k->started[w];
        if (w + 1 == words)
            cand &= last;
        for (; cand; cand &= cand - 1) {
            uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(cand);
            uint32_t a = random_first ? 0 : k->avail[p];
            if (a < rarest) {
                rarest = a;
                ties = 0;
            }
            if (a == rarest && gsl_rng_uniform_int(r, ++ties) == 0)
                best = p;             /* reservoir: each tie equally likely */
        }
    }
    return best;
}

/* The lowest block of a piece neither received nor requested, or BT_NONE. */
uint32_t bt_pick_block(uint64_t got, uint64_t req, uint64_t full)
{
    uint64_t free = full & ~(got | req);
    return free ? (uint32_t)__builtin_ctzll(free) : BT_NONE;
}

/* ==== sending ============================================================================= */

static void send_to(struct sim *s, node_t n, struct addr to, enum bt_msg type, const void *body,
                    size_t len, size_t entries)
{
    kit_send(s, &bt_msgs, n, to, &(struct kit_out){ .type = type, .lookup = LOOKUP_NONE,
                                                    .body = body, .len = len, .entries = entries });
}

static void reply(struct sim *s, node_t n, const struct msg *m, enum bt_msg type,
                  const void *body, size_t len, size_t entries)
{
    kit_reply(s, &bt_msgs, n, m, &(struct kit_out){ .type = type, .body = body, .len = len,
                                                    .entries = entries });
}

static void send_ctl(struct sim *s, node_t n, struct bt_conn *c, enum bt_msg type)
{
    c->sent_us = sim_now(s);
    send_to(s, n, c->peer, type, NULL, 0, 0);
}

static void send_ref(struct sim *s, node_t n, struct bt_conn *c, enum bt_msg type,
                     uint32_t piece, uint32_t block)
{
    struct bt_block_ref r = { piece, block };
    c->sent_us = sim_now(s);
    send_to(s, n, c->peer, type, &r, sizeof r, 0);
}

static void announce(struct sim *s, node_t n, enum bt_event ev)
{
    struct bt_node *b = node(s, n);
    struct bt_announce_req r = { .event = (uint8_t)ev, .seed = b->complete,
                                 .numwant = (uint32_t)P_(s, BT_P_PEER_LIST) };
    struct kit_out o = { .type = BT_MSG_ANNOUNCE_REQ, .lookup = LOOKUP_NONE, .body = &r,
                         .len = sizeof r };
    b->announced_us = sim_now(s);
    sim_count(s, BT_C_ANNOUNCES, 1);
    if (ev == BT_EV_STOPPED)
        kit_send(s, &bt_msgs, n, sim_server_addr(s, 0), &o);
    else
        kit_rpc(s, &bt_msgs, n, sim_server_addr(s, 0), &o, P_(s, BT_P_RPC_TIMEOUT), 0, 0);
}

/* ==== connections ========================================================================= */

/* The index: open addressing with linear probing over index_slots bytes, each 0 (empty) or a
 * connection's index + 1, placed by the peer's slot; at most half full. */
static uint32_t index_home(const struct bt_world *w, struct addr a)
{
    return (a.slot * UINT32_C(0x9e3779b1)) >> 16 & (w->at.index_slots - 1);
}

/* The index entry that holds connection ci. */
static uint32_t index_find(const struct bt_world *w, struct bt_node *b, uint32_t ci)
{
    const uint8_t *ix = index_of(w, b);
    uint32_t mask = w->at.index_slots - 1;
    uint32_t h = index_home(w, link_of(w, b, ci)->peer);
    while (ix[h] != ci + 1)
        h = (h + 1) & mask;
    return h;
}

static void index_add(const struct bt_world *w, struct bt_node *b, uint32_t ci)
{
    uint8_t *ix = index_of(w, b);
    uint32_t mask = w->at.index_slots - 1;
    uint32_t h = index_home(w, link_of(w, b, ci)->peer);
    while (ix[h])
        h = (h + 1) & mask;
    ix[h] = (uint8_t)(ci + 1);
}

/* Takes connection ci out of the index, shifting back the entries after it that would
 * otherwise no longer be found (Knuth 6.4, algorithm R). */
static void index_remove(const struct bt_world *w, struct bt_node *b, uint32_t ci)
{
    uint8_t *ix = index_of(w, b);
    uint32_t mask = w->at.index_slots - 1;
    uint32_t i = index_find(w, b, ci), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!ix[j])
            break;
        uint32_t k = index_home(w, link_of(w, b, ix[j] - 1u)->peer);
        /* the entry at j may move to i unless its home lies cyclically in (i, j] */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        ix[i] = ix[j];
        i = j;
    }
    ix[i] = 0;
}

static uint32_t find_conn(struct sim *s, node_t n, struct addr a)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    const uint8_t *ix = index_of(w, b);
    uint32_t mask = w->at.index_slots - 1;
    for (uint32_t h = index_home(w, a); ix[h]; h = (h + 1) & mask)
        if (addr_eq(link_of(w, b, ix[h] - 1u)->peer, a))
            return ix[h] - 1u;
    return BT_NONE;
}

/* Is any of the peer's pieces missing here? */
static bool wants(const struct bt_world *w, struct bt_node *b, uint32_t ci)
{
    const uint64_t *h = have_of(w, b), *p = peer_bits(w, b, ci);
    for (uint32_t k = 0; k < w->words; k++)
        if (p[k] & ~h[k])
            return true;
    return false;
}

static void update_interest(struct sim *s, node_t n, uint32_t ci)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    struct bt_conn *c = &conns(w, b)[ci];
    bool want = !b->complete && wants(w, b, ci);
    if (want && !(c->flags & BT_AM_INTERESTED)) {
        c->flags |= BT_AM_INTERESTED;
        send_ctl(s, n, c, BT_MSG_INTERESTED);
    } else if (!want && (c->flags & BT_AM_INTERESTED)) {
        c->flags &= (uint8_t)~BT_AM_INTERESTED;
        send_ctl(s, n, c, BT_MSG_NOT_INTERESTED);
    }
}

/* Is block (p, k) outstanding at any connection of n? */
static bool requested_anywhere(const struct bt_world *w, struct bt_node *b, uint32_t p, uint32_t k)
{
    const struct bt_conn *c = conns(w, b);
    for (uint32_t i = 0; i < b->n_conn; i++)
        for (uint32_t j = 0; j < c[i].n_req; j++)
            if (c[i].req[j].piece == p && c[i].req[j].block == k)
                return true;
    return false;
}

/* Forgets connection ci's outstanding requests (choked, or the connection is gone). */
static void drop_requests(struct sim *s, node_t n, uint32_t ci)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    struct bt_conn *c = &conns(w, b)[ci];
    uint32_t nreq = c->n_req;
    c->n_req = 0;
    for (uint32_t j = 0; j < nreq; j++) {
        uint32_t p = c->req[j].piece, k = c->req[j].block;
        if (!requested_anywhere(w, b, p, k)) {
            req_of(w, b)[p] &= ~(UINT64_C(1) << k);
            mark_piece(w, b, p);
        }
    }
}

static void cancel_uploads(struct sim *s, struct bt_conn *c)
{
    for (uint32_t k = 0; k < BT_PIPELINE_MAX; k++)
        if (c->upl[k].handle) {
            net_transfer_cancel(s, c->upl[k].handle);
            c->upl[k].handle = 0;
        }
}

static void remove_conn(struct sim *s, node_t n, uint32_t ci, bool say_fin)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    struct bt_conn *c = conns(w, b);
    drop_requests(s, n, ci);
    cancel_uploads(s, &c[ci]);
    if (c[ci].flags & BT_INITIATED)
        b->n_initiated--;
    if (say_fin)
        send_ctl(s, n, &c[ci], BT_MSG_CLOSE);
    uint64_t *bits = peer_bits(w, b, ci);
    uint16_t *av = avail_of(w, b);
    for (uint32_t p = 0; p < w->P; p++)
        if (bit(bits, p))
            av[p]--;
    if ((c[ci].flags & (BT_AM_CHOKING | BT_OPTIMISTIC)) == 0 && b->unchoked)
        b->unchoked--;
    index_remove(w, b, ci);
    uint32_t last = --b->n_conn;
    if (ci != last) {
        index_of(w, b)[index_find(w, b, last)] = (uint8_t)(ci + 1);
        c[ci] = c[last];
        memcpy(link_of(w, b, ci), link_of(w, b, last), w->at.link_size);
    }
}

static struct bt_conn *add_conn(struct sim *s, node_t n, struct addr a)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    uint32_t ci = b->n_conn++;
    struct bt_conn *c = &conns(w, b)[ci];
    *c = (struct bt_conn){ .peer = a, .flags = BT_AM_CHOKING | BT_PEER_CHOKING,
                           .sent_us = sim_now(s) };
    struct bt_link *l = link_of(w, b, ci);
    *l = (struct bt_link){ .peer = a, .heard_us = sim_now(s) };
    memset(peer_bits(w, b, ci), 0, w->words * sizeof(uint64_t));
    index_add(w, b, ci);
    if (b->have) {
        struct bt_bitfield bf;
        memcpy(bf.bits, have_of(w, b), w->words * sizeof(uint64_t));
        c->sent_us = sim_now(s);
        send_to(s, n, a, BT_MSG_BITFIELD, &bf, w->words * sizeof(uint64_t), (w->P + 7) / 8);
    }
    return c;
}

static bool is_known(struct sim *s, node_t n, struct addr a)
{
    struct bt_node *b = node(s, n);
    const struct addr *k = known_of(W(s), b);
    for (uint32_t i = 0; i < b->n_known; i++)
        if (addr_eq(k[i], a))
            return true;
    return false;
}

/* Opens connections to known peers until max_initiate are open or pending. An address is
 * taken out of the known list when tried: on success it is a connection, on failure gone. */
static void connect_all(struct sim *s, node_t n)
{
    struct bt_node *b = node(s, n);
    struct addr *k = known_of(W(s), b);
    uint32_t maxi = (uint32_t)P_(s, BT_P_MAX_INITIATE), maxc = (uint32_t)P_(s, BT_P_MAX_CONNS);
    if (b->complete && b->role == BT_LEECHER)
        return;                       /* a finished peer waits for others to come to it */
    while (b->n_known > 0 && b->n_initiated + b->n_pending < maxi &&
           b->n_conn + b->n_pending < maxc) {
        uint32_t i = (uint32_t)gsl_rng_uniform_int(sim_rng(s), b->n_known);
        struct addr a = k[i];
        k[i] = k[--b->n_known];
        if (find_conn(s, n, a) != BT_NONE)
            continue;
        kit_rpc(s, &bt_msgs, n, a, &(struct kit_out){ .type = BT_MSG_HANDSHAKE_REQ,
                                                      .lookup = LOOKUP_NONE },
                P_(s, BT_P_RPC_TIMEOUT), 0, 0);
        b->n_pending++;
    }
}

/* ==== requesting blocks ==================================================================== */

static uint64_t piece_mask(const struct bt_world *w, uint32_t p)
{
    return bt_full_mask(p + 1 == w->P ? w->last_blocks : w->blocks);
}

/* Endgame: a block of a piece the peer has, not received, not outstanding at this peer. */
static bool endgame_pick(const struct bt_world *w, struct bt_node *b, uint32_t ci, uint32_t *pp,
                         uint32_t *kk)
{
    const uint64_t *ph = peer_bits(w, b, ci), *h = have_of(w, b), *got = got_of(w, b);
    const struct bt_conn *c = &conns(w, b)[ci];
    for (uint32_t p = 0; p < w->P; p++) {
        if (!bit(ph, p) || bit(h, p))
            continue;
        uint64_t miss = piece_mask(w, p) & ~got[p];
        while (miss) {
            uint32_t k = (uint32_t)__builtin_ctzll(miss);
            miss &= miss - 1;
            bool mine = false;
            for (uint32_t j = 0; j < c->n_req && !mine; j++)
                mine = c->req[j].piece == p && c->req[j].block == k;
            if (!mine) {
                *pp = p;
                *kk = k;
                return true;
            }
        }
    }
    return false;
}

/* Is every missing block requested somewhere? (A piece we have is taken: all its blocks are in
 * got.) */
static bool all_requested(const struct bt_world *w, struct bt_node *b)
{
    const uint64_t *t = taken_of(w, b);
    uint64_t last = w->P % 64 ? (UINT64_C(1) << (w->P % 64)) - 1 : UINT64_MAX;
    for (uint32_t k = 0; k + 1 < w->words; k++)
        if (~t[k])
            return false;
    return (~t[w->words - 1] & last) == 0;
}

static void fill_pipeline(struct sim *s, node_t n, uint32_t ci)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    struct bt_conn *c = &conns(w, b)[ci];
    uint32_t depth = (uint32_t)P_(s, BT_P_PIPELINE);
    if (b->complete || (c->flags & BT_PEER_CHOKING) || !(c->flags & BT_AM_INTERESTED))
        return;
    const uint64_t *full = w->full;
    uint64_t *got = got_of(w, b), *req = req_of(w, b);
    while (c->n_req < depth) {
        uint32_t p, k;
        if (!b->endgame) {
            struct bt_pick pk = { .P = w->P, .have = have_of(w, b), .started = started_of(w, b),
                                  .taken = taken_of(w, b), .got = got, .req = req, .full = full,
                                  .avail = avail_of(w, b) };
            p = bt_pick_piece(&pk, peer_bits(w, b, ci), b->have == 0, sim_rng(s));
            if (p == BT_NONE) {
                if (!all_requested(w, b))
                    return;
                b->endgame = 1;
                continue;
            }
            k = bt_pick_block(got[p], req[p], full[p]);
        } else if (!endgame_pick(w, b, ci, &p, &k)) {
            return;
        }
        if (c->n_req == 0)
            c->block_us = sim_now(s);
        req[p] |= UINT64_C(1) << k;
        mark_piece(w, b, p);
        c->req[c->n_req++] = (struct bt_req){ .piece = p, .block = (uint16_t)k };
        send_ref(s, n, c, BT_MSG_REQUEST, p, k);
    }
}

/* ==== choking ============================================================================= */

static void set_choke(struct sim *s, node_t n, uint32_t ci, bool choke, bool optimistic)
{
    struct bt_node *b = node(s, n);
    struct bt_conn *c = &conns(W(s), b)[ci];
    bool was_regular = (c->flags & (BT_AM_CHOKING | BT_OPTIMISTIC)) == 0;
    bool choking = c->flags & BT_AM_CHOKING;
    if (was_regular)
        b->unchoked--;
    c->flags &= (uint8_t)~(BT_AM_CHOKING | BT_OPTIMISTIC);
    if (choke) {
        c->flags |= BT_AM_CHOKING;
        if (!choking) {
            cancel_uploads(s, c);
            send_ctl(s, n, c, BT_MSG_CHOKE);
        }
        return;
    }
    if (optimistic)
        c->flags |= BT_OPTIMISTIC;
    else
        b->unchoked++;
    if (choking)
        send_ctl(s, n, c, BT_MSG_UNCHOKE);
}

static void choke_round(struct sim *s, node_t n)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    struct bt_conn *c = conns(w, b);
    uint32_t slots = (uint32_t)P_(s, BT_P_UNCHOKE_SLOTS);
    bool seed = b->complete;
    /* rank interested peers by rate over the last two rounds */
    uint32_t order[BT_CONNS_MAX], m = 0;
    double rate[BT_CONNS_MAX];
    for (uint32_t i = 0; i < b->n_conn; i++) {
        rate[i] = seed ? (double)c[i].up[0] + c[i].up[1] : (double)c[i].down[0] + c[i].down[1];
        if (c[i].flags & BT_PEER_INTERESTED)
            order[m++] = i;
    }
    if (m > 1)                                                 /* random among equal rates */
        gsl_ran_shuffle(sim_rng(s), order, m, sizeof order[0]);
    for (uint32_t a = 1; a < m; a++) {                         /* insertion sort, descending */
        uint32_t x = order[a], j = a;
        while (j > 0 && rate[order[j - 1]] < rate[x]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    bool rotate = b->rounds % (uint32_t)(P_(s, BT_P_OPTIMISTIC) / P_(s, BT_P_CHOKE) > 0 ?
                                         P_(s, BT_P_OPTIMISTIC) / P_(s, BT_P_CHOKE) : 1) == 0;
    uint32_t keep_opt = BT_NONE;
    for (uint32_t i = 0; i < b->n_conn && !rotate; i++)
        if ((c[i].flags & BT_OPTIMISTIC) && (c[i].flags & BT_PEER_INTERESTED))
            keep_opt = i;
    bool unchoke[BT_CONNS_MAX] = { false };
    for (uint32_t a = 0; a < m && a < slots; a++)
        unchoke[order[a]] = true;
    uint32_t opt = keep_opt;
    if (opt != BT_NONE && unchoke[opt])
        opt = BT_NONE;
    if (opt == BT_NONE && m > slots) {
        uint32_t cand[BT_CONNS_MAX], nc = 0;
        for (uint32_t a = slots; a < m; a++)
            cand[nc++] = order[a];
        opt = cand[gsl_rng_uniform_int(sim_rng(s), nc)];
    }
    for (uint32_t i = 0; i < b->n_conn; i++) {
        if (unchoke[i])
            set_choke(s, n, i, false, false);
        else if (i == opt)
            set_choke(s, n, i, false, true);
        else
            set_choke(s, n, i, true, false);
        c[i].down[1] = c[i].down[0];
        c[i].up[1] = c[i].up[0];
        c[i].down[0] = c[i].up[0] = 0;
    }
}

/* ==== liveness ============================================================================ */

static void check_conns(struct sim *s, node_t n)
{
    struct bt_node *b = node(s, n);
    int64_t now = sim_now(s), snub = P_(s, BT_P_SNUB);
    for (uint32_t i = 0; i < b->n_conn;) {
        struct bt_conn *c = &conns(W(s), b)[i];
        if (now - link_of(W(s), b, i)->heard_us > 3 * BT_KEEPALIVE_US) {
            sim_count(s, BT_C_DROPPED, 1);
            remove_conn(s, n, i, false);
            continue;
        }
        if (c->n_req && now - c->block_us > snub) {
            sim_count(s, BT_C_SNUBBED, 1);
            remove_conn(s, n, i, true);
            continue;
        }
        if (now - c->sent_us >= BT_KEEPALIVE_US)
            send_ctl(s, n, c, BT_MSG_KEEPALIVE);
        i++;
    }
}

/* ==== completing ========================================================================== */

static void completed(struct sim *s, node_t n)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    b->complete = 1;
    b->endgame = 0;
    if (b->role != BT_LEECHER)
        return;
    sim_download_done(s, n);
    double t = (double)(sim_now(s) - b->joined_us) / 1e6;
    w->dl_sum[b->free_rider] += t;
    w->dl_n[b->free_rider]++;
    sim_count(s, b->free_rider ? BT_C_FR_DONE : BT_C_CO_DONE, 1);
    sim_count(s, b->free_rider ? BT_C_FR_MS : BT_C_CO_MS, (uint64_t)llround(t * 1000));
    for (uint32_t i = 0; i < b->n_conn; i++)
        update_interest(s, n, i);
    announce(s, n, BT_EV_COMPLETED);
    int64_t st = P_(s, BT_P_SEED_TIME);
    if (st == 0 || b->free_rider)     /* a free-rider does not stay to upload */
        sim_depart(s, n);
    else
        sim_timer(s, n, BT_T_DEPART, st, 0);
}

static void got_block(struct sim *s, node_t n, const struct msg *m)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    const struct bt_block_ref *r = m->body;
    w->delivered += m->size;
    uint32_t ci = find_conn(s, n, m->src);
    if (ci != BT_NONE) {
        struct bt_conn *c = &conns(w, b)[ci];
        c->block_us = link_of(w, b, ci)->heard_us = sim_now(s);
        c->down[0] += BT_BLOCK;
        for (uint32_t j = 0; j < c->n_req; j++)
            if (c->req[j].piece == r->piece && c->req[j].block == r->block) {
                c->req[j] = c->req[--c->n_req];
                break;
            }
    }
    if (b->complete || r->piece >= w->P)
        return;
    uint64_t *got = &got_of(w, b)[r->piece];
    uint64_t bitk = UINT64_C(1) << r->block;
    if (*got & bitk) {
        sim_count(s, BT_C_DUPLICATES, 1);
    } else {
        *got |= bitk;
        req_of(w, b)[r->piece] |= bitk;
        mark_piece(w, b, r->piece);
        if (b->endgame)                /* cancel the block at the other peers */
            for (uint32_t i = 0; i < b->n_conn; i++) {
                struct bt_conn *c = &conns(w, b)[i];
                for (uint32_t j = 0; j < c->n_req; j++)
                    if (c->req[j].piece == r->piece && c->req[j].block == r->block) {
                        c->req[j] = c->req[--c->n_req];
                        send_ref(s, n, c, BT_MSG_CANCEL, r->piece, r->block);
                        sim_count(s, BT_C_CANCELS, 1);
                        break;
                    }
            }
        if (*got == piece_mask(w, r->piece)) {
            set_bit(have_of(w, b), r->piece);
            b->have++;
            for (uint32_t i = 0; i < b->n_conn; i++)
                send_ref(s, n, &conns(w, b)[i], BT_MSG_HAVE, r->piece, 0);
            if (b->have == w->P) {
                completed(s, n);
                return;
            }
            for (uint32_t i = 0; i < b->n_conn; i++)
                update_interest(s, n, i);
        }
    }
    if (b->endgame) {
        for (uint32_t i = 0; i < b->n_conn; i++)
            fill_pipeline(s, n, i);
    } else if (ci != BT_NONE) {
        fill_pipeline(s, n, ci);
    }
}

/* ==== the tracker ========================================================================== */

static void tracker_announce(struct sim *s, node_t n, const struct msg *m)
{
    struct kit_vec *sw = &node(s, n)->swarm;
    struct bt_tracker_entry *tr = sw->v;
    const struct bt_announce_req *q = m->body;
    int64_t now = sim_now(s), ttl = 2 * P_(s, BT_P_ANNOUNCE);
    uint32_t me = BT_NONE;
    for (uint32_t i = 0; i < sw->n;) {  /* expire, and find the asker */
        if (now - tr[i].seen_us > ttl) {
            tr[i] = tr[--sw->n];
            continue;
        }
        if (addr_eq(tr[i].addr, m->src))
            me = i;
        i++;
    }
    if (q->event == BT_EV_STOPPED) {
        if (me != BT_NONE)
            tr[me] = tr[--sw->n];
        return;
    }
    if (me == BT_NONE) {
        kit_vec_reserve(sw, sw->n + 1, sizeof *tr, "the tracker's swarm");
        tr = sw->v;
        me = sw->n++;
        tr[me].addr = m->src;
    }
    tr[me].seen_us = now;
    tr[me].seed = q->seed;
    struct bt_announce_rep rep = { 0 };
    uint32_t want = q->numwant < BT_PEERLIST_MAX ? q->numwant : BT_PEERLIST_MAX;
    uint32_t pool = sw->n - 1;        /* everyone but the asker */
    uint32_t take = pool < want ? pool : want;
    /* a uniform sample without replacement (selection sampling, Knuth 3.4.2 S) */
    for (uint32_t i = 0, seen = 0; i < sw->n && rep.n < take; i++) {
        if (i == me)
            continue;
        if (gsl_rng_uniform(sim_rng(s)) * (pool - seen) < take - rep.n)
            rep.peer[rep.n++] = tr[i].addr;
        seen++;
    }
    reply(s, n, m, BT_MSG_ANNOUNCE_REP, &rep,
          offsetof(struct bt_announce_rep, peer) + rep.n * sizeof rep.peer[0], rep.n);
}

/* ==== the protocol hooks =================================================================== */

static uint32_t bt_servers(const struct proto_config *cfg)
{
    return 1 + (uint32_t)cfg->v[BT_P_SEEDS].i;
}

static size_t bt_msg_body_max(const struct proto_config *cfg)
{
    (void)cfg;
    size_t a = sizeof(struct bt_announce_rep), b = sizeof(struct bt_bitfield);
    return a > b ? a : b;
}

static int bt_setup(struct sim *s, const struct proto_config *cfg)
{
    uint64_t psize = (uint64_t)cfg->v[BT_P_PIECE_SIZE].i;
    if (psize % BT_BLOCK) {
        fprintf(stderr, "p2plab: bittorrent.piece_size must be a multiple of 16384 (got %llu)\n",
                (unsigned long long)psize);
        return -1;
    }
    struct bt_world *w = mem_calloc(1, sizeof *w, "the bittorrent world");
    w->P = (uint32_t)cfg->v[BT_P_PIECES].i;
    w->blocks = (uint32_t)(psize / BT_BLOCK);
    w->last_blocks = w->blocks;
    w->words = (w->P + 63) / 64;
    w->C = (uint32_t)cfg->v[BT_P_MAX_CONNS].i;
    w->F = (uint64_t)w->P * psize;
    w->cap = sim_capacity(s);
    w->at = bt_layout(cfg);
    w->live = mem_calloc(w->cap, sizeof *w->live, "the live nodes");
    w->down_min = INFINITY;
    w->cache_us = -1;
    for (uint32_t p = 0; p < w->P; p++)
        w->full[p] = piece_mask(w, p);
    sim_set_protocol_data(s, w);
    return 0;
}

static void bt_teardown(struct sim *s)
{
    struct bt_world *w = W(s);
    if (!w)
        return;
    /* the tracker is the only node with a buffer; if it is down, bt_down has freed it */
    kit_vec_free(&node(s, sim_server_addr(s, 0).slot)->swarm);
    free(w->live);
    free(w);
    sim_set_protocol_data(s, NULL);
}

static void bt_join(struct sim *s, node_t n)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    uint32_t si = sim_server_index(s, n);
    b->joined_us = sim_now(s);
    if (si == 0) {
        b->role = BT_TRACKER;         /* a (re)started tracker knows nobody: swarm empty */
        return;
    }
    if (si != UINT32_MAX) {
        b->role = BT_SEED;
        for (uint32_t p = 0; p < w->P; p++) {
            set_bit(have_of(w, b), p);
            got_of(w, b)[p] = piece_mask(w, p);
            mark_piece(w, b, p);
        }
        b->have = w->P;
        b->complete = 1;
    } else {
        b->role = BT_LEECHER;
        b->free_rider = gsl_rng_uniform(sim_rng(s)) < sim_config(s)->v[BT_P_FREE_RIDERS].d;
        sim_download_start(s, n);
        w->leechers++;
        double up = sim_upload_bps(s, n), down = sim_download_bps(s, n);
        if (!b->free_rider)
            w->up_sum += up;
        w->leech_up_all += b->free_rider ? 0 : up;
        w->leech_down_all += down;
        if (down < w->down_min)
            w->down_min = down;
    }
    capacity_change(s, sim_upload_bps(s, n));
    announce(s, n, BT_EV_STARTED);
    int64_t choke = P_(s, BT_P_CHOKE);
    sim_timer(s, n, BT_T_CHOKE, kit_phase(s, choke), 0);
    b->announce_timer = sim_timer(s, n, BT_T_ANNOUNCE, sim_jitter(s, P_(s, BT_P_ANNOUNCE)), 0);
}

static void bt_leave(struct sim *s, node_t n)
{
    struct bt_node *b = node(s, n);
    if (b->role == BT_TRACKER)
        return;
    capacity_change(s, -sim_upload_bps(s, n));
    while (b->n_conn)
        remove_conn(s, n, b->n_conn - 1, true);
    announce(s, n, BT_EV_STOPPED);
}

static void on_handshake(struct sim *s, node_t n, const struct msg *m)
{
    struct bt_node *b = node(s, n);
    if (m->rpc) {                     /* our handshake answered */
        b->n_pending--;
        if (find_conn(s, n, m->src) != BT_NONE || b->n_conn >= W(s)->C) {
            /* the other end has taken us in: tell it we will not use the connection */
            send_to(s, n, m->src, BT_MSG_CLOSE, NULL, 0, 0);
            return;
        }
        b->n_initiated++;
        add_conn(s, n, m->src)->flags |= BT_INITIATED;
        return;
    }
    uint32_t maxc = (uint32_t)P_(s, BT_P_MAX_CONNS);
    if (b->role == BT_TRACKER || find_conn(s, n, m->src) != BT_NONE || b->n_conn >= maxc) {
        sim_count(s, BT_C_REFUSED, 1);
        reply(s, n, m, BT_MSG_REFUSE, NULL, 0, 0);
        return;
    }
    reply(s, n, m, BT_MSG_HANDSHAKE_REP, NULL, 0, 0);
    add_conn(s, n, m->src);
}

/* n is down: free the tracker's swarm (nobody else owns a buffer). */
static void bt_down(struct sim *s, node_t n)
{
    kit_vec_free(&node(s, n)->swarm);
}

static void bt_on_message(struct sim *s, node_t n, const struct msg *m)
{
    struct bt_world *w = W(s);
    struct bt_node *b = node(s, n);
    switch ((enum bt_msg)m->type) {
    case BT_MSG_ANNOUNCE_REQ:
        if (b->role == BT_TRACKER)
            tracker_announce(s, n, m);
        return;
    case BT_MSG_ANNOUNCE_REP: {
        const struct bt_announce_rep *r = m->body;
        struct addr *k = known_of(w, b);
        uint32_t maxk = (uint32_t)P_(s, BT_P_PEER_LIST);
        for (uint32_t i = 0; i < r->n; i++) {
            if (is_known(s, n, r->peer[i]) || addr_eq(r->peer[i], sim_addr(s, n)))
                continue;
            if (b->n_known < maxk)
                k[b->n_known++] = r->peer[i];
            else
                k[gsl_rng_uniform_int(sim_rng(s), maxk)] = r->peer[i];
        }
        connect_all(s, n);
        return;
    }
    case BT_MSG_HANDSHAKE_REQ:
    case BT_MSG_HANDSHAKE_REP:
        on_handshake(s, n, m);
        return;
    case BT_MSG_REFUSE:
        if (m->rpc) {
            b->n_pending--;
            connect_all(s, n);        /* try another known peer */
        }
        return;
    default:
        break;
    }
    uint32_t ci = find_conn(s, n, m->src);
    if (m->type == BT_MSG_PIECE) {
        got_block(s, n, m);
        return;
    }
    if (ci == BT_NONE)
        return;                       /* a connection we have closed */
    struct bt_conn *c = &conns(w, b)[ci];
    struct bt_link *l = link_of(w, b, ci);
    l->heard_us = sim_now(s);
    switch ((enum bt_msg)m->type) {
    case BT_MSG_CLOSE:
        remove_conn(s, n, ci, false);
        connect_all(s, n);
        return;
    case BT_MSG_KEEPALIVE:
        return;
    case BT_MSG_CHOKE:
        c->flags |= BT_PEER_CHOKING;
        drop_requests(s, n, ci);
        return;
    case BT_MSG_UNCHOKE:
        c->flags &= (uint8_t)~BT_PEER_CHOKING;
        c->block_us = sim_now(s);
        fill_pipeline(s, n, ci);
        return;
    case BT_MSG_INTERESTED:
        c->flags |= BT_PEER_INTERESTED;
        if (!b->free_rider && (c->flags & BT_AM_CHOKING) &&
            b->unchoked < (uint32_t)P_(s, BT_P_UNCHOKE_SLOTS))
            set_choke(s, n, ci, false, false);
        return;
    case BT_MSG_NOT_INTERESTED:
        c->flags &= (uint8_t)~BT_PEER_INTERESTED;
        return;
    case BT_MSG_HAVE: {
        const struct bt_block_ref *r = m->body;
        uint64_t *pb = peer_bits(w, b, ci);
        if (r->piece < w->P && !bit(pb, r->piece)) {
            set_bit(pb, r->piece);
            l->npieces++;
            avail_of(w, b)[r->piece]++;
            if (!bit(have_of(w, b), r->piece)) {
                update_interest(s, n, ci);
                fill_pipeline(s, n, ci);
            }
        }
        return;
    }
    case BT_MSG_BITFIELD: {
        const struct bt_bitfield *f = m->body;
        uint64_t *pb = peer_bits(w, b, ci);
        for (uint32_t p = 0; p < w->P; p++)
            if (bit(f->bits, p) && !bit(pb, p)) {
                set_bit(pb, p);
                l->npieces++;
                avail_of(w, b)[p]++;
            }
        update_interest(s, n, ci);
        fill_pipeline(s, n, ci);
        return;
    }
    case BT_MSG_REQUEST: {
        const struct bt_block_ref *r = m->body;
        if (b->free_rider || (c->flags & BT_AM_CHOKING) || r->piece >= w->P ||
            !bit(have_of(w, b), r->piece))
            return;
        uint64_t h = kit_transfer(s, &bt_msgs, n, c->peer, &(struct kit_out){
            .type = BT_MSG_PIECE, .lookup = LOOKUP_NONE, .body = r, .len = sizeof *r });
        c->upl[c->up_head] = (__typeof__(c->upl[0])){ h, r->piece, r->block };
        c->up_head = (uint8_t)((c->up_head + 1) % BT_PIPELINE_MAX);
        c->up[0] += BT_BLOCK;
        c->sent_us = sim_now(s);
        return;
    }
    case BT_MSG_CANCEL: {
        const struct bt_block_ref *r = m->body;
        for (uint32_t k = 0; k < BT_PIPELINE_MAX; k++)
            if (c->upl[k].handle && c->upl[k].piece == r->piece && c->upl[k].block == r->block) {
                net_transfer_cancel(s, c->upl[k].handle);
                c->upl[k].handle = 0;
            }
        return;
    }
    default:
        return;
    }
}

static void bt_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    (void)arg;
    struct bt_node *b = node(s, n);
    switch ((enum bt_timer)kind) {
    case BT_T_CHOKE:
        b->rounds++;
        check_conns(s, n);
        if (!b->free_rider)
            choke_round(s, n);
        if (b->n_conn < (uint32_t)P_(s, BT_P_MIN_PEERS) && !(b->complete && b->role == BT_LEECHER) &&
            sim_now(s) - b->announced_us >= BT_REANNOUNCE_MIN_US)
            announce(s, n, BT_EV_NONE);
        connect_all(s, n);
        sim_timer(s, n, BT_T_CHOKE, P_(s, BT_P_CHOKE), 0);
        return;
    case BT_T_ANNOUNCE:
        announce(s, n, BT_EV_NONE);
        b->announce_timer = sim_timer(s, n, BT_T_ANNOUNCE, sim_jitter(s, P_(s, BT_P_ANNOUNCE)), 0);
        return;
    case BT_T_DEPART:
        sim_depart(s, n);
        return;
    }
}

static void bt_on_timeout(struct sim *s, node_t n, const struct rpc *r)
{
    struct bt_node *b = node(s, n);
    if (r->type == BT_MSG_HANDSHAKE_REQ) {
        b->n_pending--;
        sim_count(s, BT_C_DROPPED, 1);
        connect_all(s, n);
    }
    /* a tracker timeout: the next choke round re-announces if peers are few */
}

static void bt_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t id)
{
    (void)key;
    /* BitTorrent distributes one content and never registers with the introducer, so the
     * workload issues no lookups; should one come, there is nothing to look up. */
    sim_lookup_done(s, id, OUTCOME_NOT_FOUND, sim_addr(s, origin), 0);
}

static size_t bt_state_entries(const struct sim *s, node_t n)
{
    const struct bt_node *b = sim_state_const(s, n);
    return b->n_conn + b->n_known;
}

/* ==== gauges (measurement: global knowledge allowed) ======================================= */

/* Qiu & Srikant (SIGCOMM 2004, §3): with x leechers and y seeds, arrivals λ, aborts θ, seeds
 * leaving at rate γ, upload μ and download c in files per second and sharing efficiency η,
 *     dx/dt = λ − θx − min(cx, μ(ηx + y)),   dy/dt = min(cx, μ(ηx + y)) − γy;
 * in steady state 1/β = max(1/c, (1/η)(1/μ − 1/γ)) and the mean download time is
 * T = 1/(θ + β), independent of λ. Conditions: a stable steady state (λ > 0), η ≈ 1 for many
 * pieces (their §3.3); θ = 0 here (churn is the engine's, not visible to the protocol: aborts
 * are reported apart), the initial seeds are not in the model, γ = 1/seed_time (∞ for 0),
 * μ = mean leecher upload / F (free-riders upload 0), c = mean download / F. */
double bt_fluid_time(double F, double up_mean, double down_mean, double seed_time_s, double eta)
{
    double inv_c = F / down_mean;
    double inv_mu_gamma = F / up_mean - seed_time_s;
    double inv_beta = fmax(inv_c, inv_mu_gamma / eta);
    return inv_beta;
}

/* Kumar & Ross (2006): the minimum time to distribute F bytes from seeds of upload u_s to N
 * leechers of uploads u_i and downloads d_i is max(F/u_s, F/min d_i, N F / (u_s + Σ u_i)). */
double bt_lower_bound(double F, double u_s, double d_min, double n, double u_sum)
{
    return fmax(fmax(F / u_s, F / d_min), n * F / (u_s + u_sum));
}

static void gauges_compute(struct sim *s)
{
    struct bt_world *w = W(s);
    double *g = w->cache;
    node_t live = sim_converge_live(s, w->live, w->cap);   /* measurement only */
    uint32_t nseeds = sim_servers(s) - 1;
    double cap_up = 0, leechers = 0;
    uint32_t minc = UINT32_MAX;
    double sum = 0;
    uint32_t *copies = w->copies;
    for (uint32_t p = 0; p < w->P; p++)
        copies[p] = nseeds;
    for (node_t i = 0; i < live; i++) {
        node_t n = w->live[i];
        struct bt_node *b = node(s, n);
        cap_up += sim_upload_bps(s, n);
        if (!b->complete)
            leechers++;
        const uint64_t *h = have_of(w, b);
        for (uint32_t p = 0; p < w->P; p++)
            copies[p] += bit(h, p);
    }
    double u_s = 0;
    for (uint32_t k = 1; k <= nseeds; k++) {
        cap_up += sim_upload_bps(s, sim_server_addr(s, k).slot);
        u_s += sim_upload_bps(s, sim_server_addr(s, k).slot);
    }
    for (uint32_t p = 0; p < w->P; p++) {
        sum += copies[p];
        if (copies[p] < minc)
            minc = copies[p];
    }
    g[BT_G_MIN_COPIES] = minc;
    g[BT_G_MEAN_COPIES] = sum / w->P;
    capacity_change(s, 0);
    /* joins and graceful leaves move cap_live as they happen; a crash cannot be seen by the
     * protocol, so the live capacity is set right at every sample from the scan above */
    w->cap_live = cap_up;
    g[BT_G_UTIL] = w->cap_integral > 0 ? w->delivered / w->cap_integral : 0;
    w->delivered = 0;
    w->cap_integral = 0;
    w->last_sample_us = sim_now(s);
    double F = (double)w->F;
    g[BT_G_LOWER] = w->leechers ? bt_lower_bound(F, u_s, w->down_min, (double)w->leechers,
                                                 w->up_sum) : NAN;
    g[BT_G_FLUID] = w->leechers ? bt_fluid_time(F, w->leech_up_all / (double)w->leechers,
                                                w->leech_down_all / (double)w->leechers,
                                                (double)P_(s, BT_P_SEED_TIME) / 1e6, 1.0) : NAN;
    g[BT_G_CONTRIB] = w->dl_n[0] ? w->dl_sum[0] / (double)w->dl_n[0] : NAN;
    g[BT_G_FREE] = w->dl_n[1] ? w->dl_sum[1] / (double)w->dl_n[1] : NAN;
    g[BT_G_LEECHERS] = leechers;
    w->cache_us = sim_now(s);
}

static double bt_gauge(struct sim *s, uint32_t k)
{
    struct bt_world *w = W(s);
    if (w->cache_us != sim_now(s))
        gauges_compute(s);
    return w->cache[k];
}

/* Rules the table cannot say, checked when the scenario is loaded (see protocol.h). */
static int bt_validate(const struct proto_config *cfg, const struct proto_env *env,
                       const char **param, char *why, size_t len)
{
    (void)env;
    long long psize = (long long)cfg->v[BT_P_PIECE_SIZE].i;
    if (psize % BT_BLOCK == 0)
        return 0;
    *param = "piece_size";
    snprintf(why, len, "protocols.bittorrent.piece_size must be a multiple of the %u-byte block "
             "(got %lld): use %lld or %lld", BT_BLOCK, psize, psize / BT_BLOCK * BT_BLOCK,
             (psize / BT_BLOCK + 1) * BT_BLOCK);
    return -1;
}

const struct protocol bittorrent_protocol = {
    .msg_names = bt_msg_name,
    .n_msg_names = BT_MSG_COUNT,
    .name = "bittorrent",
    .summary = "BitTorrent: tracker, pieces and 16 KiB blocks, rarest first, tit-for-tat choking",
    .paper = "Cohen, Incentives build robustness in BitTorrent, P2PEcon 2003; BEP 3",
    .params = bt_params,
    .keys = KEYS_SUCCESSOR,
    .node_state_size = sizeof(struct bt_node),
    .state_size = bt_state_size,
    .msg_body_max = bt_msg_body_max,
    .setup = bt_setup,
    .join = bt_join,
    .leave = bt_leave,
    .on_message = bt_on_message,
    .on_timer = bt_on_timer,
    .on_timeout = bt_on_timeout,
    .lookup = bt_lookup,
    .state_entries = bt_state_entries,
    .teardown = bt_teardown,
    .down = bt_down,
    .counters = bt_counters,
    .gauges = bt_gauges,
    .gauge = bt_gauge,
    .servers = bt_servers,
    .validate = bt_validate,
};
