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
/* The piece to request a block of from a peer that has `peer_has` (see bittorrent.c). */
uint32_t bt_pick_piece(uint32_t P, const uint64_t *peer_has, const uint64_t *have,
                       const uint64_t *got, const uint64_t *req, const uint64_t *full,
                       const uint16_t *avail, bool random_first, gsl_rng *r);
uint32_t bt_pick_block(uint64_t got, uint64_t req, uint64_t full);
/* Bytes on the wire of a message of `type` (a bitfield for `pieces`, a peer list of `peers`). */
uint32_t bt_wire_size(unsigned type, uint32_t pieces, uint32_t peers);
/* Qiu & Srikant's steady-state download time and Kumar & Ross's lower bound, seconds. */
double bt_fluid_time(double F, double up_mean, double down_mean, double seed_time_s, double eta);
double bt_lower_bound(double F, double u_s, double d_min, double n, double u_sum);

#endif
