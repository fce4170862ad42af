/* napster.c — Napster: a central directory of shared files, searched by clients.
 *
 * Servers. One or more directory servers (the `servers` hook: dedicated nodes at well-known
 * addresses) keep tuples <peer address, port, file name, keywords>, one per file a logged-in
 * client shares. With several servers the directory is partitioned: a client logs in to server
 * id mod k, and a server that receives a search forwards it to the other k - 1 servers (as
 * OpenNap's linked servers relay searches), gathers their results and merges them with its own
 * by reservoir sampling, so the answer is a uniform sample of at most `max_results` holders.
 * A server pings each of its clients every `keepalive` (RPC); a client that does not answer
 * within `rpc_timeout`, or that says goodbye (graceful leave), loses its tuples.
 *
 * Clients. A joining client needs no peers: it connects to its server at the well-known
 * address (sim_server_addr), logs in and uploads its file list, one "shared file" notification
 * per file (in batches of NAPSTER_BATCH), and once the server has acknowledged the last batch
 * it is in the overlay (sim_introducer_register). A client that has not heard from its server
 * for `keepalive` + `rpc_timeout` (a keep-alive missed), or whose search timed out, probes the
 * server; a probe that times out makes it disconnected, and it probes again every `retry`
 * (jittered) until the server answers. A server that does not know the client (it restarted
 * with an empty directory) says so in its answers to probes and searches, and the client logs
 * in and uploads again.
 *
 * Search (the conventions shared with Gnutella and FastTrack). The client sends the query to
 * its server, which answers with up to max_results live-registered holders other than the
 * client itself; the client pings up to `ping_candidates` of them (ICMP echo, an RPC here) and
 * ends the search with the holder of best measured RTT (hops = 2: the server and that holder).
 * If none of them answers, it pings the next ones. No holder: NOT_FOUND. Server unreachable:
 * TIMEOUT, so with the server crashed every search fails until it comes back. A search is sent
 * once: with network.loss, a lost search or answer is a TIMEOUT (TCP's retransmission is not
 * modelled; a resent search would also let searches issued just before a restart succeed).
 *
 * State. A server's state entries are its tuples (O(N x files per node)); a client's is its
 * server connection (1 while logged in). The directory of a server: a hash table file -> a
 * doubly linked list of tuples, and per client slot its chain of tuples, so a client is
 * dropped in O(its files). The engine's slab holds union napster_slot, 72 bytes per node: a
 * client's struct napster_node, or a server's directory (struct napster_dir); each server's
 * directory adds 24 bytes per node slot (struct napster_client) and 24 bytes per tuple plus
 * 13 bytes per slot of the file hash table (at least two slots per distinct file). Searches in
 * flight are records of kit pools owned by their origin (or gathering server), freed when it
 * goes down.
 *
 * Not modelled: the metaserver (redirector) that hands out a server's address (clients have
 * it configured); downloads; a client's search for a file it shares itself (the server leaves
 * the requester out of the results, as a user wants another source). */
#include "protocols/napster_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/kit.h"
#include "sim/mem.h"

/* ==== constants =========================================================================== */

#define NAPSTER_BATCH 64              /* file notifications per upload message */
#define NAPSTER_NONE32 UINT32_MAX
#define NAPSTER_NO_TIMER UINT64_MAX   /* no timer armed: no event handle has this value */
#define NAPSTER_QUERY_TRIES 1         /* sends of a search (more: resent after a timeout) */

/* ==== parameters ========================================================================== */

enum napster_param {
    NAPSTER_P_SERVERS,
    NAPSTER_P_KEEPALIVE,
    NAPSTER_P_RPC_TIMEOUT,
    NAPSTER_P_RETRY,
    NAPSTER_P_MAX_RESULTS,
    NAPSTER_P_PING_CANDIDATES,
};

static const struct param napster_params[] = {
    [NAPSTER_P_SERVERS] = { .name = "servers", .type = PARAM_INT, .def = "1", .min = 1, .max = 64,
      .doc = "directory servers; with more than one the directory is partitioned (client -> "
             "server id mod k) and servers forward searches to each other (OpenNap server "
             "linking); 1 = the central server of Napster (1999)" },
    [NAPSTER_P_KEEPALIVE] = { .name = "keepalive", .type = PARAM_DURATION, .def = "60s",
      .min = 0.001, .max = 86400,
      .doc = "a server pings each of its clients this often and drops the tuples of one that "
             "does not answer (Napster's TCP sessions: unspecified; 60 s)" },
    [NAPSTER_P_RPC_TIMEOUT] = { .name = "rpc_timeout", .type = PARAM_DURATION, .def = "5s",
      .min = 0.001, .max = 600,
      .doc = "a keep-alive, probe, ping or search not answered within this has failed (a "
             "search forwarded between servers gets twice as long)" },
    [NAPSTER_P_RETRY] = { .name = "retry", .type = PARAM_DURATION, .def = "30s", .min = 0.001,
      .max = 86400,
      .doc = "a client whose server does not answer tries again after this, jittered in "
             "[0.5, 1.5]x" },
    [NAPSTER_P_MAX_RESULTS] = { .name = "max_results", .type = PARAM_INT, .def = "100", .min = 1,
      .max = 1000,
      .doc = "holders a server returns per search at most (Napster search MAX_RESULTS; the "
             "client's default 100)" },
    [NAPSTER_P_PING_CANDIDATES] = { .name = "ping_candidates", .type = PARAM_INT, .def = "4",
      .min = 1, .max = 64,
      .doc = "holders the searching client pings to pick the best RTT (the conventions shared "
             "with Gnutella and FastTrack: 4)" },
    { .name = NULL },
};

/* ==== messages ============================================================================ */

KIT_MSG_TABLES(napster, NAPSTER, NAPSTER_MESSAGES, 0);

size_t napster_wire_size(unsigned type, unsigned items)
{
    return kit_wire_size(&napster_msgs, type, items);
}

