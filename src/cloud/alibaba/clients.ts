// The official SDK clients, configured for a region or an endpoint override.
// The SDK packages are CommonJS: imported from ESM, the default import is
// `module.exports`, whose `.default` is the client class.
import { $OpenApiUtil } from '@alicloud/openapi-core';
import EcsModule from '@alicloud/ecs20140526';
import VpcModule from '@alicloud/vpc20160428';
import type { ProviderOptions } from '../options.js';

export type EcsClient = InstanceType<typeof EcsModule.default>;
export type VpcClient = InstanceType<typeof VpcModule.default>;

/** Per request, so a hung connection fails into a retry instead of stalling a reconcile. */
const CONNECT_TIMEOUT_MS = 5_000;
const READ_TIMEOUT_MS = 10_000;

function config(opts: ProviderOptions): $OpenApiUtil.Config {
  return new $OpenApiUtil.Config({
    accessKeyId: opts.credentials.id,
    accessKeySecret: opts.credentials.secret,
    regionId: opts.region,
    connectTimeout: CONNECT_TIMEOUT_MS,
    readTimeout: READ_TIMEOUT_MS,
    // Without an override the SDK picks the region's public endpoint itself.
    // The SDK wants host[:port] with no scheme, and the scheme as `protocol`.
    ...(opts.endpoint ? { endpoint: opts.endpoint.host, protocol: opts.endpoint.insecure ? 'HTTP' : 'HTTPS' } : {}),
  });
}

export function createClients(opts: ProviderOptions): { ecs: EcsClient; vpc: VpcClient } {
  return { ecs: new EcsModule.default(config(opts)), vpc: new VpcModule.default(config(opts)) };
}
