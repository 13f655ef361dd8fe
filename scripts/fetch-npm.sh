#!/usr/bin/env bash
# Fetch one package from the npm registry, check its tarball against the
# registry's own checksum (npm view NAME@VERSION dist.integrity), and unpack it:
#
#   bash scripts/fetch-npm.sh NAME VERSION INTEGRITY DIR     # -> DIR/package/...
#
# A tarball with another checksum stops the script with the two checksums.
set -euo pipefail
name="$1" version="$2" integrity="$3" dir="$4"
bash "$(dirname "$0")/install-node.sh"   # npm, through apt if it is missing

echo "==> fetching $name $version (npm registry)"
(cd "$dir" && npm pack --silent "$name@$version" >/dev/null)
tarball="$dir/$name-$version.tgz"
got="$(python3 -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")"
if [ "$got" != "$integrity" ]; then
    echo "$name-$version.tgz has checksum $got, expected $integrity" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$dir"
