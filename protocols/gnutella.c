/* gnutella.c — Gnutella 0.4 (Clip2, The Gnutella Protocol Specification v0.4, 2000).
 *
 * Overlay. Every peer keeps symmetric connections to a few neighbours. `topology: random`
 * holds a random d-regular graph: a peer opens connections while it has fewer than d (counting
 * links promised to it); a peer with fewer than d accepts a CONNECT; a full peer asked by a
 * peer that still needs two or more links splits one of its own links instead of refusing (it
 * drops neighbour Y, keeps the requester, and Y and the requester connect: both stay at d, the
 * requester gains two), the join rule of random regular P2P overlays (Cooper, Dyer &
 * Greenhill, SODA 2005; Bourassa & Holt's SWAN); an over-full peer hands one link over to a
 * requester with an odd need; a requester needing one link is otherwise taken over-full, up to
 * max_degree; else the answer is "busy". Every answer names the farthest hosts of the
 * answerer's cache (as 0.6's X-Try). `topology: powerlaw` grows a power-law graph by
 * preferential attachment (Barabási & Albert 1999): a peer opens m = ⌈d/2⌉ connections (mean
 * degree d), choosing hosts with probability proportional to their neighbour count as its
 * Pong cache knows it, and accepts up to max_degree. A joiner's first contact comes from the
 * introducer; after each new link it waits for the Pongs of its new neighbourhood, and it
 * prefers hosts its cache places farthest away (hops travelled by their Pongs), so that its
 * links close no short cycles. It registers with the introducer (and becomes searchable) when
 * it has its d links, or at its first keep-alive round.
 *
 * Maintenance (CAT_MAINT). Every ping_interval a peer sends a Ping (TTL ping_ttl) to each
 * neighbour as a keep-alive RPC: the neighbour answers with its own Pong and a few Pongs from
 * its cache (pong caching), and floods the Ping on; the Pongs of the peers it reaches come back
 * along the reverse path and fill the host cache (the Pong cache: address, neighbour count,
 * firewalled, hops away). A keep-alive Ping unanswered within rpc_timeout, or a Pong saying
 * "not connected", drops the neighbour; so does a BYE (graceful leave, a TCP close). A peer
 * short of neighbours connects to hosts from its cache, and asks the introducer when the cache
 * has none left; a CONNECT unanswered within rpc_timeout drops the host from the cache.
 * Firewalled peers accept no connection: a CONNECT to one times out.
 *
 * Descriptors. Ping, Pong, Query, QueryHit and Push carry a 16-byte descriptor ID (modelled as
 * a random 64-bit number; 16 bytes are counted on the wire), a TTL and a hop count. A peer
 * forwards a Ping or Query it has not seen to every neighbour but the sender (TTL - 1, hops + 1,
 * not forwarded when the TTL reaches 0), drops duplicates by its descriptor cache and routes
 * Pongs and QueryHits back along the reverse path: the cache remembers from which neighbour each
 * descriptor ID came. A QueryHit also records from where its servent ID came, which routes a
 * Push. The cache is bounded (desc_cache entries, a hash table probed over 8 slots, the oldest
 * entry evicted when all 8 are in use) and entries expire after desc_expiry.
 *
 * Search. The origin floods a Query (TTL ttl), collects QueryHits for `window` (or until
 * ping_candidates holders have answered), then probes up to ping_candidates holders in order
 * of arrival and ends the search with the holder of the
 * best measured RTT (lookup.hops: the hops the Query travelled to that holder). A firewalled
 * holder cannot be reached directly: the origin routes a Push back along the QueryHit's path,
 * the holder connects out and sends GIV, and the Push-to-GIV time is its RTT. Two firewalled
 * peers cannot talk: such a holder is unusable. Outcomes: no QueryHit in the window:
 * TTL_EXPIRED; hits from unusable holders only: NOT_FOUND; no probe answered: TIMEOUT. The
 * origin does not answer its own Query.
 *
 * Memory. A node's slab record (sim_state) is struct gnut_node, 56 bytes, followed by its
 * tables: max_degree neighbours (32 bytes each), host_cache Pong-cache entries (32 B) and
 * desc_cache descriptor-cache entries (24 B): with the defaults (d = 4, max 5, 32, 128)
 * 56 + 160 + 1,024 + 3,072 = 4,312 bytes per node. The gauges add 12 B per node slot of
 * scratch. Searches in flight are records of a kit pool (struct gnut_search, 688 bytes).
 *
 * Not modelled: file transfers; the pong-caching scheme's exact rules (here: a few random
 * cached Pongs with each keep-alive answer); Query routing by keywords (a Query names one file
 * of the catalogue). The introducer stands for the host caches of the day. */
#include "protocols/gnutella_internal.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/kit.h"
#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define GNUT_DEGREE_MAX 32            /* the `degree` parameter's maximum */
#define GNUT_WIDTH_MAX 128            /* the `max_degree` parameter's maximum */
#define GNUT_HITS_MAX 16              /* QueryHits a search remembers */
#define GNUT_LIST_MAX 48              /* addresses a CONNECT lists to steer a link split */
#define GNUT_TRY_MAX 4                /* hosts named in a "busy" answer */
#define GNUT_PUSH_TAG UINT64_C(0x9e3779b97f4a7c15)  /* servent-ID routes share the cache */
#define GNUT_NONE32 UINT32_MAX
#define GNUT_SEEK_BASE_US 100000      /* first back-off after a refused CONNECT */
#define GNUT_SEEK_SHIFT_MAX 5         /* back-off doubles up to 32 x the base */
#define GNUT_PONG_WAIT_US 1500000     /* after a new link a seeker waits this long for Pongs */
#define GNUT_DIST_NONE 0
#define GNUT_DIST_FAR 255
#define GNUT_DIST_NEAR 2              /* a new link to a host this close would close a cycle of
                                         length 3 or less: avoided while farther hosts are known */

/* ==== parameters ========================================================================== */

enum gnut_param {
    GNUT_P_TOPOLOGY,
    GNUT_P_DEGREE,
    GNUT_P_MAX_DEGREE,
    GNUT_P_TTL,
    GNUT_P_PING_TTL,
    GNUT_P_PING_INTERVAL,
    GNUT_P_RPC_TIMEOUT,
    GNUT_P_WINDOW,
    GNUT_P_PING_CANDIDATES,
    GNUT_P_FIREWALLED,
    GNUT_P_DESC_CACHE,
    GNUT_P_DESC_EXPIRY,
    GNUT_P_HOST_CACHE,
    GNUT_P_CACHED_PONGS,
};

enum gnut_topology { GNUT_RANDOM, GNUT_POWERLAW };

