/* validation.c — the paper-against-p2plab table of `p2plab validate`, from summary.yaml files. */
#include "plots/validation.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plots/yaml.h"

/* "2.888 ± 0.17", or "—" without a value. */
static void format_got(const struct ytree *x, char *buf, size_t len)
{
    double mean = plot_yaml_number(x, "p2plab.mean");
    double ci = plot_yaml_number(x, "p2plab.ci95");
    if (!isfinite(mean)) {
        snprintf(buf, len, "—");
        return;
    }
    int n = snprintf(buf, len, "%.4g", mean);
    if (isfinite(ci) && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " ± %.2g", ci);
}

/* A table cell: '|' escaped, newlines folded. */
static void cell(FILE *f, const char *s)
{
    fputs("| ", f);
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc(' ', f);
}

int plot_validation_write(const char *dir, const char *const *names, size_t n, const char *how,
                          FILE *console, struct plot_validation *v, char *err, size_t errlen)
{
    *v = (struct plot_validation){ 0 };
    char path[1400], tmp[1400];
    snprintf(path, sizeof path, "%s/validation.md", dir);
    snprintf(tmp, sizeof tmp, "%s/.validation.md.tmp", dir);
    FILE *md = fopen(tmp, "w");
    if (!md) {
        snprintf(err, errlen, "%s: error: cannot write it; check the folder's permissions", tmp);
        return -1;
    }
    fprintf(md, "# Validation: p2plab against the papers\n\n%s\n\n"
            "Each row is a published figure a scenario states under `expect:`, against p2plab's "
            "mean over the cell's replicas (± the 95%% half-width with two or more). *within*: "
            "the mean lies within the stated tolerance of the paper's figure. The scenario's "
            "report.md has its figures and settings.\n\n"
            "| scenario | metric | cell | paper | p2plab | tolerance | verdict | source |\n"
            "|---|---|---|--:|--:|---|---|---|\n", how);
    if (console)
        fprintf(console, "%-8s %-28s %-34s %-26s %10s %16s %s\n", "verdict", "scenario",
                "cell", "metric", "paper", "p2plab", "tolerance");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char sum[1400], lerr[1024];
        snprintf(sum, sizeof sum, "%s/%s/summary.yaml", dir, names[i]);
        struct ytree *y = plot_yaml_load(sum, lerr, sizeof lerr);
        if (!y) {
            snprintf(err, errlen, "%s", lerr);
            rc = -1;
            break;
        }
        const struct ytree *list = plot_yaml_get(y, "expect");
        for (size_t k = 0; list && list->kind == YTREE_SEQ && k < list->n; k++) {
            const struct ytree *x = list->kid[k];
            const char *verdict = plot_yaml_text(x, "verdict", "?");
            v->expectations++;
            if (strcmp(verdict, "within") == 0)
                v->within++;
            else if (strcmp(verdict, "outside") == 0)
                v->outside++;
            else
                v->no_data++;
            char got[64], src[700], link[300];
            format_got(x, got, sizeof got);
            const char *note = plot_yaml_text(x, "note", "");
            snprintf(src, sizeof src, "%s%s%s", plot_yaml_text(x, "source", ""),
                     note[0] ? "; " : "", note);
            snprintf(link, sizeof link, "[%s](%s/)", names[i], names[i]);
            cell(md, link);
            cell(md, plot_yaml_text(x, "metric", "?"));
            cell(md, plot_yaml_text(x, "cell", "?"));
            cell(md, plot_yaml_text(x, "paper", "?"));
            cell(md, got);
            cell(md, plot_yaml_text(x, "tolerance", "?"));
            cell(md, strcmp(verdict, "within") == 0 ? "within" : verdict);
            cell(md, src);
            fputs("|\n", md);
            if (console)
                fprintf(console, "%-8s %-28s %-34s %-26s %10s %16s %s\n", verdict, names[i],
                        plot_yaml_text(x, "cell", "?"), plot_yaml_text(x, "metric", "?"),
                        plot_yaml_text(x, "paper", "?"), got, plot_yaml_text(x, "tolerance", "?"));
        }
        plot_yaml_free(y);
    }
    if (rc == 0) {
        fprintf(md, "\n%zu of %zu within tolerance", v->within, v->expectations);
        if (v->outside || v->no_data)
            fprintf(md, "; %zu outside, %zu without data", v->outside, v->no_data);
        fputs(".\n", md);
    }
    if (fclose(md) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: error: cannot write it (disk full?)", tmp);
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: error: cannot move it into place", path);
        rc = -1;
    }
    if (rc != 0)
        remove(tmp);
    if (rc == 0 && console)
        fprintf(console, "\n%zu of %zu within tolerance; the table is in %s\n", v->within,
                v->expectations, path);
    return rc;
}