/* Bodies: a tagged union, the tag being the message type. */
struct napster_upload {               /* UPLOAD_REQ */
    uint32_t total;                   /* files in the whole list */
    uint32_t first;                   /* index of files[0] in the list; 0 = login */
    uint32_t count;
    uint32_t pad;
    uint64_t files[NAPSTER_BATCH];
};
struct napster_upload_rep {           /* UPLOAD_REP */
    uint32_t accepted;                /* 0: no login of yours here (restarted): start over */
};
struct napster_known {                /* KEEPALIVE_REP, PING_REP */
    uint32_t known;                   /* KEEPALIVE_REP from a server: it has the client logged
                                         in, whole list received; PING_REP: the holder is
                                         logged in (serving) */
};
struct napster_query {                /* QUERY_REQ, FORWARD_REQ */
    uint64_t file;
    struct addr requester;            /* left out of the results */
};
struct napster_results {              /* QUERY_REP, FORWARD_REP */
    uint32_t known;                   /* QUERY_REP: the requester is logged in here, whole
                                         list received */
    uint32_t count;
    struct addr holder[];
};

union napster_body {
    struct napster_upload upload;
    struct napster_upload_rep upload_rep;
    struct napster_known known;
    struct napster_query query;
};

#define NAPSTER_UPLOAD_LEN(n) (offsetof(struct napster_upload, files) + (size_t)(n) * sizeof(uint64_t))
#define NAPSTER_RESULTS_LEN(n) (offsetof(struct napster_results, holder) + (size_t)(n) * sizeof(struct addr))

/* ==== state =============================================================================== */

enum napster_timer {
    NAPSTER_TIMER_CHECK,              /* client: has the server been heard from lately? */
    NAPSTER_TIMER_RETRY,              /* client: probe a server that did not answer */
    NAPSTER_TIMER_KEEPALIVE,          /* server: ping one client (arg: slot | inc << 32) */
};

enum napster_phase {
    NAPSTER_OUT,                      /* not connected yet */
    NAPSTER_UPLOADING,                /* login and file list on their way */
    NAPSTER_ONLINE,                   /* logged in, files in the directory */
    NAPSTER_OFFLINE,                  /* the server did not answer: retrying */
};

/* One client, in the engine's slab (zeroed at every join). Servers use none of it. */
struct napster_node {
    int64_t heard_us;                 /* last message from the server */
    uint64_t retry_timer;             /* handle of the pending RETRY timer, or NAPSTER_NO_TIMER */
    uint32_t server;                  /* index of the client's server: id mod servers */
    uint32_t upload_gen;              /* numbers upload attempts, to match acks */
    uint32_t upload_total;            /* files in the list being uploaded */
    uint8_t phase;                    /* enum napster_phase */
    uint8_t announced;                /* sim_introducer_register done */
    uint8_t probing;                  /* a probe of the server is in flight */
    uint8_t pad;
};
_Static_assert(sizeof(struct napster_node) == 32, "update the figure in the opening comment");

/* A tuple of a server's directory: a file a client shares. */
struct napster_tuple {
    node_t client;                    /* the holder's slot (its incarnation: the client table) */
    uint32_t fslot;                   /* the file's slot in the hash table */
    uint32_t prev, next;              /* the file's holders; next also links the free list */
    uint32_t cnext;                   /* the client's tuples */
    uint32_t pad;
};
_Static_assert(sizeof(struct napster_tuple) == 24, "update the figure in the opening comment");

/* A client as its server knows it; indexed by the client's slot (its address). */
struct napster_client {
    uint64_t ka_timer;                /* handle of the keep-alive timer, or NAPSTER_NO_TIMER */
    uint32_t inc;                     /* incarnation logged in, 0 = none */
    uint32_t first;                   /* first tuple of its chain */
    uint32_t nfiles;
    uint8_t complete;                 /* the whole list arrived: searchable, kept alive */
    uint8_t pad[3];
};
_Static_assert(sizeof(struct napster_client) == 24, "update the figure in the opening comment");

/* One server's directory, in the server's slab record. */
struct napster_dir {
    uint64_t *fkey;                   /* hash table of files: key, used flag, first tuple */
    uint8_t *fused;
    uint32_t *fhead;
    uint32_t fcap, fcount;
    struct napster_tuple *t;          /* tuple pool */
    uint32_t tcap, tused, tfree;
    struct napster_client *c;         /* by client slot */
    uint64_t entries;                 /* tuples held */
};

/* A node's slab record: a client's state, or a server's directory. */
union napster_slot {
    struct napster_node client;
    struct napster_dir server;
};
_Static_assert(sizeof(union napster_slot) == 72, "update the figure in the opening comment");

/* A search in flight at its origin (a record of the pool `look`, owned by the origin): the
 * candidates it got and the pings out. */
struct napster_look {
    struct kit_op op;
    uint32_t id;                      /* lookup id */
    uint32_t ncand, next, pending;    /* candidates, next to ping, pings in flight */
    uint32_t tries;                   /* query sends that timed out */
    uint64_t key;                     /* the file searched */
    int64_t best_rtt;                 /* us, -1 = none */
    struct addr best;
    struct addr cand[];               /* max_results */
};

/* A search a server has forwarded to the others, waiting for their results (a record of the
 * pool `gat`, owned by the gathering server). */
struct napster_gather {
    struct kit_op op;
    uint32_t pending;                 /* forwards without an answer */
    uint32_t count, seen;             /* results kept; results offered (reservoir) */
    uint32_t known;
    struct msg req;                   /* the client's QUERY_REQ, to reply to (body dropped) */
    struct addr res[];                /* max_results */
};

