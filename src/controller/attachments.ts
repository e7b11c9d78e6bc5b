// A node's NodeNetwork plan from its ledger: one attachment per address held
// by a pod, in a stable order so an unchanged ledger writes an unchanged plan. Pure.
import type { Datapath } from '../api/networkmode.js';
import type { Attachment } from '../api/nodenetwork.js';
import { parseCidr } from '../util/ipv4.js';
import type { NodeENI } from './codec.js';

function split(pod: string | undefined): { namespace: string; name: string } {
  const [namespace = '', name = ''] = (pod ?? '/').split('/');
  return { namespace, name };
}

/** The ENIs and IPs a plan cannot be written for yet (no MAC or subnet known). */
function complete(eni: NodeENI): eni is NodeENI & { mac: string; subnetCIDR: string; gateway: string } {
  return Boolean(eni.mac && eni.subnetCIDR && eni.gateway);
}

export function attachmentsFor(enis: NodeENI[], datapath: Datapath): Attachment[] {
  const out: Attachment[] = [];
  for (const eni of enis) {
    if (!complete(eni) || !eni.ready) continue;
    const prefix = parseCidr(eni.subnetCIDR).prefix;
    const base = { gateway: eni.gateway, eniID: eni.id, mac: eni.mac };
    if (eni.role === 'exclusive') {
      const primary = eni.ips.find((ip) => ip.primary);
      if (eni.podUID && primary) out.push({ podUID: eni.podUID, ...split(eni.pod), mode: 'exclusive', ip: `${primary.address}/${prefix}`, ...base });
      continue;
    }
    for (const ip of eni.ips) {
      if (ip.state === 'assigned' && ip.podUID) out.push({ podUID: ip.podUID, ...split(ip.pod), mode: datapath, ip: `${ip.address}/${prefix}`, ...base });
    }
  }
  return out.sort((a, b) => (a.podUID < b.podUID ? -1 : 1));
}
