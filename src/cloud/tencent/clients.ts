// The official SDK's VPC and CVM clients (2017-03-12), imported module by
// module to keep the import graph small. Both talk to one endpoint override
// when there is one (the emulator serves both); otherwise the public ones.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ClientProfile } from 'tencentcloud-sdk-nodejs/tencentcloud/common/interface.js';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import type { ProviderOptions } from '../options.js';

export interface TencentClients {
  vpc: VpcClient;
  cvm: CvmClient;
}

/** Seconds before the SDK gives up on one HTTP request. */
const REQUEST_TIMEOUT_S = 30;

function profile(opts: ProviderOptions): ClientProfile {
  const endpoint = opts.endpoint;
  if (!endpoint) return { httpProfile: { reqTimeout: REQUEST_TIMEOUT_S } };
  return {
    httpProfile: {
      reqTimeout: REQUEST_TIMEOUT_S,
      endpoint: endpoint.host,
      protocol: endpoint.insecure ? 'http://' : 'https://',
      // An explicit agent: without one the SDK sends everything through $http_proxy,
      // loopback included.
      agent: endpoint.insecure ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true }),
    },
  };
}

export function createClients(opts: ProviderOptions): TencentClients {
  const { credentials } = opts;
  // A credential provider, not the values: the client object then holds no secret to print.
  const credential = { getCredential: () => Promise.resolve({ secretId: credentials.id, secretKey: credentials.secret }) };
  const config = { credential, region: opts.region, profile: profile(opts) };
  return { vpc: new VpcClient(config), cvm: new CvmClient(config) };
}