enum napster_counter {
    NAPSTER_C_FORWARDS,
    NAPSTER_C_KEEPALIVE_DROPS,
    NAPSTER_C_GOODBYES,
    NAPSTER_C_REUPLOADS,
    NAPSTER_C_DEAD_CANDIDATES,
};
static const char *const napster_counters[] = {
    [NAPSTER_C_FORWARDS] = "forwards",               /* searches relayed between servers */
    [NAPSTER_C_KEEPALIVE_DROPS] = "keepalive_drops", /* clients dropped after a silent ping */
    [NAPSTER_C_GOODBYES] = "goodbyes",               /* clients dropped on their goodbye */
    [NAPSTER_C_REUPLOADS] = "reuploads",             /* uploads after a server forgot a client */
    [NAPSTER_C_DEAD_CANDIDATES] = "dead_candidates", /* pinged holders that did not answer */
    NULL,
};

struct napster_global {
    uint32_t k;                       /* servers */
    uint32_t max_results, ping_cands;
    int64_t keepalive_us, rpc_us, query_us, retry_us;
    node_t cap;
    struct kit_pool look;             /* searches in flight at their origins */
    struct kit_pool gat;              /* searches forwarded by servers, awaiting the others */
    struct napster_results *scratch;  /* a results body of max_results */
};

static struct napster_global *ng(struct sim *s) { return sim_protocol_data(s); }
static struct napster_node *nnode(struct sim *s, node_t n) { return sim_state(s, n); }
static struct napster_dir *sdir(struct sim *s, node_t server) { return sim_state(s, server); }
static struct napster_look *look_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &ng(s)->look, i); }
static struct napster_gather *gat_at(struct sim *s, uint32_t i) { return kit_pool_rec(s, &ng(s)->gat, i); }

static void send_msg(struct sim *s, node_t n, struct addr to, unsigned type, const void *body,
                     size_t len, unsigned items, uint32_t lookup)
{
    kit_send(s, &napster_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
             .body = body, .len = len, .entries = items });
}

static void rpc_msg(struct sim *s, node_t n, struct addr to, unsigned type, const void *body,
                    size_t len, unsigned items, uint32_t lookup, int64_t timeout_us, uint64_t ctx0,
                    uint64_t ctx1)
{
    kit_rpc(s, &napster_msgs, n, to, &(struct kit_out){ .type = type, .lookup = lookup,
            .body = body, .len = len, .entries = items }, timeout_us, ctx0, ctx1);
}

static void reply_msg(struct sim *s, node_t n, const struct msg *req, unsigned type,
                      const void *body, size_t len, unsigned items)
{
    kit_reply(s, &napster_msgs, n, req, &(struct kit_out){ .type = type, .body = body,
              .len = len, .entries = items });
}

/* ==== the directory ======================================================================= */

static uint32_t file_hash(uint64_t key, uint32_t mask)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    return (uint32_t)key & mask;
}

static void dir_free(struct napster_dir *d)
{
    free(d->fkey);
    free(d->fused);
    free(d->fhead);
    free(d->t);
    free(d->c);
    *d = (struct napster_dir){ 0 };
}

/* An empty directory (a server that starts or restarts). */
static void dir_reset(struct napster_dir *d, node_t cap)
{
    dir_free(d);
    *d = (struct napster_dir){ .fcap = 64, .tfree = NAPSTER_NONE32 };
    d->fkey = mem_realloc(NULL, d->fcap, sizeof *d->fkey, "a napster file table");
    d->fused = mem_calloc(d->fcap, 1, "a napster file table");
    d->fhead = mem_realloc(NULL, d->fcap, sizeof *d->fhead, "a napster file table");
    d->c = mem_calloc(cap, sizeof *d->c, "a napster directory");
}

/* The slot of `key` in the file table: its own, or the empty one it would take. */
static uint32_t dir_probe(const struct napster_dir *d, uint64_t key)
{
    uint32_t mask = d->fcap - 1, i = file_hash(key, mask);
    while (d->fused[i] && d->fkey[i] != key)
        i = (i + 1) & mask;
    return i;
}

static void dir_grow(struct napster_dir *d)
{
    uint32_t old = d->fcap;
    uint64_t *okey = d->fkey;
    uint8_t *oused = d->fused;
    uint32_t *ohead = d->fhead;
    d->fcap = old * 2;
    d->fkey = mem_realloc(NULL, d->fcap, sizeof *d->fkey, "a napster file table");
    d->fhead = mem_realloc(NULL, d->fcap, sizeof *d->fhead, "a napster file table");
    d->fused = mem_calloc(d->fcap, 1, "a napster file table");
    for (uint32_t i = 0; i < old; i++) {
        if (!oused[i])
            continue;
        uint32_t j = dir_probe(d, okey[i]);
        d->fused[j] = 1;
        d->fkey[j] = okey[i];
        d->fhead[j] = ohead[i];
        for (uint32_t x = ohead[i]; x != NAPSTER_NONE32; x = d->t[x].next)
            d->t[x].fslot = j;
    }
    free(okey);
    free(oused);
    free(ohead);
}

/* The tuple <client, file>, at the head of the file's holders and of the client's chain. */
static void dir_add(struct napster_dir *d, node_t client, uint64_t key)
{
    if (2 * (d->fcount + 1) > d->fcap)
        dir_grow(d);
    uint32_t f = dir_probe(d, key);
    if (!d->fused[f]) {
        d->fused[f] = 1;
        d->fkey[f] = key;
        d->fhead[f] = NAPSTER_NONE32;
        d->fcount++;
    }
    uint32_t x;
    if (d->tfree != NAPSTER_NONE32) {
        x = d->tfree;
        d->tfree = d->t[x].next;
    } else {
        if (d->tused == d->tcap) {
            d->tcap = d->tcap ? 2 * d->tcap : 1024;
            d->t = mem_realloc(d->t, d->tcap, sizeof *d->t, "napster directory tuples");
        }
        x = d->tused++;
    }
    struct napster_client *c = &d->c[client];
    d->t[x] = (struct napster_tuple){ .client = client, .fslot = f, .prev = NAPSTER_NONE32,
                                      .next = d->fhead[f], .cnext = c->first };
    if (d->fhead[f] != NAPSTER_NONE32)
        d->t[d->fhead[f]].prev = x;
    d->fhead[f] = x;
    c->first = x;
    c->nfiles++;
    d->entries++;
}

