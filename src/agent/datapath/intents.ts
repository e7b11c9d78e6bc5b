// The kernel objects each datapath needs, on the node side and in the pod. Pure.
//
//  veth       node: eop<hash> ─ pod: ifName; pod IP/32, default via 169.254.1.1
//             (permanent neighbour = host veth MAC); main: podIP dev eop<hash>;
//             rules 2000 `to podIP lookup main`, 2100 `from podIP lookup 10000+ENI ifindex`;
//             ENI table: gateway/32 dev ENI, default via gateway; proxy ARP entry for
//             podIP on the ENI so a VPC that ARPs for pod IPs gets the ENI's MAC.
//  exclusive  the ENI itself is ifName in the pod (IP/prefix, default via gateway);
//             eox<hash> ─ pod veth1 for node traffic (node addresses via 169.254.1.1).
//  ipvlan     ifName is an L2 ipvlan slave of the ENI (IP/prefix, default via gateway);
//             the node reaches it through its own slave eoi<ENI MAC> carrying the node
//             addresses as /32; pods route the node addresses on-link.
import type { Snapshot } from '../netlink/model.js';
import { SCOPE_UNIVERSE, TABLE_MAIN } from '../netlink/model.js';
import type { RouteSpec } from './actions.js';
import { emptyIntent, mainRoute, type NsIntent, type SnapshotIndex } from './intent.js';
import {
  derivedMac,
  eniTable,
  exclusiveHostName,
  exclusivePodVethName,
  ipvlanHostName,
  LINK_LOCAL_GATEWAY,
  ownedRole,
  parseExclusiveAlias,
  RULE_FROM_POD_PRIORITY,
  RULE_TO_POD_PRIORITY,
  vethHostName,
} from './names.js';
import type { PodNetwork } from './types.js';
import { cidrContains, parseCidr } from '../../util/ipv4.js';

/** IPv4 addresses of the node itself: global scope, on links that are not the agent's. */
export function nodeAddresses(snapshot: Snapshot): string[] {
  const owned = new Set(snapshot.links.filter((l) => ownedRole(l) !== undefined || parseExclusiveAlias(l.alias)).map((l) => l.name));
  const out = new Set<string>();
  for (const a of snapshot.addresses) if (a.scope === SCOPE_UNIVERSE && !owned.has(a.dev)) out.add(a.address);
  return [...out].sort();
}

function eniMissing(pn: PodNetwork): string {
  return `ENI ${pn.eniID} (MAC ${pn.eniMac}) is not in the node namespace`;
}

/** Routes from the attachment, through `dev`; a next hop outside the subnet is marked on-link. */
function extraRoutes(pn: PodNetwork, table: number, dev: string, defaultVia: string): RouteSpec[] {
  const subnet = parseCidr(pn.subnet);
  return pn.routes.map((r) => {
    const gateway = r.via ?? defaultVia;
    const route: RouteSpec = { table, dst: r.dst, dev, gateway };
    if (gateway !== pn.gateway && !cidrContains(subnet, gateway)) route.onlink = true;
    return route;
  });
}

export function vethNodeIntent(pn: PodNetwork, index: SnapshotIndex): NsIntent {
  const intent = emptyIntent();
  const host = vethHostName(pn.podUID);
  const pod32 = `${pn.podIP}/32`;
  intent.links.push({ dev: host, kind: 'veth' });
  intent.forwarding.push('all', host);
  intent.routes.push(mainRoute(pod32, host));
  intent.rules.push({ priority: RULE_TO_POD_PRIORITY, dst: pod32, table: TABLE_MAIN });
  const eni = index.linkByMac(pn.eniMac);
  if (!eni) {
    intent.problems.push(eniMissing(pn));
    return intent;
  }
  const table = eniTable(eni.index);
  intent.enis.push(eni.name);
  intent.rules.push({ priority: RULE_FROM_POD_PRIORITY, src: pod32, table });
  intent.routes.push(
    { table, dst: `${pn.gateway}/32`, dev: eni.name, scope: 'link' },
    { table, dst: '0.0.0.0/0', dev: eni.name, gateway: pn.gateway },
    ...extraRoutes(pn, table, eni.name, pn.gateway),
  );
  intent.proxies.push({ dst: pn.podIP, dev: eni.name });
  return intent;
}

