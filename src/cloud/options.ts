// What every provider is built from.
import type { CloudMetrics } from '../metrics/cloud.js';
import type { RetryPolicy } from './caller.js';
import type { Credentials } from './credentials.js';
import type { Endpoint } from './endpoint.js';
import type { PollPolicy } from './poll.js';

export interface ProviderOptions {
  region: string;
  credentials: Credentials;
  /** Overrides the public endpoints (the local emulator, a private endpoint). */
  endpoint?: Endpoint;
  /** Client-side token bucket, per API. */
  rateLimit: { qps: number; burst: number };
  retry?: Partial<RetryPolicy>;
  poll?: Partial<PollPolicy>;
  metrics?: CloudMetrics;
  /** VPC of the subnets, when known (Tencent's CreateNetworkInterface needs it). */
  vpcId?: string;
}
