/* pastry_internal.h — what protocols/pastry.c shares with its tests: the message list with its
 * wire sizes, the identifier arithmetic and the memory figure. Nothing else includes it. */
#ifndef P2PLAB_PASTRY_INTERNAL_H
#define P2PLAB_PASTRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

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

/* X(type, fixed payload bytes, bytes per list entry) on the wire: enum pastry_msg below, and
 * the names and wire table in pastry.c (KIT_MSG_TABLES). */
#define PASTRY_MESSAGES(X)                                                                     \
    /* one routing step: key, the origin's contact, a join/lookup flag; acknowledged at once */ \
    X(PASTRY_MSG_FWD_REQ, PASTRY_WIRE_KEY + PASTRY_WIRE_CONTACT + PASTRY_WIRE_FLAG, 0)         \
    X(PASTRY_MSG_FWD_ACK, 0, 0)                                                                \
    /* the delivering node to the origin: the owner's contact; acknowledged if retries > 0 */  \
    X(PASTRY_MSG_DONE, PASTRY_WIRE_CONTACT, 0)                                                 \
    /* to a joining node, one per table row, neighbourhood set or leaf set: a flag (the last  \
     * node's leaf set) and a counted list */                                                  \
    X(PASTRY_MSG_JOIN_STATE, PASTRY_WIRE_FLAG + PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)        \
    /* "I have joined": the new node's contact, to every node in its state */                  \
    X(PASTRY_MSG_ANNOUNCE, PASTRY_WIRE_CONTACT, 0)                                             \
    /* liveness and round-trip probe */                                                        \
    X(PASTRY_MSG_PING_REQ, 0, 0)                                                               \
    X(PASTRY_MSG_PING_REP, 0, 0)                                                               \
    /* "your leaf set?" */                                                                     \
    X(PASTRY_MSG_LEAF_REQ, 0, 0)                                                               \
    X(PASTRY_MSG_LEAF_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                             \
    /* "your table row r?" */                                                                  \
    X(PASTRY_MSG_ROW_REQ, PASTRY_WIRE_FLAG, 0)                                                 \
    X(PASTRY_MSG_ROW_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                              \
    /* lazy repair: "your entry at row r, column c?" */                                        \
    X(PASTRY_MSG_ENTRY_REQ, 2 * PASTRY_WIRE_FLAG, 0)                                           \
    X(PASTRY_MSG_ENTRY_REP, PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)                            \
    /* the origin's acknowledgement of DONE, when retries > 0 */                                \
    X(PASTRY_MSG_DONE_ACK, 0, 0)                                                               \
    /* leaf_keepalive heartbeat: "I am alive", to the left neighbour, not acknowledged */       \
    X(PASTRY_MSG_HEARTBEAT, 0, 0)                                                              \
    /* leaf_keepalive heartbeat: a node that found a leaf dead sends its leaf set to its other \
     * leaves (left side first, then right: a count per side), not acknowledged */             \
    X(PASTRY_MSG_LEAF_SET, 2 * PASTRY_WIRE_COUNT, PASTRY_WIRE_CONTACT)

extern const struct protocol pastry_protocol;
KIT_MSG_DECLARE(pastry, PASTRY, PASTRY_MESSAGES);

/* Digit `row` of id, b bits, most significant first; a short last digit is padded with zero
 * bits on the right. */
unsigned pastry_digit(uint64_t id, unsigned row, unsigned b);
/* Length in digits of the longest common prefix of a and c (ceil(64/b) if equal). */
unsigned pastry_shl(uint64_t a, uint64_t c, unsigned b);
/* Distance on the circular id space. */
uint64_t pastry_dist(uint64_t a, uint64_t c);
/* Is a strictly closer to key than c? Ties go to the id clockwise of the key. */
bool pastry_closer(uint64_t a, uint64_t c, uint64_t key);
/* Bytes on the wire of a message of `type` carrying `entries` list entries. */
size_t pastry_wire_size(unsigned type, size_t entries);
/* Bytes of one node's slab record with digits of b bits, leaf set l and neighbourhood set m. */
size_t pastry_bytes_per_node(unsigned b, unsigned l, unsigned m);

#endif
