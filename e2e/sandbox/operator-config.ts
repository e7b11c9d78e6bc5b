// What a sandbox hands its user so that applying one NetworkMode is all it
// takes: the credentials Secret (made from the emulator's own credentials) and
// a ready-to-apply NetworkMode for the sandbox's cloud. Pure.
import { API_VERSION, type ProviderType } from '../../src/api/common.js';
import type { NetworkModeSpec } from '../../src/api/networkmode.js';
import type { RegionSpec, WorldSpec } from '../../src/cloudsim/world-spec.js';

/** The operator's namespace (RBAC, leader Lease, credentials). */
export const OPERATOR_NAMESPACE = 'eni-operator-system';
/** Every sandbox Node carries `<label>=<sandbox id>`; the NetworkMode selects on it. */
export const SANDBOX_NODE_LABEL = 'eni-operator.io/sandbox';
export const SANDBOX_NETWORKMODE = 'sandbox';

/** Secret keys each provider's credentials use (src/cloud/credentials.ts). */
const SECRET_KEYS: Record<ProviderType, { id: string; secret: string }> = {
  alibaba: { id: 'accessKeyId', secret: 'accessKeySecret' },
  tencent: { id: 'secretId', secret: 'secretKey' },
};

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string };
  type: 'Opaque';
  stringData: Record<string, string>;
}

export function credentialsSecretName(provider: ProviderType): string {
  return `sandbox-${provider}-credentials`;
}

/** The Secret the controller reads, holding the credentials the emulator accepts for `provider`. */
export function credentialsSecret(world: WorldSpec, provider: ProviderType): SecretObject {
  const cred = world.credentials.find((c) => c.provider === provider);
  if (!cred) throw new Error(`world: no ${provider} credentials`);
  const keys = SECRET_KEYS[provider];
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: credentialsSecretName(provider), namespace: OPERATOR_NAMESPACE },
    type: 'Opaque',
    stringData: { [keys.id]: cred.accessKeyId, [keys.secret]: cred.accessKeySecret },
  };
}

export interface PodNetwork {
  subnets: { id: string; zone: string; cidr: string }[];
  securityGroup: string;
}

/** The pod subnets (named "pods...") of the sandbox's two zones, and the region's first security group. */
export function podNetwork(region: RegionSpec): PodNetwork {
  const zones = region.zones.slice(0, 2);
  const subnets = zones.map((zone) => {
    const s = region.vpcs.flatMap((v) => v.subnets).find((x) => x.zone === zone && (x.name ?? '').startsWith('pods'));
    if (!s) throw new Error(`world: region ${region.id} has no pod subnet (name "pods...") in zone ${zone}`);
    return { id: s.id, zone: s.zone, cidr: s.cidr };
  });
  const securityGroup = region.securityGroups[0]?.id;
  if (!securityGroup) throw new Error(`world: region ${region.id} has no security group`);
  return { subnets, securityGroup };
}

/** A NetworkMode as a user writes it: what it leaves out, the API server defaults. */
export interface NetworkModeManifest {
  apiVersion: typeof API_VERSION;
  kind: 'NetworkMode';
  metadata: { name: string };
  spec: { [K in keyof NetworkModeSpec]?: Partial<NetworkModeSpec[K]> };
}

export interface SandboxModeInput {
  provider: ProviderType;
  region: RegionSpec;
  /** The emulator's host:port. */
  endpoint: string;
  sandboxId: string;
}

/**
 * The sandbox's NetworkMode: every sandbox node, veth datapath (this kernel
 * has no ipvlan), exclusive ENIs allowed with one kept warm, a small warm
 * pool and short cooldown so that a demo sees addresses come back.
 */
export function sandboxNetworkMode(input: SandboxModeInput): NetworkModeManifest {
  const { subnets, securityGroup } = podNetwork(input.region);
  return {
    apiVersion: API_VERSION,
    kind: 'NetworkMode',
    metadata: { name: SANDBOX_NETWORKMODE },
    spec: {
      nodeSelector: { matchLabels: { [SANDBOX_NODE_LABEL]: input.sandboxId } },
      provider: {
        type: input.provider,
        region: input.region.id,
        credentialsSecretRef: { name: credentialsSecretName(input.provider), namespace: OPERATOR_NAMESPACE },
        endpoint: input.endpoint,
        allowInsecureHTTP: true,
      },
      subnets: subnets.map((s) => s.id),
      securityGroups: [securityGroup],
      datapath: 'veth',
      exclusive: { enabled: true, warmENIs: 1 },
      pool: { warmIPs: 4, maxIdleIPs: 12, cooldown: '10s' },
    },
  };
}
