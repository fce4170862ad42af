/* test_bittorrent.c — BitTorrent's pure parts: the piece picker (strict priority, random first
 * piece, local rarest first), wire sizes from BEP 3, the two reference models, the parameter
 * table and the documented bytes per node. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "protocols/bittorrent_internal.h"
#include "sim/rng.h"

#define NP 8

/* bt_pick_piece on P = 8 pieces, with the started and taken bitfields made from the masks. */
static uint32_t pick(const uint64_t *peer, const uint64_t *have, const uint64_t *got,
                     const uint64_t *req, const uint64_t *full, const uint16_t *avail,
                     bool random_first, gsl_rng *r)
{
    uint64_t started, taken;
    bt_pick_marks(NP, got, req, full, &started, &taken);
    struct bt_pick k = { .P = NP, .have = have, .started = &started, .taken = &taken, .got = got,
                         .req = req, .full = full, .avail = avail };
    return bt_pick_piece(&k, peer, random_first, r);
}

static bool tbit(const uint64_t *b, uint32_t i) { return b[i / 64] >> (i % 64) & 1; }

/* The picker as first written: two scans of every piece. */
static uint32_t pick_by_scan(uint32_t n, const uint64_t *peer_has, const uint64_t *have,
                             const uint64_t *got, const uint64_t *req, const uint64_t *full,
                             const uint16_t *avail, bool random_first, gsl_rng *r)
{
    uint32_t best = BT_NONE, best_left = UINT32_MAX;
    for (uint32_t p = 0; p < n; p++) {
        uint64_t used = got[p] | req[p];
        if (!tbit(peer_has, p) || tbit(have, p) || used == 0 || used == full[p])
            continue;
        uint32_t left = (uint32_t)__builtin_popcountll(full[p] & ~used);
        if (left < best_left) {
            best_left = left;
            best = p;
        }
    }
    if (best != BT_NONE)
        return best;
    uint32_t ties = 0, rarest = UINT32_MAX;
    for (uint32_t p = 0; p < n; p++) {
        if (!tbit(peer_has, p) || tbit(have, p) || (got[p] | req[p]) != 0)
            continue;
        uint32_t a = random_first ? 0 : avail[p];
        if (a < rarest) {
            rarest = a;
            ties = 0;
        }
        if (a == rarest && gsl_rng_uniform_int(r, ++ties) == 0)
            best = p;
    }
    return best;
}

/* The picker visits only the pieces the peer has and we lack, a word at a time, yet picks what
 * a scan of every piece picks and draws the same random numbers: random tables of 300 pieces
 * (the last word partial), 1 to 4 blocks a piece, two streams from one seed compared draw for
 * draw. */
static void test_bittorrent_pick_words(void **state)
{
    (void)state;
    enum { N = 300, WORDS = (N + 63) / 64 };
    gsl_rng *g = rng_stream(3, "test_bittorrent tables");
    gsl_rng *r1 = rng_stream(4, "test_bittorrent picks"), *r2 = rng_stream(4, "test_bittorrent picks");
    uint64_t got[N], req[N], full[N], peer[WORDS], have[WORDS], started[WORDS], taken[WORDS];
    uint16_t avail[N];
    unsigned partial = 0, fresh = 0, none = 0;
    for (int t = 0; t < 2000; t++) {
        double p_have = t % 10 ? gsl_rng_uniform(g) : 1, p_used = gsl_rng_uniform(g) * 0.3;
        memset(peer, 0, sizeof peer);
        memset(have, 0, sizeof have);
        for (uint32_t p = 0; p < N; p++) {
            full[p] = bt_full_mask(1 + (uint32_t)gsl_rng_uniform_int(g, 4));
            got[p] = req[p] = 0;
            if (gsl_rng_uniform(g) < p_used) {
                got[p] = gsl_rng_get(g) & full[p];
                req[p] = gsl_rng_get(g) & full[p] & ~got[p];
            }
            if (gsl_rng_uniform(g) < p_have)
                have[p / 64] |= UINT64_C(1) << (p % 64);
            if (gsl_rng_uniform(g) < 0.7)
                peer[p / 64] |= UINT64_C(1) << (p % 64);
            avail[p] = (uint16_t)gsl_rng_uniform_int(g, 1 + (t % 5));
        }
        bool rf = t % 7 == 0;
        bt_pick_marks(N, got, req, full, started, taken);
        struct bt_pick k = { .P = N, .have = have, .started = started, .taken = taken,
                             .got = got, .req = req, .full = full, .avail = avail };
        uint32_t a = bt_pick_piece(&k, peer, rf, r1);
        uint32_t b = pick_by_scan(N, peer, have, got, req, full, avail, rf, r2);
        assert_int_equal(a, b);
        assert_true(gsl_rng_get(r1) == gsl_rng_get(r2));   /* as many draws */
        if (a == BT_NONE)
            none++;
        else if (got[a] | req[a])
            partial++;
        else
            fresh++;
    }
    print_message("picks: %u of a started piece, %u fresh, %u none\n", partial, fresh, none);
    assert_true(partial > 100 && fresh > 100 && none > 100);  /* every branch was taken */
    gsl_rng_free(g);
    gsl_rng_free(r1);
    gsl_rng_free(r2);
}

