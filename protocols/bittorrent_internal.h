/* bittorrent_internal.h — what tests/test_bittorrent*.c call in protocols/bittorrent.c: the
 * piece picker, wire sizes, the two reference models and the protocol itself. Not for other
 * modules: the engine reaches BitTorrent only through its struct protocol. */
#ifndef P2PLAB_BITTORRENT_INTERNAL_H
#define P2PLAB_BITTORRENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "protocols/protocol.h"

#define BT_NONE UINT32_MAX            /* no piece, block or connection */

extern const struct protocol bittorrent_protocol;
/* The message types' names, indexed by type ("BT_MSG_HAVE"); n_msg_names of them. */
extern const char *const bt_msg_name[];

/* A mask of the first `blocks` blocks of a piece. */
uint64_t bt_full_mask(uint32_t blocks);
/* A peer's own view of the content, as the piece picker reads it. */
struct bt_pick {
    uint32_t P;                       /* pieces */
    const uint64_t *have;             /* bitfields of ceil(P / 64) words: complete pieces, */
    const uint64_t *started, *taken;  /* ... and those of bt_pick_marks */
    const uint64_t *got, *req, *full; /* P block masks: received, requested, all */
    const uint16_t *avail;            /* P counts: copies among our connections */
};
/* Fills `started` and `taken` (ceil(P / 64) words each) from the block masks. */
void bt_pick_marks(uint32_t P, const uint64_t *got, const uint64_t *req, const uint64_t *full,
                   uint64_t *started, uint64_t *taken);
/* The piece to request a block of from a peer that has `peer_has` (see bittorrent.c). */
uint32_t bt_pick_piece(const struct bt_pick *k, const uint64_t *peer_has, bool random_first,
                       gsl_rng *r);
uint32_t bt_pick_block(uint64_t got, uint64_t req, uint64_t full);
/* Bytes on the wire of a message of `type` (a bitfield for `pieces`, a peer list of `peers`). */
uint32_t bt_wire_size(unsigned type, uint32_t pieces, uint32_t peers);
/* Qiu & Srikant's steady-state download time and Kumar & Ross's lower bound, seconds. */
double bt_fluid_time(double F, double up_mean, double down_mean, double seed_time_s, double eta);
double bt_lower_bound(double F, double u_s, double d_min, double n, double u_sum);

#endif
