/* test_engine.c — event records, pop order, the `until` horizon, cancellation, pool growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/engine.h"

/* Allocates a record for node n, fills its body with `fill` and queues it at t. */
static uint32_t put(struct engine *e, node_t n, int64_t t, unsigned char fill)
{
    uint32_t i = engine_alloc(e, e->body_max);
    struct event *ev = engine_ev(e, i);
    ev->kind = EV_TIMER;
    ev->node = n;
    ev->len = (uint32_t)e->body_max;
    memset(engine_body(e, i), fill, e->body_max);
    engine_schedule(e, i, t);
    return i;
}

static void test_engine_records_hold_their_body(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 37, 4), 0);
    const struct engine_pool *p = &e.pool[put(&e, 100, 2000, 100) >> ENGINE_SLOT_BITS];
    assert_true(p->size >= sizeof(struct event) + 37);
    assert_int_equal(p->size % 8, 0);
    for (unsigned n = 0; n < 100; n++)
        put(&e, n, 1000 - (int64_t)n, (unsigned char)n);
    for (unsigned k = 0; k < 101; k++) {
        uint32_t i = engine_next(&e, INT64_MAX);
        assert_int_not_equal(i, UINT32_MAX);
        struct event *ev = engine_ev(&e, i);
        unsigned n = ev->node;
        assert_int_equal(n, k < 100 ? 99 - k : 100);
        assert_int_equal(ev->kind, EV_TIMER);
        const unsigned char *b = engine_body(&e, i);
        for (size_t j = 0; j < 37; j++)
            assert_int_equal(b[j], (unsigned char)n);
        engine_release(&e, i);
    }
    engine_free(&e);
}

/* Events pop by time, equal times in scheduling order; now follows them. */
static void test_engine_next_pops_in_time_then_schedule_order(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 0, 16), 0);
    const int64_t t[] = { 30, 10, 20, 10, 30, 10, 0 };
    const node_t want[] = { 6, 1, 3, 5, 2, 0, 4 };
    for (node_t n = 0; n < 7; n++)
        put(&e, n, t[n], 0);
    for (int k = 0; k < 7; k++) {
        uint32_t i = engine_next(&e, INT64_MAX);
        assert_int_not_equal(i, UINT32_MAX);
        assert_int_equal(engine_ev(&e, i)->node, want[k]);
        assert_int_equal(e.now, t[want[k]]);
        engine_release(&e, i);
    }
    assert_int_equal(engine_next(&e, INT64_MAX), UINT32_MAX);
    assert_int_equal(e.processed, 7);
    assert_int_equal(e.stale, 0);
    engine_free(&e);
}

/* An event past `until` stays queued and comes out on a later call. */
static void test_engine_until_leaves_later_events_queued(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 8, 16), 0);
    put(&e, 1, 100, 0);
    put(&e, 2, 200, 0);
    put(&e, 3, 300, 0);
    uint32_t i = engine_next(&e, 150);
    assert_int_equal(engine_ev(&e, i)->node, 1);
    engine_release(&e, i);
    assert_int_equal(engine_next(&e, 150), UINT32_MAX);
    assert_int_equal(e.now, 100);                /* the clock did not jump to `until` */
    assert_int_equal(queue_len(&e.q), 2);
    i = engine_next(&e, 200);                    /* `until` is inclusive */
    assert_int_equal(engine_ev(&e, i)->node, 2);
    engine_release(&e, i);
    assert_int_equal(engine_next(&e, 299), UINT32_MAX);
    i = engine_next(&e, INT64_MAX);
    assert_int_equal(engine_ev(&e, i)->node, 3);
    assert_int_equal(e.now, 300);
    engine_release(&e, i);
    assert_int_equal(e.processed, 3);
    engine_free(&e);
}

