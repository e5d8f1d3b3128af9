#!/usr/bin/env bash
# GitHub's official OpenAPI description (@octokit/openapi) and real webhook payloads
# (@octokit/webhooks-examples), from the npm registry, cached under .cache/github/ once.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/github
mkdir -p "$dest"
fetch() {  # package, version, marker file that says it is already there
  local package=$1 version=$2 marker=$3
  [ -e "$dest/$marker" ] && return 0
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  mkdir -p "$dest/$marker.tmp"
  tar -xzf "$work"/*.tgz -C "$dest/$marker.tmp" --strip-components=1
  mv "$dest/$marker.tmp" "$dest/$marker"
  rm -rf "$work"
  echo "fetched $package@$version into $dest/$marker"
}
fetch @octokit/webhooks-examples 7 webhooks-examples
fetch @octokit/openapi 19 openapi
