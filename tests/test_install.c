/* test_install.c — what `cmake --install` puts in a prefix works from there: the binary, the
 * man page p2plab(1) (written from the same tables as --help, `p2plab list` and the README
 * reference), the bash and zsh completion, the scenarios and the documents; and tools/deps.sh
 * trusts what pkg-config finds, on a system without apt too.
 *
 * The install goes once into a temporary prefix (group setup). The man and shell checks skip,
 * saying so, where man, bash or zsh is not installed (CI installs man-db). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "protocols/protocol.h"
#include "sim/help.h"
#include "sim/scnkeys.h"
#include "sim/stats.h"
#include "tests/harness.h"

static char prefix[64];               /* the install: PREFIX/bin/p2plab ... */
static char work[64];                 /* where the installed binary runs: not the source tree */

/* Runs a shell command made as printf makes it, in `work`, its output into work/out; the exit
 * status. */
static int sh(const char *fmt, ...)
{
    char line[4096], cmd[4300];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof line);
    snprintf(cmd, sizeof cmd, "cd '%s' && { %s ; } >'%s/out' 2>&1", work, line, work);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *out(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/out", work);
    char *o = harness_slurp(path, NULL);
    assert_non_null(o);
    return o;
}

static bool have(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* The build folder: where the binary under test is. */
static void build_dir(char *buf, size_t len)
{
    const char *bin = getenv("P2PLAB_BINARY");
    assert_non_null(bin);
    snprintf(buf, len, "%s", bin);
    char *slash = strrchr(buf, '/');
    assert_non_null(slash);
    *slash = '\0';
}

static int install(void **state)
{
    (void)state;
    snprintf(prefix, sizeof prefix, "/tmp/p2plab-prefix-XXXXXX");
    snprintf(work, sizeof work, "/tmp/p2plab-work-XXXXXX");
    if (!mkdtemp(prefix) || !mkdtemp(work))
        return -1;
    char build[1024], cmd[2300];
    build_dir(build, sizeof build);
    snprintf(cmd, sizeof cmd, "cmake --install '%s' --prefix '%s' >'%s/install.log' 2>&1", build,
             prefix, work);
    if (system(cmd) != 0) {
        fprintf(stderr, "cmake --install failed: see %s/install.log\n", work);
        return -1;
    }
    return 0;
}

static int uninstall(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", prefix, work);
    return system(cmd) == 0 ? 0 : -1;
}

/* Every file in its usual place, and the installed binary runs from elsewhere: --help, and a
 * check of the installed quickstart (its companion found beside it). */
static void test_install_files_and_binary(void **state)
{
    (void)state;
    const char *files[] = {
        "bin/p2plab", "share/man/man1/p2plab.1", "share/bash-completion/completions/p2plab",
        "share/zsh/site-functions/_p2plab", "share/p2plab/scenarios/quickstart.yaml",
        "share/p2plab/scenarios/bittorrent-flashcrowd.yaml", "share/doc/p2plab/README.md",
        "share/doc/p2plab/docs/quickstart-hops.png",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        if (stat(path, &st) != 0 || st.st_size == 0)
            fail_msg("the install has no %s", files[i]);
    }
    assert_int_equal(sh("'%s/bin/p2plab' --help", prefix), 0);
    char *o = out();
    assert_non_null(strstr(o, "usage: p2plab COMMAND"));
    free(o);
    assert_int_equal(sh("'%s/bin/p2plab' check '%s/share/p2plab/scenarios/quickstart.yaml'",
                        prefix, prefix), 0);
    o = out();
    assert_non_null(strstr(o, "quickstart.yaml: ok: 7 protocol(s)"));
    free(o);
}

/* The page holds every command, scenario key, metric and protocol parameter (the tables of
 * --help, `p2plab list` and the README reference), and man formats it without a warning. */
static void test_install_man_page(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/share/man/man1/p2plab.1", prefix);
    char *roff = harness_slurp(path, NULL);
    assert_non_null(roff);
    char *text = calloc(1, strlen(roff) + 1);   /* with "\-" as "-", as the reader sees it */
    assert_non_null(text);
    for (char *s = roff, *d = text; *s; s++)
        if (!(s[0] == '\\' && s[1] == '-'))
            *d++ = *s;
    char want[256];
    for (const struct help_command *c = help_commands; c->name; c++) {
        snprintf(want, sizeof want, ".SS %s\n", c->name);
        if (!strstr(text, want))
            fail_msg("the man page has no section for %s", c->name);
    }
    for (const struct scn_key *k = scn_keys; k->path; k++) {
        snprintf(want, sizeof want, "\\fB%s\\fR", k->path);
        if (!strstr(text, want))
            fail_msg("the man page lacks the key %s", k->path);
    }
    for (int m = 0; m < M_COUNT; m++) {
        snprintf(want, sizeof want, "\\fB%s\\fR", stats_metric_name[m]);
        if (!strstr(text, want))
            fail_msg("the man page lacks the metric %s", stats_metric_name[m]);
    }
    for (const struct protocol *const *p = protocol_registry; *p; p++)
        for (const struct param *q = (*p)->params; q && q->name; q++) {
            snprintf(want, sizeof want, "\\fBprotocols.%s.%s\\fR", (*p)->name, q->name);
            if (!strstr(text, want))
                fail_msg("the man page lacks %s", want);
        }
    free(text);
    free(roff);

    if (!have("man")) {
        print_message("man is not installed (apt-get install man-db): man -l not tried\n");
        skip();
    }
    assert_int_equal(sh("MANWIDTH=80 man -l '%s' 2>'%s/err'", path, work), 0);
    char *page = out();
    assert_non_null(strstr(page, "p2plab run FILE [OPTIONS]"));
    assert_non_null(strstr(page, "protocols.chord.successors"));
    free(page);
    snprintf(path, sizeof path, "%s/err", work);
    char *err = harness_slurp(path, NULL);
    assert_non_null(err);
    assert_string_equal(err, "");
    free(err);
}

/* The bash completion, sourced in bash: commands, --set keys, protocols, options, and scenario
 * files (not other files) for run; zsh at least parses its script. */
static void test_install_completion(void **state)
{
    (void)state;
    if (have("zsh"))
        assert_int_equal(sh("zsh -n '%s/share/zsh/site-functions/_p2plab'", prefix), 0);
    else
        print_message("zsh is not installed: its completion script was not parsed\n");
    if (!have("bash")) {
        print_message("bash is not installed: the completion was not tried\n");
        skip();
    }
    assert_int_equal(sh("mkdir -p comp/d && touch comp/a.yaml comp/b.txt"), 0);
    const struct { const char *words; int cword; const char *reply; } cases[] = {
        { "p2plab ru", 1, "run" },
        { "p2plab run x.yaml --set protocols.chord.succ", 4, "protocols.chord.successors=" },
        { "p2plab run x.yaml --set workload.lookup_t", 4, "workload.lookup_timeout=" },
        { "p2plab trace x.yaml --protocol kad", 4, "kademlia" },
        { "p2plab list ch", 2, "chord" },
        { "p2plab run --no-p", 2, "--no-plots" },
        { "p2plab run ''", 2, "a.yaml d" },
        { "p2plab help --completion z", 3, "zsh" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = sh("cd comp && bash -c \"source '%s/share/bash-completion/completions/p2plab' && "
                    "COMP_WORDS=(%s) && COMP_CWORD=%d && _p2plab && "
                    "printf '%%s\\n' \\\"\\${COMPREPLY[@]}\\\" | sort | tr '\\n' ' '\"",
                    prefix, cases[i].words, cases[i].cword);
        char *o = out();
        char want[128];
        snprintf(want, sizeof want, "%s ", cases[i].reply);
        if (rc != 0 || strcmp(o, want) != 0)
            fail_msg("completing \"%s\": got \"%s\" (exit %d), want \"%s\"", cases[i].words, o,
                     rc, want);
        free(o);
    }
}

/* deps.sh on a system that is not Debian (no apt), with every library pkg-config can find:
 * nothing to do; with one missing: the packages for Debian, Fedora and Homebrew, exit 1.
 * apt-get is a stub that says if it was called. */
static void test_install_deps(void **state)
{
    (void)state;
    const char *src = getenv("P2PLAB_SOURCE_DIR");
    assert_non_null(src);
    if (sh("pkg-config --exists gsl yaml-0.1 cmocka") != 0) {
        print_message("pkg-config does not find gsl, yaml-0.1 and cmocka here\n");
        skip();
    }
    assert_int_equal(sh("mkdir -p stub && echo ID=fedora > stub/os-release && "
                        "printf '#!/bin/sh\\necho apt-get called\\nexit 1\\n' > stub/apt-get && "
                        "printf '#!/bin/sh\\necho dpkg-query called >&2\\nexit 1\\n' > "
                        "stub/dpkg-query && printf '#!/bin/sh\\n[ \"$2\" = cmocka ] && "
                        "[ -e no-cmocka ] && exit 1\\nexec %s \"$@\"\\n' \"$(command -v "
                        "pkg-config)\" > stub/pkg-config && chmod +x stub/*", "%s"), 0);
    const char *run = "PATH=\"$PWD/stub:$PATH\" P2PLAB_OS_RELEASE=stub/os-release sh '%s/tools/"
                      "deps.sh'";
    char line[512];
    snprintf(line, sizeof line, run, src);
    assert_int_equal(sh("%s", line), 0);
    char *o = out();
    assert_string_equal(o, "");
    free(o);
    assert_int_equal(sh("touch no-cmocka && %s", line), 1);
    o = out();
    assert_non_null(strstr(o, "missing cmocka"));
    assert_non_null(strstr(o, "sudo apt-get install libcmocka-dev"));
    assert_non_null(strstr(o, "sudo dnf install libcmocka-devel"));
    assert_non_null(strstr(o, "brew install cmocka"));
    assert_null(strstr(o, "called"));
    free(o);
    assert_int_equal(sh("rm no-cmocka"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_files_and_binary),
        cmocka_unit_test(test_install_man_page),
        cmocka_unit_test(test_install_completion),
        cmocka_unit_test(test_install_deps),
    };
    return cmocka_run_group_tests(tests, install, uninstall);
}
