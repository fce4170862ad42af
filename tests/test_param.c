/* test_param.c — parameter tables: parsing with range checks, formatting, every protocol's
 * defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "protocols/protocol.h"
#include "sim/param.h"

static const struct param table[] = {
    { .name = "successors", .type = PARAM_INT, .def = "16", .min = 1, .max = 64,
      .doc = "an integer" },
    { .name = "alpha", .type = PARAM_DOUBLE, .def = "0.5", .min = 0, .max = 1,
      .doc = "a real number" },
    { .name = "stabilize", .type = PARAM_DURATION, .def = "30s", .min = 0.001, .max = 86400,
      .doc = "a duration" },
    { .name = "proximity", .type = PARAM_BOOL, .def = "true", .doc = "a flag" },
    { .name = "mode", .type = PARAM_ENUM, .def = "iterative", .choices = "iterative|recursive",
      .doc = "a choice" },
    { .name = "big", .type = PARAM_INT, .def = "1000000000", .min = 1, .max = 4000000000.0,
      .doc = "a large integer" },
    { .name = NULL },
};

static const char *parse_err(int k, const char *text)
{
    union pval v = { .i = -77 };
    const char *err = NULL;
    assert_int_equal(param_parse(&table[k], text, &v, &err), -1);
    assert_int_equal(v.i, -77);
    assert_non_null(err);
    return err;
}

static union pval parse_ok(int k, const char *text)
{
    union pval v;
    const char *err = NULL;
    assert_int_equal(param_parse(&table[k], text, &v, &err), 0);
    return v;
}

static void test_param_int_range(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(0, "1").i, 1);
    assert_int_equal(parse_ok(0, "64").i, 64);
    assert_string_equal(parse_err(0, "0"), "must be between 1 and 64 (got 0)");
    assert_string_equal(parse_err(0, "65"), "must be between 1 and 64 (got 65)");
    assert_string_equal(parse_err(0, "-3"), "must be between 1 and 64 (got -3)");
    assert_string_equal(parse_err(0, "many"), "must be a whole number (got \"many\")");
    assert_string_equal(parse_err(0, "8.5"), "must be a whole number (got \"8.5\")");
    assert_string_equal(parse_err(5, "0"), "must be between 1 and 4000000000 (got 0)");
    assert_int_equal(parse_ok(5, "4000000000").i, INT64_C(4000000000));
}

static void test_param_double_range(void **state)
{
    (void)state;
    assert_true(parse_ok(1, "0.25").d == 0.25);
    assert_true(parse_ok(1, "1").d == 1);
    assert_string_equal(parse_err(1, "1.5"), "must be between 0 and 1 (got 1.5)");
    assert_string_equal(parse_err(1, "x"), "must be a number (got \"x\")");
}

static void test_param_duration_range(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(2, "1ms").i, 1000);
    assert_int_equal(parse_ok(2, "1d").i, INT64_C(86400000000));
    assert_string_equal(parse_err(2, "0"), "must be between 1ms and 1d (got 0)");
    assert_string_equal(parse_err(2, "2d"), "must be between 1ms and 1d (got 2d)");
    assert_string_equal(parse_err(2, "30"), "needs a unit: expected a duration such as 80ms, "
                                            "30s, 5min, 2h or 1d (got \"30\")");
    assert_string_equal(parse_err(2, "-1s"), "must not be negative (got \"-1s\")");
}

static void test_param_bool_and_enum(void **state)
{
    (void)state;
    assert_int_equal(parse_ok(3, "false").i, 0);
    assert_int_equal(parse_ok(3, "on").i, 1);
    assert_string_equal(parse_err(3, "maybe"),
                        "must be true or false (or yes/no, on/off) (got \"maybe\")");
    assert_int_equal(parse_ok(4, "iterative").i, 0);
    assert_int_equal(parse_ok(4, "recursive").i, 1);
    assert_string_equal(parse_err(4, "iter"), "must be one of iterative, recursive (got \"iter\")");
    assert_string_equal(parse_err(4, ""), "must be one of iterative, recursive (got \"\")");
    assert_string_equal(parse_err(4, "Iterative"),
                        "must be one of iterative, recursive (got \"Iterative\")");
}

static void test_param_long_text_is_cut(void **state)
{
    (void)state;
    char text[200];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    const char *err = parse_err(4, text);
    assert_non_null(strstr(err, "xxx...\")"));
    assert_true(strlen(err) < 120);
}

static void test_param_format_round_trip(void **state)
{
    (void)state;
    static const struct { int k; const char *in, *out; } cases[] = {
        { 0, "16", "16" }, { 0, "+8", "8" }, { 1, "0.1", "0.1" }, { 1, "1", "1" },
        { 2, "30s", "30s" }, { 2, "1.5s", "1500ms" }, { 2, "60s", "1min" }, { 3, "yes", "true" },
        { 3, "off", "false" }, { 4, "recursive", "recursive" }, { 5, "4000000000", "4000000000" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct param *p = &table[cases[i].k];
        union pval v = parse_ok(cases[i].k, cases[i].in);
        char buf[64];
        param_format(p, v, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
        union pval back = parse_ok(cases[i].k, buf);
        assert_memory_equal(&back, &v, sizeof v);
    }
}

static void test_param_defaults_and_find(void **state)
{
    (void)state;
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, table), 0);
    assert_ptr_equal(cfg.params, table);
    assert_int_equal(cfg.count, 6);
    assert_int_equal(cfg.v[0].i, 16);
    assert_true(cfg.v[1].d == 0.5);
    assert_int_equal(cfg.v[2].i, 30000000);
    assert_int_equal(cfg.v[3].i, 1);
    assert_int_equal(cfg.v[4].i, 0);
    assert_int_equal(param_find(table, "mode"), 4);
    assert_int_equal(param_find(table, "successors"), 0);
    assert_int_equal(param_find(table, "sucessors"), -1);
    assert_int_equal(param_find(table, ""), -1);
}

static void test_param_defaults_reject_a_bad_table(void **state)
{
    (void)state;
    static const struct param bad[] = {
        { .name = "r", .type = PARAM_INT, .def = "0", .min = 1, .max = 8, .doc = "out of range" },
        { .name = NULL },
    };
    static const struct param no_default[] = {
        { .name = "m", .type = PARAM_ENUM, .choices = "a|b", .doc = "no default" },
        { .name = NULL },
    };
    struct proto_config cfg;
    assert_int_equal(param_defaults(&cfg, bad), -1);
    assert_int_equal(param_defaults(&cfg, no_default), -1);
}

/* Every protocol's table loads, and every default reads back from its own formatting. */
static void test_param_every_protocol_default_parses(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct protocol *const *pp = protocol_registry; *pp; pp++, n++) {
        const struct protocol *p = *pp;
        struct proto_config cfg;
        assert_non_null(p->params);
        assert_int_equal(param_defaults(&cfg, p->params), 0);
        assert_true(cfg.count <= PARAM_MAX);
        for (size_t k = 0; k < cfg.count; k++) {
            const struct param *par = &p->params[k];
            assert_non_null(par->doc);
            assert_true(par->type != PARAM_ENUM || par->choices);
            char buf[64];
            union pval back;
            const char *err = NULL;
            param_format(par, cfg.v[k], buf, sizeof buf);
            assert_int_equal(param_parse(par, buf, &back, &err), 0);
            assert_memory_equal(&back, &cfg.v[k], sizeof back);
            assert_int_equal(param_find(p->params, par->name), (int)k);
        }
        assert_ptr_equal(protocol_find(p->name), p);
    }
    assert_true(n >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_int_range),
        cmocka_unit_test(test_param_double_range),
        cmocka_unit_test(test_param_duration_range),
        cmocka_unit_test(test_param_bool_and_enum),
        cmocka_unit_test(test_param_long_text_is_cut),
        cmocka_unit_test(test_param_format_round_trip),
        cmocka_unit_test(test_param_defaults_and_find),
        cmocka_unit_test(test_param_defaults_reject_a_bad_table),
        cmocka_unit_test(test_param_every_protocol_default_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
