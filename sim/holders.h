/* holders.h — stored data, counted: how many live nodes hold each workload key (keys.lost).
 *
 * For protocols that store the keys' data (sim_store_data). The protocols report every change
 * of what a node holds through sim_key_gained / sim_key_dropped (including, from their `down`
 * hook, everything a departing node held), so the share of keys no live node holds is known at
 * any time in O(1), without scanning the nodes. Measurement only: nothing here is visible to a
 * node. */
#ifndef P2PLAB_HOLDERS_H
#define P2PLAB_HOLDERS_H

#include <stdbool.h>
#include <stdint.h>

struct holders {
    uint64_t *key;                    /* the workload's distinct keys, sorted */
    uint32_t *count;                  /* live nodes holding key[i] */
    uint32_t n;                       /* distinct keys */
    uint32_t lost;                    /* keys with count 0 */
    bool on;                          /* the protocol stores data */
};

/* Counts the holders of keys[0..n) (duplicates counted once), every key held by nobody yet.
 * 0, or -1 if memory runs out. */
int holders_init(struct holders *h, const uint64_t *keys, uint32_t n);
void holders_free(struct holders *h);
/* A node gained (+1) or dropped (-1) key; keys outside the workload are ignored. */
void holders_change(struct holders *h, uint64_t key, int delta);
/* The share of the workload's keys no live node holds; NaN when off or without keys. */
double holders_lost_share(const struct holders *h);

#endif
