/* fuzz_scenario.c — a libFuzzer target over the scenario loader, resolver and --set.
 *
 * The input is a scenario's text; each of its lines that starts with "#set " (a YAML comment,
 * so the text still loads the same) is also applied as a --set assignment, as p2plab run
 * does: load, the assignments, check, then every point resolved. Nothing may crash, leak or
 * hang; every refusal must come with a message. Seeded with scenarios/ and the bad-input
 * catalogue (tests/bad-scenarios/); build with -DP2PLAB_FUZZ=ON (clang). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[4096] = "";
    struct scn_doc *d = scn_load_string(text, "fuzz.yaml", err, sizeof err);
    if (!d) {
        if (!err[0])
            abort();                  /* a refusal without a message */
        free(text);
        return 0;
    }
    bool set = false;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, "#set ", 5) != 0)
            continue;
        char assignment[512];
        snprintf(assignment, sizeof assignment, "%.*s", (int)strcspn(p + 5, "\n"), p + 5);
        err[0] = '\0';
        if (scn_set(d, assignment, err, sizeof err) != 0 && !err[0])
            abort();
        set = true;
    }
    err[0] = '\0';
    if (!set || scn_check(d, err, sizeof err) == 0) {
        struct scenario *s = malloc(sizeof *s);
        size_t points = scn_points(d);
        for (size_t p = 0; s && p < points && p < 8; p++)
            if (scn_resolve(d, p, s, err, sizeof err) != 0 && !err[0])
                abort();
        free(s);
    } else if (!err[0]) {
        abort();
    }
    scn_free(d);
    free(text);
    return 0;
}
