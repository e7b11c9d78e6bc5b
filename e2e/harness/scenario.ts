// Building blocks of controller scenarios: a NetworkMode on the emulated
// Alibaba region, Nodes backed by emulated instances, a namespace pods can use.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '../../src/api/common.js';
import type { NetworkMode, NetworkModeSpec } from '../../src/api/networkmode.js';
import type { ENIPool } from '../../src/api/enipool.js';
import { CRClient } from '../../src/controller/kube.js';
import { Resources, kubeConfig } from './cluster.js';

export const POD_SUBNETS = { zoneI: 'vsw-bp1simpodsi000001', zoneJ: 'vsw-bp1simpodsj000001', smallI: 'vsw-bp1simsmalli00001' } as const;
export const SECURITY_GROUP = 'sg-bp1simpods00000001';
export const NETWORK_LABEL = 'eni-operator.io/network';
/** On each scenario's NetworkMode, so a controller under test manages only its own (--networkmode-selector). */
export const SCENARIO_LABEL = 'eni-operator.io/scenario';

/**
 * Creates a NetworkMode named `name` that governs the nodes labelled
 * `eni-operator.io/network: <name>`, on the emulated Alibaba region at `host`.
 */
/** Spec fields to set; nested objects may be partial (the API server defaults the rest). */
export type SpecInput = { [K in keyof NetworkModeSpec]?: Partial<NetworkModeSpec[K]> } & { secret?: string };

export async function createEmulatedMode(name: string, host: string, spec: SpecInput = {}): Promise<NetworkMode> {
  const { secret = 'unused', ...rest } = spec;
  return new Resources('admin').create<NetworkMode>('networkmodes', {
    apiVersion: API_VERSION,
    kind: 'NetworkMode',
    metadata: { name, labels: { [SCENARIO_LABEL]: name } },
    spec: {
      nodeSelector: { matchLabels: { [NETWORK_LABEL]: name } },
      provider: { type: 'alibaba', region: 'cn-hangzhou', credentialsSecretRef: { name: secret, namespace: 'eni-operator-system' }, endpoint: host, allowInsecureHTTP: true },
      subnets: [POD_SUBNETS.zoneI, POD_SUBNETS.zoneJ],
      securityGroups: [SECURITY_GROUP],
      ...rest,
    } as NetworkModeSpec,
  });
}

/** Nodes of `mode`, each backed by an emulated instance (e.g. i-bp1simnode000000001). */
export async function createNodes(mode: string, nodes: { name: string; instance: string }[]): Promise<void> {
  const core = kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
  for (const n of nodes) await core.createNode({ body: { metadata: { name: n.name, labels: { [NETWORK_LABEL]: mode } }, spec: { providerID: `cn-hangzhou.${n.instance}` } } });
}

/**
 * A namespace pods can be created in: returns once the controller-manager has
 * made its `default` ServiceAccount, without which the API server rejects pods.
 */
export async function createPodNamespace(name: string): Promise<void> {
  const core = kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  await waitForDefaultServiceAccount(core, name);
}

export async function waitForDefaultServiceAccount(core: k8s.CoreV1Api, namespace: string, timeoutMs = 30_000): Promise<k8s.V1ServiceAccount> {
  for (const until = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
    try {
      return await core.readNamespacedServiceAccount({ namespace, name: 'default' });
    } catch (err) {
      if (!(err instanceof k8s.ApiException) || err.code !== 404) throw err;
      if (Date.now() > until) throw new Error(`namespace ${namespace}: no \`default\` ServiceAccount after ${timeoutMs} ms (is kube-controller-manager running?)`, { cause: err });
    }
  }
}

/** Removes what the helpers above made; missing objects are fine. */
export async function removeScenario(mode: string, nodes: string[], namespace?: string): Promise<void> {
  const core = kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
  await new Resources('admin').delete('networkmodes', mode).catch(() => undefined);
  for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  // No controller is left to give these ENIs back (the emulator goes with the test): let the ENIPools go.
  const cr = new CRClient(kubeConfig('admin'));
  for (const n of nodes) {
    const pool = await cr.get<ENIPool>('enipools', n);
    if (pool?.metadata.finalizers?.length) await cr.setFinalizers('enipools', pool, []).catch(() => undefined);
    await cr.delete('enipools', n).catch(() => undefined);
    await cr.delete('nodenetworks', n).catch(() => undefined);
  }
  if (namespace) await core.deleteNamespace({ name: namespace }).catch(() => undefined);
}
