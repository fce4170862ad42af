/* fasttrack_internal.h — what protocols/fasttrack.c exports for its tests: the message list
 * with its wire sizes and the capacity distributions. */
#ifndef P2PLAB_FASTTRACK_INTERNAL_H
#define P2PLAB_FASTTRACK_INTERNAL_H

#include <stddef.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

extern const struct protocol fasttrack_protocol;

/* ==== messages ============================================================================ */

/* Sizes on the wire. FastTrack's framing is encrypted and unpublished; every message is costed
 * as a Gnutella 0.4 descriptor (protocol spec v0.4: 23-byte header = 16-byte id, type, TTL,
 * hops, 4-byte payload length) over TCP/IPv4 (40 B). A refresh-list entry is IPv4, port,
 * workload, freshness and a 4-byte timestamp (Liang, Kumar and Ross, "The FastTrack overlay: a
 * measurement study", 2006, §5: 12 B). A shared file's metadata is its content hash (20 B),
 * size (4), name (~36) and descriptors (4): 64 B. A query carries Gnutella's 2-byte minimum
 * speed and a ~20-byte search string; a QueryHit Gnutella's 27 fixed bytes (count, port, IP,
 * speed, servent id) and per holder its address (6), file index (4), size (4) and the
 * NUL-terminated name (38). A Pong's payload is 14 B. */
#define FTRACK_WIRE_TCPIP 40
#define FTRACK_WIRE_HEADER 23
#define FTRACK_WIRE_FLAG 1
#define FTRACK_WIRE_COUNT 1
#define FTRACK_WIRE_COUNT16 2
#define FTRACK_WIRE_SN 12
#define FTRACK_WIRE_FILE 64
#define FTRACK_WIRE_QUERY 22
#define FTRACK_WIRE_HIT_FIXED 27
#define FTRACK_WIRE_RESULT 52
#define FTRACK_WIRE_PONG 14

/* X(type, fixed payload bytes, bytes per list entry): enum ftrack_msg below, and
 * ftrack_msg_name[] and the wire table in fasttrack.c (KIT_MSG_TABLES). */
#define FTRACK_MESSAGES(X)                                                                     \
    X(FTRACK_MSG_SN_REQ, 0, 0)                    /* "which supernodes do you know?" */        \
    X(FTRACK_MSG_SN_REP, FTRACK_WIRE_COUNT, FTRACK_WIRE_SN)  /* refresh list */                \
    X(FTRACK_MSG_ATTACH_REQ, FTRACK_WIRE_COUNT16, 0)  /* become my parent; n files follow */   \
    X(FTRACK_MSG_ATTACH_REP, FTRACK_WIRE_FLAG + FTRACK_WIRE_COUNT, FTRACK_WIRE_SN)             \
    X(FTRACK_MSG_UPLOAD, FTRACK_WIRE_COUNT16, FTRACK_WIRE_FILE)  /* file metadata, a chunk */  \
    X(FTRACK_MSG_KEEP_REQ, FTRACK_WIRE_FLAG, 0)   /* keep-alive: as child or as neighbour */   \
    X(FTRACK_MSG_KEEP_REP, FTRACK_WIRE_FLAG + FTRACK_WIRE_COUNT, FTRACK_WIRE_SN) /* known?, refresh */\
    X(FTRACK_MSG_NEIGH_REQ, 0, 0)                 /* supernode connection */                   \
    X(FTRACK_MSG_NEIGH_REP, FTRACK_WIRE_FLAG + FTRACK_WIRE_COUNT, FTRACK_WIRE_SN)              \
    X(FTRACK_MSG_GOODBYE, 0, 0)                   /* graceful leave */                         \
    X(FTRACK_MSG_QUERY, FTRACK_WIRE_QUERY, 0)                                                  \
    X(FTRACK_MSG_QUERYHIT, FTRACK_WIRE_HIT_FIXED, FTRACK_WIRE_RESULT)                          \
    X(FTRACK_MSG_PING_REQ, 0, 0)                  /* candidate ping (Gnutella Ping) */         \
    X(FTRACK_MSG_PING_REP, FTRACK_WIRE_PONG, 0)

#define FTRACK_WIRE_OVERHEAD (FTRACK_WIRE_TCPIP + FTRACK_WIRE_HEADER)

KIT_MSG_DECLARE(ftrack, FTRACK, FTRACK_MESSAGES);

/* Bytes on the wire of a message of `type` (enum ftrack_msg) with `entries` list entries. */
size_t ftrack_wire_size(unsigned type, unsigned entries);

/* ==== capacities ========================================================================== */

enum ftrack_dist { FTRACK_LOGNORMAL, FTRACK_PARETO, FTRACK_UNIFORM };

/* The capacity, kbit/s, at quantile u in (0, 1) of distribution `dist` (enum ftrack_dist). */
double ftrack_capacity_quantile(unsigned dist, double median, double shape, double u);
/* P(capacity > threshold): the share of supernodes the capacity rule makes. */
double ftrack_super_probability(unsigned dist, double median, double shape, double threshold);

#endif
