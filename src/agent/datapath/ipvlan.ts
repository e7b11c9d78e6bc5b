// Shared ENI, ipvlan L2: the pod's ifName is an ipvlan slave of the ENI; the
// node reaches the ENI's pods through its own slave (eoi<MAC>) that carries the
// node addresses. Needs CONFIG_IPVLAN; refused with IPVlanUnsupported without.
import { netnsFile, type Netns } from '../netlink/netns.js';
import type { Step } from '../netlink/steps.js';
import { TABLE_MAIN } from '../netlink/model.js';
import { diff, SnapshotIndex, writeAll } from './intent.js';
import { ipvlanNodeIntent, ipvlanPodIntent, nodeAddresses } from './intents.js';
import { ipvlanHostName, ipvlanTempName } from './names.js';
import { podNetns, read, write } from './ops.js';
import { cniResult } from './result.js';
import { DatapathError, type CniResult, type PodNetwork, type PodSandbox } from './types.js';

export const IPVLAN_UNSUPPORTED_MESSAGE = 'this kernel cannot create ipvlan links (no CONFIG_IPVLAN); use the veth datapath on this node';

export async function applyIpvlan(node: Netns, pn: PodNetwork, sb: PodSandbox, supported: boolean): Promise<CniResult> {
  if (!supported) throw new DatapathError('IPVlanUnsupported', IPVLAN_UNSUPPORTED_MESSAGE);
  const podNs = podNetns(sb.netns);
  const snapshot = await read(node);
  const index = new SnapshotIndex(snapshot);
  const eni = index.linkByMac(pn.eniMac);
  if (!eni) throw new DatapathError('ENINotFound', `no NIC with MAC ${pn.eniMac} (ENI ${pn.eniID}) in the node namespace`);
  const nodeIPs = nodeAddresses(snapshot);
  const host = ipvlanHostName(pn.eniMac);
  const temp = ipvlanTempName(pn.podUID);
  // The host route exists only if an ADD got this far before: only then can the pod have the slave.
  const again = snapshot.routes.some((r) => r.table === TABLE_MAIN && r.dst === `${pn.podIP}/32` && r.dev === host);
  let create = true;
  let rename = true;
  if (again) {
    const podLinks = (await read(podNs)).links;
    const podLink = podLinks.find((l) => l.name === sb.ifName);
    if (podLink && (podLink.kind !== 'ipvlan' || podLink.mac !== pn.eniMac)) {
      throw new DatapathError('Conflict', `${sb.ifName} already exists in ${sb.netns} and is not an ipvlan slave of ENI ${pn.eniID}`);
    }
    create = !podLink && !podLinks.some((l) => l.name === temp);
    rename = !podLink;
  }
  const after: Step[] = create ? [{ do: 'ipvlan-add', dev: temp, parent: eni.name, to: netnsFile(podNs) }] : [];
  await write(node, { actions: diff(ipvlanNodeIntent(pn, index, nodeIPs), index).actions, after });
  const podIntent = ipvlanPodIntent(pn, sb.ifName, nodeIPs);
  await write(podNs, { before: rename ? [{ do: 'link-set', dev: temp, rename: sb.ifName }] : [], actions: writeAll(podIntent) });
  return cniResult([{ name: sb.ifName, mac: pn.eniMac, sandbox: sb.netns }], 0, `${pn.podIP}/${pn.prefix}`, pn.gateway, podIntent);
}

export async function checkIpvlan(node: Netns, pn: PodNetwork, sb: PodSandbox): Promise<string[]> {
  const podNs = podNetns(sb.netns);
  const [snapshot, podSnapshot] = await Promise.all([read(node), read(podNs)]);
  const index = new SnapshotIndex(snapshot);
  const nodeIPs = nodeAddresses(snapshot);
  const problems = diff(ipvlanNodeIntent(pn, index, nodeIPs), index).problems;
  problems.push(...diff(ipvlanPodIntent(pn, sb.ifName, nodeIPs), new SnapshotIndex(podSnapshot)).problems);
  return problems;
}
