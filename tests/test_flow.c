/* test_flow.c — the flow-level bandwidth model (sim/flow.h) on small hand-computed cases:
 * rate = min(up / sender's flows, down / receiver's flows), recomputed when a flow starts or
 * ends, completion rounded up to the microsecond. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/flow.h"
#include "sim/rng.h"

#include <gsl/gsl_rng.h>

#define HOSTS 8
#define MAXF 64

struct bed {
    struct engine e;
    struct flow_table t;
    int64_t done[MAXF];               /* completion time per flow number, -1 if not yet */
    uint32_t type_of[MAXF];
};

static void bed_init(struct bed *b)
{
    memset(b, 0, sizeof *b);
    assert_int_equal(engine_init(&b->e, 16, 64), 0);
    assert_int_equal(flow_init(&b->t, HOSTS, 16), 0);
    for (int i = 0; i < MAXF; i++)
        b->done[i] = -1;
}

static void bed_free(struct bed *b)
{
    flow_free(&b->t);
    engine_free(&b->e);
}

/* Flow number k (carried as the message type) of `bytes` from host a to host b. */
static uint64_t start(struct bed *b, uint16_t k, uint32_t a, uint32_t h, uint32_t bytes)
{
    struct flow_msg m = { .src = { a, 1 }, .dst = { h, 1 }, .type = k, .size = bytes,
                          .lookup = LOOKUP_NONE, .len = 2 };
    uint16_t body = (uint16_t)(k * 3);
    return flow_start(&b->t, &b->e, a, h, &m, &body);
}

/* Runs until `until` (us); EV_TIMER events at their time start flow (arg) via `later`. */
struct later {
    uint16_t k;
    uint32_t a, b, bytes;
};

static void run(struct bed *b, int64_t until, const struct later *lt)
{
    uint32_t i;
    while ((i = engine_next(&b->e, until)) != UINT32_MAX) {
        struct event ev = *engine_ev(&b->e, i);
        engine_release(&b->e, i);
        if (ev.kind == EV_FLOW_END) {
            struct flow_msg m;
            uint16_t body = 0;
            if (flow_finish(&b->t, &b->e, (uint32_t)ev.arg, ev.rpc_gen, &m, &body)) {
                assert_int_equal(body, m.type * 3);
                b->done[m.type] = b->e.now;
            }
        } else if (ev.kind == EV_TIMER) {
            const struct later *l = &lt[ev.arg];
            start(b, l->k, l->a, l->b, l->bytes);
        }
    }
}

static void at(struct bed *b, int64_t t, uint64_t arg)
{
    uint32_t i = engine_alloc(&b->e, 0);
    struct event *ev = engine_ev(&b->e, i);
    uint32_t g = ev->gen;
    *ev = (struct event){ .gen = g, .kind = EV_TIMER, .arg = arg };
    engine_schedule(&b->e, i, t);
}

/* One flow of 1,000 B, up 1,000 B/s, down 2,000 B/s: sender-bound, 1 s. */
static void test_flow_one(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    flow_set_capacity(&b.t, 0, 1000, 1000);
    flow_set_capacity(&b.t, 1, 1000, 2000);
    uint64_t h = start(&b, 1, 0, 1, 1000);
    assert_true(flow_rate(&b.t, h) == 1000.0);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[1], 1000000);
    assert_true(flow_rate(&b.t, h) == 0);       /* the handle is stale */
    assert_int_equal(b.t.active, 0);
    bed_free(&b);
}

/* Two flows of 1,000 B share an uploader of 1,000 B/s (receivers 10,000 B/s): 500 B/s each,
 * both end at 2 s; the uploader's sum of rates is its capacity. */
static void test_flow_shared_uploader(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    flow_set_capacity(&b.t, 0, 1000, 1000);
    flow_set_capacity(&b.t, 1, 1000, 10000);
    flow_set_capacity(&b.t, 2, 1000, 10000);
    uint64_t h1 = start(&b, 1, 0, 1, 1000), h2 = start(&b, 2, 0, 2, 1000);
    assert_true(flow_rate(&b.t, h1) == 500.0 && flow_rate(&b.t, h2) == 500.0);
    assert_true(flow_out_rate(&b.t, 0) == 1000.0);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[1], 2000000);
    assert_int_equal(b.done[2], 2000000);
    bed_free(&b);
}