static const struct param gnut_params[] = {
    [GNUT_P_TOPOLOGY] = { .name = "topology", .type = PARAM_ENUM, .def = "random",
      .choices = "random|powerlaw",
      .doc = "random: d-regular graph kept by link splitting; powerlaw: preferential attachment "
             "(Gnutella's measured degree law, Ripeanu, Foster & Iamnitchi 2002)" },
    [GNUT_P_DEGREE] = { .name = "degree", .type = PARAM_INT, .def = "4", .min = 1,
      .max = GNUT_DEGREE_MAX,
      .doc = "neighbours d (random: every peer; powerlaw: the mean, m = ceil(d/2) links opened "
             "per peer); 0.4 clients kept about 4 connections (Lv et al., ICS 2002 simulate mean "
             "degree 4.46)" },
    [GNUT_P_MAX_DEGREE] = { .name = "max_degree", .type = PARAM_INT, .def = "auto", .min = 1,
      .max = GNUT_WIDTH_MAX, .choices = "auto",
      .doc = "connections a peer accepts at most; auto = d + 1 (random) or 10 d (powerlaw)" },
    [GNUT_P_TTL] = { .name = "ttl", .type = PARAM_INT, .def = "7", .min = 1, .max = 32,
      .doc = "Query TTL (0.4 spec: 7)" },
    [GNUT_P_PING_TTL] = { .name = "ping_ttl", .type = PARAM_INT, .def = "2", .min = 1, .max = 32,
      .doc = "TTL of the periodic keep-alive Pings, whose Pongs fill the host cache (kept small "
             "as pong-caching clients did, cached Pongs naming farther hosts; the spec's 7 floods "
             "the network)" },
    [GNUT_P_PING_INTERVAL] = { .name = "ping_interval", .type = PARAM_DURATION, .def = "30s",
      .min = 0.01, .max = 86400,
      .doc = "mean period of keep-alive Pings, jittered in [0.5, 1.5]x (unspecified in 0.4)" },
    [GNUT_P_RPC_TIMEOUT] = { .name = "rpc_timeout", .type = PARAM_DURATION, .def = "2s",
      .min = 0.001, .max = 600,
      .doc = "a CONNECT, keep-alive Ping or candidate probe unanswered this long has failed" },
    [GNUT_P_WINDOW] = { .name = "window", .type = PARAM_DURATION, .def = "5s", .min = 0.001,
      .max = 3600, .doc = "search window: QueryHits collected at most this long (less once ping_candidates holders answered)" },
    [GNUT_P_PING_CANDIDATES] = { .name = "ping_candidates", .type = PARAM_INT, .def = "4",
      .min = 1, .max = GNUT_HITS_MAX,
      .doc = "holders probed after the window (first to answer first); best RTT wins" },
    [GNUT_P_FIREWALLED] = { .name = "firewalled", .type = PARAM_DOUBLE, .def = "0", .min = 0,
      .max = 1,
      .doc = "share of peers that accept no incoming connection (reached by Push); measurements "
             "found a sizeable share behind firewalls/NAT (Saroiu, Gummadi & Gribble, MMCN "
             "2002); 0 keeps the flood analysis exact" },
    [GNUT_P_DESC_CACHE] = { .name = "desc_cache", .type = PARAM_INT, .def = "128", .min = 8,
      .max = 65536,
      .doc = "descriptor-ID cache entries per peer (rounded up to a power of 2); the oldest of 8 "
             "probed slots is evicted when full" },
    [GNUT_P_DESC_EXPIRY] = { .name = "desc_expiry", .type = PARAM_DURATION, .def = "15s",
      .min = 0.01, .max = 86400,
      .doc = "a cached descriptor ID (duplicate test, reverse route) expires after this" },
    [GNUT_P_HOST_CACHE] = { .name = "host_cache", .type = PARAM_INT, .def = "32", .min = 4,
      .max = 1024, .doc = "hosts remembered from Pongs and the introducer (the Pong cache)" },
    [GNUT_P_CACHED_PONGS] = { .name = "cached_pongs", .type = PARAM_INT, .def = "3", .min = 0,
      .max = 64,
      .doc = "cached Pongs sent with the answer to a keep-alive Ping (pong caching, as "
             "LimeWire and BearShare did from 2001; 0: none)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

/* The message list and its wire sizes, with their sources, are in gnutella_internal.h. */
KIT_MSG_TABLES(gnut, GNUT, GNUT_MESSAGES, GNUT_WIRE_TCPIP);

size_t gnut_wire_size(unsigned type, unsigned items)
{
    return kit_wire_size(&gnut_msgs, type, items);
}

/* Bodies: a tagged union, the tag being the message type. */
struct gnut_connect_req {             /* CONNECT_REQ */
    struct peer from;                 /* the requester (its address is the connection's) */
    uint8_t need;                     /* links the requester still wants */
    uint8_t splice;                   /* the second half of a link split: accept if < max */
    uint8_t fw;                       /* the requester is firewalled */
    uint8_t n;                        /* neighbours listed */
    uint16_t degree;
    struct addr nbr[GNUT_LIST_MAX];   /* neighbours, then hosts two hops away */
};
struct gnut_host_wire {               /* a host named in an answer (X-Try) */
    struct peer p;
    uint16_t degree;
    uint8_t fw;
    uint8_t dist;                     /* hops from the answerer, as its Pong cache has it */
};
struct gnut_connect_rep {             /* CONNECT_REP */
    uint8_t ok;
    uint8_t split;                    /* ok, and the answerer gave up its link to `partner` */
    uint8_t you_connect;              /* split: the requester connects to the partner */
    uint8_t partner_fw;
    uint8_t ntry;
    uint16_t degree;                  /* the answerer's neighbours after answering */
    struct peer partner;
    struct gnut_host_wire try_[GNUT_TRY_MAX];
};
struct gnut_splice {                  /* SPLICE */
    struct peer other;                /* the peer that took over the link */
    uint8_t other_fw;
    uint8_t you_connect;
};
struct gnut_desc_hdr {                /* the 0.4 descriptor header (length implied) */
    uint64_t id;
    uint8_t ttl, hops;
};
struct gnut_pong {                    /* PONG, PROBE_REP */
    struct gnut_desc_hdr h;
    struct peer who;
    uint16_t degree;
    uint8_t fw;
    uint8_t connected;                /* keep-alive answer: the sender is my neighbour */
};
struct gnut_query {                   /* QUERY */
    struct gnut_desc_hdr h;
    uint64_t key;                     /* the file searched for */
};
struct gnut_hit {                     /* QUERYHIT */
    struct gnut_desc_hdr h;
    struct peer who;                  /* the holder's address */
    uint64_t servent;                 /* the holder's servent ID */
    uint8_t qhops;                    /* hops the Query travelled to the holder */
    uint8_t fw;
};
struct gnut_push {                    /* PUSH */
    struct gnut_desc_hdr h;
    uint64_t servent;                 /* the holder to reach */
    struct peer to;                   /* where the holder connects (the searcher) */
    uint64_t token;                   /* the file-index field: names the search (its context) */
    uint32_t hit;
};
struct gnut_giv {                     /* GIV */
    uint64_t servent;
    uint64_t token;
    uint32_t hit;
};

union gnut_body {
    struct gnut_connect_req connect_req;
    struct gnut_connect_rep connect_rep;
    struct gnut_splice splice;
    struct gnut_desc_hdr ping;
    struct gnut_pong pong;
    struct gnut_query query;
    struct gnut_hit hit;
    struct gnut_push push;
    struct gnut_giv giv;
};

#define GNUT_CONNECT_LEN(n) (offsetof(struct gnut_connect_req, nbr) + (size_t)(n) * sizeof(struct addr))

/* ==== the descriptor cache (pure functions) ================================================ */

/* Entries (struct gnut_desc, gnutella_internal.h) are kept in a hash table probed over
 * GNUT_PROBE slots. One's own Query is found from its descriptor ID among one's searches. */
_Static_assert(sizeof(struct gnut_desc) == 24, "update the figure in the opening comment");

static uint32_t desc_home(uint64_t key, uint32_t size)
{
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (size - 1);
}

static bool desc_fresh(const struct gnut_desc *e, int64_t now_ms, int64_t expiry_ms)
{
    return e->from.slot != NODE_NONE && now_ms - e->t_ms < expiry_ms;
}

struct gnut_desc *gnut_desc_find(struct gnut_desc *tab, uint32_t size, uint64_t key,
                                 int64_t now_ms, int64_t expiry_ms)
{
    uint32_t h = desc_home(key, size), w = size < GNUT_PROBE ? size : GNUT_PROBE;
    for (uint32_t k = 0; k < w; k++) {
        struct gnut_desc *e = &tab[(h + k) & (size - 1)];
        if (e->key == key && desc_fresh(e, now_ms, expiry_ms))
            return e;
    }
    return NULL;
}

int gnut_desc_add(struct gnut_desc *tab, uint32_t size, uint64_t key, struct addr from,
                  int64_t now_ms, int64_t expiry_ms, bool overwrite, bool *evicted)
{
    uint32_t h = desc_home(key, size), w = size < GNUT_PROBE ? size : GNUT_PROBE;
    struct gnut_desc *free_e = NULL, *oldest = NULL;
    *evicted = false;
    for (uint32_t k = 0; k < w; k++) {
        struct gnut_desc *e = &tab[(h + k) & (size - 1)];
        if (!desc_fresh(e, now_ms, expiry_ms)) {
            if (!free_e)
                free_e = e;
            continue;
        }
        if (e->key == key) {
            if (overwrite)
                *e = (struct gnut_desc){ .key = key, .t_ms = now_ms, .from = from };
            return 0;
        }
        if (!oldest || e->t_ms < oldest->t_ms)
            oldest = e;
    }
    if (!free_e) {
        free_e = oldest;
        *evicted = true;
    }
    *free_e = (struct gnut_desc){ .key = key, .t_ms = now_ms, .from = from };
    return 1;
}

/* ==== graphs for the converged start (pure functions) ===================================== */

static bool adj_has(const uint32_t *adj, const uint32_t *deg, uint32_t w, uint32_t a, uint32_t b)
{
    for (uint32_t k = 0; k < deg[a]; k++)
        if (adj[(size_t)a * w + k] == b)
            return true;
    return false;
}

static void adj_link(uint32_t *adj, uint32_t *deg, uint32_t w, uint32_t a, uint32_t b)
{
    adj[(size_t)a * w + deg[a]++] = b;
    adj[(size_t)b * w + deg[b]++] = a;
}

static void adj_unlink(uint32_t *adj, uint32_t *deg, uint32_t w, uint32_t a, uint32_t b)
{
    for (int side = 0; side < 2; side++) {
        uint32_t x = side ? b : a, y = side ? a : b;
        uint32_t *row = &adj[(size_t)x * w];
        for (uint32_t k = 0; k < deg[x]; k++)
            if (row[k] == y) {
                row[k] = row[--deg[x]];
                break;
            }
    }
}

static bool graph_edge_ok(const uint32_t *adj, const uint32_t *deg, uint32_t w, const uint8_t *fw,
                          uint32_t a, uint32_t b)
{
    return a != b && !(fw && fw[a] && fw[b]) && !adj_has(adj, deg, w, a, b);
}

/* A random d-regular graph on n vertices by the configuration model: the n·d stubs are paired
 * at random; a pair that would make a self-loop, a multi-edge or a link between two
 * firewalled vertices (fw may be NULL) is repaired by a random double-edge swap with a good
 * edge. adj is n x d (row i: deg[i] neighbours). Returns the stubs left unpaired (n·d odd, or
 * a pair no swap could repair). */
uint32_t gnut_regular_graph(uint32_t n, uint32_t d, const uint8_t *fw, gsl_rng *r,
                            uint32_t *adj, uint32_t *deg)
{
    size_t stubs = (size_t)n * d, m = stubs / 2;
    uint32_t *st = mem_calloc(stubs, sizeof *st, "gnutella graph");
    uint32_t *eu = mem_calloc(m, sizeof *eu, "gnutella graph");
    uint32_t *ev = mem_calloc(m, sizeof *ev, "gnutella graph");
    uint32_t *bad = mem_calloc(2 * m, sizeof *bad, "gnutella graph");
    for (size_t k = 0; k < stubs; k++)
        st[k] = (uint32_t)(k / d);
    if (stubs > 1)
        gsl_ran_shuffle(r, st, stubs, sizeof *st);
    memset(deg, 0, (size_t)n * sizeof *deg);
    size_t ne = 0, nbad = 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t a = st[2 * k], b = st[2 * k + 1];
        if (graph_edge_ok(adj, deg, d, fw, a, b)) {
            adj_link(adj, deg, d, a, b);
            eu[ne] = a;
            ev[ne++] = b;
        } else {
            bad[nbad++] = a;
            bad[nbad++] = b;
        }
    }
    uint32_t left = (uint32_t)(stubs % 2);
    for (size_t k = 0; k < nbad; k += 2) {
        uint32_t a = bad[k], b = bad[k + 1];
        bool done = false;
        for (int t = 0; t < 10000 && ne > 0 && !done; t++) {
            size_t j = gsl_rng_uniform_int(r, ne);
            uint32_t c = eu[j], e = ev[j];
            if (gsl_rng_uniform_int(r, 2)) {
                uint32_t x = c;
                c = e;
                e = x;
            }
            adj_unlink(adj, deg, d, c, e);
            if (graph_edge_ok(adj, deg, d, fw, a, c)) {
                adj_link(adj, deg, d, a, c);
                if (graph_edge_ok(adj, deg, d, fw, b, e)) {
                    adj_link(adj, deg, d, b, e);
                    eu[j] = a;
                    ev[j] = c;
                    eu[ne] = b;
                    ev[ne++] = e;
                    done = true;
                    break;
                }
                adj_unlink(adj, deg, d, a, c);
            }
            adj_link(adj, deg, d, c, e);
        }
        if (!done)
            left += 2;
    }
    free(st);
    free(eu);
    free(ev);
    free(bad);
    return left;
}

/* A power-law graph by preferential attachment (Barabási & Albert 1999): vertices arrive in a
 * random order and each links to m earlier vertices chosen with probability proportional to
 * their degree (uniformly while none has any), skipping vertices at the cap, existing links
 * and firewalled pairs. adj is n x cap. Returns the links made. */
uint32_t gnut_powerlaw_graph(uint32_t n, uint32_t m, uint32_t cap, const uint8_t *fw, gsl_rng *r,
                             uint32_t *adj, uint32_t *deg)
{
    uint32_t *perm = mem_calloc(n, sizeof *perm, "gnutella graph");
    uint32_t *ep = mem_calloc((size_t)2 * n * m, sizeof *ep, "gnutella graph");
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    if (n > 1)
        gsl_ran_shuffle(r, perm, n, sizeof *perm);
    memset(deg, 0, (size_t)n * sizeof *deg);
    size_t nep = 0;
    uint32_t links = 0;
    for (uint32_t i = 1; i < n; i++) {
        uint32_t u = perm[i];
        for (uint32_t e = 0; e < m && deg[u] < cap; e++) {
            uint32_t t = GNUT_NONE32;
            for (int k = 0; k < 128 && t == GNUT_NONE32; k++) {
                uint32_t c = (nep > 0 && k < 64) ? ep[gsl_rng_uniform_int(r, nep)]
                                                 : perm[gsl_rng_uniform_int(r, i)];
                if (deg[c] < cap && graph_edge_ok(adj, deg, cap, fw, u, c))
                    t = c;
            }
            if (t == GNUT_NONE32)
                break;
            adj_link(adj, deg, cap, u, t);
            ep[nep++] = u;
            ep[nep++] = t;
            links++;
        }
    }
    free(perm);
    free(ep);
    return links;
}

/* ==== state =============================================================================== */

/* GNUT_TIMER_PUSH + k: the Push to hit k of a search went unanswered (k < GNUT_HITS_MAX). */
enum gnut_timer { GNUT_TIMER_PING, GNUT_TIMER_SEEK, GNUT_TIMER_SEARCH_END, GNUT_TIMER_PUSH };

enum gnut_phase { GNUT_OUT, GNUT_JOINING, GNUT_IN };

/* A neighbour: an open connection. */
struct gnut_nbr {
    struct peer p;
    uint16_t degree;                  /* its neighbour count, as last told */
    uint8_t fw;
    int64_t since_ms;                 /* when the connection opened */
};
_Static_assert(sizeof(struct gnut_nbr) == 32, "update the figure in the opening comment");

/* A host of the Pong cache. */
struct gnut_host {
    struct peer p;
    uint16_t degree;                  /* its neighbour count, if known */
    uint8_t fw;
    uint8_t dist;                     /* overlay hops away when its Pong came; GNUT_DIST_NONE:
                                         degree unknown (the introducer's contacts);
                                         GNUT_DIST_FAR: degree known, distance not */
    int64_t heard_ms;
};
_Static_assert(sizeof(struct gnut_host) == 32, "update the figure in the opening comment");

/* One peer: the fixed part of its slab record (zeroed at every join), followed by its tables:
 * cap neighbours, hsize Pong-cache hosts and dsize descriptor-cache entries (see nbrs). */
struct gnut_node {
    struct peer self;
    struct addr target;               /* the CONNECT in flight (seeking) */
    uint16_t degree;                  /* neighbours held */
    uint16_t nhosts;                  /* host-cache entries */
    uint8_t phase;                    /* enum gnut_phase */
    uint8_t fw;                       /* firewalled: accepts no incoming connection */
    uint8_t seeking;                  /* a CONNECT of ours is in flight */
    uint8_t seek_armed;               /* the SEEK timer is armed */
    uint8_t timers;                   /* the keep-alive timer is armed */
    uint8_t registered;               /* told the introducer (searchable) */
    uint8_t reserved;                 /* slots held for link-split CONNECTs of ours in flight */
    uint8_t expect;                   /* slots held for split partners that will connect to us
                                         (released when they do, or at the next keep-alive) */
    uint8_t pending;                  /* links the CONNECT in flight may bring (2: a split) */
    struct kit_join join;             /* tries: CONNECTs failed in a row (back-off); asking: an
                                         introducer request is in flight */
    uint64_t files_bloom[2];          /* a Bloom filter of the peer's own shared files (2 bits
                                         a file), built at its first Query: a Query for a file
                                         it cannot share skips reading its file list; all 0:
                                         not built yet */
};
_Static_assert(sizeof(struct gnut_node) == GNUT_NODE_BYTES, "update the opening comment's figure");

enum gnut_hit_state { GNUT_HIT_NEW, GNUT_HIT_WAIT, GNUT_HIT_OK, GNUT_HIT_FAIL, GNUT_HIT_SKIP };

struct gnut_hitrec {
    struct peer who;
    uint64_t servent;
    int64_t sent_us;                  /* probe or Push sent */
    uint32_t rtt_us;
    uint8_t qhops, fw, state;
    uint8_t pad;
};

enum gnut_search_phase { GNUT_S_COLLECT = 1, GNUT_S_PROBE };

/* A search in flight at its origin: a record of the search pool. */
struct gnut_search {
    struct kit_op op;
    uint64_t key, desc;
    uint32_t lookup;
    uint8_t phase, nhits, pending, unusable;
    struct gnut_hitrec hit[GNUT_HITS_MAX];
};
_Static_assert(sizeof(struct gnut_search) == 688, "update the figure in the opening comment");

/* The protocol's global data for one run. */
struct gnut_global {
    uint32_t topology, d, target, accept, cap, ttl, ping_ttl, candidates, cached_pongs;
    uint32_t dsize, hsize;            /* descriptor-cache and host-cache entries per peer */
    int64_t expiry_ms;
    int64_t ping_us, rpc_us, window_us;
    double firewalled;
    node_t nodes;
    struct kit_pool searches;         /* struct gnut_search */
    uint32_t *stamp, epoch;           /* gauges: live peers are stamped with this sample's epoch */
    node_t *live;                     /* gauges: the live peers */
    uint32_t *uf;                     /* gauges: union-find */
    double gauge_val[2];
};

/* The protocol's own counters (counters.csv). */
enum gnut_counter {
    GNUT_C_QUERY_SENT,                /* Query transmissions */
    GNUT_C_QUERY_DUP,                 /* Queries dropped as duplicates */
    GNUT_C_HIT_SENT,                  /* QueryHit transmissions (origin and routing) */
    GNUT_C_PUSH_SENT,                 /* Push transmissions */
    GNUT_C_HIT_SEARCHES,              /* searches that got at least one QueryHit */
    GNUT_C_FIRST_HIT_HOPS,            /* sum of the Query hops of each search's first hit */
    GNUT_C_ROUTE_LOST,                /* Pongs/QueryHits/Pushes dropped: no reverse route */
    GNUT_C_UNUSABLE,                  /* holders skipped: both ends firewalled */
    GNUT_C_NBR_FAILED,                /* neighbours dropped after a keep-alive timeout */
    GNUT_C_DESC_EVICTED,              /* fresh descriptor-cache entries evicted */
    GNUT_C_REFUSED,                   /* CONNECTs answered busy */
    GNUT_C_SPLITS,                    /* links split for a joiner */
    GNUT_C_PING_DUP,                  /* Pings dropped as duplicates */
};
static const char *const gnut_counters[] = {
    [GNUT_C_QUERY_SENT] = "query_sent",
    [GNUT_C_QUERY_DUP] = "query_duplicates",
    [GNUT_C_HIT_SENT] = "queryhit_sent",
    [GNUT_C_PUSH_SENT] = "push_sent",
    [GNUT_C_HIT_SEARCHES] = "searches_with_hits",
    [GNUT_C_FIRST_HIT_HOPS] = "first_hit_hops",
    [GNUT_C_ROUTE_LOST] = "route_lost",
    [GNUT_C_UNUSABLE] = "firewalled_unusable",
    [GNUT_C_NBR_FAILED] = "neighbour_failures",
    [GNUT_C_DESC_EVICTED] = "desc_evicted",
    [GNUT_C_REFUSED] = "connect_refused",
    [GNUT_C_SPLITS] = "link_splits",
    [GNUT_C_PING_DUP] = "ping_duplicates",
    NULL,
};

/* Gauges (gauges.csv): the share of live peers in the overlay's largest connected component,
 * and the share of live peers without any neighbour. */
enum gnut_gauge { GNUT_G_COMPONENT, GNUT_G_ISOLATED };
static const char *const gnut_gauges[] = {
    [GNUT_G_COMPONENT] = "overlay.largest_component",
    [GNUT_G_ISOLATED] = "overlay.isolated",
    NULL,
};

/* ==== small helpers ======================================================================= */

static struct gnut_global *gg(struct sim *s) { return sim_protocol_data(s); }
static struct gnut_node *gnode(struct sim *s, node_t n) { return sim_state(s, n); }

/* n's tables, after the fixed part of its slab record. */
static struct gnut_nbr *nbrs(struct sim *s, node_t n)
{
    return (struct gnut_nbr *)(gnode(s, n) + 1);
}
static struct gnut_host *hosts(struct sim *s, node_t n)
{
    return (struct gnut_host *)(nbrs(s, n) + gg(s)->cap);
}
static struct gnut_desc *descs(struct sim *s, node_t n)
{
    return (struct gnut_desc *)(hosts(s, n) + gg(s)->hsize);
}


static void send_msg(struct sim *s, node_t n, struct addr to, enum gnut_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned items)
{
    kit_send(s, &gnut_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup, .body = body,
                                                       .len = len, .entries = items });
}