/* A cancelled event is never returned; it is released and counted stale when it comes up. */
static void test_engine_cancel_skips_and_counts_stale(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 0, 16), 0);
    put(&e, 1, 10, 0);
    uint32_t c = put(&e, 2, 20, 0);
    put(&e, 3, 30, 0);
    uint64_t h = engine_handle(&e, c);
    engine_cancel(&e, h);
    engine_cancel(&e, h);                        /* twice is harmless */
    uint32_t i = engine_next(&e, INT64_MAX);
    assert_int_equal(engine_ev(&e, i)->node, 1);
    engine_release(&e, i);
    i = engine_next(&e, INT64_MAX);
    assert_int_equal(engine_ev(&e, i)->node, 3);
    assert_int_equal(e.now, 30);
    engine_release(&e, i);
    assert_int_equal(e.processed, 2);
    assert_int_equal(e.stale, 1);
    /* The cancelled record went back to the free list and comes out clean. */
    uint32_t r1 = engine_alloc(&e, 0), r2 = engine_alloc(&e, 0);
    assert_true(r1 == c || r2 == c);
    assert_false(engine_ev(&e, c)->kind & ENGINE_CANCELLED);
    engine_free(&e);
}

/* A handle whose event was delivered and released names nothing: cancelling it must not touch
 * the record's next use. */
static void test_engine_stale_handle_cancels_nothing(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 0, 16), 0);
    uint32_t a = put(&e, 1, 10, 0);
    uint64_t old = engine_handle(&e, a);
    uint32_t i = engine_next(&e, INT64_MAX);
    assert_int_equal(i, a);
    engine_release(&e, i);
    uint32_t b = put(&e, 2, 20, 0);              /* reuses the record */
    assert_int_equal(b, a);
    engine_cancel(&e, old);
    engine_cancel(&e, ((uint64_t)7 << 32) | 1000000u);   /* an index never handed out */
    i = engine_next(&e, INT64_MAX);
    assert_int_equal(i, b);
    assert_int_equal(engine_ev(&e, i)->node, 2);
    engine_release(&e, i);
    assert_int_equal(e.stale, 0);
    assert_int_equal(e.processed, 2);
    engine_free(&e);
}

/* The pool grows far past its first capacity; handles taken before the growth still cancel. */
static void test_engine_pool_grows_and_handles_survive(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 24, 1), 0);
    const struct engine_pool *p = &e.pool[engine_alloc(&e, 24) >> ENGINE_SLOT_BITS];
    uint32_t first_cap = p->cap;
    enum { N = 50000 };
    static uint64_t handles[N];
    for (uint32_t n = 0; n < N; n++) {
        uint32_t i = put(&e, n, (int64_t)n, (unsigned char)n);
        handles[n] = engine_handle(&e, i);
    }
    assert_true(p->cap >= N);
    assert_true(p->cap > first_cap);
    for (uint32_t n = 0; n < N; n += 2)
        engine_cancel(&e, handles[n]);
    for (uint32_t n = 1; n < N; n += 2) {
        uint32_t i = engine_next(&e, INT64_MAX);
        assert_int_not_equal(i, UINT32_MAX);
        assert_int_equal(engine_ev(&e, i)->node, n);
        const unsigned char *b = engine_body(&e, i);
        assert_int_equal(b[0], (unsigned char)n);
        assert_int_equal(b[23], (unsigned char)n);
        engine_release(&e, i);
    }
    assert_int_equal(engine_next(&e, INT64_MAX), UINT32_MAX);
    assert_int_equal(e.processed, N / 2);
    assert_int_equal(e.stale, N / 2);
    engine_free(&e);
}

/* A steady pop-one-push-one loop reuses freed records: the pool stays at the high-water mark. */
static void test_engine_reuses_freed_records(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 16, 64), 0);
    for (node_t n = 0; n < 100; n++)
        put(&e, n, n, 0);
    const struct engine_pool *p = &e.pool[engine_alloc(&e, 16) >> ENGINE_SLOT_BITS];
    uint32_t used = p->used, cap = p->cap;
    for (int k = 0; k < 1000000; k++) {
        uint32_t i = engine_next(&e, INT64_MAX);
        node_t n = engine_ev(&e, i)->node;
        engine_release(&e, i);
        put(&e, n, e.now + 1 + (n % 7), 0);
    }
    assert_int_equal(p->used, used);
    assert_int_equal(p->cap, cap);
    assert_int_equal(queue_len(&e.q), 100);
    assert_int_equal(e.processed, 1000000);
    engine_free(&e);
}

