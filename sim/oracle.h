/* oracle.h — global truth, for MEASUREMENT ONLY: who really owns a key right now.
 *
 * It holds every node that is in the overlay (alive and registered), sorted by identifier, and
 * answers "which nodes own key k" under the protocol's key metric. Protocols never call it: it
 * judges their answers.
 *
 * A sorted set is a list of chunks, each a sorted array of at most ORACLE_CHUNK members, with
 * the first member and the rank of each chunk kept in arrays of their own: a membership change
 * moves the members of one chunk and the chunk table (O(N / ORACLE_CHUNK + ORACLE_CHUNK)), not
 * the whole set, and the i-th member is found by a binary search over the chunks. */
#ifndef P2PLAB_ORACLE_H
#define P2PLAB_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/protocol.h"

struct oracle_entry {
    uint64_t id;
    node_t slot;
};

#define ORACLE_CHUNK 1024             /* members per chunk at most: 16 KiB */

/* A sorted run of members: everyone, or one group's. */
struct oracle_set {
    struct oracle_entry **chunk;      /* n_chunks sorted arrays, in order, none empty */
    uint32_t *len, *room;             /* members of each chunk, and its allocated room */
    uint32_t *rank;                   /* members in the chunks before it */
    struct oracle_entry *first;       /* each chunk's first member, for the binary search */
    uint32_t n_chunks, cap_chunks;
    uint32_t n;                       /* members in all */
    struct oracle_entry *bulk;        /* between oracle_bulk_begin and _end: unsorted members */
    uint32_t bulk_n, bulk_cap;
};

struct oracle {
    struct oracle_set all;
    uint32_t cap;                     /* members the overlay can hold (oracle_init) */
    struct oracle_set *group;         /* KEYS_GROUP: members by group, id mod n_groups */
    uint32_t n_groups;
    enum key_metric metric;
    bool bulk;                        /* between oracle_bulk_begin and _end: sets unsorted */
};

int oracle_init(struct oracle *o, enum key_metric metric, uint32_t cap);
void oracle_free(struct oracle *o);
/* KEYS_GROUP: k groups; call before any member is added. 0 or -1 (out of memory). */
int oracle_set_groups(struct oracle *o, uint32_t k);
void oracle_add(struct oracle *o, uint64_t id, node_t slot);
/* Loading many members at once (a converged start adds every node at t = 0): between begin and
 * end, oracle_add appends and nothing may be asked or removed; end sorts each set once, to the
 * same order as one oracle_add at a time, in O(N log N) rather than O(N^2). */
void oracle_bulk_begin(struct oracle *o);
void oracle_bulk_end(struct oracle *o);
void oracle_remove(struct oracle *o, uint64_t id, node_t slot);
/* The owner of key (rank 0) or its r-th replica holder (rank r); NODE_NONE when empty. */
node_t oracle_owner(const struct oracle *o, uint64_t key, uint32_t rank);
/* Is `slot`, a member with identifier `id`, among the first `replicas` owners of key? */
bool oracle_owns(const struct oracle *o, uint64_t key, node_t slot, uint64_t id,
                 uint32_t replicas);

#endif
