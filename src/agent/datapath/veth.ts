// Shared ENI, veth + policy routing. A fresh pod's ADD is two rounds of two
// helper requests each: the pair is created straight into the pod namespace
// while the node is read (names and MACs derive from the pod UID, so nothing
// needs reading first), then the node side and the pod side are written together.
import type { Netns } from '../netlink/netns.js';
import type { Step } from '../netlink/steps.js';
import { diff, SnapshotIndex, writeAll } from './intent.js';
import { vethNodeIntent, vethPodIntent } from './intents.js';
import { derivedMac, LINK_LOCAL_GATEWAY, podLinkAlias, vethHostName } from './names.js';
import { kernelError, paired, pairSteps, podNetns, read, withLinks, write } from './ops.js';
import { cniResult } from './result.js';
import { DatapathError, type CniResult, type PodNetwork, type PodSandbox } from './types.js';
import type { Snapshot } from '../netlink/model.js';

function createPair(pn: PodNetwork, sb: PodSandbox, hostName: string, hostMac: string, podMac: string): Step[] {
  return pairSteps({ name: hostName, mac: hostMac }, { name: sb.ifName, mac: podMac, netns: sb.netns }, podLinkAlias(pn.podUID, sb.containerID));
}

export async function applyVeth(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<CniResult> {
  const podNs = podNetns(sb.netns);
  const hostName = vethHostName(pn.podUID);
  let hostMac = derivedMac('veth-host', pn.podUID);
  let podMac = derivedMac('veth-pod', pn.podUID);
  const [created, observed] = await Promise.allSettled([write(node, { before: createPair(pn, sb, hostName, hostMac, podMac) }), read(node)]);
  if (observed.status === 'rejected') throw observed.reason;
  const snapshot: Snapshot = observed.value;
  const index = new SnapshotIndex(snapshot);
  if (!index.linkByMac(pn.eniMac)) {
    // Nothing of this pod's may stay behind on a refusal: not the pair just made.
    if (created.status === 'fulfilled') await write(node, { before: [{ do: 'link-delete', dev: hostName }], tolerateGone: true });
    throw new DatapathError('ENINotFound', `no NIC with MAC ${pn.eniMac} (ENI ${pn.eniID}) in the node namespace`);
  }
  // A pair just made: the read may or may not have seen it, so plan as if it had, down and bare.
  const withNewPair = (): SnapshotIndex => new SnapshotIndex(withLinks(snapshot, [{ name: hostName, kind: 'veth', mac: hostMac }], [hostName]));
  let future: SnapshotIndex;
  if (created.status === 'fulfilled') {
    future = withNewPair();
  } else {
    // Not created: the host end exists already (ADD again, or a pair left by an earlier sandbox of the same pod).
    const failure = kernelError(created.reason);
    const host = index.links.get(hostName);
    if (failure.reason !== 'Conflict' || !host) throw failure;
    const podLink = (await read(podNs)).links.find((l) => l.name === sb.ifName);
    if (paired(host, podLink)) {
      hostMac = host.mac;
      podMac = podLink!.mac;
      future = index;
    } else {
      if (podLink) throw new DatapathError('Conflict', `${sb.ifName} already exists in ${sb.netns} and is not this pod's veth`);
      await write(node, { before: [{ do: 'link-delete', dev: hostName }, ...createPair(pn, sb, hostName, hostMac, podMac)] });
      future = withNewPair();
    }
  }
  const podIntent = vethPodIntent(pn, sb.ifName, hostMac);
  const [nodeSide, podSide] = await Promise.allSettled([write(node, { actions: diff(vethNodeIntent(pn, future), future).actions }), write(podNs, { actions: writeAll(podIntent) })]);
  if (nodeSide.status === 'rejected') throw nodeSide.reason;
  if (podSide.status === 'rejected') throw podSide.reason;
  return cniResult([{ name: hostName, mac: hostMac }, { name: sb.ifName, mac: podMac, sandbox: sb.netns }], 1, `${pn.podIP}/32`, LINK_LOCAL_GATEWAY, podIntent);
}

export async function checkVeth(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<string[]> {
  const podNs = podNetns(sb.netns);
  const [snapshot, podSnapshot] = await Promise.all([read(node), read(podNs)]);
  const index = new SnapshotIndex(snapshot);
  const hostName = vethHostName(pn.podUID);
  const host = index.links.get(hostName);
  const podLink = podSnapshot.links.find((l) => l.name === sb.ifName);
  const problems = diff(vethNodeIntent(pn, index), index).problems;
  if (host && podLink && !paired(host, podLink)) problems.push(`${sb.ifName} in the pod is not the peer of ${hostName}`);
  const podIntent = vethPodIntent(pn, sb.ifName, host?.mac ?? derivedMac('veth-host', pn.podUID));
  problems.push(...diff(podIntent, new SnapshotIndex(podSnapshot)).problems);
  return problems;
}
