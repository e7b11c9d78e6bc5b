#!/usr/bin/env bash
# Builds the pinned etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and kubectl from their Go modules (tools/*/go.mod) into
# $CACHE/<name>-<version>-<pin hash>/ and links them into .tools/bin. A build is reused until its
# go.mod / go.sum change.
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
  # Per binary, not per folder: a cache made before a binary joined the list
  # gets just the missing one.
  local target missing=()
  for target in "$@"; do [[ -x $dest/${target%%=*} ]] || missing+=("$target"); done
  if ((${#missing[@]} > 0)); then
    echo "tools: building ${missing[*]%%=*} ($name $version; first time for this pin; a few minutes)"
    local start=$SECONDS
    mkdir -p "$dest"
    for target in "${missing[@]}"; do
      # Built under a dot name, renamed when whole: an interrupted build is never mistaken for a binary.
      (cd "$root/$moddir" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "$ldflags" -o "$dest/.${target%%=*}.partial" "${target#*=}")
      mv "$dest/.${target%%=*}.partial" "$dest/${target%%=*}"
    done
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
build tools/kube "$kube_version" "$kube_ld" kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kubectl=k8s.io/kubernetes/cmd/kubectl \
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
build tools/cnitool "$(awk '/^require github.com\/containernetworking\/cni /{print $3}' "$root/tools/cnitool/go.mod")" "-s -w" cnitool=github.com/containernetworking/cni/cnitool
for t in etcd kube-apiserver kubectl kube-controller-manager kube-scheduler; do [[ -x $bin/$t ]] || { echo "tools: $t missing after build" >&2; exit 1; }; done
