/* test_readme.c — README.md's reference sections match what the binary's tables say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/harness.h"

static char *read_all(FILE *f)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    return buf;
}

static void check_section(const char *readme, const char *name, const char *args)
{
    char begin[64], cmd[1024];
    snprintf(begin, sizeof begin, "<!-- generated:%s -->\n", name);
    const char *s = strstr(readme, begin);
    if (!s)
        fail_msg("README.md has no section %s", begin);
    s += strlen(begin);
    const char *e = strstr(s, "<!-- /generated -->");
    assert_non_null(e);
    snprintf(cmd, sizeof cmd, "'%s' %s", getenv("P2PLAB_BINARY"), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *want = read_all(p);
    assert_int_equal(pclose(p), 0);
    if (strlen(want) != (size_t)(e - s) || memcmp(want, s, (size_t)(e - s)) != 0)
        fail_msg("README.md section \"%s\" is out of date: run tools/readme-ref.sh", name);
    free(want);
}

static void test_readme_reference_is_current(void **state)
{
    (void)state;
    FILE *f = fopen(harness_path("README.md"), "r");
    assert_non_null(f);
    char *readme = read_all(f);
    fclose(f);
    check_section(readme, "keys", "list keys --markdown");
    check_section(readme, "metrics", "list metrics --markdown");
    check_section(readme, "protocols", "list --markdown");
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readme_reference_is_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
