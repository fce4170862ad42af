#!/bin/sh
# deps.sh — installs the Debian packages p2plab needs, if any is missing.
# Run as root to install; otherwise it says which command to run.
set -eu
PACKAGES="cmake make gcc pkg-config libgsl-dev libyaml-dev libcmocka-dev gnuplot-nox"
missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "p2plab needs these Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
