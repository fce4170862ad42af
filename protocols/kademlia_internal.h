/* kademlia_internal.h — what protocols/kademlia.c shows its unit tests: the message list with
 * its sizes on the wire, the XOR arithmetic, and the protocol. No other file uses it. */
#ifndef P2PLAB_KADEMLIA_INTERNAL_H
#define P2PLAB_KADEMLIA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/kit.h"
#include "protocols/protocol.h"

/* Sizes on the wire. Every datagram carries IPv4 (20 B) + UDP (8 B) headers and a Kademlia
 * header of 17 B: type (1), the 64-bit RPC id that the reply echoes (8) and the sender's node
 * id (8), from which every receiver updates its buckets (§2.2). A contact is an IPv4 address,
 * a port and the 8-byte id (14 B); a list is a count byte and its contacts. A value is a
 * 64-bit token (8 B); a STORE also carries its publication time (4 B). */
#define KAD_WIRE_IP_UDP 28
#define KAD_WIRE_HEADER 17
#define KAD_WIRE_KEY 8
#define KAD_WIRE_VALUE 8
#define KAD_WIRE_TIME 4
#define KAD_WIRE_CONTACT 14
#define KAD_WIRE_COUNT 1

/* X(type, fixed payload bytes, bytes per list entry) on the wire: enum kad_msg below, and the
 * names and wire table in kademlia.c (KIT_MSG_TABLES, protocols/kit.h) */
#define KAD_MESSAGES(X)                                                                        \
    /* liveness probe of a bucket's least recently seen contact, and its answer */             \
    X(KAD_MSG_PING_REQ, 0, 0)                                                                  \
    X(KAD_MSG_PING_REP, 0, 0)                                                                  \
    /* "store this key/value": key, value, publication time; acknowledged */                  \
    X(KAD_MSG_STORE_REQ, KAD_WIRE_KEY + KAD_WIRE_VALUE + KAD_WIRE_TIME, 0)                     \
    X(KAD_MSG_STORE_REP, 0, 0)                                                                 \
    /* "the k contacts you know closest to this id" */                                        \
    X(KAD_MSG_FIND_NODE_REQ, KAD_WIRE_KEY, 0)                                                  \
    /* the same, unless the receiver holds the key's value */                                  \
    X(KAD_MSG_FIND_VALUE_REQ, KAD_WIRE_KEY, 0)                                                 \
    /* the answer to either: up to k contacts */                                              \
    X(KAD_MSG_NODES_REP, KAD_WIRE_COUNT, KAD_WIRE_CONTACT)                                     \
    /* FIND_VALUE's answer by a holder: key and value */                                      \
    X(KAD_MSG_VALUE_REP, KAD_WIRE_KEY + KAD_WIRE_VALUE, 0)

extern const struct protocol kademlia_protocol;
KIT_MSG_DECLARE(kad, KAD, KAD_MESSAGES);
/* Bytes on the wire of a message of `type` carrying `entries` contacts. */
uint32_t kad_wire_size(unsigned type, size_t entries);

/* The bucket of id at self: the index of the highest bit in which they differ (id != self). */
unsigned kad_bucket_index(uint64_t self, uint64_t id);
/* Is a strictly closer to key than b in the XOR metric? */
bool kad_closer(uint64_t a, uint64_t b, uint64_t key);
/* An id in bucket i of self, its low bits from the random word r. */
uint64_t kad_bucket_random(uint64_t self, unsigned i, uint64_t r);

#endif
