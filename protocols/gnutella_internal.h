/* gnutella_internal.h — what protocols/gnutella.c exports for its tests: the message list and
 * wire sizes, the descriptor-ID cache, the converged-start graph builders and the bytes per
 * node. Nothing else includes it. */
#ifndef P2PLAB_GNUTELLA_INTERNAL_H
#define P2PLAB_GNUTELLA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

extern const struct protocol gnutella_protocol;

/* ==== messages ============================================================================ */

/* Sizes on the wire (0.4 spec). Every message is a TCP segment: 40 B of TCP/IP headers.
 * Descriptors add the 23-byte header: descriptor ID 16, payload descriptor 1, TTL 1, hops 1,
 * payload length 4. Pong: port 2, IP 4, files shared 4, kilobytes shared 4 = 14, plus 2 B of
 * this model's extension (neighbour count and firewalled bit, as later GGEP extensions carry).
 * Query: minimum speed 2 + search criteria (a few keywords, 20 B with the NUL). QueryHit: hits
 * 1, port 2, IP 4, speed 4 = 11; one result: file index 4, size 4, name (30 B) + double NUL;
 * servent ID 16. Push: servent ID 16, file index 4, IP 4, port 2 = 26. Handshake text:
 * "GNUTELLA CONNECT/0.4\n\n" 22 B, "GNUTELLA OK\n\n" 13 B; the model adds 4 B (need, degree,
 * firewalled) and, for a link split, 6-byte addresses (IP + port). GIV is the line
 * "GIV <index>:<servent ID in hex>/<name>\n\n", 80 B. A BYE is the TCP close alone. */
#define GNUT_WIRE_TCPIP 40
#define GNUT_WIRE_HEADER 23
#define GNUT_WIRE_ADDR 6
#define GNUT_WIRE_EXT 4
#define GNUT_WIRE_PONG (14 + 2)
#define GNUT_WIRE_CRITERIA 20
#define GNUT_WIRE_NAME 30
#define GNUT_WIRE_RESULT (4 + 4 + GNUT_WIRE_NAME + 2)
#define GNUT_WIRE_SERVENT 16
#define GNUT_WIRE_GIV (4 + 10 + 1 + 32 + 1 + GNUT_WIRE_NAME + 2)

/* X(type, fixed payload bytes (descriptors: header included), bytes per list item): enum
 * gnut_msg below, and the names and wire table in gnutella.c (KIT_MSG_TABLES). */
#define GNUT_MESSAGES(X)                                                                      \
    /* handshake + need, degree, firewalled; the requester's neighbourhood (for a split) */   \
    X(GNUT_MSG_CONNECT_REQ, 22 + GNUT_WIRE_EXT, GNUT_WIRE_ADDR)                                \
    /* OK or busy + degree; the split partner; hosts to try (address, degree, hops) */        \
    X(GNUT_MSG_CONNECT_REP, 13 + GNUT_WIRE_EXT + GNUT_WIRE_ADDR, GNUT_WIRE_ADDR + 3)            \
    /* "your link to me is given to this peer": its address and who connects */               \
    X(GNUT_MSG_SPLICE, GNUT_WIRE_HEADER + GNUT_WIRE_ADDR + 1, 0)                               \
    X(GNUT_MSG_BYE, 0, 0)                                                                      \
    X(GNUT_MSG_PING, GNUT_WIRE_HEADER, 0)                                                      \
    X(GNUT_MSG_PONG, GNUT_WIRE_HEADER + GNUT_WIRE_PONG, 0)                                     \
    X(GNUT_MSG_QUERY, GNUT_WIRE_HEADER + 2 + GNUT_WIRE_CRITERIA, 0)                            \
    X(GNUT_MSG_QUERYHIT, GNUT_WIRE_HEADER + 11 + GNUT_WIRE_RESULT + GNUT_WIRE_SERVENT, 0)      \
    X(GNUT_MSG_PUSH, GNUT_WIRE_HEADER + GNUT_WIRE_SERVENT + 4 + 4 + 2, 0)                      \
    X(GNUT_MSG_GIV, GNUT_WIRE_GIV, 0)                                                          \
    /* the searcher's RTT probe of a candidate holder: a Ping answered by a Pong */            \
    X(GNUT_MSG_PROBE_REQ, GNUT_WIRE_HEADER, 0)                                                 \
    X(GNUT_MSG_PROBE_REP, GNUT_WIRE_HEADER + GNUT_WIRE_PONG, 0)

KIT_MSG_DECLARE(gnut, GNUT, GNUT_MESSAGES);
/* Bytes on the wire of a message of `type` carrying `items` list entries. */
size_t gnut_wire_size(unsigned type, unsigned items);

/* ==== the descriptor-ID cache ============================================================= */

#define GNUT_PROBE 8                  /* descriptor-cache slots probed per key */

/* One entry: a descriptor ID (or a servent ID ^ GNUT_PUSH_TAG), when it was stored and the
 * neighbour it came from (the reverse route; the peer itself for its own descriptors). */
struct gnut_desc {
    uint64_t key;
    int64_t t_ms;                     /* when stored, ms since the start */
    struct addr from;                 /* slot NODE_NONE: empty */
};

/* The fresh entry for key, or NULL. size is a power of 2. */
struct gnut_desc *gnut_desc_find(struct gnut_desc *tab, uint32_t size, uint64_t key,
                                 int64_t now_ms, int64_t expiry_ms);
/* Records key as coming from `from`. Returns 1 if key was new, 0 if a fresh entry already held
 * it (a duplicate; with overwrite its route and time are replaced). When every probed slot
 * holds a fresh entry the oldest is evicted (*evicted set). */
int gnut_desc_add(struct gnut_desc *tab, uint32_t size, uint64_t key, struct addr from,
                  int64_t now_ms, int64_t expiry_ms, bool overwrite, bool *evicted);

/* ==== graphs for the converged start ====================================================== */

/* A random d-regular graph on n vertices (adj is n x d, row i: deg[i] neighbours), no link
 * between two firewalled vertices (fw may be NULL); returns the stubs left unpaired. */
uint32_t gnut_regular_graph(uint32_t n, uint32_t d, const uint8_t *fw, gsl_rng *r,
                            uint32_t *adj, uint32_t *deg);
/* A power-law graph by preferential attachment, m links per vertex, degrees up to cap (adj is
 * n x cap); returns the links made. */
uint32_t gnut_powerlaw_graph(uint32_t n, uint32_t m, uint32_t cap, const uint8_t *fw, gsl_rng *r,
                             uint32_t *adj, uint32_t *deg);

/* ==== bytes per node ====================================================================== */

#define GNUT_NODE_BYTES 56            /* the fixed part of a node's slab record */

#endif
