#!/usr/bin/env bash
# Builds the pinned etcd, kube-apiserver and kubectl from their Go modules
# (tools/*/go.mod) into $CACHE/<name>-<version>-<pin hash>/ and links them into
# .tools/bin. A build is reused until its go.mod / go.sum change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:?cache dir}
bin=$root/.tools/bin
rm -rf "$bin" && mkdir -p "$bin" "$cache"

pin_hash() { cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -c1-12; }

# build <module dir> <version> <ldflags> <binary name>=<package>...
build() {
  local moddir=$1 version=$2 ldflags=$3
  shift 3
  local name
  name=$(basename "$moddir")
  local dest=$cache/$name-$version-$(pin_hash "$root/$moddir")
  if [[ ! -f $dest/.complete ]]; then
    echo "tools: building $name $version (first time for this pin; a few minutes)"
    local start=$SECONDS
    rm -rf "$dest" && mkdir -p "$dest"
    local target
    for target in "$@"; do
      (cd "$root/$moddir" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$dest/${target%%=*}" "${target#*=}")
    done
    touch "$dest/.complete"
    echo "tools: built $name $version in $((SECONDS - start)) s"
  else
    echo "tools: $name $version (cached in $dest)"
  fi
  for f in "$dest"/*; do ln -sfn "$f" "$bin/$(basename "$f")"; done
}

etcd_version=$(awk '/^require go.etcd.io\/etcd\/server\/v3 /{print $3}' "$root/tools/etcd/go.mod")
kube_version=$(awk '/^require k8s.io\/kubernetes /{print $3}' "$root/tools/kube/go.mod")
minor=$(cut -d. -f2 <<<"$kube_version")

build tools/etcd "$etcd_version" "-s -w" etcd=go.etcd.io/etcd/server/v3
# Stamp the version the binaries report, as the upstream release build does.
kube_ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ld+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
build tools/kube "$kube_version" "$kube_ld" kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kubectl=k8s.io/kubernetes/cmd/kubectl
for t in etcd kube-apiserver kubectl; do [[ -x $bin/$t ]] || { echo "tools: $t missing after build" >&2; exit 1; }; done
