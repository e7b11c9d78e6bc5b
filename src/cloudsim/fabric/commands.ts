// The kernel changes of the fabric as iproute2 batch lines, sysctls and nft
// commands, grouped in stages that run in a fixed order. Pure.
//
// Design (why it is built this way):
// - One router namespace holds one bridge per subnet, with the subnet's
//   gateway address on it. Every NIC is a veth pair: the node end (with the
//   ENI's MAC) in the node's namespace, the peer a port of the subnet's bridge.
// - Ports are isolated, so no frame goes from one node to another at layer 2:
//   everything is routed by the router, even inside a subnet (as in a VPC,
//   where the SDN, not a switch, delivers every packet). Proxy ARP with
//   proxy_arp_pvlan makes the router answer ARP for any address of the subnet,
//   so nodes send everything to the router's MAC.
// - The router delivers only to addresses the emulator assigned: each has a
//   permanent neighbour entry (IP -> ENI MAC) on the bridge and a static fdb
//   entry (MAC -> port); the router never sends ARP requests (solicit counts
//   0), so any other address fails resolution at once and its packets are
//   dropped. Learning is off on ports, so nothing a node sends moves a MAC.
// - nftables in the bridge family sees which port a frame entered by (the
//   inet family would see only the bridge): a frame from a NIC passes only if
//   (port, source MAC, source IP) is an assigned address of that port's ENI,
//   for IPv4 and for ARP replies. ARP requests from a NIC's own MAC are
//   answered whatever their sender address, as a VPC's gateway does: a node
//   ARPs through a bare ENI (no address of its own) with another of its
//   addresses as the sender. What the router learns from such a request
//   cannot make an address reachable: it forwards only to assigned addresses
//   (the `assigned` set), whatever its neighbour table says.
// - All VPCs share the router; an inet forward filter only lets a packet
//   leave through a bridge of the VPC it came from, and the router answers
//   only its own VPC's gateways.
// - Speed: a round's NICs are all created by one `ip -n <router> -batch` (the
//   node end is born straight in its node), so attaching costs three tool runs
//   (ip, bridge, nft) however many NICs a round holds; only a node's own
//   addressing (the primary NIC at start) needs a run inside the node.
import type { FabricSubnet } from './layout.js';

export const NFT_TABLE = 'eni_fabric';

/**
 * A NIC's creation: its lines run in one router batch with all other NICs of
 * the round; if its node-side name is taken (a consumer made a link of that
 * name), it is made again under `fallback`.
 */
export interface NicGroup {
  lines: string[];
  fallback: { ifname: string; lines: string[] };
  /** Told when the fallback name was used. */
  onFallback?: () => void;
}

/** One round of kernel changes; `apply` in fabric.ts runs the stages in this order. */
export class Stages {
  /** `ip -batch` in the root namespace: namespaces. */
  readonly root: string[] = [];
  /** `ip -n <router> -batch`: the router's own links (bridges). */
  readonly routerLinks: string[] = [];
  /** `sysctl -w` inside the router, after its links exist. */
  readonly routerSysctls: string[] = [];
  /** `ip -n <router> -force -batch`: removals, where "already gone" is fine. */
  readonly routerRemovals: string[] = [];
  /** `ip -n <router> -force -batch`: NICs, both ends created from the router side, so one run serves every node. */
  readonly nics: NicGroup[] = [];
  /** `ip -n <node> -batch` per node: loopback, and the primary NIC's addressing. */
  readonly nodes = new Map<string, string[]>();
  /** `ip -n <router> -batch`: neighbour entries. */
  readonly router: string[] = [];
  /** `bridge -n <router> -batch`: static fdb entries. */
  readonly fdb: string[] = [];
  /** `nft -f -` inside the router. */
  readonly nft: string[] = [];

  node(netns: string): string[] {
    let lines = this.nodes.get(netns);
    if (!lines) this.nodes.set(netns, (lines = []));
    return lines;
  }

  get empty(): boolean {
    return [this.root, this.routerLinks, this.routerSysctls, this.routerRemovals, this.nics, this.router, this.fdb, this.nft].every((s) => s.length === 0) && this.nodes.size === 0;
  }
}