/* A receiver of 500 B/s bounds a flow from a 10,000 B/s uploader: 1,000 B take 2 s; two such
 * flows into it from two uploaders take 250 B/s each, 4 s. */
static void test_flow_receiver_bound(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    flow_set_capacity(&b.t, 0, 10000, 10000);
    flow_set_capacity(&b.t, 1, 10000, 500);
    flow_set_capacity(&b.t, 2, 10000, 10000);
    uint64_t h = start(&b, 1, 0, 1, 1000);
    assert_true(flow_rate(&b.t, h) == 500.0);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[1], 2000000);
    int64_t t0 = b.e.now;
    start(&b, 2, 0, 1, 1000);
    start(&b, 3, 2, 1, 1000);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[2] - t0, 4000000);
    assert_int_equal(b.done[3] - t0, 4000000);
    bed_free(&b);
}

/* Uploader 1,000 B/s, flows of 500 B and 1,500 B: 500 B/s each until the first ends at 1 s;
 * the second then has 1,000 B left at 1,000 B/s and ends at 2 s (not 3 s). */
static void test_flow_end_speeds_up_other(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    flow_set_capacity(&b.t, 0, 1000, 1000);
    flow_set_capacity(&b.t, 1, 1000, 10000);
    flow_set_capacity(&b.t, 2, 1000, 10000);
    start(&b, 1, 0, 1, 500);
    uint64_t h2 = start(&b, 2, 0, 2, 1500);
    run(&b, 1000000, NULL);
    assert_int_equal(b.done[1], 1000000);
    assert_true(flow_rate(&b.t, h2) == 1000.0);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[2], 2000000);
    bed_free(&b);
}

/* A flow that starts later slows the first: A (1,000 B) alone at 1,000 B/s; B (1,000 B) starts
 * at 0.5 s: A's last 500 B at 500 B/s end at 1.5 s; B has sent 500 B by then, the rest at
 * 1,000 B/s ends at 2 s. */
static void test_flow_start_slows_other(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    flow_set_capacity(&b.t, 0, 1000, 1000);
    flow_set_capacity(&b.t, 1, 1000, 10000);
    flow_set_capacity(&b.t, 2, 1000, 10000);
    static const struct later lt[] = { { 2, 0, 2, 1000 } };
    start(&b, 1, 0, 1, 1000);
    at(&b, 500000, 0);
    run(&b, INT64_MAX, lt);
    assert_int_equal(b.done[1], 1500000);
    assert_int_equal(b.done[2], 2000000);
    bed_free(&b);
}

/* Cancelling and dropping a host: the cancelled flow is never delivered, and the survivor
 * takes the whole link; flows of a dropped host vanish. */
static void test_flow_cancel_and_drop(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    for (uint32_t h = 0; h < 4; h++)
        flow_set_capacity(&b.t, h, 1000, 10000);
    uint64_t h1 = start(&b, 1, 0, 1, 1000);
    start(&b, 2, 0, 2, 1000);
    start(&b, 3, 3, 2, 1000);
    flow_cancel(&b.t, &b.e, h1);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[1], -1);
    assert_int_equal(b.done[2], 1000000);
    assert_int_equal(b.done[3], 1000000);
    start(&b, 4, 0, 1, 1000);
    start(&b, 5, 1, 2, 1000);
    flow_drop_host(&b.t, &b.e, 1);
    assert_int_equal(b.t.active, 0);
    run(&b, INT64_MAX, NULL);
    assert_int_equal(b.done[4], -1);
    assert_int_equal(b.done[5], -1);
    bed_free(&b);
}

/* Random flows among 8 hosts of random capacities: at every event no host sends faster than
 * its upload or receives faster than its download, and every byte arrives no sooner than the
 * bytes / capacity bound of its own link alone. */