/* Drops every tuple of the client in `slot`. */
static void dir_drop(struct sim *s, struct napster_dir *d, node_t slot)
{
    struct napster_client *c = &d->c[slot];
    if (!c->inc)
        return;
    for (uint32_t x = c->first, nx; x != NAPSTER_NONE32; x = nx) {
        struct napster_tuple *t = &d->t[x];
        nx = t->cnext;
        if (t->prev != NAPSTER_NONE32)
            d->t[t->prev].next = t->next;
        else
            d->fhead[t->fslot] = t->next;
        if (t->next != NAPSTER_NONE32)
            d->t[t->next].prev = t->prev;
        t->next = d->tfree;
        d->tfree = x;
    }
    d->entries -= c->nfiles;
    if (c->ka_timer != NAPSTER_NO_TIMER)
        sim_timer_cancel(s, c->ka_timer);
    *c = (struct napster_client){ .first = NAPSTER_NONE32, .ka_timer = NAPSTER_NO_TIMER };
}

/* A fresh session of the client in `slot` (incarnation inc), replacing any older one. */
static void dir_login(struct sim *s, struct napster_dir *d, node_t slot, uint32_t inc)
{
    dir_drop(s, d, slot);
    d->c[slot] = (struct napster_client){ .inc = inc, .first = NAPSTER_NONE32,
                                          .ka_timer = NAPSTER_NO_TIMER };
}

/* Reservoir sampling: offers holder h to the list v (count kept, seen offered so far). */
static void offer(struct sim *s, struct addr *v, uint32_t *count, uint32_t *seen, uint32_t max,
                  struct addr h)
{
    (*seen)++;
    if (*count < max) {
        v[(*count)++] = h;
    } else {
        unsigned long j = gsl_rng_uniform_int(sim_rng(s), *seen);
        if (j < max)
            v[j] = h;
    }
}

/* The complete (searchable) holders of `file` other than `requester`, sampled into v. */
static void dir_match(struct sim *s, const struct napster_dir *d, uint64_t file,
                      struct addr requester, struct addr *v, uint32_t *count, uint32_t *seen,
                      uint32_t max)
{
    uint32_t f = dir_probe(d, file);
    if (!d->fused[f])
        return;
    for (uint32_t x = d->fhead[f]; x != NAPSTER_NONE32; x = d->t[x].next) {
        const struct napster_client *c = &d->c[d->t[x].client];
        struct addr h = { .slot = d->t[x].client, .inc = c->inc };
        if (c->complete && !addr_eq(h, requester))
            offer(s, v, count, seen, max, h);
    }
}

/* ==== the server ========================================================================== */

/* The client at `a` is logged in here with its whole file list. */
static uint32_t client_known(const struct napster_dir *d, struct addr a)
{
    return d->c[a.slot].inc == a.inc && d->c[a.slot].complete;
}

static void keepalive_arm(struct sim *s, node_t server, node_t client, int64_t delay)
{
    struct napster_client *c = &sdir(s, server)->c[client];
    if (c->ka_timer != NAPSTER_NO_TIMER)
        sim_timer_cancel(s, c->ka_timer);
    c->ka_timer = sim_timer(s, server, NAPSTER_TIMER_KEEPALIVE, delay,
                            (uint64_t)client | (uint64_t)c->inc << 32);
}

static void on_upload(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_global *g = ng(s);
    struct napster_dir *d = sdir(s, n);
    const struct napster_upload *b = m->body;
    struct napster_client *c = &d->c[m->src.slot];
    struct napster_upload_rep rep = { .accepted = 1 };
    if (b->first == 0) {              /* login: a fresh session replaces any older one */
        dir_login(s, d, m->src.slot, m->src.inc);
    } else if (c->inc != m->src.inc || c->complete) {
        rep.accepted = 0;             /* a batch of a session this server does not have */
    }
    if (rep.accepted) {
        for (uint32_t j = 0; j < b->count && j < NAPSTER_BATCH; j++)
            dir_add(d, m->src.slot, b->files[j]);
        if (b->first + b->count >= b->total) {
            c->complete = 1;
            keepalive_arm(s, n, m->src.slot, g->keepalive_us);
        }
    }
    reply_msg(s, n, m, NAPSTER_MSG_UPLOAD_REP, &rep, sizeof rep, 0);
}

static void reply_results(struct sim *s, node_t n, const struct msg *req, unsigned type,
                          uint32_t known, const struct addr *v, uint32_t count)
{
    struct napster_results *r = ng(s)->scratch;
    r->known = known;
    r->count = count;
    memcpy(r->holder, v, (size_t)count * sizeof *v);
    reply_msg(s, n, req, type, r, NAPSTER_RESULTS_LEN(count), count);
}

static void gather_finish(struct sim *s, node_t n, uint32_t i)
{
    struct napster_gather *q = gat_at(s, i);
    reply_results(s, n, &q->req, NAPSTER_MSG_QUERY_REP, q->known, q->res, q->count);
    kit_pool_release(&ng(s)->gat, i);
}

