#!/usr/bin/env bash
# Put axe-core, the accessibility engine the browser tests run on every page
# (tests/test_accessibility.py), into tests/_vendor/axe-core, from the npm
# registry, checked against the registry's checksum. Only the tests load it:
# it is not under _vendor/, which the book copies into the site.
# Idempotent: a second run only checks the version that is there.
set -euo pipefail
cd "$(dirname "$0")/.."

version="4.14.1"
# The registry's own checksum of that tarball (npm view axe-core@4.14.1 dist.integrity).
integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
dest="tests/_vendor/axe-core"

if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$version" ] \
        && [ -f "$dest/axe.min.js" ]; then
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash "$(dirname "$0")/fetch-npm.sh" axe-core "$version" "$integrity" "$tmp"
rm -rf "$dest" "$dest.partial"   # a partial copy from an interrupted run too
mkdir -p "$dest.partial"
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$dest.partial/"
echo "$version" > "$dest.partial/VERSION"
mv "$dest.partial" "$dest"
