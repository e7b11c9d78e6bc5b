// Exclusive ENI: the NIC itself moves into the pod namespace as ifName, with a
// small veth to the node for node traffic. ADD: the pair is made while the
// node is read (names and MACs derive from the pod UID), then the node is
// written (mark + move + routes), then the pod. The move is the kernel's cost:
// ~20 ms of rcu_barrier() under the rtnl lock here, whoever asks for it.
import type { Link, Snapshot } from '../netlink/model.js';
import { netnsFile, type Netns } from '../netlink/netns.js';
import type { Step } from '../netlink/steps.js';
import { diff, SnapshotIndex, writeAll } from './intent.js';
import { exclusiveNodeIntent, exclusivePodIntent, nodeAddresses } from './intents.js';
import { derivedMac, exclusiveAlias, exclusiveHostName, exclusivePodVethName, parseExclusiveAlias, podLinkAlias } from './names.js';
import { kernelError, paired, pairSteps, podNetns, read, withLinks, write } from './ops.js';
import { cniResult } from './result.js';
import { DatapathError, type CniResult, type PodNetwork, type PodSandbox } from './types.js';

export async function applyExclusive(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<CniResult> {
  const podNs = podNetns(sb.netns);
  const hostName = exclusiveHostName(pn.podUID);
  const podVeth = exclusivePodVethName(sb.ifName);
  let hostMac = derivedMac('exclusive-host', pn.podUID);
  let podMac = derivedMac('exclusive-pod', pn.podUID);
  const pair = (): Step[] => pairSteps({ name: hostName, mac: hostMac }, { name: podVeth, mac: podMac, netns: sb.netns }, podLinkAlias(pn.podUID, sb.containerID));
  const [created, observed] = await Promise.allSettled([write(node, { before: pair() }), read(node)]);
  if (observed.status === 'rejected') throw observed.reason;
  const snapshot = observed.value;
  const index = new SnapshotIndex(snapshot);
  const nodeIPs = nodeAddresses(snapshot);
  const eni = index.linkByMac(pn.eniMac);
  const nodeSteps: Step[] = [];
  const podSteps: Step[] = [];
  // An existing pair (ADD again) kept as it is; undefined when the pair is new.
  let host: Link | undefined;
  let podSnapshot: Snapshot | undefined;
  if (created.status === 'rejected') {
    // Not created: the host end exists already (ADD again, or a pair left by an earlier sandbox of the pod).
    const failure = kernelError(created.reason);
    host = index.links.get(hostName);
    if (failure.reason !== 'Conflict' || !host) throw failure;
    podSnapshot = await read(podNs);
    const podLink = podSnapshot.links.find((l) => l.name === podVeth);
    if (paired(host, podLink)) {
      hostMac = host.mac;
      podMac = podLink!.mac;
    } else {
      if (podLink) throw new DatapathError('Conflict', `${podVeth} already exists in ${sb.netns} and is not this pod's veth`);
      nodeSteps.push({ do: 'link-delete', dev: hostName }, ...pair());
      host = undefined;
    }
  }
  if (eni) {
    // The alias travels with the NIC and tells a later DEL (or repair) whose it is and the name to
    // restore. Set before the move: a NIC that moved but could not be renamed (ifName taken in the
    // pod) still says whose it is, and one that did not move is put back by repair or the next ADD.
    const original = parseExclusiveAlias(eni.alias)?.originalName ?? eni.name;
    nodeSteps.push({ do: 'link-set', dev: eni.name, alias: exclusiveAlias(pn.podUID, original) }, { do: 'link-set', dev: eni.name, to: netnsFile(podNs), rename: sb.ifName });
  } else {
    podSnapshot ??= await read(podNs);
    const inPod = new SnapshotIndex(podSnapshot).linkByMac(pn.eniMac);
    if (!inPod) {
      // Nothing of this pod's may stay behind on a refusal: not the pair just made.
      if (created.status === 'fulfilled') await write(node, { before: [{ do: 'link-delete', dev: hostName }], tolerateGone: true });
      throw new DatapathError('ENINotFound', `no NIC with MAC ${pn.eniMac} (ENI ${pn.eniID}) in the node namespace nor in ${sb.netns}`);
    }
    if (inPod.name !== sb.ifName) podSteps.push({ do: 'link-down', dev: inPod.name }, { do: 'link-set', dev: inPod.name, rename: sb.ifName });
  }
  const gone = eni ? [hostName, eni.name] : [hostName];
  const future = new SnapshotIndex(withLinks(snapshot, host ? [host] : [{ name: hostName, kind: 'veth', mac: hostMac }], gone));
  await write(node, { before: nodeSteps, actions: diff(exclusiveNodeIntent(pn, future), future).actions });
  const podIntent = exclusivePodIntent(pn, sb.ifName, hostMac, nodeIPs);
  await write(podNs, { before: podSteps, actions: writeAll(podIntent) });
  return cniResult(
    [
      { name: hostName, mac: hostMac },
      { name: sb.ifName, mac: pn.eniMac, sandbox: sb.netns },
      { name: podVeth, mac: podMac, sandbox: sb.netns },
    ],
    1,
    `${pn.podIP}/${pn.prefix}`,
    pn.gateway,
    podIntent,
  );
}

export async function checkExclusive(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<string[]> {
  const podNs = podNetns(sb.netns);
  const [snapshot, podSnapshot] = await Promise.all([read(node), read(podNs)]);
  const index = new SnapshotIndex(snapshot);
  const hostName = exclusiveHostName(pn.podUID);
  const host = index.links.get(hostName);
  const podVeth = exclusivePodVethName(sb.ifName);
  const podLink = podSnapshot.links.find((l) => l.name === podVeth);
  const problems = diff(exclusiveNodeIntent(pn, index), index).problems;
  if (host && podLink && !paired(host, podLink)) problems.push(`${podVeth} in the pod is not the peer of ${hostName}`);
  const podIntent = exclusivePodIntent(pn, sb.ifName, host?.mac ?? derivedMac('exclusive-host', pn.podUID), nodeAddresses(snapshot));
  problems.push(...diff(podIntent, new SnapshotIndex(podSnapshot)).problems);
  return problems;
}