static void send_rpc(struct sim *s, node_t n, struct addr to, enum gnut_msg type, uint32_t lookup,
                     const void *body, size_t len, unsigned items, uint64_t ctx0, uint64_t ctx1)
{
    kit_rpc(s, &gnut_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup, .body = body,
                                                      .len = len, .entries = items },
            gg(s)->rpc_us, ctx0, ctx1);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, enum gnut_msg type,
                      const void *body, size_t len, unsigned items)
{
    kit_reply(s, &gnut_msgs, n, req,
              &(struct kit_out){ .type = type, .body = body, .len = len, .entries = items });
}

/* ==== neighbours and the host cache ======================================================= */

/* The index of a in n's neighbours, or -1. */
static int nbr_index(struct sim *s, node_t n, struct addr a)
{
    const struct gnut_nbr *v = nbrs(s, n);
    for (uint16_t i = 0; i < gnode(s, n)->degree; i++)
        if (addr_eq(v[i].p.addr, a))
            return i;
    return -1;
}

static bool nbr_add(struct sim *s, node_t n, struct peer p, uint16_t degree, uint8_t fw)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    if (addr_eq(p.addr, nd->self.addr) || nd->degree >= g->cap || nbr_index(s, n, p.addr) >= 0)
        return false;
    nbrs(s, n)[nd->degree++] = (struct gnut_nbr){ .p = p, .degree = degree, .fw = fw,
                                                  .since_ms = kit_now_ms(s) };
    return true;
}

static void nbr_remove_at(struct sim *s, node_t n, int i)
{
    struct gnut_node *nd = gnode(s, n);
    struct gnut_nbr *v = nbrs(s, n);
    v[i] = v[--nd->degree];
}

