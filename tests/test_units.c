/* test_units.c — durations, rates, fractions, numbers, booleans: parsing, errors, formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sim/units.h"

#define DURATION_EXPECTED "expected a duration such as 80ms, 30s, 5min, 2h or 1d"
#define RATE_EXPECTED "expected a rate such as 10/s, 600/min, 3/h or 1/node/min"

static int64_t dur(const char *s)
{
    int64_t us = -12345;
    const char *err = NULL;
    assert_int_equal(units_duration(s, &us, &err), 0);
    return us;
}

static const char *dur_err(const char *s)
{
    int64_t us = -12345;
    const char *err = NULL;
    assert_int_equal(units_duration(s, &us, &err), -1);
    assert_int_equal(us, -12345);     /* untouched on error */
    assert_non_null(err);
    return err;
}

static void test_units_duration_every_unit(void **state)
{
    (void)state;
    assert_int_equal(dur("250us"), 250);
    assert_int_equal(dur("80ms"), 80000);
    assert_int_equal(dur("30s"), 30 * US_PER_S);
    assert_int_equal(dur("5min"), 300 * US_PER_S);
    assert_int_equal(dur("2h"), 7200 * US_PER_S);
    assert_int_equal(dur("1d"), 86400 * US_PER_S);
    assert_int_equal(dur("+3s"), 3 * US_PER_S);
}

static void test_units_duration_fractions(void **state)
{
    (void)state;
    assert_int_equal(dur("1.5s"), 1500000);
    assert_int_equal(dur("0.5ms"), 500);
    assert_int_equal(dur(".25s"), 250000);
    assert_int_equal(dur("2.5min"), 150 * US_PER_S);
    assert_int_equal(dur("0.1s"), 100000);
    assert_int_equal(dur("1.001ms"), 1001);
    assert_int_equal(dur("0.5d"), 43200 * US_PER_S);
    const char *fine = "is finer than a microsecond, the simulator's resolution";
    assert_string_equal(dur_err("1.5us"), fine);
    assert_string_equal(dur_err("0.0001ms"), fine);
}

static void test_units_duration_zero_and_bare_numbers(void **state)
{
    (void)state;
    assert_int_equal(dur("0"), 0);
    assert_int_equal(dur("0s"), 0);
    assert_int_equal(dur("0.0h"), 0);
    assert_string_equal(dur_err("80"), "needs a unit: " DURATION_EXPECTED);
    assert_string_equal(dur_err("1.5"), "needs a unit: " DURATION_EXPECTED);
}

static void test_units_duration_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "30 seconds", "30 s", "30sec", "30S", "s", "abc", "1e3ms", "inf", "nan", "infs",
        "0x10s", " 30s", "30s ", "1..5s", "1.5.0s", "--1s", "ms30", "30ms5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(dur_err(bad[i]), DURATION_EXPECTED);
    const char *err;
    int64_t us;
    assert_int_equal(units_duration(NULL, &us, &err), -1);
}

static void test_units_duration_negative(void **state)
{
    (void)state;
    assert_string_equal(dur_err("-5s"), "must not be negative");
    assert_string_equal(dur_err("-0.5ms"), "must not be negative");
    assert_int_equal(dur("-0s"), 0);
}

static void test_units_duration_overflow(void **state)
{
    (void)state;
    const char *big = "is too large: durations go up to 106751991d";
    assert_int_equal(dur("106751991d"), INT64_C(106751991) * 86400 * US_PER_S);
    assert_int_equal(dur("9223372036854775807us"), INT64_MAX);
    assert_string_equal(dur_err("9223372036854775808us"), big);   /* ERANGE in strtoll */
    assert_string_equal(dur_err("106751992d"), big);
    assert_string_equal(dur_err("99999999999999999999999999h"), big);
    assert_string_equal(dur_err("106751991.5d"), big);
    char huge[400];                   /* strtod's ERANGE */
    memset(huge, '9', 350);
    strcpy(huge + 350, "s");
    assert_string_equal(dur_err(huge), big);
}

