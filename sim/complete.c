/* complete.c — bash and zsh completion for p2plab, written from the program's own tables: the
 * commands and their options (sim/help.c), the protocols (protocols/) and the keys --set takes
 * (sim/scnkeys.c and each protocol's parameters). `p2plab help --completion SHELL` prints a
 * script; the install puts the two in bash-completion's and zsh's usual folders. */
#include "sim/help.h"

#include <stdbool.h>
#include <string.h>

#include "protocols/protocol.h"
#include "sim/scnkeys.h"

/* ==== the words =========================================================================== */

static void commands(FILE *f)
{
    for (const struct help_command *c = help_commands; c->name; c++)
        fprintf(f, "%s%s", c == help_commands ? "" : " ", c->name);
}

static void protocols(FILE *f)
{
    for (const struct protocol *const *p = protocol_registry; *p; p++)
        fprintf(f, "%s%s", p == protocol_registry ? "" : " ", (*p)->name);
}

/* Every key --set can take: the scenario's keys that hold one value (not a list's items), and
 * protocols.NAME.PARAM of every protocol. */
static void keys(FILE *f)
{
    const char *sep = "";
    for (const struct scn_key *k = scn_keys; k->path; k++)
        if (scn_key_scalar(k) && !strstr(k->path, "[]") && strncmp(k->path, "protocols.", 10)) {
            fprintf(f, "%s%s", sep, k->path);
            sep = " ";
        }
    for (const struct protocol *const *p = protocol_registry; *p; p++)
        for (const struct param *q = (*p)->params; q && q->name; q++)
            fprintf(f, " protocols.%s.%s", (*p)->name, q->name);
}

/* A command's options: each spelling of each flag ("-o, --output" gives both). */
static void options(FILE *f, const struct help_command *c)
{
    const char *sep = "";
    for (const struct help_option *o = c->options; o->flags; o++) {
        const char *s = o->flags;
        while (*s) {
            size_t n = strcspn(s, ", ");
            fprintf(f, "%s%.*s", sep, (int)n, s);
            sep = " ";
            s += n;
            s += strspn(s, ", ");
        }
    }
}

/* The options that take a value whose completion is not a word list: nothing to offer. */
static const char no_words[] = "--seed|-j|--jobs|--point|--lookups|--from|--to";

/* ==== bash ================================================================================ */

static void bash(FILE *f)
{
    fputs("# bash completion for p2plab, written by `p2plab help --completion bash`\n"
          "_p2plab()\n{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
          "    local cmd=${COMP_WORDS[1]} opts=\n"
          "    local commands=\"", f);
    commands(f);
    fputs("\"\n    local protocols=\"", f);
    protocols(f);
    fputs("\"\n    local keys=\"", f);
    keys(f);
    fputs("\"\n"
          "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
          "        COMPREPLY=($(compgen -W \"$commands --help --version\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    case $prev in\n"
          "        --set)\n"
          "            compopt -o nospace 2>/dev/null\n"
          "            COMPREPLY=($(compgen -W \"$keys\" -S = -- \"$cur\"))\n"
          "            return ;;\n"
          "        --protocol)\n"
          "            COMPREPLY=($(compgen -W \"$protocols\" -- \"$cur\"))\n"
          "            return ;;\n"
          "        -o|--output)\n"
          "            compopt -o filenames 2>/dev/null\n"
          "            COMPREPLY=($(compgen -d -- \"$cur\"))\n"
          "            return ;;\n"
          "        --completion)\n"
          "            COMPREPLY=($(compgen -W \"bash zsh\" -- \"$cur\"))\n"
          "            return ;;\n", f);
    fprintf(f, "        %s)\n            return ;;\n    esac\n", no_words);
    fputs("    if [[ $cur == -* ]]; then\n        case $cmd in\n", f);
    for (const struct help_command *c = help_commands; c->name; c++) {
        fprintf(f, "            %s) opts=\"", c->name);
        options(f, c);
        fputs("\" ;;\n", f);
    }
    fputs("        esac\n"
          "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    case $cmd in\n"
          "        run|check|trace)\n"
          "            compopt -o filenames 2>/dev/null\n"
          "            COMPREPLY=($(compgen -f -X '!*.yaml' -- \"$cur\") "
          "$(compgen -f -X '!*.yml' -- \"$cur\") $(compgen -d -- \"$cur\")) ;;\n"
          "        plot)\n"
          "            compopt -o filenames 2>/dev/null\n"
          "            COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
          "        list)\n"
          "            COMPREPLY=($(compgen -W \"$protocols keys metrics\" -- \"$cur\")) ;;\n"
          "        bench)\n"
          "            if [ \"$COMP_CWORD\" -eq 2 ]; then\n"
          "                COMPREPLY=($(compgen -W \"phold scale\" -- \"$cur\"))\n"
          "            elif [ \"${COMP_WORDS[2]}\" = scale ]; then\n"
          "                compopt -o filenames 2>/dev/null\n"
          "                COMPREPLY=($(compgen -f -X '!*.yaml' -- \"$cur\") "
          "$(compgen -d -- \"$cur\"))\n"
          "            fi ;;\n"
          "        help)\n"
          "            [ \"$COMP_CWORD\" -eq 2 ] && "
          "COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\")) ;;\n"
          "    esac\n"
          "}\n"
          "complete -F _p2plab p2plab\n", f);
}

