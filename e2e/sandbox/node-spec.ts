// What a sandbox node registers as: its providerID in the cloud's own format,
// the well-known labels a cloud's node controller sets, and a capacity from
// its instance type. Pure.
import type { ProviderType } from '../../src/api/common.js';
import type { InstanceTypeSpec } from '../../src/cloudsim/world-spec.js';
import { SANDBOX_NODE_LABEL } from './operator-config.js';
import type { SandboxNode } from './world.js';

/**
 * Tencent numbers zones `<region code> * 10000 + <zone number>`
 * (ap-guangzhou-3 is 100003); TKE's providerID carries that number.
 */
const TENCENT_REGION_CODE: Record<string, number> = { 'ap-guangzhou': 10, 'ap-shanghai': 20, 'ap-beijing': 80 };

export function tencentZoneNumber(zone: string): number {
  const m = /^(.*)-(\d+)$/.exec(zone);
  const code = m ? TENCENT_REGION_CODE[m[1]!] : undefined;
  if (!m || code === undefined) throw new Error(`tencent zone "${zone}": no zone number known (regions: ${Object.keys(TENCENT_REGION_CODE).join(', ')})`);
  return code * 10_000 + Number(m[2]);
}

/** Alibaba ACK: `<region>.<instance>`; Tencent TKE: `qcloud:///<zone number>/<instance>`. */
export function providerID(provider: ProviderType, node: SandboxNode): string {
  return provider === 'alibaba' ? `${node.region}.${node.instanceId}` : `qcloud:///${tencentZoneNumber(node.zone)}/${node.instanceId}`;
}

/** The well-known labels, and the sandbox's own (which its NetworkMode selects). */
export function nodeLabels(node: SandboxNode, sandboxId: string): Record<string, string> {
  return {
    [SANDBOX_NODE_LABEL]: sandboxId,
    'kubernetes.io/hostname': node.name,
    'topology.kubernetes.io/region': node.region,
    'topology.kubernetes.io/zone': node.zone,
    'node.kubernetes.io/instance-type': node.instanceType,
  };
}

/** vCPUs and memory of the sandbox's instance types, as the clouds sell them. */
const MACHINE: Record<string, { cpu: string; memory: string }> = {
  'ecs.g7.large': { cpu: '2', memory: '8Gi' },
  'ecs.g7.xlarge': { cpu: '4', memory: '16Gi' },
  'ecs.g7.4xlarge': { cpu: '16', memory: '64Gi' },
  'S5.MEDIUM4': { cpu: '2', memory: '4Gi' },
  'S5.LARGE8': { cpu: '4', memory: '8Gi' },
  'S5.4XLARGE32': { cpu: '16', memory: '32Gi' },
};

/**
 * Node capacity. Pods are capped as ENI-based clusters cap them: the
 * secondary IPs of the secondary ENIs, (ENIs - 1) x (IPs per ENI - 1).
 */
export function nodeCapacity(type: InstanceTypeSpec): Record<string, string> {
  const machine = MACHINE[type.type] ?? { cpu: '4', memory: '8Gi' };
  const pods = Math.max(1, (type.maxENIs - 1) * (type.ipsPerENI - 1));
  return { ...machine, pods: String(pods), 'ephemeral-storage': '20Gi' };
}

/** `k=v,k=v` for the kubelet's --node-labels and --capacity. */
export function pairs(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
