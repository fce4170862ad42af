/* test_queue.c — the pending-event heap against a reference binary heap, ties, growth, peek. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "sim/queue.h"

/* ---- a plain binary heap of (time, seq), the reference order ----------------------------- */

struct ref {
    struct qkey *a;
    size_t len, cap;
};

static int ref_less(const struct qkey *x, const struct qkey *y)
{
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static void ref_push(struct ref *r, struct qkey k)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->a = realloc(r->a, r->cap * sizeof *r->a);
        assert_non_null(r->a);
    }
    size_t i = r->len++;
    r->a[i] = k;
    while (i > 0 && ref_less(&r->a[i], &r->a[(i - 1) / 2])) {
        struct qkey t = r->a[i];
        r->a[i] = r->a[(i - 1) / 2];
        r->a[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct qkey ref_pop(struct ref *r)
{
    struct qkey top = r->a[0];
    r->a[0] = r->a[--r->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < r->len && ref_less(&r->a[l], &r->a[m])) m = l;
        if (l + 1 < r->len && ref_less(&r->a[l + 1], &r->a[m])) m = l + 1;
        if (m == i)
            break;
        struct qkey t = r->a[i];
        r->a[i] = r->a[m];
        r->a[m] = t;
        i = m;
    }
    return top;
}

static void assert_same_key(struct qkey got, struct qkey want)
{
    assert_int_equal(got.time, want.time);
    assert_int_equal(got.seq, want.seq);
    assert_int_equal(got.ev, want.ev);
}

/* ---- tests ----------------------------------------------------------------------------- */

/* 2.4 million interleaved operations over a narrow time window, so that equal times are the
 * rule, checked pop by pop against the reference heap. */
static void test_queue_matches_reference_order(void **state)
{
    (void)state;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(rng, 12345);
    struct queue q;
    struct ref r = { 0 };
    assert_int_equal(queue_init(&q, 8), 0);
    uint64_t seq = 0;
    int64_t now = 0;
    size_t ops = 0;
    /* Phases alternate between filling (70% pushes) and draining (30% pushes), so the queue
     * size sweeps from empty to tens of thousands and back. */
    for (int phase = 0; phase < 24; phase++) {
        unsigned long push_pct = (phase % 2 == 0) ? 70 : 30;
        for (int n = 0; n < 100000; n++, ops++) {
            if (gsl_rng_uniform_int(rng, 100) < push_pct) {
                struct qkey k = {
                    .time = now + (int64_t)gsl_rng_uniform_int(rng, 50),
                    .seq = seq++,
                    .ev = (uint32_t)gsl_rng_get(rng),
                };
                assert_int_equal(queue_push(&q, k), 0);
                ref_push(&r, k);
            } else {
                struct qkey got;
                bool ok = queue_pop(&q, &got);
                assert_int_equal(ok, r.len > 0);
                if (ok) {
                    struct qkey want = ref_pop(&r);
                    assert_same_key(got, want);
                    assert_true(got.time >= now);
                    now = got.time;
                }
            }
            assert_int_equal(queue_len(&q), r.len);
        }
    }
    while (r.len > 0) {
        struct qkey got;
        assert_true(queue_pop(&q, &got));
        assert_same_key(got, ref_pop(&r));
    }
    assert_true(ops >= 1000000);
    assert_int_equal(queue_len(&q), 0);
    queue_free(&q);
    free(r.a);
    gsl_rng_free(rng);
}

/* Pushes and pops `ops` operations, checked pop by pop against the reference heap. Times are
 * now + a draw below `spread` (wide spreads fill the high buckets and their block lists);
 * with `any_order`, seqs are drawn at random instead of growing and one push in eight goes
 * before the last time popped, the cases the engine never produces but the queue must order. */
static void against_reference(unsigned long seed, uint64_t spread, bool any_order, size_t ops)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_taus2);
    gsl_rng_set(rng, seed);
    struct queue q;
    struct ref r = { 0 };
    assert_int_equal(queue_init(&q, 0), 0);
    uint64_t seq = 0;
    int64_t now = 0;
    size_t pops = 0;
    for (size_t n = 0; n < ops; n++) {
        /* fill for the first half of each 40,000 operations, drain for the second */
        unsigned long push_pct = (n / 20000) % 2 == 0 ? 75 : 25;
        if (gsl_rng_uniform_int(rng, 100) < push_pct) {
            /* a power-law spread: most delays short, some up to `spread` */
            uint64_t d = (uint64_t)(gsl_rng_uniform(rng) * gsl_rng_uniform(rng) *
                                    gsl_rng_uniform(rng) * (double)spread);
            int64_t t = now + (int64_t)d;
            if (any_order && gsl_rng_uniform_int(rng, 8) == 0) {
                int64_t back = (int64_t)gsl_rng_uniform_int(rng, 4);
                t = now >= back ? now - back : 0;
            }
            struct qkey k = { .time = t,
                              .seq = any_order ? gsl_rng_get(rng) & 0xffffff : seq++,
                              .ev = (uint32_t)n };
            assert_int_equal(queue_push(&q, k), 0);
            ref_push(&r, k);
        } else {
            struct qkey got;
            bool ok = queue_pop(&q, &got);
            assert_int_equal(ok, r.len > 0);
            if (ok) {
                assert_same_key(got, ref_pop(&r));
                if (got.time > now)
                    now = got.time;
                pops++;
            }
        }
        assert_int_equal(queue_len(&q), r.len);
    }
    while (r.len > 0) {
        struct qkey got;
        assert_true(queue_pop(&q, &got));
        assert_same_key(got, ref_pop(&r));
        pops++;
    }
    assert_true(pops >= ops / 3);
    queue_free(&q);
    free(r.a);
    gsl_rng_free(rng);
}