/* ==== zsh ================================================================================= */

/* A single-quoted zsh word. */
static void zquote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

static void zsh(FILE *f)
{
    fputs("#compdef p2plab\n"
          "# zsh completion for p2plab, written by `p2plab help --completion zsh`\n"
          "_p2plab() {\n"
          "  local -a commands protocols keys opts\n"
          "  commands=(", f);
    for (const struct help_command *c = help_commands; c->name; c++) {
        char item[256];
        snprintf(item, sizeof item, "%s:%s", c->name, c->summary);
        fputs(c == help_commands ? "" : " ", f);
        zquote(f, item);
    }
    fputs(")\n  protocols=(", f);
    protocols(f);
    fputs(")\n  keys=(", f);
    keys(f);
    fputs(")\n"
          "  if (( CURRENT == 2 )); then\n"
          "    _describe -t commands 'p2plab command' commands\n"
          "    compadd -- --help --version\n"
          "    return\n"
          "  fi\n"
          "  local cmd=${words[2]}\n"
          "  case ${words[CURRENT-1]} in\n"
          "    --set) compadd -S '=' -- $keys; return ;;\n"
          "    --protocol) compadd -- $protocols; return ;;\n"
          "    -o|--output) _files -/; return ;;\n"
          "    --completion) compadd -- bash zsh; return ;;\n", f);
    fprintf(f, "    %s) return ;;\n  esac\n", no_words);
    fputs("  if [[ $PREFIX == -* ]]; then\n    case $cmd in\n", f);
    for (const struct help_command *c = help_commands; c->name; c++) {
        fprintf(f, "      %s) opts=(", c->name);
        options(f, c);
        fputs(") ;;\n", f);
    }
    fputs("    esac\n"
          "    compadd -- $opts\n"
          "    return\n"
          "  fi\n"
          "  case $cmd in\n"
          "    run|check|trace) _files -g '*.(yaml|yml)' ;;\n"
          "    plot) _files -/ ;;\n"
          "    list) compadd -- $protocols keys metrics ;;\n"
          "    bench)\n"
          "      if (( CURRENT == 3 )); then\n"
          "        compadd -- phold scale\n"
          "      elif [[ ${words[3]} == scale ]]; then\n"
          "        _files -g '*.(yaml|yml)'\n"
          "      fi ;;\n"
          "    help) (( CURRENT == 3 )) && compadd -- ${commands%%:*} ;;\n"
          "  esac\n"
          "}\n"
          "_p2plab \"$@\"\n", f);
}

int help_completion(FILE *f, const char *shell)
{
    if (strcmp(shell, "bash") == 0)
        bash(f);
    else if (strcmp(shell, "zsh") == 0)
        zsh(f);
    else
        return -1;
    return 0;
}