/* A search from a client: the server's own matches, and with several servers theirs. */
static void on_query(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_global *g = ng(s);
    const struct napster_dir *d = sdir(s, n);
    const struct napster_query *b = m->body;
    uint32_t known = client_known(d, m->src);
    if (g->k == 1) {
        uint32_t count = 0, seen = 0;
        dir_match(s, d, b->file, m->src, g->scratch->holder, &count, &seen, g->max_results);
        struct napster_results *r = g->scratch;
        r->known = known;
        r->count = count;
        reply_msg(s, n, m, NAPSTER_MSG_QUERY_REP, r, NAPSTER_RESULTS_LEN(count), count);
        return;
    }
    uint32_t i = kit_pool_alloc(&g->gat, n);
    struct napster_gather *q = gat_at(s, i);
    q->known = known;
    q->req = *m;
    q->req.body = NULL;
    q->req.len = 0;
    q->req.rpc = NULL;
    dir_match(s, d, b->file, m->src, q->res, &q->count, &q->seen, g->max_results);
    struct napster_query fwd = { .file = b->file, .requester = m->src };
    q->pending = g->k - 1;
    uint64_t ctx = kit_pool_ctx(&g->gat, i);
    for (uint32_t j = 0; j < g->k; j++) {
        if (j == sim_server_index(s, n))
            continue;
        sim_count(s, NAPSTER_C_FORWARDS, 1);
        rpc_msg(s, n, sim_server_addr(s, j), NAPSTER_MSG_FORWARD_REQ, &fwd, sizeof fwd, 0,
                m->lookup, g->rpc_us, ctx, 0);
    }
}

/* Another server's search: this server's matches only. */
static void on_forward(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_global *g = ng(s);
    const struct napster_query *b = m->body;
    uint32_t count = 0, seen = 0;
    dir_match(s, sdir(s, n), b->file, b->requester, g->scratch->holder, &count, &seen,
              g->max_results);
    struct napster_results *r = g->scratch;
    r->known = 0;
    r->count = count;
    reply_msg(s, n, m, NAPSTER_MSG_FORWARD_REP, r, NAPSTER_RESULTS_LEN(count), count);
}

static void on_forward_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_global *g = ng(s);
    uint32_t i = kit_pool_get(&g->gat, n, m->rpc->ctx[0]);
    if (i == KIT_NONE)
        return;
    struct napster_gather *q = gat_at(s, i);
    const struct napster_results *r = m->body;
    for (uint32_t j = 0; j < r->count; j++)
        offer(s, q->res, &q->count, &q->seen, g->max_results, r->holder[j]);
    if (--q->pending == 0)
        gather_finish(s, n, i);
}

static void server_on_message(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_dir *d = sdir(s, n);
    if (m->rpc) {
        if (m->rpc->type == NAPSTER_MSG_FORWARD_REQ)
            on_forward_rep(s, n, m);
        return;                       /* KEEPALIVE_REQ: the client lives */
    }
    switch (m->type) {
    case NAPSTER_MSG_UPLOAD_REQ:
        on_upload(s, n, m);
        break;
    case NAPSTER_MSG_GOODBYE:
        if (d->c[m->src.slot].inc == m->src.inc) {
            dir_drop(s, d, m->src.slot);
            sim_count(s, NAPSTER_C_GOODBYES, 1);
        }
        break;
    case NAPSTER_MSG_KEEPALIVE_REQ: {  /* a client's probe */
        struct napster_known rep = { .known = client_known(d, m->src) };
        reply_msg(s, n, m, NAPSTER_MSG_KEEPALIVE_REP, &rep, sizeof rep, 0);
        break;
    }
    case NAPSTER_MSG_QUERY_REQ:
        on_query(s, n, m);
        break;
    case NAPSTER_MSG_FORWARD_REQ:
        on_forward(s, n, m);
        break;
    default:
        break;                        /* PING_REQ: servers hold no files */
    }
}

static void server_on_timeout(struct sim *s, node_t n, const struct rpc *r)
{
    struct napster_dir *d = sdir(s, n);
    if (r->type == NAPSTER_MSG_KEEPALIVE_REQ) {
        node_t slot = (node_t)r->ctx[0];
        if (d->c[slot].inc == (uint32_t)r->ctx[1]) {
            dir_drop(s, d, slot);
            sim_count(s, NAPSTER_C_KEEPALIVE_DROPS, 1);
        }
    } else if (r->type == NAPSTER_MSG_FORWARD_REQ) {
        uint32_t i = kit_pool_get(&ng(s)->gat, n, r->ctx[0]);
        if (i != KIT_NONE && --gat_at(s, i)->pending == 0)
            gather_finish(s, n, i);   /* answer with what the others said */
    }
}

static void server_keepalive(struct sim *s, node_t n, uint64_t arg)
{
    struct napster_global *g = ng(s);
    node_t slot = (node_t)(arg & UINT32_MAX);
    uint32_t inc = (uint32_t)(arg >> 32);
    struct napster_client *c = &sdir(s, n)->c[slot];
    if (c->inc != inc || !c->complete)
        return;
    c->ka_timer = sim_timer(s, n, NAPSTER_TIMER_KEEPALIVE, g->keepalive_us, arg);
    if (sim_maintenance_on(s))
        rpc_msg(s, n, (struct addr){ slot, inc }, NAPSTER_MSG_KEEPALIVE_REQ, NULL, 0, 0,
                LOOKUP_NONE, g->rpc_us, slot, inc);
}

/* A server (re)starts: an empty directory (its searches in flight went with its crash). */
static void server_join(struct sim *s, node_t n) { dir_reset(sdir(s, n), ng(s)->cap); }

/* ==== the client ========================================================================== */

static struct addr server_of(struct sim *s, node_t n)
{
    return sim_server_addr(s, nnode(s, n)->server);
}

/* Sends the batch of n's file list that starts at `first` (0: the login). */
static void upload_batch(struct sim *s, node_t n, uint32_t first)
{
    struct napster_global *g = ng(s);
    struct napster_node *nd = nnode(s, n);
    uint32_t total = 0;
    const uint64_t *files = sim_node_files(s, n, &total);
    struct napster_upload b = { .total = total, .first = first };
    b.count = total - first < NAPSTER_BATCH ? total - first : NAPSTER_BATCH;
    memcpy(b.files, files + first, (size_t)b.count * sizeof *b.files);
    nd->upload_total = total;
    rpc_msg(s, n, server_of(s, n), NAPSTER_MSG_UPLOAD_REQ, &b, NAPSTER_UPLOAD_LEN(b.count),
            b.count, LOOKUP_NONE, g->rpc_us, nd->upload_gen, first);
}

