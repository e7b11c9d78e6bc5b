#!/bin/sh
# PID 1 of the test guest started by e2e/guest/guest.ts (run as `init=/bin/sh -- <this file>`,
# so it needs no exec bit). The root is the host's / over 9p, read-only; the initramfs has
# already mounted /proc, /sys, /dev and a tmpfs on /run. Runs $share/script.sh, leaves its
# output and exit code in the writable share, then powers the guest off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
share=/run/eni-guest

read -r uptime _ </proc/uptime
echo "eni-guest: init started at ${uptime}s"

power_off() {
  sync
  echo o >/proc/sysrq-trigger
  sleep 60 # power-off runs asynchronously; exiting PID 1 first would panic the kernel
}

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run # `ip netns` needs a writable /run/netns
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "eni-guest: no bpffs"

mkdir -p "$share"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 eniguest "$share"; then
  echo "eni-guest: cannot mount the result share"
  power_off
fi
echo "$uptime" >"$share/init-uptime"

for module in ipvlan veth bridge; do
  modprobe "$module" || echo "eni-guest: modprobe $module failed"
done
ip link set lo up

. "$share/env.sh"
# A checkout under /tmp or /run (CI clones often are) is hidden by the tmpfs above: the host
# shares the repository on its own too, and it goes back where it was.
case "$ENI_GUEST_WORKDIR" in
/tmp/* | /run/*)
  mkdir -p "$ENI_GUEST_WORKDIR"
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro enirepo "$ENI_GUEST_WORKDIR" || echo "eni-guest: cannot mount the repository"
  ;;
esac
cd "$ENI_GUEST_WORKDIR" || echo "eni-guest: cannot enter $ENI_GUEST_WORKDIR"
echo "eni-guest: running the script"
read -r started _ </proc/uptime
sh "$share/script.sh" >"$share/output" 2>&1 </dev/null
code=$?
read -r ended _ </proc/uptime
echo "$started $ended" >"$share/script-uptime"
echo "$code" >"$share/exit-code"
echo "eni-guest: script exited with $code"
power_off