static void host_heard(struct sim *s, node_t n, struct peer p, uint16_t degree, uint8_t fw,
                       uint8_t dist)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    if (addr_eq(p.addr, nd->self.addr))
        return;
    struct gnut_host *h = hosts(s, n);
    struct gnut_host e = { .p = p, .degree = degree, .fw = fw, .dist = dist,
                           .heard_ms = kit_now_ms(s) };
    uint32_t oldest = 0;
    for (uint32_t i = 0; i < nd->nhosts; i++) {
        if (addr_eq(h[i].p.addr, p.addr)) {
            if (dist != GNUT_DIST_NONE || h[i].dist == GNUT_DIST_NONE) {
                if (dist == GNUT_DIST_FAR && h[i].dist != GNUT_DIST_NONE)
                    e.dist = h[i].dist;
                h[i] = e;
            }
            return;
        }
        if (h[i].heard_ms < h[oldest].heard_ms)
            oldest = i;
    }
    if (nd->nhosts < g->hsize)
        h[nd->nhosts++] = e;
    else
        h[oldest] = e;
}

static void host_forget(struct sim *s, node_t n, struct addr a)
{
    struct gnut_node *nd = gnode(s, n);
    struct gnut_host *h = hosts(s, n);
    for (uint32_t i = 0; i < nd->nhosts; i++)
        if (addr_eq(h[i].p.addr, a)) {
            h[i] = h[--nd->nhosts];
            return;
        }
}

/* Links held or promised: neighbours, the slots held for split partners and what the CONNECT
 * in flight may bring. */
static uint32_t eff_degree(struct sim *s, node_t n)
{
    const struct gnut_node *nd = gnode(s, n);
    return (uint32_t)nd->degree + nd->reserved + nd->expect + (nd->seeking ? nd->pending : 0);
}

/* The links a peer still wants to open. */
static uint32_t need_of(struct sim *s, node_t n)
{
    uint32_t t = gg(s)->target, d = eff_degree(s, n);
    return d < t ? t - d : 0;
}

/* A host of n's cache to connect to, or NULL. Random: hosts known to have a free slot or (for
 * an odd need) to be over-full, as they take one link or hand one over, first; then (needing
 * two or more, so that a full host splits a link) any host, else hosts of unknown or below-cap
 * degree; among those, the farthest known. Powerlaw: hosts below the cap, weighted by
 * neighbour count. A peer with neighbours takes hosts within GNUT_DIST_NEAR hops, or the
 * introducer's contacts (recent joiners, linked to one another), only when it knows no
 * others, so that its links close no short cycle. */
static const struct gnut_host *pick_host(struct sim *s, node_t n)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_host *h = hosts(s, n);
    uint32_t need = need_of(s, n);
    double w[1024], tot = 0;
    uint8_t cls[1024], lab[1024];
    unsigned best_cls = UINT8_MAX, best_lab = 0;
    for (uint32_t i = 0; i < nd->nhosts; i++) {
        cls[i] = UINT8_MAX;
        w[i] = 1;
        bool known = h[i].dist != GNUT_DIST_NONE;
        if (nbr_index(s, n, h[i].p.addr) >= 0 || (nd->fw && h[i].fw))
            continue;
        if (g->topology == GNUT_POWERLAW) {
            if (known && h[i].degree >= g->cap)
                continue;
            cls[i] = 0;
            w[i] = known && h[i].degree > 0 ? h[i].degree : 1;
        } else if (known && (h[i].degree < g->accept ||
                             (need % 2 == 1 && h[i].degree > g->accept))) {
            cls[i] = 0;
        } else if (need >= 2 || !known || h[i].degree < g->cap) {
            cls[i] = 1;
        } else {
            continue;
        }
        /* hops away: unknown (the introducer's recent joiners) counts as near */
        lab[i] = nd->degree == 0 ? 16
                 : h[i].dist == GNUT_DIST_NONE ? 0
                 : h[i].dist == GNUT_DIST_FAR ? GNUT_DIST_NEAR + 1
                 : (uint8_t)(h[i].dist < 16 ? h[i].dist : 16);
        if (lab[i] <= GNUT_DIST_NEAR)
            cls[i] = (uint8_t)(cls[i] + 2);   /* near hosts only when nothing else is known */
        if (cls[i] < best_cls || (cls[i] == best_cls && lab[i] > best_lab)) {
            best_cls = cls[i];
            best_lab = lab[i];
        }
    }
    if (best_cls == UINT8_MAX)
        return NULL;
    for (uint32_t i = 0; i < nd->nhosts; i++)
        if (cls[i] == best_cls && (g->topology == GNUT_POWERLAW || lab[i] == best_lab))
            tot += w[i];
    if (tot <= 0)
        return NULL;
    double x = gsl_rng_uniform(sim_rng(s)) * tot;
    const struct gnut_host *last = NULL;
    for (uint32_t i = 0; i < nd->nhosts; i++) {
        if (cls[i] != best_cls || (g->topology != GNUT_POWERLAW && lab[i] != best_lab))
            continue;
        last = &h[i];
        if ((x -= w[i]) < 0)
            return &h[i];
    }
    return last;
}

/* ==== joining and keeping neighbours ====================================================== */

static void seek(struct sim *s, node_t n);

static void arm_seek(struct sim *s, node_t n, int64_t delay_us)
{
    struct gnut_node *nd = gnode(s, n);
    if (nd->seek_armed)
        return;
    nd->seek_armed = 1;
    sim_timer(s, n, GNUT_TIMER_SEEK, delay_us, 0);
}

static void start_timers(struct sim *s, node_t n, bool random_phase)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    if (nd->timers)
        return;
    nd->timers = 1;
    int64_t d = random_phase ? kit_phase(s, g->ping_us) : sim_jitter(s, g->ping_us);
    sim_timer(s, n, GNUT_TIMER_PING, d, 0);
}

static void send_ping_round(struct sim *s, node_t n);
static void ping_one(struct sim *s, node_t n, struct addr to);

/* n registers with the introducer (and becomes searchable) once it has its target links, or
 * at its first keep-alive round with at least one: the introducer then hands out peers that
 * are done joining. */
static void maybe_register(struct sim *s, node_t n, bool anyway)
{
    struct gnut_node *nd = gnode(s, n);
    if (nd->registered || nd->phase != GNUT_IN || !(anyway || need_of(s, n) == 0))
        return;
    nd->registered = 1;
    sim_introducer_register(s, n);
}

/* n has its first connection: it is in the overlay. Its further links wait for the Pongs of
 * its first Ping round, which name hosts beyond its first neighbour. */
static bool become_in(struct sim *s, node_t n)
{
    struct gnut_node *nd = gnode(s, n);
    if (nd->phase == GNUT_IN)
        return false;
    nd->phase = GNUT_IN;
    start_timers(s, n, false);
    send_ping_round(s, n);
    maybe_register(s, n, false);
    return true;
}

/* Sends a CONNECT to p; splice = the second half of a link split (not the seek in flight). */
static void connect_to(struct sim *s, node_t n, struct peer p, bool splice)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    struct gnut_connect_req b = { .from = nd->self, .need = (uint8_t)need_of(s, n), .splice = splice,
                                  .fw = nd->fw, .degree = nd->degree };
    if (!splice && g->topology == GNUT_RANDOM) {
        /* the peers a split partner must not be: n's neighbours and the hosts its Pongs
         * place two hops away (a link to them would close a triangle) */
        const struct gnut_nbr *v = nbrs(s, n);
        for (uint16_t i = 0; i < nd->degree && b.n < GNUT_LIST_MAX; i++)
            b.nbr[b.n++] = v[i].p.addr;
        const struct gnut_host *h = hosts(s, n);
        for (uint32_t i = 0; i < nd->nhosts && b.n < GNUT_LIST_MAX; i++)
            if (h[i].dist == GNUT_DIST_NEAR)
                b.nbr[b.n++] = h[i].p.addr;
    }
    if (!splice) {
        nd->seeking = 1;
        nd->target = p.addr;
        nd->pending = g->topology == GNUT_RANDOM && b.need >= 2 ? 2 : 1;
    } else if (nd->reserved < UINT8_MAX) {
        nd->reserved++;
    }
    send_rpc(s, n, p.addr, GNUT_MSG_CONNECT_REQ, LOOKUP_NONE, &b, GNUT_CONNECT_LEN(b.n), b.n,
             p.id, splice);
}

static void seek(struct sim *s, node_t n)
{
    struct gnut_node *nd = gnode(s, n);
    if (nd->phase == GNUT_OUT || nd->seeking || need_of(s, n) == 0)
        return;
    const struct gnut_host *h = pick_host(s, n);
    if (!h) {
        if (!nd->join.asking) {
            nd->join.asking = 1;
            sim_introducer_ask(s, n);
        }
        return;
    }
    connect_to(s, n, h->p, false);
}

/* The CONNECT in flight failed (busy or timed out): try another host after a back-off. */
static void seek_failed(struct sim *s, node_t n)
{
    struct gnut_node *nd = gnode(s, n);
    nd->seeking = 0;
    unsigned e = nd->join.tries < GNUT_SEEK_SHIFT_MAX ? nd->join.tries : GNUT_SEEK_SHIFT_MAX;
    if (nd->join.tries < UINT8_MAX)
        nd->join.tries++;
    arm_seek(s, n, (int64_t)GNUT_SEEK_BASE_US << e);
}

static void drop_neighbour(struct sim *s, node_t n, struct addr a)
{
    int i = nbr_index(s, n, a);
    if (i < 0)
        return;
    nbr_remove_at(s, n, i);
    seek(s, n);
}