static void upload(struct sim *s, node_t n)
{
    struct napster_node *nd = nnode(s, n);
    nd->phase = NAPSTER_UPLOADING;
    nd->upload_gen++;
    upload_batch(s, n, 0);
}

static void probe(struct sim *s, node_t n)
{
    struct napster_node *nd = nnode(s, n);
    if (nd->probing)
        return;
    nd->probing = 1;
    rpc_msg(s, n, server_of(s, n), NAPSTER_MSG_KEEPALIVE_REQ, NULL, 0, 0, LOOKUP_NONE,
            ng(s)->rpc_us, 0, 0);
}

/* The server did not answer: try again later. */
static void go_offline(struct sim *s, node_t n)
{
    struct napster_node *nd = nnode(s, n);
    nd->phase = NAPSTER_OFFLINE;
    if (nd->retry_timer != NAPSTER_NO_TIMER)
        sim_timer_cancel(s, nd->retry_timer);
    nd->retry_timer = sim_timer(s, n, NAPSTER_TIMER_RETRY, sim_jitter(s, ng(s)->retry_us), 0);
}

/* The server answered; `known`: it has n logged in. */
static void server_heard(struct sim *s, node_t n, bool known)
{
    struct napster_node *nd = nnode(s, n);
    nd->heard_us = sim_now(s);
    if (nd->phase == NAPSTER_UPLOADING)
        return;
    if (!known) {
        if (nd->announced)
            sim_count(s, NAPSTER_C_REUPLOADS, 1);
        upload(s, n);
    } else {
        nd->phase = NAPSTER_ONLINE;
        if (!nd->announced) {         /* the server has it all, though its ack was lost */
            nd->announced = 1;
            sim_introducer_register(s, n);
        }
    }
}

static void on_upload_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_node *nd = nnode(s, n);
    const struct napster_upload_rep *b = m->body;
    if (nd->phase != NAPSTER_UPLOADING || m->rpc->ctx[0] != nd->upload_gen)
        return;
    nd->heard_us = sim_now(s);
    if (!b->accepted) {
        upload(s, n);
        return;
    }
    uint32_t next = (uint32_t)m->rpc->ctx[1] + NAPSTER_BATCH;
    if (next < nd->upload_total) {
        upload_batch(s, n, next);
        return;
    }
    nd->phase = NAPSTER_ONLINE;
    if (!nd->announced) {
        nd->announced = 1;
        sim_introducer_register(s, n);
    }
}

/* ---- searches ---------------------------------------------------------------------------- */

/* The search record of an RPC's context, or KIT_NONE if it is over (then released). */
static uint32_t look_of(struct sim *s, node_t n, const struct rpc *r)
{
    struct napster_global *g = ng(s);
    uint32_t i = kit_pool_get(&g->look, n, r->ctx[0]);
    if (i != KIT_NONE && !sim_lookup_active(s, look_at(s, i)->id)) {
        kit_pool_release(&g->look, i);   /* ended by its deadline */
        return KIT_NONE;
    }
    return i;
}

static void look_end(struct sim *s, uint32_t i, enum outcome o, struct addr answer, uint32_t hops)
{
    sim_lookup_done(s, look_at(s, i)->id, o, answer, hops);
    kit_pool_release(&ng(s)->look, i);
}

/* Pings the next ping_candidates candidates; none left and none answered: the search fails. */
static void ping_next(struct sim *s, node_t n, uint32_t i)
{
    struct napster_global *g = ng(s);
    struct napster_look *l = look_at(s, i);
    if (l->best_rtt >= 0) {           /* server + the chosen holder */
        look_end(s, i, OUTCOME_OK, l->best, 2);
        return;
    }
    if (l->next >= l->ncand) {
        look_end(s, i, OUTCOME_TIMEOUT, ADDR_NONE, 0);
        return;
    }
    while (l->next < l->ncand && l->pending < g->ping_cands) {
        l->pending++;
        rpc_msg(s, n, l->cand[l->next++], NAPSTER_MSG_PING_REQ, NULL, 0, 0, l->id, g->rpc_us,
                kit_pool_ctx(&g->look, i), 0);
    }
}

static void on_query_rep(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_global *g = ng(s);
    const struct napster_results *r = m->body;
    server_heard(s, n, r->known);
    uint32_t i = look_of(s, n, m->rpc);
    if (i == KIT_NONE)
        return;
    struct napster_look *l = look_at(s, i);
    if (r->count == 0) {
        look_end(s, i, OUTCOME_NOT_FOUND, ADDR_NONE, 0);
        return;
    }
    l->ncand = r->count < g->max_results ? r->count : g->max_results;
    memcpy(l->cand, r->holder, (size_t)l->ncand * sizeof(struct addr));
    l->next = l->pending = 0;
    l->best_rtt = -1;
    ping_next(s, n, i);
}

static void on_ping_done(struct sim *s, node_t n, const struct rpc *r, bool serving)
{
    uint32_t i = look_of(s, n, r);
    if (i == KIT_NONE)
        return;
    struct napster_look *l = look_at(s, i);
    if (serving) {
        int64_t rtt = sim_now(s) - r->sent_us;
        if (l->best_rtt < 0 || rtt < l->best_rtt) {
            l->best_rtt = rtt;
            l->best = r->dst;
        }
    } else {
        sim_count(s, NAPSTER_C_DEAD_CANDIDATES, 1);
    }
    if (--l->pending == 0)
        ping_next(s, n, i);
}

static void query_send(struct sim *s, node_t n, uint32_t i, uint32_t lookup_id, uint64_t key)
{
    struct napster_global *g = ng(s);
    struct napster_query q = { .file = key, .requester = sim_addr(s, n) };
    rpc_msg(s, n, server_of(s, n), NAPSTER_MSG_QUERY_REQ, &q, sizeof q, 0, lookup_id,
            g->query_us, kit_pool_ctx(&g->look, i), 0);
}