/** The router namespace, its bridges and sysctls, and its nftables ruleset. */
export function addRouter(stages: Stages, routerNs: string, subnets: FabricSubnet[], vpcs: Map<string, string[]>): void {
  stages.root.push(`netns add ${routerNs}`);
  stages.routerLinks.push('link set lo up');
  stages.routerSysctls.push(
    'net.ipv4.ip_forward=1',
    // The router filters itself (nftables); strict reverse-path checks would only add surprises.
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.default.rp_filter=0',
    // Intra-subnet traffic enters and leaves the same bridge: that is the design, not a route to correct.
    'net.ipv4.conf.all.send_redirects=0',
    // The VPC is IPv4 only; no router advertisements or link-local chatter on the bridges.
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  );
  for (const s of subnets) {
    stages.routerLinks.push(
      `link add ${s.bridge} address ${s.bridgeMac} type bridge stp_state 0 mcast_snooping 0`,
      `addr add ${s.gateway}/${s.prefixLength} dev ${s.bridge}`,
      `link set ${s.bridge} up`,
    );
    stages.routerSysctls.push(
      `net.ipv4.conf.${s.bridge}.proxy_arp=1`,
      `net.ipv4.conf.${s.bridge}.proxy_arp_pvlan=1`,
      `net.ipv4.conf.${s.bridge}.send_redirects=0`,
      // Never ask: an address without a permanent entry is unreachable, at once.
      `net.ipv4.neigh.${s.bridge}.mcast_solicit=0`,
      `net.ipv4.neigh.${s.bridge}.ucast_solicit=0`,
      `net.ipv4.neigh.${s.bridge}.app_solicit=0`,
      // Answer proxy ARP immediately instead of after a random delay of up to 0.8 s.
      `net.ipv4.neigh.${s.bridge}.proxy_delay=0`,
    );
  }
  stages.nft.push(nftRuleset(subnets, vpcs));
}

export function nftRuleset(subnets: FabricSubnet[], vpcs: Map<string, string[]>): string {
  const bySubnet = new Map(subnets.map((s) => [s.id, s]));
  const paths: string[] = [];
  const gateways: string[] = [];
  for (const ids of vpcs.values()) {
    const members = ids.map((id) => bySubnet.get(id)).filter((s): s is FabricSubnet => s !== undefined);
    for (const from of members) {
      for (const to of members) {
        paths.push(`"${from.bridge}" . "${to.bridge}"`);
        gateways.push(`"${from.bridge}" . ${to.gateway}`);
      }
    }
  }
  const elements = (list: string[]): string => (list.length > 0 ? `elements = { ${list.join(', ')} }` : '');
  return `table bridge ${NFT_TABLE} {
  set eni_sources {
    type ifname . ether_addr . ipv4_addr
  }
  set eni_ports {
    type ifname . ether_addr
  }
  chain from_nics {
    type filter hook prerouting priority filter; policy drop;
    ether type ip iifname . ether saddr . ip saddr @eni_sources accept
    ether type arp iifname . ether saddr . arp saddr ip @eni_sources iifname . arp saddr ether . arp saddr ip @eni_sources accept
    ether type arp arp operation request iifname . ether saddr @eni_ports iifname . arp saddr ether @eni_ports accept
    counter drop
  }
}
table inet ${NFT_TABLE} {
  set vpc_paths {
    type ifname . ifname
    ${elements(paths)}
  }
  set vpc_gateways {
    type ifname . ipv4_addr
    ${elements(gateways)}
  }
  set assigned {
    type ipv4_addr
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname . oifname @vpc_paths ip daddr @assigned accept
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    iifname . ip daddr @vpc_gateways accept
  }
}
`;
}

/** A node namespace with its loopback up. */
export function addNode(stages: Stages, netns: string): void {
  stages.root.push(`netns add ${netns}`);
  stages.node(netns).push('link set lo up');
}

