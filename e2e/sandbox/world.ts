// The sandbox's cloud world: the default world with the chosen cloud's
// instances replaced by one per simulated node, spread over the region's first
// two zones (nodes alternate between them). Pure.
import type { ProviderType } from '../../src/api/common.js';
import type { InstanceSpec, RegionSpec, WorldSpec } from '../../src/cloudsim/world-spec.js';

export const MAX_SANDBOX_NODES = 16;

/** Instance type of sandbox nodes: room for a few ENIs of a dozen IPs or more. */
const NODE_TYPE: Record<ProviderType, string> = { alibaba: 'ecs.g7.xlarge', tencent: 'S5.LARGE8' };

function instanceId(provider: ProviderType, i: number): string {
  const n = String(i + 1);
  return provider === 'alibaba' ? `i-bp1sandbox${n.padStart(9, '0')}` : `ins-sbx${n.padStart(5, '0')}`;
}

/** The node subnet of a zone: the region's first subnet in that zone whose name starts with "nodes". */
function nodeSubnet(region: RegionSpec, zone: string): string {
  const subnet = region.vpcs.flatMap((v) => v.subnets).find((s) => s.zone === zone && (s.name ?? '').startsWith('nodes'));
  if (!subnet) throw new Error(`world: region ${region.id} has no node subnet (name "nodes...") in zone ${zone}`);
  return subnet.id;
}

export interface SandboxNode {
  name: string;
  instanceId: string;
  zone: string;
  instanceType: string;
  region: string;
}

export function sandboxWorld(base: WorldSpec, provider: ProviderType, count: number): { world: WorldSpec; nodes: SandboxNode[] } {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SANDBOX_NODES) throw new Error(`nodes: want 1..${MAX_SANDBOX_NODES}, got ${count}`);
  const region = base.regions.find((r) => r.provider === provider);
  if (!region) throw new Error(`world: no ${provider} region`);
  const zones = region.zones.slice(0, 2);
  const type = NODE_TYPE[provider];
  if (!region.instanceTypes.some((t) => t.type === type)) throw new Error(`world: region ${region.id} lacks instance type ${type}`);
  const instances: InstanceSpec[] = Array.from({ length: count }, (_, i) => {
    const zone = zones[i % zones.length]!;
    return { id: instanceId(provider, i), type, zone, subnetId: nodeSubnet(region, zone), name: `node-${i + 1}` };
  });
  const nodes = instances.map((inst) => ({ name: inst.name!, instanceId: inst.id, zone: inst.zone, instanceType: inst.type, region: region.id }));
  return { world: { ...base, regions: base.regions.map((r) => (r === region ? { ...r, instances } : r)) }, nodes };
}
