#!/usr/bin/env bash
# The official SARIF 2.1.0 JSON schema, as shipped in Microsoft's SARIF SDK multitool package on
# npm, cached under .cache/sarif/ once (tests validate stopship's SARIF output against it).
set -euo pipefail
cd "$(dirname "$0")/.."
target=.cache/sarif/sarif-schema-2.1.0.json
[ -s "$target" ] && exit 0
mkdir -p .cache/sarif
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @microsoft/sarif-multitool-linux@5.7.0 >/dev/null)
tar -xzf "$work"/microsoft-sarif-multitool-linux-5.7.0.tgz -C "$work" package/sarif-2.1.0.json
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 'SARIF' in d['title']" "$work/package/sarif-2.1.0.json"
mv "$work/package/sarif-2.1.0.json" "$target"
echo "fetched $target"