static void test_units_duration_format_round_trip(void **state)
{
    (void)state;
    static const struct { int64_t us; const char *text; } cases[] = {
        { 0, "0" }, { 1, "1us" }, { 999, "999us" }, { 1000, "1ms" }, { 1500000, "1500ms" },
        { 30 * US_PER_S, "30s" }, { 90 * US_PER_S, "90s" }, { 300 * US_PER_S, "5min" },
        { 3600 * US_PER_S, "1h" }, { 5400 * US_PER_S, "90min" }, { 86400 * US_PER_S, "1d" },
        { 3 * 86400 * US_PER_S, "3d" }, { INT64_MAX, "9223372036854775807us" },
        { 86401 * US_PER_S, "86401s" }, { 123456789, "123456789us" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        units_format_duration(cases[i].us, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(dur(buf), cases[i].us);
    }
}

static struct rate rate_of(const char *s)
{
    struct rate r = { -1, true };
    const char *err = NULL;
    assert_int_equal(units_rate(s, &r, &err), 0);
    return r;
}

static const char *rate_err(const char *s)
{
    struct rate r;
    const char *err = NULL;
    assert_int_equal(units_rate(s, &r, &err), -1);
    assert_non_null(err);
    return err;
}

static void test_units_rate_every_unit(void **state)
{
    (void)state;
    struct rate r = rate_of("10/s");
    assert_true(r.per_s == 10 && !r.per_node);
    r = rate_of("600/min");
    assert_true(r.per_s == 10 && !r.per_node);
    r = rate_of("3/h");
    assert_true(r.per_s == 3.0 / 3600 && !r.per_node);
    r = rate_of("1/node/min");
    assert_true(r.per_s == 1.0 / 60 && r.per_node);
    r = rate_of("0.5/node/s");
    assert_true(r.per_s == 0.5 && r.per_node);
    r = rate_of("2/node/h");
    assert_true(r.per_s == 2.0 / 3600 && r.per_node);
    r = rate_of("1e3/s");
    assert_true(r.per_s == 1000 && !r.per_node);
    r = rate_of("0");
    assert_true(r.per_s == 0 && !r.per_node);
    r = rate_of("0/node/s");
    assert_true(r.per_s == 0 && r.per_node);
}

static void test_units_rate_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/s", "10", "x/s", "10/sec", "10/node", "10/node/", "10/nodes/s", "10/d", "10 /s",
        "10/ s", "5 per minute", "inf/s", "nan/s", "10/s/node",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool bare = strcmp(bad[i], "10") == 0;
        const char *want = bare ? "needs a unit: " RATE_EXPECTED : RATE_EXPECTED;
        assert_string_equal(rate_err(bad[i]), want);
    }
    assert_string_equal(rate_err("-1/s"), "must not be negative");
    assert_string_equal(rate_err("1e400/s"), "is out of range");
}

static void test_units_rate_format_round_trip(void **state)
{
    (void)state;
    static const struct { const char *in, *canonical; } cases[] = {
        { "10/s", "10/s" }, { "600/min", "10/s" }, { "1/min", "1/min" }, { "3/h", "3/h" },
        { "1/node/min", "1/node/min" }, { "0.5/node/s", "30/node/min" }, { "7/node/h", "7/node/h" },
        { "0", "0" }, { "0/node/s", "0/node/s" }, { "1e20/s", "1e+20/s" },
        { "100000/s", "100000/s" }, { "0.123456789/s", "0.123456789/s" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rate r = rate_of(cases[i].in), back;
        char buf[64];
        units_format_rate(r, buf, sizeof buf);
        assert_string_equal(buf, cases[i].canonical);
        back = rate_of(buf);
        assert_true(back.per_s == r.per_s);
        assert_true(back.per_node == r.per_node);
    }
    /* rates that are a whole count in no unit still read back exactly */
    static const double odd[] = { 1.0 / 7, 2.0 / 3, 1e-9, 12345.678, 0.1 / 3600 };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char buf[64];
        struct rate r = { odd[i], i % 2 == 0 };
        units_format_rate(r, buf, sizeof buf);
        struct rate back = rate_of(buf);
        assert_true(back.per_s == r.per_s);
        assert_true(back.per_node == r.per_node);
    }
}

