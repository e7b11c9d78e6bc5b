// Shared ENI, veth + policy routing. ADD costs three processes on a fresh pod:
// read the node, write the node (the pair is created straight into the pod
// namespace), write the pod.
import type { Netns } from '../netlink/netns.js';
import { diff, SnapshotIndex, writeAll } from './intent.js';
import { vethNodeIntent, vethPodIntent } from './intents.js';
import { derivedMac, podLinkAlias, vethHostName } from './names.js';
import { paired, podNetns, quoted, read, withLinks, write } from './ops.js';
import { cniResult } from './result.js';
import { DatapathError, type CniResult, type PodNetwork, type PodSandbox } from './types.js';
import { LINK_LOCAL_GATEWAY } from './names.js';

export async function applyVeth(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<CniResult> {
  const podNs = podNetns(sb.netns);
  const snapshot = await read(node);
  const index = new SnapshotIndex(snapshot);
  if (!index.linkByMac(pn.eniMac)) throw new DatapathError('ENINotFound', `no NIC with MAC ${pn.eniMac} (ENI ${pn.eniID}) in the node namespace`);
  const hostName = vethHostName(pn.podUID);
  let hostMac = derivedMac('veth-host', pn.podUID);
  let podMac = derivedMac('veth-pod', pn.podUID);
  const lines: string[] = [];
  let host = index.links.get(hostName);
  if (host) {
    // ADD again, or a pair left by an earlier sandbox of the same pod.
    const podLink = (await read(podNs)).links.find((l) => l.name === sb.ifName);
    if (paired(host, podLink)) {
      hostMac = host.mac;
      podMac = podLink!.mac;
    } else {
      if (podLink) throw new DatapathError('Conflict', `${sb.ifName} already exists in ${sb.netns} and is not this pod's veth`);
      lines.push(`link del dev ${hostName}`);
      host = undefined;
    }
  }
  if (!host) {
    lines.push(
      `link add ${hostName} address ${hostMac} type veth peer name ${sb.ifName} address ${podMac} netns ${sb.netns}`,
      `link set dev ${hostName} alias ${quoted(podLinkAlias(pn.podUID, sb.containerID))}`,
    );
  }
  const future = host ? index : new SnapshotIndex(withLinks(snapshot, [{ name: hostName, kind: 'veth', mac: hostMac }], [hostName]));
  await write(node, { before: lines, actions: diff(vethNodeIntent(pn, future), future).actions });
  const podIntent = vethPodIntent(pn, sb.ifName, hostMac);
  await write(podNs, { actions: writeAll(podIntent) });
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
