// What this node's kernel can do, for NodeNetwork status and for refusing the
// ipvlan datapath with a clear reason instead of an obscure netlink error.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { execute } from '../netlink/exec.js';
import { probeLinkKind, type ProbeResult } from '../netlink/kernel.js';

export interface Capabilities {
  kernelVersion: string;
  ipvlan: boolean;
  /** bpf(2) is compiled in and a bpffs is mounted or mountable: the eBPF features can load. */
  ebpf: boolean;
  detail: {
    ipvlan: string;
    /** /proc/sys/kernel/unprivileged_bpf_disabled exists only with CONFIG_BPF_SYSCALL. */
    bpfSyscall: boolean;
    bpffs: 'mounted' | 'mountable' | 'unavailable';
    /** Kernel BTF, which CO-RE programs need. */
    btf: boolean;
  };
}

export type { ProbeResult };
export { probeLinkKind };

let ipvlanProbe: Promise<ProbeResult> | undefined;

/** Memoised: the kernel does not grow ipvlan support while the agent runs. */
export function ipvlanSupport(): Promise<ProbeResult> {
  ipvlanProbe ??= probeLinkKind('ipvlan');
  return ipvlanProbe;
}

export async function ipvlanSupported(): Promise<boolean> {
  return (await ipvlanSupport()).supported;
}

/** Mounts a bpffs in a private, throwaway mount namespace; nothing is left mounted. */
async function bpffsState(): Promise<Capabilities['detail']['bpffs']> {
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[2] === 'bpf')) return 'mounted';
  if (!/\tbpf$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return 'unavailable';
  const target = existsSync('/sys/fs/bpf') ? '/sys/fs/bpf' : '/mnt';
  const res = await execute('unshare', ['--mount', '--propagation', 'private', 'mount', '-t', 'bpf', 'bpf', target]);
  return res.code === 0 ? 'mountable' : 'unavailable';
}

export async function detectCapabilities(): Promise<Capabilities> {
  const [ipvlan, bpffs] = await Promise.all([ipvlanSupport(), bpffsState()]);
  const bpfSyscall = existsSync('/proc/sys/kernel/unprivileged_bpf_disabled');
  return {
    kernelVersion: release(),
    ipvlan: ipvlan.supported,
    ebpf: bpfSyscall && bpffs !== 'unavailable',
    detail: { ipvlan: ipvlan.detail, bpfSyscall, bpffs, btf: existsSync('/sys/kernel/btf/vmlinux') },
  };
}