export function vethPodIntent(pn: PodNetwork, ifName: string, hostMac: string): NsIntent {
  const intent = emptyIntent();
  intent.links.push({ dev: 'lo' }, { dev: ifName, kind: 'veth', mac: derivedMac('veth-pod', pn.podUID) });
  intent.addresses.push({ dev: ifName, cidr: `${pn.podIP}/32` });
  intent.neighbours.push({ dst: LINK_LOCAL_GATEWAY, dev: ifName, lladdr: hostMac });
  intent.routes.push(
    mainRoute(`${LINK_LOCAL_GATEWAY}/32`, ifName),
    mainRoute('0.0.0.0/0', ifName, LINK_LOCAL_GATEWAY),
    ...pn.routes.map((r) => mainRoute(r.dst, ifName, LINK_LOCAL_GATEWAY)),
  );
  return intent;
}

export function exclusiveNodeIntent(pn: PodNetwork, index: SnapshotIndex): NsIntent {
  const intent = emptyIntent();
  const host = exclusiveHostName(pn.podUID);
  intent.links.push({ dev: host, kind: 'veth' });
  intent.routes.push(mainRoute(`${pn.podIP}/32`, host));
  const eni = index.linkByMac(pn.eniMac);
  if (eni) intent.problems.push(`exclusive ENI ${pn.eniID} is in the node namespace (${eni.name}), not in the pod`);
  return intent;
}

export function exclusivePodIntent(pn: PodNetwork, ifName: string, hostMac: string, nodeIPs: readonly string[]): NsIntent {
  const intent = emptyIntent();
  const veth = exclusivePodVethName(ifName);
  intent.links.push({ dev: 'lo' }, { dev: ifName, mac: pn.eniMac }, { dev: veth, kind: 'veth', mac: derivedMac('exclusive-pod', pn.podUID) });
  intent.addresses.push({ dev: ifName, cidr: `${pn.podIP}/${pn.prefix}` });
  intent.neighbours.push({ dst: LINK_LOCAL_GATEWAY, dev: veth, lladdr: hostMac });
  intent.routes.push(
    mainRoute('0.0.0.0/0', ifName, pn.gateway),
    ...extraRoutes(pn, TABLE_MAIN, ifName, pn.gateway),
    mainRoute(`${LINK_LOCAL_GATEWAY}/32`, veth),
    ...nodeIPs.map((ip) => mainRoute(`${ip}/32`, veth, LINK_LOCAL_GATEWAY)),
  );
  return intent;
}

export function ipvlanNodeIntent(pn: PodNetwork, index: SnapshotIndex, nodeIPs: readonly string[]): NsIntent {
  const intent = emptyIntent();
  const eni = index.linkByMac(pn.eniMac);
  if (!eni) {
    intent.problems.push(eniMissing(pn));
    return intent;
  }
  const host = ipvlanHostName(pn.eniMac);
  intent.enis.push(eni.name);
  intent.links.push({ dev: host, ipvlanParent: eni.name });
  for (const ip of nodeIPs) intent.addresses.push({ dev: host, cidr: `${ip}/32` });
  intent.routes.push(mainRoute(`${pn.podIP}/32`, host));
  return intent;
}

export function ipvlanPodIntent(pn: PodNetwork, ifName: string, nodeIPs: readonly string[]): NsIntent {
  const intent = emptyIntent();
  intent.links.push({ dev: 'lo' }, { dev: ifName, kind: 'ipvlan', mac: pn.eniMac });
  intent.addresses.push({ dev: ifName, cidr: `${pn.podIP}/${pn.prefix}` });
  intent.routes.push(
    mainRoute('0.0.0.0/0', ifName, pn.gateway),
    ...extraRoutes(pn, TABLE_MAIN, ifName, pn.gateway),
    ...nodeIPs.filter((ip) => ip !== pn.podIP).map((ip) => mainRoute(`${ip}/32`, ifName)),
  );
  return intent;
}

/** The node-side intent of any attachment. */
export function nodeIntent(pn: PodNetwork, index: SnapshotIndex, nodeIPs: readonly string[]): NsIntent {
  switch (pn.mode) {
    case 'veth':
      return vethNodeIntent(pn, index);
    case 'exclusive':
      return exclusiveNodeIntent(pn, index);
    case 'ipvlan':
      return ipvlanNodeIntent(pn, index, nodeIPs);
  }
}
