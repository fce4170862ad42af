/* kelips_internal.h — what protocols/kelips.c exports to its tests: the message list with its
 * wire sizes, the ring distance, the heartbeat timeout and the bytes per node. */
#ifndef P2PLAB_KELIPS_INTERNAL_H
#define P2PLAB_KELIPS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

/* Sizes on the wire. Every datagram carries IPv4 (20 B) + UDP (8 B) headers and a Kelips header
 * of 8 B: type (1), flags (1), reserved (2), request or lookup id (4). A contact is an IPv4
 * address, a port and the 8-byte identifier (14 B); an address alone is 6 B. A member entry is
 * a contact and its 4-byte heartbeat counter (18 B); a file tuple is the 8-byte key, the home's
 * contact and a 4-byte version (26 B); a count is 1 B (2 B for a page offset or total). */
#define KELIPS_WIRE_IP_UDP 28
#define KELIPS_WIRE_HEADER 8
#define KELIPS_WIRE_KEY 8
#define KELIPS_WIRE_ADDR 6
#define KELIPS_WIRE_CONTACT 14
#define KELIPS_WIRE_HB 4
#define KELIPS_WIRE_MEMBER (KELIPS_WIRE_CONTACT + KELIPS_WIRE_HB)
#define KELIPS_WIRE_TUPLE (KELIPS_WIRE_KEY + KELIPS_WIRE_CONTACT + 4)
#define KELIPS_WIRE_FLAG 1
#define KELIPS_WIRE_COUNT 1
#define KELIPS_WIRE_COUNT16 2

/* X(type, fixed payload bytes, bytes per entry), for KIT_MSG_TABLES. The entry column is 0: a
 * message's lists are of several kinds (a GOSSIP carries members and tuples, a JOIN_REP
 * members, contacts or tuples), so their bytes are counted by kind (kelips_wire_size). */
#define KELIPS_MESSAGES(X)                                                                     \
    /* the sender's entry, member and tuple counts; then members and tuples */                \
    X(KELIPS_MSG_GOSSIP, KELIPS_WIRE_MEMBER + 2 * KELIPS_WIRE_COUNT, 0)                        \
    /* join snapshot: the joiner's entry, page kind, group, offset */                          \
    X(KELIPS_MSG_JOIN_REQ, KELIPS_WIRE_MEMBER + KELIPS_WIRE_FLAG + 2 * KELIPS_WIRE_COUNT16, 0) \
    /* page kind, total, next offset, count; then members, contacts or tuples */               \
    X(KELIPS_MSG_JOIN_REP, KELIPS_WIRE_FLAG + 2 * KELIPS_WIRE_COUNT16 + KELIPS_WIRE_COUNT, 0)   \
    /* insert a key: the receiver picks its home, or forwards to its contact in the key's     \
     * group (the key, a forward count) */                                                     \
    X(KELIPS_MSG_INSERT_REQ, KELIPS_WIRE_KEY + KELIPS_WIRE_COUNT, 0)                           \
    X(KELIPS_MSG_INSERT_REP, KELIPS_WIRE_CONTACT, 0)                                           \
    /* one tuple, told directly: to a new home, or to the home it replaces; the flag says     \
     * whether the file itself comes along (a home's insert or hand-over) */                   \
    X(KELIPS_MSG_TUPLE, KELIPS_WIRE_FLAG, 0)                                                   \
    /* "your tuple for key?" */                                                                \
    X(KELIPS_MSG_FIND_REQ, KELIPS_WIRE_KEY, 0)                                                 \
    /* found, is-home flags, the home, backup members */                                       \
    X(KELIPS_MSG_FIND_REP, 2 * KELIPS_WIRE_FLAG + KELIPS_WIRE_CONTACT + KELIPS_WIRE_COUNT, 0)  \
    /* "are you home for key?", with the addresses that timed out during this lookup */        \
    X(KELIPS_MSG_HOME_REQ, KELIPS_WIRE_KEY + KELIPS_WIRE_COUNT, 0)                             \
    /* yes/no + the member believed home */                                                    \
    X(KELIPS_MSG_HOME_REP, KELIPS_WIRE_FLAG + KELIPS_WIRE_CONTACT, 0)                          \
    /* "your contacts in group g?" and the list */                                             \
    X(KELIPS_MSG_CONTACTS_REQ, KELIPS_WIRE_COUNT16, 0)                                         \
    X(KELIPS_MSG_CONTACTS_REP, KELIPS_WIRE_COUNT, 0)                                           \
    /* RTT probe and liveness check of a contact; the reply carries the responder's heartbeat */ \
    X(KELIPS_MSG_PING_REQ, 0, 0)                                                               \
    X(KELIPS_MSG_PING_REP, KELIPS_WIRE_HB, 0)

/* Bytes per node: the slab record (struct kelips_node) and, per node up, its contact table of
 * k x c entries (an 8-byte identifier and an 8-byte address, a 4-byte RTT, the 4-byte heartbeat
 * counter and the 4-byte time it last advanced) and k one-byte counts; view members and tuples
 * are 32 bytes, and the view's index 4 bytes a bucket. */
#define KELIPS_NODE_BYTES 176
#define KELIPS_CONTACT_BYTES 28
#define KELIPS_MEMBER_BYTES 32
#define KELIPS_TUPLE_BYTES 32

extern const struct protocol kelips_protocol;
KIT_MSG_DECLARE(kelips, KELIPS, KELIPS_MESSAGES);

/* Circular distance on the 64-bit ring. */
uint64_t kelips_ring_dist(uint64_t a, uint64_t b);
/* Is id a closer to key than id b? Ties go to the id above the key, as the oracle's. */
bool kelips_closer(uint64_t a, uint64_t b, uint64_t key);
/* Bytes on the wire of a message of `type` with the given list entries. */
size_t kelips_wire_size(unsigned type, unsigned members, unsigned contacts, unsigned tuples,
                        unsigned addrs);
/* The heartbeat timeout, ms: detect x (others)/(gfan (m+1)) rounds, at least floor_ms. */
uint32_t kelips_timeout_ms(uint32_t floor_ms, double detect, double round_ms, uint32_t gfan,
                           uint32_t m, uint32_t others);
/* The contact heartbeat timeout, ms: detect mean intervals between two pieces of news about one
 * contact (contact gossip from its group, or the round-robin ping), at least floor_ms. */
uint32_t kelips_contact_timeout_ms(uint32_t floor_ms, double detect, double round_ms,
                                   uint32_t cfan, uint32_t m, uint32_t k, uint32_t c,
                                   uint32_t group);
/* Bytes of one node up at the converged start (slab record, contacts, view and its index,
 * tuples), for the memory estimate before a run (sim/scncost.c). */
double kelips_node_estimate(const struct proto_config *cfg, uint32_t nodes, uint32_t keys);
/* x mod d (0 < d < 2^32) by multiplications, as group_of computes an identifier's group. */
uint32_t kelips_mod(uint64_t x, uint32_t d);
/* `count` uniform draws below n from r, as gsl_rng_uniform_int(r, n) would give them (tests):
 * how 0 by the loop path (draw_prep, draw_next), 1 one at a time (draw_below), 2 only whether
 * each is zero (draw_zero: 1 or 0). */
void kelips_draws(const gsl_rng *r, unsigned long n, unsigned long *out, size_t count, int how);

#endif