static unsigned msg_type(const char *name)
{
    for (unsigned t = 0; t < bittorrent_protocol.n_msg_names; t++)
        if (strcmp(bt_msg_name[t], name) == 0)
            return t;
    fail_msg("no message type %s", name);
    return 0;
}

/* Rarest first: the peer has pieces 1, 3, 5; availability 4, 2, 3 ⇒ piece 3; ties are broken
 * at random among the rarest only (both of two equally rare pieces come up). */
static void test_bittorrent_rarest_first(void **state)
{
    (void)state;
    gsl_rng *r = rng_stream(1, "test_bittorrent");
    uint64_t peer = (1u << 1) | (1u << 3) | (1u << 5), have = 0, got[NP] = { 0 }, req[NP] = { 0 },
             full[NP];
    uint16_t avail[NP] = { 9, 4, 9, 2, 9, 3, 9, 9 };
    for (int p = 0; p < NP; p++)
        full[p] = bt_full_mask(16);
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), 3);
    have = 1u << 3;                   /* we have it: next rarest */
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), 5);
    have = 0;
    avail[5] = 2;
    int seen[NP] = { 0 };
    for (int i = 0; i < 200; i++)
        seen[pick(&peer, &have, got, req, full, avail, false, r)]++;
    assert_true(seen[3] > 50 && seen[5] > 50 && seen[1] == 0);
    /* random first piece: availability ignored, every piece of the peer comes up */
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 300; i++)
        seen[pick(&peer, &have, got, req, full, avail, true, r)]++;
    assert_true(seen[1] > 50 && seen[3] > 50 && seen[5] > 50);
    /* nothing the peer has is missing */
    have = peer;
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), BT_NONE);
    gsl_rng_free(r);
}

/* Strict priority: a started piece with an unrequested block wins over a rarer fresh one; of
 * two started pieces, the one with fewer blocks left; a fully requested piece is skipped. */
static void test_bittorrent_strict_priority(void **state)
{
    (void)state;
    gsl_rng *r = rng_stream(2, "test_bittorrent");
    uint64_t peer = 0xff, have = 0, got[NP] = { 0 }, req[NP] = { 0 }, full[NP];
    uint16_t avail[NP] = { 1, 5, 5, 5, 5, 5, 5, 5 };
    for (int p = 0; p < NP; p++)
        full[p] = bt_full_mask(4);
    got[6] = 0x1;                     /* 3 blocks left */
    req[2] = 0x3;                     /* 2 blocks left */
    req[4] = 0xf;                     /* all requested: skipped */
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), 2);
    assert_int_equal(bt_pick_block(got[2], req[2], full[2]), 2);
    req[2] = 0xf;
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), 6);
    assert_int_equal(bt_pick_block(got[6], req[6], full[6]), 1);
    got[6] = 0xf;
    have = 1u << 6;
    req[2] = 0x3;
    got[2] = 0x0;
    peer &= ~(uint64_t)(1u << 2);     /* the peer lacks the started piece: rarest fresh one */
    assert_int_equal(pick(&peer, &have, got, req, full, avail, false, r), 0);
    assert_int_equal(bt_pick_block(0xf, 0, 0xf), BT_NONE);
    assert_true(bt_full_mask(64) == UINT64_MAX && bt_full_mask(16) == 0xffff);
    gsl_rng_free(r);
}

