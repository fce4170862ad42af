/* chord_internal.h — what protocols/chord.c shares with its tests: the message list with its
 * wire sizes, the ring arithmetic and the memory figure. Nothing else includes it. */
#ifndef P2PLAB_CHORD_INTERNAL_H
#define P2PLAB_CHORD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

/* Sizes on the wire. Every datagram carries IPv4 (20 B) + UDP (8 B) headers and a Chord header
 * of 8 B: type (1), hop count (1), reserved (2), request or lookup id (4). A contact is an IPv4
 * address, a port and the 8-byte identifier (14 B); an address alone is 6 B; a list is a count
 * byte and its contacts. */
#define CHORD_WIRE_IP_UDP 28
#define CHORD_WIRE_HEADER 8
#define CHORD_WIRE_KEY 8
#define CHORD_WIRE_ADDR 6
#define CHORD_WIRE_CONTACT 14
#define CHORD_WIRE_FLAG 1
#define CHORD_WIRE_COUNT 1

/* X(type, fixed payload bytes, bytes per list entry) on the wire: enum chord_msg below, and the
 * names and wire table in chord.c (KIT_MSG_TABLES). */
#define CHORD_MESSAGES(X)                                                                      \
    /* iterative step: "your closest preceding node for key?", with the addresses that timed  \
     * out during this lookup, which the answer leaves out */                                  \
    X(CHORD_MSG_FIND_REQ, CHORD_WIRE_KEY + CHORD_WIRE_COUNT, CHORD_WIRE_ADDR)                  \
    /* enum chord_find_answer + a list: next hops, or a successor list */                     \
    X(CHORD_MSG_FIND_REP, CHORD_WIRE_FLAG + CHORD_WIRE_COUNT, CHORD_WIRE_CONTACT)              \
    /* owner check: "is key in (your predecessor, you]?" */                                    \
    X(CHORD_MSG_CHECK_REQ, CHORD_WIRE_KEY, 0)                                                  \
    /* yes/no + the predecessor */                                                             \
    X(CHORD_MSG_CHECK_REP, CHORD_WIRE_FLAG + CHORD_WIRE_CONTACT, 0)                            \
    /* recursive step: key + the origin's address; acknowledged at once */                     \
    X(CHORD_MSG_FWD_REQ, CHORD_WIRE_KEY + CHORD_WIRE_ADDR, 0)                                  \
    X(CHORD_MSG_FWD_ACK, 0, 0)                                                                 \
    /* recursive owner check: key + origin; answered by CHECK_REP, and DONE to the origin */    \
    X(CHORD_MSG_FWD_CHECK_REQ, CHORD_WIRE_KEY + CHORD_WIRE_ADDR, 0)                            \
    /* recursive answer to the origin: outcome + the owner; acknowledged when retries > 0 */   \
    X(CHORD_MSG_DONE, CHORD_WIRE_FLAG + CHORD_WIRE_CONTACT, 0)                                 \
    X(CHORD_MSG_DONE_ACK, 0, 0)                                                                \
    /* stabilize: "your predecessor and successor list?" */                                    \
    X(CHORD_MSG_STAB_REQ, 0, 0)                                                                \
    X(CHORD_MSG_STAB_REP, CHORD_WIRE_CONTACT + CHORD_WIRE_COUNT, CHORD_WIRE_CONTACT)           \
    /* "I might be your predecessor" */                                                        \
    X(CHORD_MSG_NOTIFY, CHORD_WIRE_CONTACT, 0)                                                 \
    X(CHORD_MSG_PING_REQ, 0, 0)                                                                \
    X(CHORD_MSG_PING_REP, 0, 0)                                                                \
    /* graceful leave: the successor list to the predecessor, the predecessor to the successor */ \
    X(CHORD_MSG_LEAVE_PRED, CHORD_WIRE_COUNT, CHORD_WIRE_CONTACT)                              \
    X(CHORD_MSG_LEAVE_SUCC, CHORD_WIRE_CONTACT, 0)                                            \
    /* stored data (store: on). A fetch: "your value for key?"; the answer's flag says whether \
     * the value (value_size bytes, counted beyond the table) follows */                      \
    X(CHORD_MSG_GET_REQ, CHORD_WIRE_KEY, 0)                                                    \
    X(CHORD_MSG_GET_REP, CHORD_WIRE_FLAG, 0)                                                   \
    /* keys with their values (value_size bytes each, beyond the table): an insert to the     \
     * owner (flag set: replicate on your successors), a join transfer, a leave hand-off or a  \
     * repair push */                                                                          \
    X(CHORD_MSG_STORE, CHORD_WIRE_FLAG + CHORD_WIRE_COUNT, CHORD_WIRE_KEY)                     \
    /* local maintenance: "the keys I hold in (lo, hi]; which do you lack?", and the answer */ \
    X(CHORD_MSG_SYNC_REQ, 2 * CHORD_WIRE_KEY + CHORD_WIRE_COUNT, CHORD_WIRE_KEY)               \
    X(CHORD_MSG_SYNC_REP, CHORD_WIRE_COUNT, CHORD_WIRE_KEY)

extern const struct protocol chord_protocol;
KIT_MSG_DECLARE(chord, CHORD, CHORD_MESSAGES);

/* x in (a, b] clockwise; (a, a] is the whole ring. */
bool chord_in_oc(uint64_t x, uint64_t a, uint64_t b);
/* x in (a, b) clockwise; (a, a) is the whole ring but a. */
bool chord_in_oo(uint64_t x, uint64_t a, uint64_t b);
/* The start of finger i: id + 2^i on the ring. */
uint64_t chord_finger_target(uint64_t id, unsigned i);
/* Bytes on the wire of a message of `type` carrying `entries` list entries. */
size_t chord_wire_size(unsigned type, size_t entries);

/* A node's 64 fingers as runs of equal consecutive fingers (chord.c, "fingers"): at N nodes
 * about log2 N runs, the first CHORD_RUNS_INLINE kept inline, the rest in a buffer of the
 * node's own. A zeroed table holds no run: chord_fingers_clear or _store first. */
#define CHORD_FINGERS 64
#define CHORD_RUNS_INLINE 24          /* at 10^6 nodes a node has about log2 N + 1 = 21 */
struct chord_fingers {
    uint64_t start;                   /* bit i set: finger i starts a run; bit 0 always */
    struct kit_vec more;              /* runs CHORD_RUNS_INLINE on (struct peer) */
    struct peer run[CHORD_RUNS_INLINE];
};
unsigned chord_fingers_nruns(const struct chord_fingers *t);
/* The contact of run k, k < nruns, in finger order. */
struct peer chord_fingers_run(const struct chord_fingers *t, unsigned k);
/* All 64 fingers into f. */
void chord_fingers_load(const struct chord_fingers *t, struct peer f[CHORD_FINGERS]);
/* Makes f[0..64) the table's fingers. */
void chord_fingers_store(struct chord_fingers *t, const struct peer f[CHORD_FINGERS]);
/* Every finger none (addr.slot NODE_NONE): none but the node itself. */
void chord_fingers_clear(struct chord_fingers *t);
/* Fingers lo..hi-1 become p. */
void chord_fingers_set(struct chord_fingers *t, unsigned lo, unsigned hi, struct peer p);
/* Frees the overflow buffer (the node went down). */
void chord_fingers_free(struct chord_fingers *t);

#endif
