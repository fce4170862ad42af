#!/bin/sh
# readme-ref.sh — regenerates README.md's reference sections from the binary's own tables
# (scenario keys, metrics, protocol parameters). Usage: tools/readme-ref.sh [BUILD_DIR]
set -eu
bin="${1:-build}/p2plab"
[ -x "$bin" ] || { echo "readme-ref.sh: build first (make build): $bin not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" list keys --markdown > "$tmp/keys"
"$bin" list metrics --markdown > "$tmp/metrics"
"$bin" list --markdown > "$tmp/protocols"
awk -v dir="$tmp" '
    /^<!-- generated:[a-z]+ -->$/ {
        print
        name = $0; sub(/^<!-- generated:/, "", name); sub(/ -->$/, "", name)
        while ((getline line < (dir "/" name)) > 0) print line
        close(dir "/" name)
        skip = 1; next
    }
    /^<!-- \/generated -->$/ { skip = 0 }
    !skip { print }
' README.md > "$tmp/README.md"
cp "$tmp/README.md" README.md
