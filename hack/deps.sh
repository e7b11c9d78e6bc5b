#!/usr/bin/env bash
# Installs the Debian packages the project needs; quick and silent when they
# are all present. Needs root (the sandbox needs it anyway).
set -euo pipefail

packages=(
  util-linux   # setpriv --pdeathsig: sandbox processes die with their owner
  iproute2     # ip / tc: the node datapath and the VPC fabric
  procps       # pgrep / ps in diagnostics
  ca-certificates
  nftables     # nft: the VPC fabric's anti-spoofing and forwarding rules
  containernetworking-plugins  # reference bridge/host-local CNI plugins: the simulated kubelet's independent check
  qemu-system-x86  # a guest on Debian's stock kernel for the ipvlan datapath (this kernel lacks ipvlan)
  linux-image-amd64
  initramfs-tools  # mkinitramfs: the guest's initramfs with the 9p modules
  strace       # e2e/datapath/no-process.test.ts: watches the agent start no process per CNI call
  qperf        # make bench: pod-to-pod latency and throughput per datapath (e2e/bench/datapath-table.ts)
  time         # make bench: GNU time's peak RSS of each CNI plugin exec (e2e/bench/cni-exec.ts)
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null; then
  echo "deps: Go is required to build the pinned control-plane tools (go1.21+; the pinned toolchain is fetched by GOTOOLCHAIN)" >&2
  exit 1
fi
