// Where each cloud puts a subnet's gateway. Pure.
import type { ProviderType } from '../api/common.js';
import { intToIp, parseCidr } from '../util/ipv4.js';

/** Alibaba: the third address from the end of the vSwitch (x.x.x.253 in a /24); Tencent: the first host (x.x.x.1). */
export function subnetGateway(provider: ProviderType, cidr: string): string {
  const c = parseCidr(cidr);
  return intToIp(provider === 'alibaba' ? c.base + c.size - 3 : c.base + 1);
}
