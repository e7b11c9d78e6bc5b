// What the fabric should look like for a world: one bridge per subnet, one
// namespace per instance, one NIC per attached ENI. Pure.
import type { ProviderType } from '../../api/common.js';
import { subnetGateway } from '../../cloud/gateway.js';
import { parseCidr } from '../../util/ipv4.js';
import type { EniStatus, SimENI, SimInstance } from '../world.js';
import { bridgeMac, bridgeName, nodeNamespace, routerNamespace } from './names.js';

/** The part of `World.snapshot()` the fabric reads. */
export interface WorldSnapshot {
  regions: {
    id: string;
    provider: ProviderType;
    vpcs: { id: string; cidr: string }[];
    subnets: { id: string; vpcId: string; cidr: string }[];
    instances: SimInstance[];
    enis: SimENI[];
  }[];
}

export interface FabricSubnet {
  id: string;
  vpcId: string;
  cidr: string;
  prefixLength: number;
  /** Where the cloud puts the gateway (src/cloud/gateway.ts), held by the router on the bridge. */
  gateway: string;
  bridge: string;
  bridgeMac: string;
}

export interface FabricNode {
  instanceId: string;
  netns: string;
}

/** An ENI as a NIC: which node, which subnet's bridge, which addresses the router delivers to it. */
export interface FabricNicSpec {
  eniId: string;
  instanceId: string;
  mac: string;
  deviceIndex: number;
  subnetId: string;
  primary: boolean;
  ips: string[];
}

export interface Layout {
  routerNs: string;
  subnets: Map<string, FabricSubnet>;
  /** VPC ID -> its subnets' IDs. */
  vpcs: Map<string, string[]>;
  nodes: Map<string, FabricNode>;
  nics: FabricNicSpec[];
  /** Regions, for the fabric's clock tick. */
  scopes: { provider: ProviderType; regionId: string }[];
}

/** An ENI is a NIC in its instance from the moment the attach completes until the detach does. */
const NIC_PRESENT: ReadonlySet<EniStatus> = new Set<EniStatus>(['InUse', 'Detaching']);

export function nicSpec(eni: SimENI): FabricNicSpec {
  return {
    eniId: eni.id,
    instanceId: eni.instanceId!,
    mac: eni.mac,
    deviceIndex: eni.deviceIndex ?? 0,
    subnetId: eni.subnetId,
    primary: eni.primary,
    ips: [eni.primaryIP, ...eni.secondaryIPs],
  };
}

export function buildLayout(prefix: string, snapshot: WorldSnapshot): Layout {
  const vpcCidrs: { id: string; cidr: string }[] = [];
  const layout: Layout = { routerNs: routerNamespace(prefix), subnets: new Map(), vpcs: new Map(), nodes: new Map(), nics: [], scopes: [] };
  for (const region of snapshot.regions) {
    layout.scopes.push({ provider: region.provider, regionId: region.id });
    vpcCidrs.push(...region.vpcs);
    for (const vpc of region.vpcs) layout.vpcs.set(vpc.id, []);
    for (const s of region.subnets) {
      const cidr = parseCidr(s.cidr);
      layout.subnets.set(s.id, {
        id: s.id,
        vpcId: s.vpcId,
        cidr: cidr.text,
        prefixLength: cidr.prefix,
        gateway: subnetGateway(region.provider, s.cidr),
        bridge: bridgeName(s.id),
        bridgeMac: bridgeMac(s.id),
      });
      layout.vpcs.get(s.vpcId)?.push(s.id);
    }
    for (const inst of region.instances) {
      layout.nodes.set(inst.id, { instanceId: inst.id, netns: nodeNamespace(prefix, inst.id) });
    }
    for (const eni of region.enis) {
      if (eni.instanceId !== undefined && NIC_PRESENT.has(eni.status)) layout.nics.push(nicSpec(eni));
    }
  }
  checkDistinct('namespace', [...layout.nodes.values()].map((n) => n.netns));
  checkDistinct('bridge', [...layout.subnets.values()].map((s) => s.bridge));
  checkVpcsApart(vpcCidrs);
  // Primary NICs first: a node's eth0 before anything hot-plugged.
  layout.nics.sort((a, b) => Number(b.primary) - Number(a.primary) || a.deviceIndex - b.deviceIndex);
  return layout;
}

function checkDistinct(what: string, names: string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new Error(`fabric: two objects of the world map to the ${what} name ${n}`);
    seen.add(n);
  }
}

/**
 * All VPCs share the router's one routing table (VPCs are kept apart by a
 * forwarding filter, see commands.ts), so their address ranges must not overlap.
 */
function checkVpcsApart(vpcs: { id: string; cidr: string }[]): void {
  for (let i = 0; i < vpcs.length; i++) {
    for (let j = i + 1; j < vpcs.length; j++) {
      const a = parseCidr(vpcs[i]!.cidr);
      const b = parseCidr(vpcs[j]!.cidr);
      if (a.base < b.base + b.size && b.base < a.base + a.size) {
        throw new Error(`fabric: VPCs ${vpcs[i]!.id} (${a.text}) and ${vpcs[j]!.id} (${b.text}) overlap; the fabric needs disjoint VPC ranges`);
      }
    }
  }
}