/* Times spread over 2^40 us, so keys sit in every bucket, thousands to a bucket: the same pop
 * order as the reference, equal times included (the product of three uniforms piles up at 0). */
static void test_queue_wide_spread_matches_reference(void **state)
{
    (void)state;
    against_reference(7, UINT64_C(1) << 40, false, 400000);
    against_reference(8, 3000, false, 400000);
}

/* Seqs in no order and times before the last one popped: still the reference order. */
static void test_queue_any_order_matches_reference(void **state)
{
    (void)state;
    against_reference(9, 1000, true, 200000);
    against_reference(10, UINT64_C(1) << 30, true, 200000);
}

/* Keys with one time pop in the order they were pushed (by seq), whatever else is queued. */
static void test_queue_ties_pop_in_insertion_order(void **state)
{
    (void)state;
    struct queue q;
    assert_int_equal(queue_init(&q, 16), 0);
    uint64_t seq = 0;
    /* 1000 keys at time 7 interleaved with keys at times 3 and 9. */
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(queue_push(&q, (struct qkey){ .time = 7, .seq = seq++, .ev = i }), 0);
        if (i % 3 == 0)
            assert_int_equal(queue_push(&q, (struct qkey){ .time = 9, .seq = seq++, .ev = 0 }), 0);
        if (i % 5 == 0)
            assert_int_equal(queue_push(&q, (struct qkey){ .time = 3, .seq = seq++, .ev = 0 }), 0);
    }
    struct qkey k;
    uint64_t last_seq = 0;
    for (int i = 0; i < 200; i++) {
        assert_true(queue_pop(&q, &k));
        assert_int_equal(k.time, 3);
        assert_true(i == 0 || k.seq > last_seq);
        last_seq = k.seq;
    }
    for (uint32_t i = 0; i < 1000; i++) {
        assert_true(queue_pop(&q, &k));
        assert_int_equal(k.time, 7);
        assert_int_equal(k.ev, i);
    }
    for (int i = 0; i < 334; i++) {
        assert_true(queue_pop(&q, &k));
        assert_int_equal(k.time, 9);
        assert_true(i == 0 || k.seq > last_seq);
        last_seq = k.seq;
    }
    assert_false(queue_pop(&q, &k));
    queue_free(&q);
}

/* A queue made for one key holds a hundred thousand, in order. */
static void test_queue_grows_from_tiny_cap(void **state)
{
    (void)state;
    struct queue q;
    assert_int_equal(queue_init(&q, 1), 0);
    const uint32_t n = 100000;
    for (uint32_t i = 0; i < n; i++) {
        /* Descending times: every push sifts all the way to the root. */
        struct qkey k = { .time = (int64_t)(n - i), .seq = i, .ev = i };
        assert_int_equal(queue_push(&q, k), 0);
    }
    assert_int_equal(queue_len(&q), n);
    assert_true(queue_bytes(&q) >= n * sizeof(qslot));
    struct qkey k;
    for (uint32_t i = 0; i < n; i++) {
        assert_true(queue_pop(&q, &k));
        assert_int_equal(k.time, (int64_t)(i + 1));
        assert_int_equal(k.ev, n - 1 - i);
    }
    assert_false(queue_pop(&q, &k));
    queue_free(&q);
}

static void test_queue_pop_on_empty_returns_false(void **state)
{
    (void)state;
    struct queue q;
    assert_int_equal(queue_init(&q, 0), 0);
    struct qkey k = { .time = 42, .seq = 1, .ev = 5 };
    assert_false(queue_pop(&q, &k));
    assert_false(queue_peek(&q, &k));
    assert_int_equal(k.time, 42);                /* left untouched */
    assert_int_equal(queue_push(&q, k), 0);
    assert_true(queue_pop(&q, &k));
    assert_false(queue_pop(&q, &k));
    assert_int_equal(queue_len(&q), 0);
    queue_free(&q);
}