static void napster_lookup(struct sim *s, node_t origin, uint64_t key, uint32_t lookup_id)
{
    uint32_t i = kit_pool_alloc(&ng(s)->look, origin);
    struct napster_look *l = look_at(s, i);
    l->id = lookup_id;
    l->best_rtt = -1;
    l->key = key;
    query_send(s, origin, i, lookup_id, key);
}

static void client_on_message(struct sim *s, node_t n, const struct msg *m)
{
    struct napster_node *nd = nnode(s, n);
    if (m->rpc) {
        switch (m->rpc->type) {
        case NAPSTER_MSG_UPLOAD_REQ:
            on_upload_rep(s, n, m);
            break;
        case NAPSTER_MSG_KEEPALIVE_REQ: {
            const struct napster_known *b = m->body;
            nd->probing = 0;
            server_heard(s, n, b->known);
            break;
        }
        case NAPSTER_MSG_QUERY_REQ:
            on_query_rep(s, n, m);
            break;
        case NAPSTER_MSG_PING_REQ: {
            const struct napster_known *b = m->body;
            on_ping_done(s, n, m->rpc, b->known);
            break;
        }
        default:
            break;
        }
        return;
    }
    switch (m->type) {
    case NAPSTER_MSG_KEEPALIVE_REQ:   /* the server's keep-alive */
        if (addr_eq(m->src, server_of(s, n)))
            server_heard(s, n, true); /* it keeps only clients whose whole list it has */
        reply_msg(s, n, m, NAPSTER_MSG_KEEPALIVE_REP, &(struct napster_known){ .known = 1 },
                  sizeof(struct napster_known), 0);
        break;
    case NAPSTER_MSG_PING_REQ: {      /* serving: logged in, so its files can be fetched */
        struct napster_known rep = { .known = nd->phase == NAPSTER_ONLINE };
        reply_msg(s, n, m, NAPSTER_MSG_PING_REP, &rep, sizeof rep, 0);
        break;
    }
    default:
        break;
    }
}

static void client_on_timeout(struct sim *s, node_t n, const struct rpc *r)
{
    struct napster_node *nd = nnode(s, n);
    uint32_t i;
    switch (r->type) {
    case NAPSTER_MSG_UPLOAD_REQ:
        if (nd->phase == NAPSTER_UPLOADING && r->ctx[0] == nd->upload_gen)
            go_offline(s, n);
        break;
    case NAPSTER_MSG_KEEPALIVE_REQ:   /* our probe */
        nd->probing = 0;
        if (nd->phase != NAPSTER_UPLOADING)
            go_offline(s, n);
        break;
    case NAPSTER_MSG_QUERY_REQ:
        if ((i = look_of(s, n, r)) != KIT_NONE) {
            if (++look_at(s, i)->tries < NAPSTER_QUERY_TRIES)
                query_send(s, n, i, r->lookup, look_at(s, i)->key);
            else
                look_end(s, i, OUTCOME_TIMEOUT, ADDR_NONE, 0);
        }
        if (nd->phase == NAPSTER_ONLINE)
            probe(s, n);              /* is the server still there? */
        break;
    case NAPSTER_MSG_PING_REQ:
        on_ping_done(s, n, r, false);
        break;
    default:
        break;
    }
}

static void client_on_timer(struct sim *s, node_t n, uint32_t kind)
{
    struct napster_global *g = ng(s);
    struct napster_node *nd = nnode(s, n);
    switch (kind) {
    case NAPSTER_TIMER_CHECK:
        /* a keep-alive comes every `keepalive`: silence for longer means a server that is
         * down, or that restarted and forgot n */
        if (sim_maintenance_on(s) && nd->phase == NAPSTER_ONLINE &&
            sim_now(s) - nd->heard_us > g->keepalive_us + g->rpc_us)
            probe(s, n);
        sim_timer(s, n, NAPSTER_TIMER_CHECK, g->keepalive_us, 0);
        break;
    case NAPSTER_TIMER_RETRY:
        nd->retry_timer = NAPSTER_NO_TIMER;
        if (nd->phase == NAPSTER_OFFLINE)
            probe(s, n);
        break;
    default:
        SIM_ASSERT(!"napster: unknown client timer");
    }
}

/* ==== the protocol's entry points ========================================================= */

static void napster_join(struct sim *s, node_t n)
{
    struct napster_global *g = ng(s);
    uint32_t k = sim_server_index(s, n);
    if (k != UINT32_MAX) {
        server_join(s, n);
        return;
    }
    struct napster_node *nd = nnode(s, n);
    *nd = (struct napster_node){ .server = (uint32_t)(sim_node_id(s, n) % g->k),
                                 .heard_us = sim_now(s), .retry_timer = NAPSTER_NO_TIMER };
    sim_timer(s, n, NAPSTER_TIMER_CHECK, kit_phase(s, g->keepalive_us) + 1, 0);
    upload(s, n);
}

static void napster_leave(struct sim *s, node_t n)
{
    if (sim_server_index(s, n) != UINT32_MAX)
        return;
    struct napster_node *nd = nnode(s, n);
    if (nd->phase == NAPSTER_ONLINE || nd->phase == NAPSTER_UPLOADING)
        send_msg(s, n, server_of(s, n), NAPSTER_MSG_GOODBYE, NULL, 0, 0, LOOKUP_NONE);
}

static void napster_on_message(struct sim *s, node_t n, const struct msg *m)
{
    if (m->type == MSG_INTRODUCER_REPLY)
        return;                       /* clients never ask: they need no peers */
    if (sim_server_index(s, n) != UINT32_MAX)
        server_on_message(s, n, m);
    else
        client_on_message(s, n, m);
}

static void napster_on_timeout(struct sim *s, node_t n, const struct rpc *r)
{
    if (sim_server_index(s, n) != UINT32_MAX)
        server_on_timeout(s, n, r);
    else
        client_on_timeout(s, n, r);
}