export interface NicPlacement {
  routerNs: string;
  netns: string;
  /** The node-side name wanted, and the one to use if it is taken. */
  ifname: string;
  fallbackIfname: string;
  port: string;
  mac: string;
  subnet: FabricSubnet;
  ips: string[];
  /**
   * The primary NIC comes up configured, as a VM boots: its primary IP, up,
   * default route via the gateway. A hot-plugged NIC appears down and bare.
   */
  primaryIP?: string;
  onFallback?: () => void;
}

export function addNic(stages: Stages, nic: NicPlacement): NicGroup {
  // Both ends are born where they belong (the peer straight into the node); neither ever appears in the root namespace.
  const lines = (ifname: string): string[] => [
    `link add ${nic.port} type veth peer name ${ifname} address ${nic.mac} netns ${nic.netns}`,
    `link set ${nic.port} master ${nic.subnet.bridge}`,
    `link set ${nic.port} type bridge_slave learning off isolated on`,
    `link set ${nic.port} up`,
  ];
  const group: NicGroup = { lines: lines(nic.ifname), fallback: { ifname: nic.fallbackIfname, lines: lines(nic.fallbackIfname) }, ...(nic.onFallback ? { onFallback: nic.onFallback } : {}) };
  stages.nics.push(group);
  if (nic.primaryIP !== undefined) {
    stages.node(nic.netns).push(`addr add ${nic.primaryIP}/${nic.subnet.prefixLength} dev ${nic.ifname}`, `link set ${nic.ifname} up`, `route add default via ${nic.subnet.gateway} dev ${nic.ifname}`);
  }
  stages.fdb.push(`fdb replace ${nic.mac} dev ${nic.port} master static`);
  stages.nft.push(`add element bridge ${NFT_TABLE} eni_ports { "${nic.port}" . ${nic.mac.toLowerCase()} }`);
  addAddresses(stages, nic.port, nic.mac, nic.subnet, nic.ips);
  return group;
}

/** Removing the port removes its veth peer too, wherever a consumer has moved or renamed it. */
export function removeNic(stages: Stages, port: string, mac: string, subnet: FabricSubnet, ips: string[]): void {
  removeAddresses(stages, port, mac, subnet, ips);
  stages.nft.push(`add element bridge ${NFT_TABLE} eni_ports { "${port}" . ${mac.toLowerCase()} }`, `delete element bridge ${NFT_TABLE} eni_ports { "${port}" . ${mac.toLowerCase()} }`);
  stages.routerRemovals.push(`link del ${port}`);
}

export function addAddresses(stages: Stages, port: string, mac: string, subnet: FabricSubnet, ips: string[]): void {
  if (ips.length === 0) return;
  for (const ip of ips) stages.router.push(`neigh replace ${ip} lladdr ${mac} dev ${subnet.bridge} nud permanent`);
  stages.nft.push(`add element bridge ${NFT_TABLE} eni_sources { ${ips.map((ip) => sourceElement(port, mac, ip)).join(', ')} }`);
  stages.nft.push(`add element inet ${NFT_TABLE} assigned { ${ips.join(', ')} }`);
}

export function removeAddresses(stages: Stages, port: string, mac: string, subnet: FabricSubnet, ips: string[]): void {
  if (ips.length === 0) return;
  for (const ip of ips) stages.routerRemovals.push(`neigh del ${ip} dev ${subnet.bridge}`);
  const elements = ips.map((ip) => sourceElement(port, mac, ip)).join(', ');
  // nft 1.0.6 has no "destroy": adding first makes the delete succeed even if the element is gone.
  stages.nft.push(`add element bridge ${NFT_TABLE} eni_sources { ${elements} }`, `delete element bridge ${NFT_TABLE} eni_sources { ${elements} }`);
  stages.nft.push(`add element inet ${NFT_TABLE} assigned { ${ips.join(', ')} }`, `delete element inet ${NFT_TABLE} assigned { ${ips.join(', ')} }`);
}

function sourceElement(port: string, mac: string, ip: string): string {
  return `"${port}" . ${mac.toLowerCase()} . ${ip}`;
}