/* Times past the queue's range are queued at its end; they stay behind every real time. */
static void test_engine_far_future_is_clamped(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 0, 16), 0);
    put(&e, 1, INT64_MAX, 0);
    put(&e, 2, QUEUE_TIME_MAX - 1, 0);
    uint32_t i = engine_next(&e, INT64_MAX);
    assert_int_equal(engine_ev(&e, i)->node, 2);
    engine_release(&e, i);
    i = engine_next(&e, INT64_MAX);
    assert_int_equal(engine_ev(&e, i)->node, 1);
    assert_int_equal(e.now, QUEUE_TIME_MAX);
    engine_release(&e, i);
    engine_free(&e);
}

/* A record's room follows its body, not the run's largest body: a timer is the bare header,
 * a message at most twice its body. A run whose largest body is 4,000 bytes keeps 10,000
 * pending timers in a tenth of what 10,000 records of 4,000 bytes would take. */
static void test_engine_record_costs_what_its_body_needs(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 4000, 16), 0);
    const size_t lens[] = { 0, 1, 8, 9, 16, 17, 100, 1000, 3999, 4000 };
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t len = lens[k];
        const struct engine_pool *p = &e.pool[engine_alloc(&e, len) >> ENGINE_SLOT_BITS];
        size_t room = p->size - sizeof(struct event);
        assert_true(room >= len);
        assert_true(room <= (len < 8 ? 8 : 2 * len));
        if (len == 0)
            assert_int_equal(p->size, sizeof(struct event));
    }
    size_t before = engine_pool_bytes(&e);
    for (int n = 0; n < 10000; n++)
        engine_schedule(&e, engine_alloc(&e, 0), n);
    assert_true(engine_pool_bytes(&e) - before < (size_t)10000 * (sizeof(struct event) + 4000) / 10);
    engine_free(&e);
}

/* Records of every size interleave in one time order; bodies, handles and cancellation work
 * across the classes, and a freed record returns to its own class. */
static void test_engine_classes_share_one_order(void **state)
{
    (void)state;
    struct engine e;
    assert_int_equal(engine_init(&e, 3000, 16), 0);
    enum { N = 3000 };
    static uint64_t handles[N];
    for (uint32_t n = 0; n < N; n++) {
        size_t len = (size_t)(n * 7919u) % 3001u;        /* every size, out of order */
        uint32_t i = engine_alloc(&e, len);
        struct event *ev = engine_ev(&e, i);
        ev->kind = EV_MESSAGE;
        ev->node = n;
        ev->len = (uint32_t)len;
        memset(engine_body(&e, i), (int)(n & 0xff), len);
        engine_schedule(&e, i, (int64_t)(n / 3));         /* three to a time */
        handles[n] = engine_handle(&e, i);
    }
    for (uint32_t n = 0; n < N; n += 5)
        engine_cancel(&e, handles[n]);
    for (uint32_t n = 0; n < N; n++) {
        if (n % 5 == 0)
            continue;
        uint32_t i = engine_next(&e, INT64_MAX);
        assert_int_not_equal(i, UINT32_MAX);
        const struct event *ev = engine_ev(&e, i);
        assert_int_equal(ev->node, n);
        assert_int_equal(ev->len, (size_t)(n * 7919u) % 3001u);
        const unsigned char *b = engine_body(&e, i);
        for (uint32_t j = 0; j < ev->len; j++)
            assert_int_equal(b[j], n & 0xff);
        uint32_t cls = i >> ENGINE_SLOT_BITS;
        engine_release(&e, i);
        assert_int_equal(engine_alloc(&e, ev->len) >> ENGINE_SLOT_BITS, cls);
    }
    assert_int_equal(engine_next(&e, INT64_MAX), UINT32_MAX);
    assert_int_equal(e.stale, N / 5);
    engine_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_records_hold_their_body),
        cmocka_unit_test(test_engine_next_pops_in_time_then_schedule_order),
        cmocka_unit_test(test_engine_until_leaves_later_events_queued),
        cmocka_unit_test(test_engine_cancel_skips_and_counts_stale),
        cmocka_unit_test(test_engine_stale_handle_cancels_nothing),
        cmocka_unit_test(test_engine_pool_grows_and_handles_survive),
        cmocka_unit_test(test_engine_reuses_freed_records),
        cmocka_unit_test(test_engine_far_future_is_clamped),
        cmocka_unit_test(test_engine_record_costs_what_its_body_needs),
        cmocka_unit_test(test_engine_classes_share_one_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
