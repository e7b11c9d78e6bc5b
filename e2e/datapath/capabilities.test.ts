// Kernel capability detection, checked against independent evidence, and the
// ipvlan datapath's refusal on a kernel without ipvlan.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Datapath, DatapathError, detectCapabilities, ipvlanSupported, ownedObjects, probeLinkKind } from '../../src/agent/datapath/index.js';
import { Topology, ourNetns, type Eni } from './topology.js';

/** After a creation attempt (which autoloads the module), the kernel's symbol table has ipvlan's code iff it exists. */
function kernelHasIpvlanCode(): boolean {
  return /\sipvlan_\w+/.test(readFileSync('/proc/kallsyms', 'utf8'));
}

test('capabilities agree with the kernel: version, ipvlan, eBPF', async () => {
  const caps = await detectCapabilities();
  expect(caps.kernelVersion).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
  expect(caps.ipvlan).toBe(kernelHasIpvlanCode());
  expect(await ipvlanSupported()).toBe(caps.ipvlan);
  // The same probe says yes for a kind this kernel has: a "no" is about ipvlan, not the probe.
  expect(await probeLinkKind('macvlan')).toMatchObject({ supported: true });
  const bpfSyscall = existsSync('/proc/sys/kernel/unprivileged_bpf_disabled');
  const bpffs = /\tbpf$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  expect(caps.detail.bpfSyscall).toBe(bpfSyscall);
  expect(caps.ebpf).toBe(bpfSyscall && bpffs);
  // The probe mounted bpffs only in a throwaway mount namespace.
  const mountedAfter = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'bpf').length;
  expect(caps.detail.bpffs === 'mounted' ? mountedAfter > 0 : mountedAfter === 0).toBe(true);
});

describe('ipvlan on a node without ipvlan support', () => {
  let topo: Topology;
  beforeEach(async () => {
    topo = await Topology.create();
  });
  afterEach(async () => {
    const prefix = topo.prefix;
    await topo.teardown();
    expect(ourNetns().filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  test('ADD fails with IPVlanUnsupported before touching the kernel', async () => {
    const dp = new Datapath({ node: topo.node, ipvlan: false });
    const [eni1] = topo.enis as [Eni];
    const pod = await topo.addPod('a');
    const before = await dp.observe();
    const err = (await dp.apply(topo.attachment('uid-a', 'ipvlan', eni1, '10.0.16.5'), { netns: pod.path, ifName: 'eth0' }).catch((e: unknown) => e)) as DatapathError;
    expect(err).toBeInstanceOf(DatapathError);
    expect(err.reason).toBe('IPVlanUnsupported');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/use the veth datapath/);
    expect(await dp.observe()).toEqual(before);
    expect(ownedObjects(before)).toEqual([]);
    expect(await topo.ip(pod.name, ['-br', 'link'])).not.toContain('eth0');
  });
});