/* A CONNECT at n. A firewalled peer never sees one (the requester times out). */
static void on_connect_req(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_connect_req *b = m->body;
    if (nd->fw)
        return;
    struct peer z = { .id = b->from.id, .addr = m->src };
    struct gnut_connect_rep rep = { .ok = 0 };
    if (nbr_index(s, n, m->src) >= 0) {
        rep.ok = 1;                   /* already connected (a repeated request) */
    } else if (nd->phase != GNUT_IN && !b->splice) {
        rep.ok = 0;                   /* not in the overlay yet: no islands of joiners */
    } else if (b->splice ? nd->degree < g->cap : eff_degree(s, n) < g->accept) {
        if (b->splice && nd->expect > 0)
            nd->expect--;
        rep.ok = nbr_add(s, n, z, b->degree, b->fw);
        if (rep.ok && b->splice && need_of(s, n) > 0 && nd->phase == GNUT_IN)
            ping_one(s, n, z.addr);   /* a joiner learns what its new neighbour is near */
    } else if (g->topology == GNUT_RANDOM && !b->splice) {
        /* over-full and an odd need: hand one link over (n drops to d); a need of two or more:
         * split one (n keeps its degree, the requester gains two); else take it over-full */
        bool handoff = eff_degree(s, n) > g->accept && b->need % 2 == 1;
        if ((handoff || b->need >= 2) && nd->degree > 0) {
            struct gnut_nbr *v = nbrs(s, n);
            uint16_t start = (uint16_t)gsl_rng_uniform_int(sim_rng(s), nd->degree);
            for (uint16_t k = 0; k < nd->degree; k++) {
                uint16_t i = (uint16_t)((start + k) % nd->degree);
                bool listed = false;
                for (unsigned j = 0; j < b->n && j < GNUT_LIST_MAX; j++)
                    listed |= addr_eq(b->nbr[j], v[i].p.addr);
                if (listed || (v[i].fw && b->fw))
                    continue;
                struct gnut_nbr y = v[i];
                nbr_remove_at(s, n, i);
                if (!handoff)
                    nbr_add(s, n, z, b->degree, b->fw);
                struct gnut_splice sp = { .other = z, .other_fw = b->fw, .you_connect = !b->fw };
                send_msg(s, n, y.p.addr, GNUT_MSG_SPLICE, LOOKUP_NONE, &sp, sizeof sp, 0);
                rep.ok = !handoff;
                rep.split = 1;
                rep.partner = y.p;
                rep.partner_fw = y.fw;
                rep.you_connect = b->fw;
                sim_count(s, GNUT_C_SPLITS, 1);
                break;
            }
        }
        if (!rep.split && b->need == 1 && eff_degree(s, n) < g->cap)
            rep.ok = nbr_add(s, n, z, b->degree, b->fw);   /* over-full, up to the cap */
    }
    if (!rep.ok && !rep.split)
        sim_count(s, GNUT_C_REFUSED, 1);
    /* X-Try (as 0.6 handshakes carry): the farthest hosts of n's Pong cache, so that the
     * requester's next links reach beyond n's neighbourhood */
    {
        const struct gnut_host *h = hosts(s, n);
        for (uint32_t i = 0; i < nd->nhosts; i++) {
            if (h[i].dist == GNUT_DIST_NONE || h[i].dist == GNUT_DIST_FAR ||
                addr_eq(h[i].p.addr, m->src))
                continue;
            struct gnut_host_wire e = { .p = h[i].p, .degree = h[i].degree, .fw = h[i].fw,
                                        .dist = h[i].dist };
            unsigned j = rep.ntry < GNUT_TRY_MAX ? rep.ntry++ : GNUT_TRY_MAX;
            if (j == GNUT_TRY_MAX) {
                if (e.dist <= rep.try_[GNUT_TRY_MAX - 1].dist)
                    continue;
                j = GNUT_TRY_MAX - 1;
            }
            while (j > 0 && rep.try_[j - 1].dist < e.dist) {
                rep.try_[j] = rep.try_[j - 1];
                j--;
            }
            rep.try_[j] = e;
        }
    }
    rep.degree = (uint16_t)eff_degree(s, n);
    reply_msg(s, n, m, GNUT_MSG_CONNECT_REP, &rep, sizeof rep, rep.ntry);
}

/* The answer to n's CONNECT (rpc ctx0 = the target's id, ctx1 = splice). */
static void on_connect_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_connect_rep *b = m->body;
    bool splice = m->rpc->ctx[1] != 0;
    struct peer x = { .id = m->rpc->ctx[0], .addr = m->src };
    if (splice && nd->reserved > 0)
        nd->reserved--;
    if (!splice && nd->seeking && addr_eq(nd->target, m->src))
        nd->seeking = 0;
    for (unsigned i = 0; i < b->ntry && i < GNUT_TRY_MAX; i++)
        host_heard(s, n, b->try_[i].p, b->try_[i].degree, b->try_[i].fw,
                   (uint8_t)(b->try_[i].dist + 1u < GNUT_DIST_FAR ? b->try_[i].dist + 1u
                                                                  : GNUT_DIST_FAR - 1u));
    if (!b->ok && b->split) {         /* handed a link over: the partner and n connect */
        nd->join.tries = 0;
        if (b->you_connect)
            connect_to(s, n, b->partner, true);
        else if (nd->expect < UINT8_MAX)
            nd->expect++;
        arm_seek(s, n, 2 * gg(s)->rpc_us);
        return;
    }
    if (!b->ok) {
        host_forget(s, n, m->src);    /* busy: try others */
        if (!splice)
            seek_failed(s, n);
        else
            seek(s, n);
        return;
    }
    if (!nbr_add(s, n, x, b->degree, 0) && nbr_index(s, n, m->src) < 0) {
        send_msg(s, n, m->src, GNUT_MSG_BYE, LOOKUP_NONE, NULL, 0, 0);   /* no room after all */
        return;
    }
    host_heard(s, n, x, b->degree, 0, GNUT_DIST_FAR);
    nd->join.tries = 0;
    if (b->split && b->you_connect)
        connect_to(s, n, b->partner, true);
    else if (b->split && nd->expect < UINT8_MAX)
        nd->expect++;
    maybe_register(s, n, false);
    /* wait for the Pongs of the new neighbourhood before the next link, so that it closes no
     * short cycle */
    if (!become_in(s, n) && need_of(s, n) > 0)
        ping_one(s, n, x.addr);
    if (need_of(s, n) > 0)
        arm_seek(s, n, GNUT_PONG_WAIT_US);
}

static void on_splice(struct sim *s, node_t n, const struct msg *m)
{
    const struct gnut_splice *b = m->body;
    int i = nbr_index(s, n, m->src);
    if (i < 0)
        return;
    nbr_remove_at(s, n, i);
    if (b->you_connect)
        connect_to(s, n, b->other, true);
    else if (gnode(s, n)->expect < UINT8_MAX)
        gnode(s, n)->expect++;        /* the other end connects to n */
}

/* ==== Ping / Pong ========================================================================= */

static bool desc_record(struct sim *s, node_t n, uint64_t key, struct addr from, bool overwrite)
{
    struct gnut_global *g = gg(s);
    bool evicted;
    int fresh = gnut_desc_add(descs(s, n), g->dsize, key, from, kit_now_ms(s), g->expiry_ms,
                              overwrite, &evicted);
    if (evicted)
        sim_count(s, GNUT_C_DESC_EVICTED, 1);
    return fresh != 0;
}

static const struct gnut_desc *desc_route(struct sim *s, node_t n, uint64_t key)
{
    struct gnut_global *g = gg(s);
    return gnut_desc_find(descs(s, n), g->dsize, key, kit_now_ms(s), g->expiry_ms);
}

/* One keep-alive round: a Ping with a fresh descriptor ID to every neighbour, as RPCs. */
static void send_ping_round(struct sim *s, node_t n)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    struct gnut_desc_hdr p = { .id = kit_rand64(s), .ttl = (uint8_t)g->ping_ttl, .hops = 0 };
    desc_record(s, n, p.id, nd->self.addr, false);
    const struct gnut_nbr *v = nbrs(s, n);
    for (uint16_t i = 0; i < nd->degree; i++)
        send_rpc(s, n, v[i].p.addr, GNUT_MSG_PING, LOOKUP_NONE, &p, sizeof p, 0, 0, 0);
}

/* A Ping to one new neighbour, whose Pongs tell a seeker which hosts are now near it. */
static void ping_one(struct sim *s, node_t n, struct addr to)
{
    struct gnut_global *g = gg(s);
    struct gnut_desc_hdr p = { .id = kit_rand64(s), .ttl = (uint8_t)g->ping_ttl, .hops = 0 };
    desc_record(s, n, p.id, gnode(s, n)->self.addr, false);
    send_rpc(s, n, to, GNUT_MSG_PING, LOOKUP_NONE, &p, sizeof p, 0, 0, 0);
}

static struct gnut_pong own_pong(struct sim *s, node_t n, uint64_t id, uint8_t hops)
{
    struct gnut_node *nd = gnode(s, n);
    return (struct gnut_pong){ .h = { .id = id, .ttl = hops, .hops = 0 }, .who = nd->self,
                               .degree = (uint16_t)eff_degree(s, n), .fw = nd->fw,
                               .connected = 1 };
}

/* Pong caching: with its own Pong a peer answers a neighbour's keep-alive Ping with a few
 * Pongs from its host cache (hops = how far the host was from it), so host caches come to
 * name hosts far beyond the Ping's TTL. */
static void send_cached_pongs(struct sim *s, node_t n, struct addr to, uint64_t id)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_host *h = hosts(s, n);
    if (nd->nhosts == 0)
        return;
    uint32_t start = (uint32_t)gsl_rng_uniform_int(sim_rng(s), nd->nhosts), sent = 0;
    for (uint32_t k = 0; k < nd->nhosts && sent < g->cached_pongs; k++) {
        const struct gnut_host *e = &h[(start + k) % nd->nhosts];
        if (e->dist == GNUT_DIST_NONE || e->dist == GNUT_DIST_FAR || addr_eq(e->p.addr, to))
            continue;
        struct gnut_pong pong = { .h = { .id = id, .ttl = e->dist, .hops = e->dist }, .who = e->p,
                                  .degree = e->degree, .fw = e->fw, .connected = 1 };
        send_msg(s, n, to, GNUT_MSG_PONG, LOOKUP_NONE, &pong, sizeof pong, 0);
        sent++;
    }
}

static void on_ping(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_desc_hdr *b = m->body;
    int from = nbr_index(s, n, m->src);
    if (m->req) {                     /* keep-alive: answer with our own Pong */
        struct gnut_pong pong = own_pong(s, n, b->id, (uint8_t)(b->hops + 1));
        pong.connected = from >= 0;
        reply_msg(s, n, m, GNUT_MSG_PONG, &pong, sizeof pong, 0);
        if (from >= 0)
            send_cached_pongs(s, n, m->src, b->id);
    }
    if (from < 0)
        return;                       /* not a connection of ours */
    if (!desc_record(s, n, b->id, m->src, false)) {
        sim_count(s, GNUT_C_PING_DUP, 1);
        return;
    }
    if (!m->req) {
        struct gnut_pong pong = own_pong(s, n, b->id, (uint8_t)(b->hops + 1));
        send_msg(s, n, m->src, GNUT_MSG_PONG, LOOKUP_NONE, &pong, sizeof pong, 0);
    }
    if (b->ttl <= 1)
        return;
    struct gnut_desc_hdr fwd = { .id = b->id, .ttl = (uint8_t)(b->ttl - 1), .hops = (uint8_t)(b->hops + 1) };
    const struct gnut_nbr *v = nbrs(s, n);
    for (uint16_t i = 0; i < nd->degree; i++)
        if (!addr_eq(v[i].p.addr, m->src))
            send_msg(s, n, v[i].p.addr, GNUT_MSG_PING, LOOKUP_NONE, &fwd, sizeof fwd, 0);
}

