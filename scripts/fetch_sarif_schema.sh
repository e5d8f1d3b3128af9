#!/usr/bin/env bash
# Microsoft's SARIF SDK multitool package on npm, cached under .cache/sarif/ once: the official
# SARIF 2.1.0 JSON schema, and the multitool itself (a self-contained Linux executable), whose
# `validate --rule-kind "Sarif;Gh"` applies GitHub's ingestion rules (tests/render/test_sarif.py).
set -euo pipefail
cd "$(dirname "$0")/.."
version=5.7.0
schema=.cache/sarif/sarif-schema-2.1.0.json
multitool=.cache/sarif/multitool/Sarif.Multitool
[ -s "$schema" ] && [ -x "$multitool" ] && exit 0
mkdir -p .cache/sarif/multitool
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@microsoft/sarif-multitool-linux@$version" >/dev/null)
tar -xzf "$work/microsoft-sarif-multitool-linux-$version.tgz" -C "$work" \
  package/sarif-2.1.0.json package/Sarif.Multitool
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert 'SARIF' in d['title']" "$work/package/sarif-2.1.0.json"
mv "$work/package/sarif-2.1.0.json" "$schema"
chmod u+x "$work/package/Sarif.Multitool"
mv "$work/package/Sarif.Multitool" "$multitool"
echo "fetched $schema and $multitool ($version)"
