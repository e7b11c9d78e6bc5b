// CNI 1.0.0 results from what was configured. Pure.
import type { NsIntent } from './intent.js';
import type { CniInterface, CniResult } from './types.js';

export function cniResult(interfaces: CniInterface[], podInterface: number, address: string, gateway: string, podIntent: NsIntent): CniResult {
  return {
    cniVersion: '1.0.0',
    interfaces,
    ips: [{ address, gateway, interface: podInterface }],
    routes: podIntent.routes.filter((r) => r.gateway !== undefined || r.dst !== '169.254.1.1/32').map((r) => (r.gateway ? { dst: r.dst, gw: r.gateway } : { dst: r.dst })),
    dns: {},
  };
}
