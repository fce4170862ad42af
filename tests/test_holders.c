/* test_holders.c — holder counts per workload key and the share of keys lost (keys.lost). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim/holders.h"

/* Four distinct keys (one listed twice): all lost until held; a key is lost again only when
 * its last holder drops it; keys outside the workload change nothing. */
static void test_holders_lost_share(void **state)
{
    (void)state;
    const uint64_t keys[] = { 40, 10, 30, 20, 30 };
    struct holders h;
    assert_int_equal(holders_init(&h, keys, 5), 0);
    assert_int_equal(h.n, 4);
    assert_float_equal(holders_lost_share(&h), 1.0, 1e-12);
    holders_change(&h, 10, +1);
    holders_change(&h, 10, +1);
    holders_change(&h, 30, +1);
    holders_change(&h, 99, +1);                       /* not a workload key */
    assert_float_equal(holders_lost_share(&h), 0.5, 1e-12);
    holders_change(&h, 10, -1);
    assert_float_equal(holders_lost_share(&h), 0.5, 1e-12);   /* one holder left */
    holders_change(&h, 10, -1);
    assert_float_equal(holders_lost_share(&h), 0.75, 1e-12);
    holders_free(&h);
    assert_true(isnan(holders_lost_share(&h)));       /* off: no stored data */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_holders_lost_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