static void test_flow_capacities_respected(void **state)
{
    (void)state;
    struct bed b;
    bed_init(&b);
    gsl_rng *r = rng_stream(7, "test_flow");
    for (uint32_t h = 0; h < HOSTS; h++)
        flow_set_capacity(&b.t, h, 1000 + gsl_rng_uniform_int(r, 9000),
                          1000 + gsl_rng_uniform_int(r, 9000));
    struct later lt[MAXF];
    for (uint16_t k = 0; k < MAXF; k++) {
        uint32_t a = (uint32_t)gsl_rng_uniform_int(r, HOSTS), h;
        do
            h = (uint32_t)gsl_rng_uniform_int(r, HOSTS);
        while (h == a);
        lt[k] = (struct later){ k, a, h, 500 + (uint32_t)gsl_rng_uniform_int(r, 5000) };
        at(&b, (int64_t)gsl_rng_uniform_int(r, 3000000), k);
    }
    int64_t start_t[MAXF];
    uint32_t i;
    while ((i = engine_next(&b.e, INT64_MAX)) != UINT32_MAX) {
        struct event ev = *engine_ev(&b.e, i);
        engine_release(&b.e, i);
        if (ev.kind == EV_FLOW_END) {
            struct flow_msg m;
            uint16_t body;
            if (flow_finish(&b.t, &b.e, (uint32_t)ev.arg, ev.rpc_gen, &m, &body))
                b.done[m.type] = b.e.now;
        } else {
            start_t[ev.arg] = b.e.now;
            start(&b, lt[ev.arg].k, lt[ev.arg].a, lt[ev.arg].b, lt[ev.arg].bytes);
        }
        for (uint32_t h = 0; h < HOSTS; h++) {
            double in = 0;
            for (uint32_t f = b.t.host[h].in_head; f != FLOW_NONE; f = b.t.f[f].next_in)
                in += b.t.f[f].rate;
            assert_true(flow_out_rate(&b.t, h) <= b.t.up[h] * (1 + 1e-12));
            assert_true(in <= b.t.down[h] * (1 + 1e-12));
        }
    }
    for (int k = 0; k < MAXF; k++) {
        double cap = b.t.up[lt[k].a] < b.t.down[lt[k].b] ? b.t.up[lt[k].a] : b.t.down[lt[k].b];
        assert_true(b.done[k] >= 0);
        assert_true((double)(b.done[k] - start_t[k]) >= lt[k].bytes / cap * 1e6 - 1);
    }
    gsl_rng_free(r);
    bed_free(&b);
}

/* Bodies beyond FLOW_BODY_SMALL bytes travel in a second pool whose slots are reused: 40-byte
 * bodies interleaved with 2-byte ones, some cancelled, all delivered intact, and the large pool
 * never holds more slots than large bodies were in flight at once (3). */
static void test_flow_large_bodies(void **state)
{
    (void)state;
    struct engine e;
    struct flow_table t;
    assert_int_equal(engine_init(&e, 64, 64), 0);
    assert_int_equal(flow_init(&t, HOSTS, 64), 0);
    for (uint32_t h = 0; h < HOSTS; h++)
        flow_set_capacity(&t, h, 1000, 1000);
    unsigned delivered = 0;
    for (int round = 0; round < 4; round++) {
        uint64_t handle[6];
        for (uint16_t k = 0; k < 6; k++) {
            unsigned char body[40];
            memset(body, round * 16 + k, sizeof body);
            struct flow_msg m = { .src = { k, 1 }, .dst = { k + 1u, 1 }, .type = k, .size = 100,
                                  .lookup = LOOKUP_NONE, .len = k % 2 ? 2 : 40 };
            handle[k] = flow_start(&t, &e, k, k + 1u, &m, body);
        }
        flow_cancel(&t, &e, handle[2]);   /* a large one */
        flow_cancel(&t, &e, handle[3]);   /* a small one */
        uint32_t i;
        while ((i = engine_next(&e, INT64_MAX)) != UINT32_MAX) {
            struct event ev = *engine_ev(&e, i);
            engine_release(&e, i);
            struct flow_msg m;
            unsigned char got[64];
            memset(got, 0xee, sizeof got);
            if (ev.kind != EV_FLOW_END || !flow_finish(&t, &e, (uint32_t)ev.arg, ev.rpc_gen, &m, got))
                continue;
            assert_true(m.type != 2 && m.type != 3);
            assert_int_equal(m.len, m.type % 2 ? 2 : 40);
            for (uint32_t j = 0; j < m.len; j++)
                assert_int_equal(got[j], round * 16 + m.type);
            assert_int_equal(got[m.len], 0xee);
            delivered++;
        }
        assert_int_equal(t.active, 0);
    }
    assert_int_equal(delivered, 4 * 4);
    assert_int_equal(t.big_used, 3);
    flow_free(&t);
    engine_free(&e);
}