/* peek shows the minimum and leaves it queued. */
static void test_queue_peek_shows_minimum(void **state)
{
    (void)state;
    struct queue q;
    assert_int_equal(queue_init(&q, 4), 0);
    int64_t times[] = { 50, 20, 80, 20, 10, 90, 10 };
    for (uint32_t i = 0; i < 7; i++)
        assert_int_equal(queue_push(&q, (struct qkey){ .time = times[i], .seq = i, .ev = i }), 0);
    struct qkey k;
    assert_true(queue_peek(&q, &k));
    assert_int_equal(k.time, 10);
    assert_int_equal(k.ev, 4);
    assert_int_equal(queue_len(&q), 7);
    assert_true(queue_peek(&q, &k));
    assert_int_equal(k.ev, 4);
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.ev, 4);
    assert_true(queue_peek(&q, &k));
    assert_int_equal(k.time, 10);
    assert_int_equal(k.ev, 6);
    assert_int_equal(queue_len(&q), 6);
    queue_free(&q);
}

/* The prefetch hint looks past bucket 0: with a few hundred keys spread over the buckets, the
 * keys 0 .. len - 1 places ahead name every queued event once, the first ones (bucket 0) in
 * exactly their pop order, and nothing lies beyond the last. */
static void test_queue_ahead_sees_past_bucket_zero(void **state)
{
    (void)state;
    enum { N = 300 };
    struct queue q;
    assert_int_equal(queue_init(&q, 4), 0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    for (uint32_t i = 0; i < N; i++) {
        int64_t t = i < 3 ? 5 : (int64_t)gsl_rng_uniform_int(r, 1u << 20);
        assert_int_equal(queue_push(&q, (struct qkey){ .time = t, .seq = i, .ev = i }), 0);
    }
    struct qkey k;
    assert_true(queue_pop(&q, &k));           /* time 5: two more of that time stay in bucket 0 */
    size_t len = queue_len(&q);
    bool seen[N] = { false };
    for (size_t j = 0; j < len; j++) {
        uint32_t ev = queue_ahead(&q, j);
        assert_true(ev < N);
        assert_false(seen[ev]);
        seen[ev] = true;
    }
    assert_int_equal(queue_ahead(&q, len), UINT32_MAX);
    uint32_t first = queue_ahead(&q, 0), second = queue_ahead(&q, 1);
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.ev, first);
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.ev, second);
    gsl_rng_free(r);
    queue_free(&q);
}

/* The packed key keeps times 0 .. QUEUE_TIME_MAX exactly and refuses anything outside. */
static void test_queue_time_range(void **state)
{
    (void)state;
    struct queue q;
    assert_int_equal(queue_init(&q, 4), 0);
    assert_int_equal(queue_push(&q, (struct qkey){ .time = -1, .seq = 0, .ev = 1 }), -1);
    assert_int_equal(queue_push(&q, (struct qkey){ .time = QUEUE_TIME_MAX + 1, .seq = 1, .ev = 2 }),
                     -1);
    assert_int_equal(queue_len(&q), 0);
    const uint64_t big = UINT64_C(1) << 47;     /* seq bits on both sides of the 64-bit words */
    assert_int_equal(queue_push(&q, (struct qkey){ .time = QUEUE_TIME_MAX, .seq = big + 1,
                                                   .ev = UINT32_MAX }), 0);
    assert_int_equal(queue_push(&q, (struct qkey){ .time = QUEUE_TIME_MAX, .seq = big,
                                                   .ev = 7 }), 0);
    assert_int_equal(queue_push(&q, (struct qkey){ .time = 0, .seq = big + 2, .ev = 0 }), 0);
    struct qkey k;
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.time, 0);
    assert_int_equal(k.seq, big + 2);
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.time, QUEUE_TIME_MAX);
    assert_int_equal(k.seq, big);
    assert_int_equal(k.ev, 7);
    assert_true(queue_pop(&q, &k));
    assert_int_equal(k.seq, big + 1);
    assert_int_equal(k.ev, UINT32_MAX);
    queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_matches_reference_order),
        cmocka_unit_test(test_queue_wide_spread_matches_reference),
        cmocka_unit_test(test_queue_any_order_matches_reference),
        cmocka_unit_test(test_queue_ties_pop_in_insertion_order),
        cmocka_unit_test(test_queue_grows_from_tiny_cap),
        cmocka_unit_test(test_queue_pop_on_empty_returns_false),
        cmocka_unit_test(test_queue_peek_shows_minimum),
        cmocka_unit_test(test_queue_time_range),
        cmocka_unit_test(test_queue_ahead_sees_past_bucket_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