/* A Pong routed back to n (not a keep-alive answer). */
static void on_pong(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_pong *b = m->body;
    if (nbr_index(s, n, m->src) < 0)
        return;
    const struct gnut_desc *r = desc_route(s, n, b->h.id);
    if (!r) {
        sim_count(s, GNUT_C_ROUTE_LOST, 1);
        return;
    }
    if (addr_eq(r->from, nd->self.addr)) {
        host_heard(s, n, b->who, b->degree, b->fw,
                   (uint8_t)(b->h.hops + 1 < GNUT_DIST_FAR ? b->h.hops + 1 : GNUT_DIST_FAR - 1));
        return;
    }
    if (nbr_index(s, n, r->from) < 0) {
        sim_count(s, GNUT_C_ROUTE_LOST, 1);
        return;
    }
    struct gnut_pong fwd = *b;
    fwd.h.hops++;
    send_msg(s, n, r->from, GNUT_MSG_PONG, LOOKUP_NONE, &fwd, sizeof fwd, 0);
}

/* The keep-alive answer of neighbour m->src. */
static void on_keepalive_pong(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_global *g = gg(s);
    const struct gnut_pong *b = m->body;
    int i = nbr_index(s, n, m->src);
    if (i < 0)
        return;
    struct gnut_nbr *v = &nbrs(s, n)[i];
    if (!b->connected) {
        /* the other end has closed the connection, unless it is so new that our Ping
         * overtook its acceptance */
        if ((uint32_t)(kit_now_ms(s) - v->since_ms) > 2 * (uint32_t)(g->rpc_us / 1000))
            drop_neighbour(s, n, m->src);
        return;
    }
    v->degree = b->degree;
    v->fw = b->fw;
    if (v->p.id == 0)
        v->p.id = b->who.id;
}

static void ping_timer(struct sim *s, node_t n)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    nd->expect = 0;                   /* split partners have had a keep-alive period */
    if (sim_maintenance_on(s) && nd->phase == GNUT_IN) {
        maybe_register(s, n, nd->degree > 0);
        send_ping_round(s, n);
        seek(s, n);
    }
    sim_timer(s, n, GNUT_TIMER_PING, sim_jitter(s, g->ping_us), 0);
}

/* ==== searches ============================================================================ */

/* Searches are records of a kit pool, owned by their origin and named in contexts by
 * kit_pool_ctx (index and generation). */
static struct gnut_search *rec_at(struct sim *s, uint32_t i)
{
    return kit_pool_rec(s, &gg(s)->searches, i);
}

static void rec_free(struct sim *s, uint32_t i) { kit_pool_release(&gg(s)->searches, i); }
static uint64_t rec_ctx(struct sim *s, uint32_t i) { return kit_pool_ctx(&gg(s)->searches, i); }

static uint32_t rec_from_ctx(struct sim *s, node_t n, uint64_t ctx)
{
    return kit_pool_get(&gg(s)->searches, n, ctx);
}

/* n's search whose Query carries descriptor ID desc, or KIT_NONE. */
static uint32_t rec_by_desc(struct sim *s, node_t n, uint64_t desc)
{
    const struct kit_pool *p = &gg(s)->searches;
    for (uint32_t i = kit_pool_first(p, n); i != KIT_NONE; i = kit_pool_next(p, i))
        if (rec_at(s, i)->desc == desc)
            return i;
    return KIT_NONE;
}

static void gnut_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, origin);
    uint32_t i = kit_pool_alloc(&g->searches, origin);
    struct gnut_search *r = rec_at(s, i);
    r->phase = GNUT_S_COLLECT;
    r->key = key;
    r->lookup = lookup_id;
    r->desc = kit_rand64(s);
    desc_record(s, origin, r->desc, nd->self.addr, false);
    struct gnut_query q = { .h = { .id = r->desc, .ttl = (uint8_t)g->ttl, .hops = 0 }, .key = key };
    const struct gnut_nbr *v = nbrs(s, origin);
    for (uint16_t k = 0; k < nd->degree; k++) {
        send_msg(s, origin, v[k].p.addr, GNUT_MSG_QUERY, lookup_id, &q, sizeof q, 0);
        sim_count(s, GNUT_C_QUERY_SENT, 1);
    }
    sim_timer(s, origin, GNUT_TIMER_SEARCH_END, g->window_us, rec_ctx(s, i));
}

static void bloom_bits(uint64_t key, uint32_t *a, uint32_t *b)
{
    uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
    *a = (uint32_t)(h >> 57);
    *b = (uint32_t)(h >> 50) & 127;
}

static bool bloom_has(const uint64_t *bl, uint32_t k) { return bl[k / 64] >> (k % 64) & 1; }

/* Does n share the file key? Its Bloom filter first (a false positive costs only the scan). */
static bool shares(struct sim *s, node_t n, uint64_t key)
{
    struct gnut_node *nd = gnode(s, n);
    uint32_t cnt = 0, a, b;
    const uint64_t *f = NULL;
    if ((nd->files_bloom[0] | nd->files_bloom[1]) == 0) {
        f = sim_node_files(s, n, &cnt);
        for (uint32_t k = 0; k < cnt; k++) {
            bloom_bits(f[k], &a, &b);
            nd->files_bloom[a / 64] |= UINT64_C(1) << (a % 64);
            nd->files_bloom[b / 64] |= UINT64_C(1) << (b % 64);
        }
    }
    bloom_bits(key, &a, &b);
    if (!bloom_has(nd->files_bloom, a) || !bloom_has(nd->files_bloom, b))
        return false;
    if (!f)
        f = sim_node_files(s, n, &cnt);
    for (uint32_t k = 0; k < cnt; k++)
        if (f[k] == key)
            return true;
    return false;
}

static void on_query(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_query *b = m->body;
    if (nbr_index(s, n, m->src) < 0)
        return;
    if (!desc_record(s, n, b->h.id, m->src, false)) {
        sim_count(s, GNUT_C_QUERY_DUP, 1);
        return;
    }
    if (shares(s, n, b->key)) {
        struct gnut_hit hit = { .h = { .id = b->h.id, .ttl = (uint8_t)(b->h.hops + 1), .hops = 0 },
                                .who = nd->self, .servent = nd->self.id,
                                .qhops = (uint8_t)(b->h.hops + 1), .fw = nd->fw };
        send_msg(s, n, m->src, GNUT_MSG_QUERYHIT, m->lookup, &hit, sizeof hit, 0);
        sim_count(s, GNUT_C_HIT_SENT, 1);
    }
    if (b->h.ttl <= 1)
        return;
    struct gnut_query fwd = *b;
    fwd.h.ttl--;
    fwd.h.hops++;
    const struct gnut_nbr *v = nbrs(s, n);
    for (uint16_t k = 0; k < nd->degree; k++)
        if (!addr_eq(v[k].p.addr, m->src)) {
            send_msg(s, n, v[k].p.addr, GNUT_MSG_QUERY, m->lookup, &fwd, sizeof fwd, 0);
            sim_count(s, GNUT_C_QUERY_SENT, 1);
        }
}

static void search_probe(struct sim *s, node_t n, uint32_t i);

static void search_on_hit(struct sim *s, node_t n, uint32_t i, const struct gnut_hit *b)
{
    struct gnut_search *r = rec_at(s, i);
    if (r->phase != GNUT_S_COLLECT)
        return;
    if (r->nhits == 0) {
        sim_count(s, GNUT_C_HIT_SEARCHES, 1);
        sim_count(s, GNUT_C_FIRST_HIT_HOPS, b->qhops);
    }
    if (r->nhits >= GNUT_HITS_MAX)
        return;
    for (unsigned k = 0; k < r->nhits; k++)
        if (addr_eq(r->hit[k].who.addr, b->who.addr))
            return;
    r->hit[r->nhits++] = (struct gnut_hitrec){ .who = b->who, .servent = b->servent,
                                               .qhops = b->qhops, .fw = b->fw,
                                               .state = GNUT_HIT_NEW };
    if (r->nhits >= gg(s)->candidates)    /* enough holders in hand: stop waiting */
        search_probe(s, n, i);
}

static void on_queryhit(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_hit *b = m->body;
    if (nbr_index(s, n, m->src) < 0)
        return;
    /* the servent ID's route, for a Push */
    desc_record(s, n, b->servent ^ GNUT_PUSH_TAG, m->src, true);
    const struct gnut_desc *r = desc_route(s, n, b->h.id);
    if (!r) {
        sim_count(s, GNUT_C_ROUTE_LOST, 1);
        return;
    }
    if (addr_eq(r->from, nd->self.addr)) {
        uint32_t i = rec_by_desc(s, n, b->h.id);
        if (i != KIT_NONE)
            search_on_hit(s, n, i, b);
        return;
    }
    if (nbr_index(s, n, r->from) < 0) {
        sim_count(s, GNUT_C_ROUTE_LOST, 1);
        return;
    }
    struct gnut_hit fwd = *b;
    fwd.h.hops++;
    send_msg(s, n, r->from, GNUT_MSG_QUERYHIT, m->lookup, &fwd, sizeof fwd, 0);
    sim_count(s, GNUT_C_HIT_SENT, 1);
}

/* Ends search i if no probe is pending: the best RTT among the holders that answered. */
static void search_finish(struct sim *s, uint32_t i)
{
    struct gnut_search *r = rec_at(s, i);
    if (r->pending)
        return;
    int best = -1;
    for (unsigned k = 0; k < r->nhits; k++)
        if (r->hit[k].state == GNUT_HIT_OK && (best < 0 || r->hit[k].rtt_us < r->hit[best].rtt_us))
            best = (int)k;
    if (best >= 0)
        sim_lookup_done(s, r->lookup, OUTCOME_OK, r->hit[best].who.addr, r->hit[best].qhops);
    else if (r->nhits == 0)
        sim_lookup_done(s, r->lookup, OUTCOME_TTL_EXPIRED, ADDR_NONE, 0);
    else if (r->unusable == r->nhits)
        sim_lookup_done(s, r->lookup, OUTCOME_NOT_FOUND, ADDR_NONE, 0);
    else
        sim_lookup_done(s, r->lookup, OUTCOME_TIMEOUT, ADDR_NONE, 0);
    rec_free(s, i);
}

/* The window has closed, or ping_candidates holders are in: probe up to ping_candidates usable
 * holders, first come first. */
