// Builds the provider a NetworkMode names. Each provider's SDK is loaded only
// when used, so a process serving one cloud never loads the other's SDK.
import { PROVIDERS, type ProviderType } from '../api/common.js';
import type { NetworkModeSpec } from '../api/networkmode.js';
import type { CloudMetrics } from '../metrics/cloud.js';
import type { Credentials } from './credentials.js';
import { parseEndpoint } from './endpoint.js';
import type { ProviderOptions } from './options.js';
import type { CloudProvider } from './types.js';

export async function createProvider(type: ProviderType, opts: ProviderOptions): Promise<CloudProvider> {
  const Provider = await loadProvider(type);
  return new Provider(opts);
}

type ProviderClass = new (opts: ProviderOptions) => CloudProvider;
const loaded = new Map<ProviderType, Promise<ProviderClass>>();

/**
 * Loads a provider's SDK once. Loading compiles thousands of SDK modules and
 * holds the event loop for seconds on a busy machine (3.6 s for Alibaba's at
 * load 13 on 2 cores), so the controller loads what its NetworkModes name
 * before it campaigns for the lease: a leader whose loop stalls longer than
 * its renew deadline steps down.
 */
export function loadProvider(type: ProviderType): Promise<ProviderClass> {
  let p = loaded.get(type);
  if (!p) {
    p = type === 'alibaba' ? import('./alibaba/provider.js').then((m) => m.AlibabaProvider) : import('./tencent/provider.js').then((m) => m.TencentProvider);
    loaded.set(type, p);
  }
  return p;
}

/** Provider options from a NetworkMode's `spec.provider`. */
export function optionsFromSpec(spec: NetworkModeSpec['provider'], credentials: Credentials, metrics?: CloudMetrics): ProviderOptions {
  return {
    region: spec.region,
    credentials,
    rateLimit: { qps: spec.rateLimit.qps, burst: spec.rateLimit.burst },
    ...(spec.endpoint ? { endpoint: parseEndpoint(spec.endpoint, spec.allowInsecureHTTP) } : {}),
    ...(spec.vpcId ? { vpcId: spec.vpcId } : {}),
    ...(metrics ? { metrics } : {}),
  };
}

/** A comma-separated subset of the providers (possibly empty), as a flag gives it. */
export function parseProviderList(value: string, flag: string): ProviderType[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!(PROVIDERS as readonly string[]).includes(n)) throw new Error(`${flag}: unknown provider "${n}" (want ${PROVIDERS.join(', ')})`);
  return [...new Set(names)] as ProviderType[];
}
