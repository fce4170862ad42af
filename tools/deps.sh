#!/bin/sh
# deps.sh — checks what building p2plab needs: cmake (3.25 or later), make, a C compiler,
# pkg-config, and the libraries GSL, libyaml and cmocka (tests), as pkg-config finds them, the
# way the build itself finds them; gnuplot draws the figures but is optional.
#
# Nothing missing: says nothing, exits 0. Something missing on Debian or Ubuntu: installs it
# with apt-get when run as root, else prints the apt-get command and exits 1. Elsewhere: names
# the packages for Debian/Ubuntu, Fedora and Homebrew and exits 1.
# P2PLAB_OS_RELEASE names another os-release file (tests).
set -eu

os_release="${P2PLAB_OS_RELEASE:-/etc/os-release}"
missing=""                 # what is needed and absent, by our names
optional=""                # gnuplot, if absent

have() { command -v "$1" >/dev/null 2>&1; }

have cmake || missing="$missing cmake"
if have cmake; then
    v=$(cmake --version | sed -n '1s/[^0-9]*\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1.\2/p')
    major=${v%%.*} minor=${v#*.}
    if [ "${major:-0}" -lt 3 ] || { [ "$major" -eq 3 ] && [ "${minor:-0}" -lt 25 ]; }; then
        echo "deps.sh: cmake $v is too old: p2plab needs 3.25 or later" >&2
        missing="$missing cmake"
    fi
fi
have make || missing="$missing make"
have cc || have gcc || have clang || missing="$missing cc"
if have pkg-config; then
    pkg-config --exists gsl || missing="$missing gsl"
    pkg-config --exists yaml-0.1 || missing="$missing yaml"
    pkg-config --exists cmocka || missing="$missing cmocka"
else
    missing="$missing pkg-config gsl yaml cmocka"
fi
have gnuplot || optional="gnuplot"

# Our name for a need, as one system's package.
package() {    # system name
    case "$1:$2" in
        debian:cc) echo gcc ;;
        debian:gsl) echo libgsl-dev ;;
        debian:yaml) echo libyaml-dev ;;
        debian:cmocka) echo libcmocka-dev ;;
        debian:gnuplot) echo gnuplot-nox ;;
        fedora:cc) echo gcc ;;
        fedora:pkg-config) echo pkgconf-pkg-config ;;
        fedora:gsl) echo gsl-devel ;;
        fedora:yaml) echo libyaml-devel ;;
        fedora:cmocka) echo libcmocka-devel ;;
        homebrew:cc|homebrew:make) ;;             # from the Xcode command line tools
        homebrew:yaml) echo libyaml ;;
        *) echo "$2" ;;
    esac
}
packages() {   # system needs...
    sys=$1; shift
    out=""
    for n in "$@"; do
        p=$(package "$sys" "$n")
        [ -n "$p" ] && out="$out $p"
    done
    echo "$out"
}

[ -z "$missing" ] && [ -z "$optional" ] && exit 0

debian=no
if [ -r "$os_release" ] && have apt-get &&
   grep -Eq '^(ID|ID_LIKE)=.*(debian|ubuntu)' "$os_release"; then
    debian=yes
fi

if [ "$debian" = yes ]; then
    # shellcheck disable=SC2086
    want=$(packages debian $missing $optional)
    if [ "$(id -u)" -ne 0 ]; then
        if [ -z "$missing" ]; then        # only gnuplot: the build goes on without figures
            echo "deps.sh: gnuplot is missing: figures will not be drawn" \
                 "(sudo apt-get install$want)" >&2
            exit 0
        fi
        echo "deps.sh: p2plab needs these Debian packages:$want" >&2
        echo "install them with: sudo apt-get install$want" >&2
        exit 1
    fi
    echo "deps.sh: installing:$want"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $want
    exit 0
fi

if [ -z "$missing" ]; then
    echo "deps.sh: gnuplot is missing: figures will not be drawn (install gnuplot)" >&2
    exit 0
fi
# shellcheck disable=SC2086
{
    echo "deps.sh: p2plab cannot be built here: missing$(printf ' %s' $missing)" \
         "(as pkg-config and PATH see them)."
    echo "Install them with your package manager, for example:"
    echo "  Debian, Ubuntu: sudo apt-get install$(packages debian $missing $optional)"
    echo "  Fedora:         sudo dnf install$(packages fedora $missing $optional)"
    echo "  macOS:          brew install$(packages homebrew $missing $optional)"
    echo "If they are installed somewhere pkg-config does not look, set PKG_CONFIG_PATH."
} >&2
exit 1