static void search_probe(struct sim *s, node_t n, uint32_t i)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    struct gnut_search *r = rec_at(s, i);
    r->phase = GNUT_S_PROBE;
    if (!sim_lookup_active(s, r->lookup)) {
        rec_free(s, i);
        return;
    }
    unsigned probed = 0;
    for (unsigned k = 0; k < r->nhits && probed < g->candidates; k++) {
        struct gnut_hitrec *h = &r->hit[k];
        if (h->fw && nd->fw) {
            h->state = GNUT_HIT_SKIP;
            r->unusable++;
            sim_count(s, GNUT_C_UNUSABLE, 1);
            continue;
        }
        h->sent_us = sim_now(s);
        if (!h->fw) {
            struct gnut_desc_hdr p = { .id = kit_rand64(s), .ttl = 1, .hops = 0 };
            send_rpc(s, n, h->who.addr, GNUT_MSG_PROBE_REQ, r->lookup, &p, sizeof p, 0,
                     rec_ctx(s, i), k);
        } else {
            const struct gnut_desc *route = desc_route(s, n, h->servent ^ GNUT_PUSH_TAG);
            if (!route || nbr_index(s, n, route->from) < 0) {
                sim_count(s, GNUT_C_ROUTE_LOST, 1);
                h->state = GNUT_HIT_FAIL;
                probed++;
                continue;
            }
            struct gnut_push p = { .h = { .id = kit_rand64(s), .ttl = (uint8_t)g->ttl, .hops = 0 },
                                   .servent = h->servent, .to = nd->self,
                                   .token = rec_ctx(s, i), .hit = k };
            send_msg(s, n, route->from, GNUT_MSG_PUSH, r->lookup, &p, sizeof p, 0);
            sim_count(s, GNUT_C_PUSH_SENT, 1);
            /* the Push travels qhops back and the GIV comes direct: wait for that too */
            sim_timer(s, n, GNUT_TIMER_PUSH + k, g->rpc_us * (1 + h->qhops), rec_ctx(s, i));
        }
        h->state = GNUT_HIT_WAIT;
        r->pending++;
        probed++;
    }
    search_finish(s, i);
}

static void probe_done(struct sim *s, uint32_t i, unsigned k, bool ok)
{
    struct gnut_search *r = rec_at(s, i);
    if (k >= r->nhits || r->hit[k].state != GNUT_HIT_WAIT)
        return;
    struct gnut_hitrec *h = &r->hit[k];
    h->state = ok ? GNUT_HIT_OK : GNUT_HIT_FAIL;
    if (ok)
        h->rtt_us = (uint32_t)(sim_now(s) - h->sent_us);
    r->pending--;
    search_finish(s, i);
}

static void on_push(struct sim *s, node_t n, const struct msg *m)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_push *b = m->body;
    if (nbr_index(s, n, m->src) < 0)
        return;
    if (b->servent == nd->self.id) {  /* ours: connect out to the searcher and say GIV */
        struct gnut_giv giv = { .servent = nd->self.id, .token = b->token, .hit = b->hit };
        send_msg(s, n, b->to.addr, GNUT_MSG_GIV, m->lookup, &giv, sizeof giv, 0);
        return;
    }
    const struct gnut_desc *r = desc_route(s, n, b->servent ^ GNUT_PUSH_TAG);
    if (!r || nbr_index(s, n, r->from) < 0 || b->h.ttl <= 1) {
        sim_count(s, GNUT_C_ROUTE_LOST, 1);
        return;
    }
    struct gnut_push fwd = *b;
    fwd.h.ttl--;
    fwd.h.hops++;
    send_msg(s, n, r->from, GNUT_MSG_PUSH, m->lookup, &fwd, sizeof fwd, 0);
    sim_count(s, GNUT_C_PUSH_SENT, 1);
}

static void on_giv(struct sim *s, node_t n, const struct msg *m)
{
    const struct gnut_giv *b = m->body;
    uint32_t i = rec_from_ctx(s, n, b->token);
    if (i == KIT_NONE)
        return;
    struct gnut_search *r = rec_at(s, i);
    if (r->phase != GNUT_S_PROBE || r->lookup != m->lookup || b->hit >= r->nhits ||
        r->hit[b->hit].servent != b->servent)
        return;
    probe_done(s, i, b->hit, true);
}

/* ==== the protocol's entry points ========================================================= */

/* A fresh incarnation of slot n: no neighbours, empty caches. */
static void node_reset(struct sim *s, node_t n)
{
    struct gnut_global *g = gg(s);
    struct gnut_node *nd = gnode(s, n);
    *nd = (struct gnut_node){ .self = { .id = sim_node_id(s, n), .addr = sim_addr(s, n) },
                              .target = ADDR_NONE, .phase = GNUT_JOINING };
    nd->fw = gsl_rng_uniform(sim_rng(s)) < g->firewalled;
    struct gnut_desc *d = descs(s, n);
    for (uint32_t k = 0; k < g->dsize; k++)
        d[k] = (struct gnut_desc){ .from = ADDR_NONE };
}

static void gnut_join(struct sim *s, node_t n)
{
    node_reset(s, n);
    gnode(s, n)->join.asking = 1;
    sim_introducer_ask(s, n);
}

static void on_introducer_reply(struct sim *s, node_t n, const struct intro_reply *b)
{
    struct gnut_node *nd = gnode(s, n);
    kit_join_answered(&nd->join);
    for (unsigned j = 0; j < b->count && j < INTRO_CONTACTS; j++)
        host_heard(s, n, b->contacts[j], 0, 0, GNUT_DIST_NONE);
    if (nd->phase == GNUT_JOINING && b->count == 0 && nd->degree == 0) {
        become_in(s, n);              /* nobody registered yet: n founds the overlay */
        maybe_register(s, n, true);
        return;
    }
    if (need_of(s, n) > 0 && !nd->seeking) {
        if (b->count == 0)
            arm_seek(s, n, gg(s)->rpc_us);
        else
            seek(s, n);
    }
}

static void gnut_leave(struct sim *s, node_t n)
{
    struct gnut_node *nd = gnode(s, n);
    const struct gnut_nbr *v = nbrs(s, n);
    for (uint16_t i = 0; i < nd->degree; i++)
        send_msg(s, n, v[i].p.addr, GNUT_MSG_BYE, LOOKUP_NONE, NULL, 0, 0);
    nd->degree = 0;
    nd->phase = GNUT_OUT;
}

static void gnut_on_message(struct sim *s, node_t n, const struct msg *m)
{
    if (m->type == MSG_INTRODUCER_REPLY) {
        on_introducer_reply(s, n, m->body);
        return;
    }
    if (gnode(s, n)->phase == GNUT_OUT)
        return;
    if (m->rpc) {
        uint32_t i;
        switch (m->rpc->type) {
        case GNUT_MSG_CONNECT_REQ:
            on_connect_rep(s, n, m);
            break;
        case GNUT_MSG_PING:
            on_keepalive_pong(s, n, m);
            break;
        case GNUT_MSG_PROBE_REQ:
            if ((i = rec_from_ctx(s, n, m->rpc->ctx[0])) != KIT_NONE)
                probe_done(s, i, (unsigned)m->rpc->ctx[1], true);
            break;
        default:
            SIM_ASSERT(!"gnutella: unexpected reply");
        }
        return;
    }
    switch (m->type) {
    case GNUT_MSG_CONNECT_REQ:
        on_connect_req(s, n, m);
        break;
    case GNUT_MSG_SPLICE:
        on_splice(s, n, m);
        break;
    case GNUT_MSG_BYE:
        drop_neighbour(s, n, m->src);
        break;
    case GNUT_MSG_PING:
        on_ping(s, n, m);
        break;
    case GNUT_MSG_PONG:
        on_pong(s, n, m);
        break;
    case GNUT_MSG_QUERY:
        on_query(s, n, m);
        break;
    case GNUT_MSG_QUERYHIT:
        on_queryhit(s, n, m);
        break;
    case GNUT_MSG_PUSH:
        on_push(s, n, m);
        break;
    case GNUT_MSG_GIV:
        on_giv(s, n, m);
        break;
    case GNUT_MSG_PROBE_REQ: {
        const struct gnut_desc_hdr *b = m->body;
        struct gnut_pong pong = own_pong(s, n, b->id, 1);
        reply_msg(s, n, m, GNUT_MSG_PROBE_REP, &pong, sizeof pong, 0);
        break;
    }
    default:
        SIM_ASSERT(!"gnutella: unexpected message type");
    }
}

static void gnut_on_timeout(struct sim *s, node_t n, const struct rpc *rpc)
{
    struct gnut_node *nd = gnode(s, n);
    if (nd->phase == GNUT_OUT)
        return;
    uint32_t i;
    switch (rpc->type) {
    case GNUT_MSG_CONNECT_REQ:
        host_forget(s, n, rpc->dst);
        if (rpc->ctx[1] != 0 && nd->reserved > 0)
            nd->reserved--;
        if (rpc->ctx[1] == 0 && nd->seeking && addr_eq(nd->target, rpc->dst))
            seek_failed(s, n);
        else
            seek(s, n);
        break;
    case GNUT_MSG_PING:
        if (nbr_index(s, n, rpc->dst) >= 0) {
            sim_count(s, GNUT_C_NBR_FAILED, 1);
            host_forget(s, n, rpc->dst);
            drop_neighbour(s, n, rpc->dst);
        }
        break;
    case GNUT_MSG_PROBE_REQ:
        if ((i = rec_from_ctx(s, n, rpc->ctx[0])) != KIT_NONE)
            probe_done(s, i, (unsigned)rpc->ctx[1], false);
        break;
    default:
        SIM_ASSERT(!"gnutella: unexpected timeout");
    }
}

static void gnut_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    struct gnut_node *nd = gnode(s, n);
    uint32_t i;
    switch (kind) {
    case GNUT_TIMER_PING:
        ping_timer(s, n);
        break;
    case GNUT_TIMER_SEEK:
        nd->seek_armed = 0;
        seek(s, n);
        break;
    case GNUT_TIMER_SEARCH_END:
        if ((i = rec_from_ctx(s, n, arg)) != KIT_NONE && rec_at(s, i)->phase == GNUT_S_COLLECT)
            search_probe(s, n, i);
        break;
    default:
        SIM_ASSERT(kind - GNUT_TIMER_PUSH < GNUT_HITS_MAX);
        if ((i = rec_from_ctx(s, n, arg)) != KIT_NONE)
            probe_done(s, i, kind - GNUT_TIMER_PUSH, false);
    }
}

/* Routing state: the open connections. */
static size_t gnut_state_entries(const struct sim *s, node_t n)
{
    return ((const struct gnut_node *)sim_state_const(s, n))->degree;
}

static uint32_t uf_find(uint32_t *uf, uint32_t x)
{
    while (uf[x] != x) {
        uf[x] = uf[uf[x]];
        x = uf[x];
    }
    return x;
}

/* Largest connected component and isolated peers among the live peers in the overlay; a link
 * counts when both ends hold it. Measurement only. */
