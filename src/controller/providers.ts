// One CloudProvider per NetworkMode, built from its Secret, rebuilt when the
// mode's spec or the Secret changes. The controller is the only component
// that reads cloud credentials.
import * as k8s from '@kubernetes/client-node';
import type { NetworkMode } from '../api/networkmode.js';
import { credentialsFromSecret } from '../cloud/credentials.js';
import { createProvider, optionsFromSpec } from '../cloud/factory.js';
import type { CloudProvider } from '../cloud/types.js';
import type { CloudMetrics } from '../metrics/cloud.js';

/** How long a provider is used before its Secret is read again (rotation is picked up within this). */
export const SECRET_RECHECK_MS = 30_000;

export class Providers {
  private readonly core: k8s.CoreV1Api;
  private readonly cache = new Map<string, { key: string; generation: number; checkedAt: number; provider: Promise<CloudProvider> }>();

  constructor(
    kc: k8s.KubeConfig,
    private readonly metrics?: CloudMetrics,
    private readonly now: () => number = Date.now,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  async forMode(mode: NetworkMode): Promise<CloudProvider> {
    // Every reconcile asks; the Secret is read only every SECRET_RECHECK_MS, not on the hot path.
    const hit = this.cache.get(mode.metadata.name!);
    if (hit && hit.generation === (mode.metadata.generation ?? 0) && this.now() - hit.checkedAt < SECRET_RECHECK_MS) return hit.provider;
    const ref = mode.spec.provider.credentialsSecretRef;
    const secret = await this.core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace }).catch((err: unknown) => {
      throw new Error(`NetworkMode ${mode.metadata.name}: cannot read Secret ${ref.namespace}/${ref.name}: ${err instanceof k8s.ApiException ? `HTTP ${err.code}` : String(err)}`, { cause: err });
    });
    const generation = mode.metadata.generation ?? 0;
    const key = `${generation}/${secret.metadata?.resourceVersion ?? ''}`;
    if (hit?.key === key) {
      hit.checkedAt = this.now();
      return hit.provider;
    }
    const credentials = credentialsFromSecret(mode.spec.provider.type, secret, `${ref.namespace}/${ref.name}`);
    const provider = createProvider(mode.spec.provider.type, optionsFromSpec(mode.spec.provider, credentials, this.metrics));
    this.cache.set(mode.metadata.name!, { key, generation, checkedAt: this.now(), provider });
    return provider;
  }

  drop(modeName: string): void {
    this.cache.delete(modeName);
  }
}
