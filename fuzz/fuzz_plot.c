/* fuzz_plot.c — a libFuzzer target over plot's readers (summary.yaml and runs.csv read back).
 *
 * The input is a results folder in one text: summary.yaml, a line "--- runs.csv", then
 * runs.csv. It is written to a scratch folder and read as `p2plab plot` reads it; a damaged
 * folder must be one message, never a crash. Seeded with results of small runs; build with
 * -DP2PLAB_FUZZ=ON (clang). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plots/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* The scratch folder goes when the fuzzer exits. */
static void remove_dir(void)
{
    const char *names[] = { "summary.yaml", "runs.csv" };
    char path[128];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
}

static void put(const char *name, const uint8_t *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(p, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/p2plab-fuzz-plot-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    static const char sep[] = "\n--- runs.csv\n";
    const uint8_t *cut = NULL;
    for (size_t i = 0; i + sizeof sep - 1 <= size && !cut; i++)
        if (memcmp(data + i, sep, sizeof sep - 1) == 0)
            cut = data + i;
    size_t head = cut ? (size_t)(cut - data) : size;
    put("summary.yaml", data, head);
    if (cut)
        put("runs.csv", cut + sizeof sep - 1, size - head - (sizeof sep - 1));
    else
        put("runs.csv", (const uint8_t *)"", 0);
    struct plot_results r;
    char err[2048] = "";
    if (plot_results_load(&r, dir, err, sizeof err) == 0)
        plot_results_free(&r);
    else if (!err[0])
        abort();
    return 0;
}
