// Builds the provider a NetworkMode names. Each provider's SDK is loaded only
// when used, so a process serving one cloud never loads the other's SDK.
import type { ProviderType } from '../api/common.js';
import type { NetworkModeSpec } from '../api/networkmode.js';
import type { CloudMetrics } from '../metrics/cloud.js';
import type { Credentials } from './credentials.js';
import { parseEndpoint } from './endpoint.js';
import type { ProviderOptions } from './options.js';
import type { CloudProvider } from './types.js';

export async function createProvider(type: ProviderType, opts: ProviderOptions): Promise<CloudProvider> {
  switch (type) {
    case 'alibaba': {
      const { AlibabaProvider } = await import('./alibaba/provider.js');
      return new AlibabaProvider(opts);
    }
    case 'tencent': {
      const { TencentProvider } = await import('./tencent/provider.js');
      return new TencentProvider(opts);
    }
  }
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
