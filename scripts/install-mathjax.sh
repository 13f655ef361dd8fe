#!/usr/bin/env bash
# Put MathJax 3 into _vendor/mathjax, from the npm registry, so that the built
# site typesets its equations with no network: _config.yml serves _vendor as
# extra files at the site's root (html_extra_path) and points mathjax_path at
# them. Not in _static on purpose: Jupyter Book adds every .js under _static
# to every page, and MathJax has a hundred files.
# Idempotent: a second run only checks the version that is there.
set -euo pipefail
cd "$(dirname "$0")/.."

version="3.2.2"
# The registry's own checksum of that tarball (npm view mathjax@3.2.2 dist.integrity).
integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
dest="_vendor/mathjax"

if [ -f "$dest/VERSION" ] && [ "$(cat "$dest/VERSION")" = "$version" ] \
        && [ -f "$dest/tex-mml-chtml.js" ]; then
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash "$(dirname "$0")/fetch-npm.sh" mathjax "$version" "$integrity" "$tmp"
rm -rf "$dest" "$dest.partial"   # a partial copy from an interrupted run too
mkdir -p "$(dirname "$dest")"
cp -r "$tmp/package/es5" "$dest.partial"
cp "$tmp/package/LICENSE" "$dest.partial/LICENSE"
echo "$version" > "$dest.partial/VERSION"
mv "$dest.partial" "$dest"