/* Each flow keeps its two shares and refreshes them when the flow count at either end changes;
 * so at any moment its rate must be what the counts give afresh, min(up / n_out, down / n_in),
 * to the last bit. Random starts, cancels, completions and host drops among 8 hosts, with
 * several flows between the same two hosts and flows from a host to itself. */
static void test_flow_rates_fresh(void **state)
{
    (void)state;
    gsl_rng *r = rng_stream(7, "test_flow shares");
    struct engine e;
    struct flow_table t;
    assert_int_equal(engine_init(&e, 16, 64), 0);
    assert_int_equal(flow_init(&t, HOSTS, 16), 0);
    for (uint32_t h = 0; h < HOSTS; h++)
        flow_set_capacity(&t, h, 1000 + 977.0 * (double)gsl_rng_uniform_int(r, 9),
                          3000 + 1231.0 * (double)gsl_rng_uniform_int(r, 7));
    uint64_t live[256];
    unsigned nlive = 0, checked = 0, drops = 0;
    for (int step = 0; step < 4000; step++) {
        double u = gsl_rng_uniform(r);
        if (u < 0.5 && nlive < 256) {
            uint32_t a = (uint32_t)gsl_rng_uniform_int(r, HOSTS), b = (uint32_t)gsl_rng_uniform_int(r, 4);
            struct flow_msg m = { .src = { a, 1 }, .dst = { b, 1 }, .size = 1 + (uint32_t)gsl_rng_uniform_int(r, 5000),
                                  .lookup = LOOKUP_NONE };
            live[nlive++] = flow_start(&t, &e, a, b, &m, NULL);
        } else if (u < 0.6 && nlive) {
            unsigned k = (unsigned)gsl_rng_uniform_int(r, nlive);
            flow_cancel(&t, &e, live[k]);
        } else if (u < 0.62) {
            flow_drop_host(&t, &e, (uint32_t)gsl_rng_uniform_int(r, HOSTS));
            drops++;
        } else {
            uint32_t i = engine_next(&e, INT64_MAX);
            if (i != UINT32_MAX) {
                struct event ev = *engine_ev(&e, i);
                engine_release(&e, i);
                struct flow_msg m;
                flow_finish(&t, &e, (uint32_t)ev.arg, ev.rpc_gen, &m, NULL);
            }
        }
        unsigned keep = 0;            /* forget the handles gone stale */
        for (unsigned k = 0; k < nlive; k++)
            if (flow_rate(&t, live[k]) > 0)
                live[keep++] = live[k];
        nlive = keep;
        for (unsigned k = 0; k < nlive; k++) {
            const struct flow_rec *f = &t.f[(uint32_t)live[k]];
            const struct flow_host *a = &t.host[f->from_host], *b = &t.host[f->to_host];
            double up = t.up[f->from_host] / a->n_out, down = t.down[f->to_host] / b->n_in;
            assert_true(f->rate == (up < down ? up : down));
            checked++;
        }
    }
    assert_true(checked > 10000 && drops > 40);
    gsl_rng_free(r);
    flow_free(&t);
    engine_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_one),
        cmocka_unit_test(test_flow_shared_uploader),
        cmocka_unit_test(test_flow_receiver_bound),
        cmocka_unit_test(test_flow_end_speeds_up_other),
        cmocka_unit_test(test_flow_start_slows_other),
        cmocka_unit_test(test_flow_cancel_and_drop),
        cmocka_unit_test(test_flow_capacities_respected),
        cmocka_unit_test(test_flow_large_bodies),
        cmocka_unit_test(test_flow_rates_fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