static void napster_on_timer(struct sim *s, node_t n, uint32_t kind, uint64_t arg)
{
    if (sim_server_index(s, n) != UINT32_MAX) {
        SIM_ASSERT(kind == NAPSTER_TIMER_KEEPALIVE);
        server_keepalive(s, n, arg);
    } else {
        client_on_timer(s, n, kind);
    }
}

/* A server: its tuples; a client: its server connection. */
static size_t napster_state_entries(const struct sim *s, node_t n)
{
    const union napster_slot *st = sim_state_const(s, n);
    if (sim_server_index(s, n) != UINT32_MAX)
        return (size_t)st->server.entries;
    return st->client.phase == NAPSTER_ONLINE ? 1 : 0;
}

/* ==== converged start ===================================================================== */

/* What logging in reaches: every live client online at server id mod k, its files in that
 * server's directory, keep-alives and checks running at random phases. */
static void napster_converge(struct sim *s)
{
    struct napster_global *g = ng(s);
    node_t *live = mem_calloc(g->cap, sizeof *live, "the live nodes");
    node_t len = sim_converge_live(s, live, g->cap);
    for (node_t j = 0; j < len; j++) {
        node_t n = live[j];
        if (sim_server_index(s, n) != UINT32_MAX)
            continue;
        struct napster_node *nd = nnode(s, n);
        *nd = (struct napster_node){ .server = (uint32_t)(sim_node_id(s, n) % g->k),
                                     .retry_timer = NAPSTER_NO_TIMER, .phase = NAPSTER_ONLINE,
                                     .announced = 1 };
        node_t server = sim_server_addr(s, nd->server).slot;
        struct napster_dir *d = sdir(s, server);
        dir_login(s, d, n, sim_addr(s, n).inc);
        uint32_t count = 0;
        const uint64_t *files = sim_node_files(s, n, &count);
        for (uint32_t f = 0; f < count; f++)
            dir_add(d, n, files[f]);
        d->c[n].complete = 1;
        keepalive_arm(s, server, n, kit_phase(s, g->keepalive_us) + 1);
        sim_timer(s, n, NAPSTER_TIMER_CHECK, kit_phase(s, g->keepalive_us) + 1, 0);
    }
    free(live);
}

/* ==== setup =============================================================================== */

/* n went down: what it owned goes (a server's directory, its searches in flight). */
static void napster_down(struct sim *s, node_t n)
{
    struct napster_global *g = ng(s);
    if (sim_server_index(s, n) != UINT32_MAX) {
        dir_free(sdir(s, n));
        kit_pool_node_down(&g->gat, n);
    } else {
        kit_pool_node_down(&g->look, n);
    }
}

static size_t napster_msg_body_max(const struct proto_config *cfg)
{
    size_t max = sizeof(union napster_body);
    size_t res = NAPSTER_RESULTS_LEN(cfg->v[NAPSTER_P_MAX_RESULTS].i);
    return res > max ? res : max;
}

static uint32_t napster_servers(const struct proto_config *cfg)
{
    return (uint32_t)cfg->v[NAPSTER_P_SERVERS].i;
}

static int napster_setup(struct sim *s, const struct proto_config *cfg)
{
    struct napster_global *g = mem_calloc(1, sizeof *g, "napster's configuration");
    g->k = (uint32_t)cfg->v[NAPSTER_P_SERVERS].i;
    g->keepalive_us = cfg->v[NAPSTER_P_KEEPALIVE].i;
    g->rpc_us = cfg->v[NAPSTER_P_RPC_TIMEOUT].i;
    g->query_us = g->k > 1 ? 2 * g->rpc_us : g->rpc_us;
    g->retry_us = cfg->v[NAPSTER_P_RETRY].i;
    g->max_results = (uint32_t)cfg->v[NAPSTER_P_MAX_RESULTS].i;
    g->ping_cands = (uint32_t)cfg->v[NAPSTER_P_PING_CANDIDATES].i;
    g->cap = sim_capacity(s);
    g->scratch = mem_calloc(1, napster_msg_body_max(cfg), "a napster results body");
    size_t cands = g->max_results * sizeof(struct addr);
    kit_pool_init(&g->look, sizeof(struct napster_look) + cands, 256, g->cap, "napster searches");
    kit_pool_init(&g->gat, sizeof(struct napster_gather) + cands, 64, g->cap,
                  "napster forwarded searches");
    sim_set_protocol_data(s, g);
    return 0;
}

static void napster_teardown(struct sim *s)
{
    struct napster_global *g = ng(s);
    if (!g)
        return;
    for (uint32_t k = 0; k < g->k; k++)
        dir_free(sdir(s, sim_server_addr(s, k).slot));   /* freed and zeroed if it is down */
    kit_pool_free(&g->look);
    kit_pool_free(&g->gat);
    free(g->scratch);
    free(g);
    sim_set_protocol_data(s, NULL);
}

const struct protocol napster_protocol = {
    .msg_names = napster_msg_name,
    .n_msg_names = NAPSTER_MSG_COUNT,
    .down = napster_down,
    .name = "napster",
    .summary = "Napster: central directory server(s) of shared files, search then ping holders",
    .paper = "Napster protocol as documented by OpenNap (drscholl, \"napster messages\", 2000); "
             "Saroiu, Gummadi, Gribble, A measurement study of peer-to-peer file sharing "
             "systems, MMCN 2002",
    .params = napster_params,
    .keys = KEYS_FILES,
    .node_state_size = sizeof(union napster_slot),
    .msg_body_max = napster_msg_body_max,
    .setup = napster_setup,
    .join = napster_join,
    .leave = napster_leave,
    .on_message = napster_on_message,
    .on_timer = napster_on_timer,
    .on_timeout = napster_on_timeout,
    .lookup = napster_lookup,
    .state_entries = napster_state_entries,
    .converge = napster_converge,
    .teardown = napster_teardown,
    .counters = napster_counters,
    .servers = napster_servers,
};