static double gnut_gauge(struct sim *s, uint32_t k)
{
    struct gnut_global *g = gg(s);
    if (k == GNUT_G_COMPONENT) {
        g->epoch++;
        node_t nlive = sim_converge_live(s, g->live, g->nodes);
        for (node_t j = 0; j < nlive; j++)
            g->stamp[g->live[j]] = g->epoch;
        uint32_t live = 0, isolated = 0;
        for (node_t n = 0; n < g->nodes; n++)
            g->uf[n] = n;
        for (node_t n = 0; n < g->nodes; n++) {
            if (g->stamp[n] != g->epoch || gnode(s, n)->phase != GNUT_IN)
                continue;
            live++;
            const struct gnut_node *nd = gnode(s, n);
            const struct gnut_nbr *v = nbrs(s, n);
            bool linked = false;
            for (uint16_t i = 0; i < nd->degree; i++) {
                node_t x = v[i].p.addr.slot;
                if (x >= g->nodes || g->stamp[x] != g->epoch || gnode(s, x)->phase != GNUT_IN ||
                    sim_addr(s, x).inc != v[i].p.addr.inc || nbr_index(s, x, nd->self.addr) < 0)
                    continue;
                linked = true;
                uint32_t a = uf_find(g->uf, n), b = uf_find(g->uf, x);
                if (a != b)
                    g->uf[a] = b;
            }
            isolated += !linked;
        }
        uint32_t *size = mem_calloc(g->nodes, sizeof *size, "gnutella gauge");
        uint32_t best = 0;
        for (node_t n = 0; n < g->nodes; n++) {
            if (g->stamp[n] != g->epoch || gnode(s, n)->phase != GNUT_IN)
                continue;
            uint32_t r = uf_find(g->uf, n);
            if (++size[r] > best)
                best = size[r];
        }
        free(size);
        g->gauge_val[GNUT_G_COMPONENT] = live ? (double)best / live : 0;
        g->gauge_val[GNUT_G_ISOLATED] = live ? (double)isolated / live : 0;
    }
    return g->gauge_val[k];
}

/* ==== converged start ===================================================================== */

/* The overlay join and maintenance reach: a random d-regular graph (or the power-law graph)
 * on the live peers, no link between two firewalled peers, every host cache filled with the
 * peer's neighbourhood within ping_ttl hops (what its keep-alive Pings bring back) and then
 * with random peers (what cached Pongs bring from farther away). */
static void gnut_converge(struct sim *s)
{
    struct gnut_global *g = gg(s);
    node_t *live = mem_calloc(g->nodes, sizeof *live, "gnutella graph");
    node_t len = sim_converge_live(s, live, g->nodes);
    uint8_t *fw = mem_calloc(len, 1, "gnutella graph");
    for (node_t j = 0; j < len; j++) {
        node_reset(s, live[j]);
        fw[j] = gnode(s, live[j])->fw;
    }
    uint32_t w = g->topology == GNUT_RANDOM ? g->d : g->cap;
    uint32_t *adj = mem_calloc((size_t)len * w, sizeof *adj, "gnutella graph");
    uint32_t *deg = mem_calloc(len, sizeof *deg, "gnutella graph");
    if (g->topology == GNUT_RANDOM)
        gnut_regular_graph(len, g->d, fw, sim_rng(s), adj, deg);
    else
        gnut_powerlaw_graph(len, g->target, g->cap, fw, sim_rng(s), adj, deg);
#define GNUT_PEER_OF(j) ((struct peer){ .id = sim_node_id(s, live[j]), .addr = sim_addr(s, live[j]) })
    for (node_t j = 0; j < len; j++) {
        node_t n = live[j];
        gnode(s, n)->phase = GNUT_IN;
        gnode(s, n)->registered = 1;  /* the engine registers the converged population */
        for (uint32_t k = 0; k < deg[j]; k++) {
            uint32_t x = adj[(size_t)j * w + k];
            nbr_add(s, n, GNUT_PEER_OF(x), (uint16_t)deg[x], fw[x]);
        }
    }
    for (node_t j = 0; j < len; j++) {
        node_t n = live[j];
        /* the Pongs of a ping_ttl round: hosts two, then three hops away, up to the cache */
        for (uint32_t depth = 2; depth <= 3 && depth <= g->ping_ttl; depth++)
            for (uint32_t k = 0; k < deg[j]; k++) {
                uint32_t x = adj[(size_t)j * w + k];
                for (uint32_t q = 0; q < deg[x]; q++) {
                    uint32_t y = adj[(size_t)x * w + q];
                    if (y == j || adj_has(adj, deg, w, j, y))
                        continue;
                    if (depth == 2) {
                        if (gnode(s, n)->nhosts < g->hsize)
                            host_heard(s, n, GNUT_PEER_OF(y), (uint16_t)deg[y], fw[y], 2);
                        continue;
                    }
                    for (uint32_t r = 0; r < deg[y]; r++) {
                        uint32_t z = adj[(size_t)y * w + r];
                        if (z != j && z != x && !adj_has(adj, deg, w, j, z) &&
                            gnode(s, n)->nhosts < g->hsize)
                            host_heard(s, n, GNUT_PEER_OF(z), (uint16_t)deg[z], fw[z], 3);
                    }
                }
            }
        /* cached Pongs: hosts from all over the overlay, labelled by the hops they travelled
         * (at least 4 here; the label only ranks hosts) */
        for (uint32_t t = 0; t < 4 * g->hsize && gnode(s, n)->nhosts < g->hsize && len > 1; t++) {
            uint32_t y = (uint32_t)gsl_rng_uniform_int(sim_rng(s), len);
            if (y != j && !adj_has(adj, deg, w, j, y))
                host_heard(s, n, GNUT_PEER_OF(y), (uint16_t)deg[y], fw[y], 4);
        }
        start_timers(s, n, true);
    }
#undef GNUT_PEER_OF
    free(adj);
    free(deg);
    free(fw);
    free(live);
}

/* ==== setup =============================================================================== */

static size_t gnut_msg_body_max(const struct proto_config *cfg)
{
    (void)cfg;
    return sizeof(union gnut_body);
}

static uint32_t pow2_at_least(uint32_t x)
{
    uint32_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

/* The sizes of a node's tables under cfg: neighbours (max_degree), Pong-cache hosts and
 * descriptor-cache entries. */
struct gnut_dims {
    uint32_t cap, hsize, dsize;
};

static struct gnut_dims dims_of(const struct proto_config *cfg)
{
    uint32_t d = (uint32_t)cfg->v[GNUT_P_DEGREE].i;
    bool random = cfg->v[GNUT_P_TOPOLOGY].i == GNUT_RANDOM;
    int64_t cap = cfg->v[GNUT_P_MAX_DEGREE].i;
    if (cap < 0)
        cap = random ? d + 1 : 10 * (int64_t)d;
    if (cap > GNUT_WIDTH_MAX)
        cap = GNUT_WIDTH_MAX;
    if (cap < (int64_t)d)
        cap = d;
    return (struct gnut_dims){ .cap = (uint32_t)cap, .hsize = (uint32_t)cfg->v[GNUT_P_HOST_CACHE].i,
                               .dsize = pow2_at_least((uint32_t)cfg->v[GNUT_P_DESC_CACHE].i) };
}

static size_t gnut_state_size(const struct proto_config *cfg)
{
    struct gnut_dims k = dims_of(cfg);
    return sizeof(struct gnut_node) + k.cap * sizeof(struct gnut_nbr) +
           k.hsize * sizeof(struct gnut_host) + k.dsize * sizeof(struct gnut_desc);
}

static int gnut_setup(struct sim *s, const struct proto_config *cfg)
{
    struct gnut_global *g = mem_calloc(1, sizeof *g, "gnutella");
    struct gnut_dims k = dims_of(cfg);
    g->topology = (uint32_t)cfg->v[GNUT_P_TOPOLOGY].i;
    g->d = (uint32_t)cfg->v[GNUT_P_DEGREE].i;
    g->target = g->topology == GNUT_RANDOM ? g->d : (g->d + 1) / 2;
    g->cap = k.cap;
    g->accept = g->topology == GNUT_RANDOM ? g->d : g->cap;
    g->ttl = (uint32_t)cfg->v[GNUT_P_TTL].i;
    g->ping_ttl = (uint32_t)cfg->v[GNUT_P_PING_TTL].i;
    g->ping_us = cfg->v[GNUT_P_PING_INTERVAL].i;
    g->rpc_us = cfg->v[GNUT_P_RPC_TIMEOUT].i;
    g->window_us = cfg->v[GNUT_P_WINDOW].i;
    g->candidates = (uint32_t)cfg->v[GNUT_P_PING_CANDIDATES].i;
    g->firewalled = cfg->v[GNUT_P_FIREWALLED].d;
    g->dsize = k.dsize;
    g->expiry_ms = cfg->v[GNUT_P_DESC_EXPIRY].i / 1000;
    g->hsize = k.hsize;
    g->cached_pongs = (uint32_t)cfg->v[GNUT_P_CACHED_PONGS].i;
    g->nodes = sim_capacity(s);
    g->stamp = mem_calloc(g->nodes, sizeof *g->stamp, "gnutella gauges");
    g->uf = mem_calloc(g->nodes, sizeof *g->uf, "gnutella gauges");
    g->live = mem_calloc(g->nodes, sizeof *g->live, "gnutella gauges");
    kit_pool_init(&g->searches, sizeof(struct gnut_search), 1024, g->nodes, "gnutella searches");
    g->epoch = 1;
    sim_set_protocol_data(s, g);
    return 0;
}

/* n's incarnation has ended: its searches will hear no more. */
static void gnut_down(struct sim *s, node_t n) { kit_pool_node_down(&gg(s)->searches, n); }

static void gnut_teardown(struct sim *s)
{
    struct gnut_global *g = gg(s);
    if (!g)
        return;
    kit_pool_free(&g->searches);
    free(g->stamp);
    free(g->uf);
    free(g->live);
    free(g);
    sim_set_protocol_data(s, NULL);
}

const struct protocol gnutella_protocol = {
    .msg_names = gnut_msg_name,
    .n_msg_names = GNUT_MSG_COUNT,
    .name = "gnutella",
    .summary = "Gnutella 0.4: flooded Queries (TTL 7) over a random or power-law overlay, "
               "QueryHits on the reverse path, Push for firewalled peers",
    .paper = "Clip2, The Gnutella Protocol Specification v0.4, 2000; Lv, Cao, Cohen, Li & "
             "Shenker, Search and replication in unstructured peer-to-peer networks, ICS 2002",
    .params = gnut_params,
    .keys = KEYS_FILES,
    .node_state_size = sizeof(struct gnut_node),
    .state_size = gnut_state_size,
    .msg_body_max = gnut_msg_body_max,
    .setup = gnut_setup,
    .join = gnut_join,
    .leave = gnut_leave,
    .on_message = gnut_on_message,
    .on_timer = gnut_on_timer,
    .on_timeout = gnut_on_timeout,
    .lookup = gnut_lookup,
    .state_entries = gnut_state_entries,
    .converge = gnut_converge,
    .teardown = gnut_teardown,
    .down = gnut_down,
    .counters = gnut_counters,
    .gauges = gnut_gauges,
    .gauge = gnut_gauge,
};