/* BEP 3: 4-byte length + 1-byte id + payload, handshake 68 bytes, + 40 bytes of TCP/IP per
 * message; a 16 KiB block (13 + 16384 bytes) spans 12 segments of 1460 bytes. */
static void test_bittorrent_wire_sizes(void **state)
{
    (void)state;
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_HANDSHAKE_REQ"), 0, 0), 68 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_HAVE"), 0, 0), 4 + 1 + 4 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_REQUEST"), 0, 0), 4 + 1 + 12 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_CANCEL"), 0, 0), 4 + 1 + 12 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_CHOKE"), 0, 0), 5 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_INTERESTED"), 0, 0), 5 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_KEEPALIVE"), 0, 0), 4 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_BITFIELD"), 256, 0), 5 + 32 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_BITFIELD"), 257, 0), 5 + 33 + 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_PIECE"), 0, 0), 13 + 16384 + 12 * 40);
    assert_int_equal(bt_wire_size(msg_type("BT_MSG_ANNOUNCE_REP"), 0, 50), 40 + 150 + 6 * 50);
}

/* Kumar & Ross's bound and the Qiu–Srikant time on hand-computed cases. */
static void test_bittorrent_models(void **state)
{
    (void)state;
    double F = 8e6;
    /* seed-bound: F/u_s = 80 s > N F/(u_s + Σu) = 10 x 8e6 / (1e5 + 1e6) = 72.7 s */
    assert_true(fabs(bt_lower_bound(F, 1e5, 1e6, 10, 1e6) - 80) < 1e-9);
    /* swarm-bound with 200 peers: 200 x 8e6 / (1e5 + 1e7) = 158.4 s */
    assert_true(fabs(bt_lower_bound(F, 1e5, 1e6, 200, 1e7) - 1.6e9 / 1.01e7) < 1e-9);
    /* download-bound: d_min 1e4 */
    assert_true(fabs(bt_lower_bound(F, 1e7, 1e4, 1, 0) - 800) < 1e-9);
    /* upload-constrained, seeds leave at once: T = F/u */
    assert_true(fabs(bt_fluid_time(F, 1e5, 1e6, 0, 1) - 80) < 1e-9);
    /* seeds stay 30 s: (1/η)(1/μ − 1/γ) = 80 − 30 = 50 s */
    assert_true(fabs(bt_fluid_time(F, 1e5, 1e6, 30, 1) - 50) < 1e-9);
    /* seeds stay long: download-constrained, T = F/c = 8 s */
    assert_true(fabs(bt_fluid_time(F, 1e5, 1e6, 1000, 1) - 8) < 1e-9);
}

/* The protocol's parameter table parses its own defaults. */
static void test_bittorrent_params(void **state)
{
    (void)state;
    const struct protocol *p = protocol_find("bittorrent");
    assert_non_null(p);
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, p->params), 0);
    assert_int_equal(cfg.v[param_find(p->params, "piece_size")].i, 262144);
    assert_int_equal(cfg.v[param_find(p->params, "unchoke_slots")].i, 4);
    assert_int_equal(p->servers(&cfg), 2);  /* tracker + 1 seed */
}

/* The figures in bittorrent.c's opening comment: an 80-byte fixed part, and with the defaults
 * 80 + 3 x 32 + 256 + 80 x (24 + 32 + 432) + 256 x 18 + 400 = 44,480 bytes per node slot. */
static void test_bittorrent_node_bytes(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, bittorrent_protocol.params), 0);
    assert_int_equal(bittorrent_protocol.node_state_size, 80);
    assert_int_equal(bittorrent_protocol.state_size(&cfg), 44480);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bittorrent_rarest_first),
        cmocka_unit_test(test_bittorrent_strict_priority),
        cmocka_unit_test(test_bittorrent_pick_words),
        cmocka_unit_test(test_bittorrent_wire_sizes),
        cmocka_unit_test(test_bittorrent_models),
        cmocka_unit_test(test_bittorrent_params),
        cmocka_unit_test(test_bittorrent_node_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