static void test_units_fraction(void **state)
{
    (void)state;
    static const struct { const char *s; double v; } good[] = {
        { "50%", 0.5 }, { "0.5", 0.5 }, { "0", 0 }, { "1", 1 }, { "100%", 1 }, { "0%", 0 },
        { "12.5%", 0.125 }, { "1e-3", 0.001 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double f = -1;
        const char *err;
        assert_int_equal(units_fraction(good[i].s, &f, &err), 0);
        assert_true(f == good[i].v);
    }
    static const struct { const char *s, *err; } bad[] = {
        { "150%", "must be between 0 and 1 (0% to 100%)" },
        { "1.5", "must be between 0 and 1 (0% to 100%)" },
        { "-0.1", "must be between 0 and 1 (0% to 100%)" },
        { "half", "expected a fraction such as 50% or 0.5" },
        { "50 %", "expected a fraction such as 50% or 0.5" },
        { "50%%", "expected a fraction such as 50% or 0.5" },
        { "", "expected a fraction such as 50% or 0.5" },
        { "1e999", "is out of range" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double f;
        const char *err = NULL;
        assert_int_equal(units_fraction(bad[i].s, &f, &err), -1);
        assert_string_equal(err, bad[i].err);
    }
}

static void test_units_int(void **state)
{
    (void)state;
    int64_t v;
    const char *err = NULL;
    assert_int_equal(units_int("42", &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(units_int("-7", &v, &err), 0);
    assert_int_equal(v, -7);
    assert_int_equal(units_int("+3", &v, &err), 0);
    assert_int_equal(v, 3);
    assert_int_equal(units_int("9223372036854775807", &v, &err), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(units_int("-9223372036854775808", &v, &err), 0);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(units_int("9223372036854775808", &v, &err), -1);
    assert_string_equal(err, "is out of range");
    static const char *const bad[] = { "", "many", "1.0", " 1", "1 ", "0x10", "1_000",
                                       "1,000", "+", "-" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        assert_int_equal(units_int(bad[i], &v, &err), -1);
        assert_string_equal(err, "must be a whole number");
    }
    /* a whole number with an exponent is one, but not written as p2plab reads it */
    static const char *const exp[] = { "1e3", "1e12", "2.5E6" };
    for (size_t i = 0; i < sizeof exp / sizeof exp[0]; i++) {
        err = NULL;
        assert_int_equal(units_int(exp[i], &v, &err), -1);
        assert_string_equal(err, "must be a whole number written in digits, such as 1000000, "
                                 "not with an exponent");
    }
}

static void test_units_double(void **state)
{
    (void)state;
    double v;
    const char *err = NULL;
    assert_int_equal(units_double("0.8", &v, &err), 0);
    assert_true(v == 0.8);
    assert_int_equal(units_double("-2.5e-3", &v, &err), 0);
    assert_true(v == -2.5e-3);
    assert_int_equal(units_double("7", &v, &err), 0);
    assert_true(v == 7);
    static const char *const bad[] = { "", "inf", "nan", "0x1p3", "1.0.0", "two", "1e", "1 " };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        assert_int_equal(units_double(bad[i], &v, &err), -1);
        assert_string_equal(err, "must be a number");
    }
    assert_int_equal(units_double("1e400", &v, &err), -1);
    assert_string_equal(err, "is out of range");
    assert_int_equal(units_double("1e-400", &v, &err), -1);
    assert_string_equal(err, "is out of range");
}

static void test_units_bool(void **state)
{
    (void)state;
    static const struct { const char *s; bool v; } good[] = {
        { "true", true }, { "false", false }, { "yes", true }, { "no", false }, { "on", true },
        { "off", false }, { "True", true }, { "OFF", false },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        bool b = !good[i].v;
        const char *err;
        assert_int_equal(units_bool(good[i].s, &b, &err), 0);
        assert_true(b == good[i].v);
    }
    static const char *const bad[] = { "", "1", "0", "y", "enabled", "truex" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool b;
        const char *err = NULL;
        assert_int_equal(units_bool(bad[i], &b, &err), -1);
        assert_string_equal(err, "must be true or false (or yes/no, on/off)");
    }
}

static void test_units_format_double_round_trip(void **state)
{
    (void)state;
    static const struct { double v; const char *text; } cases[] = {
        { 0.1, "0.1" }, { 0.8, "0.8" }, { 1, "1" }, { 100000, "100000" }, { 2.5, "2.5" },
        { -3, "-3" }, { 1e20, "1e+20" }, { 1e-9, "1e-09" }, { 0.3, "0.3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        units_format_double(cases[i].v, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
    static const double any[] = { 1.0 / 3, 3.141592653589793, 1e-300, 123456789012345.0,
                                  0.1 + 0.2, 5e-324,
                                  1.7976931348623157e308, 4503599627370497.0 };
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        char buf[64];
        double back;
        const char *err;
        units_format_double(any[i], buf, sizeof buf);
        if (any[i] == 5e-324)         /* a subnormal: strtod says ERANGE, so units_double refuses */
            continue;
        assert_int_equal(units_double(buf, &back, &err), 0);
        assert_true(back == any[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_duration_every_unit),
        cmocka_unit_test(test_units_duration_fractions),
        cmocka_unit_test(test_units_duration_zero_and_bare_numbers),
        cmocka_unit_test(test_units_duration_garbage),
        cmocka_unit_test(test_units_duration_negative),
        cmocka_unit_test(test_units_duration_overflow),
        cmocka_unit_test(test_units_duration_format_round_trip),
        cmocka_unit_test(test_units_rate_every_unit),
        cmocka_unit_test(test_units_rate_garbage),
        cmocka_unit_test(test_units_rate_format_round_trip),
        cmocka_unit_test(test_units_fraction),
        cmocka_unit_test(test_units_int),
        cmocka_unit_test(test_units_double),
        cmocka_unit_test(test_units_bool),
        cmocka_unit_test(test_units_format_double_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
