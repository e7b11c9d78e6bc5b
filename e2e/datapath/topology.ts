// A throwaway node for datapath tests, built from network namespaces:
//
//   <p>-node  eth0 10.0.0.10/24 (primary NIC)  eth1, eth2: fake ENIs (DOWN, no address, fixed MAC)
//   <p>-vpc   the VPC router: p0 10.0.0.1/24, e1 10.0.16.1/20 (ENI 1's gateway),
//             e2 10.0.32.1/20 (ENI 2's gateway), tp 10.0.48.1/24 towards the peer.
//             nftables drops IPv4 from an ENI whose source is not assigned to it
//             (and from the primary NIC unless it is the node address), and
//             forwards to an address only through the ENI it is assigned to.
//   <p>-peer  a host elsewhere in the VPC: 10.0.48.10/24.
//   <p>-<pod> one namespace per pod.
// The node and the pods filter reverse paths strictly (rp_filter=1).
//
// Names start with `eodp-<pid>-`; namespaces of a dead pid are swept first.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import type { Attachment } from '../../src/api/nodenetwork.js';
import { namedNetns, type Netns } from '../../src/agent/netlink/netns.js';

const STALE_RE = /^eodp-(\d+)-/;
const STRICT_RP_FILTER = ['net.ipv4.conf.all.rp_filter=1', 'net.ipv4.conf.default.rp_filter=1'];

export interface Eni {
  id: string;
  mac: string;
  /** Its NIC's name in the node namespace. */
  nic: string;
  /** Its peer's name in the VPC namespace. */
  vpcPort: string;
  subnetPrefix: number;
  gateway: string;
  /** nft set of the addresses assigned to it. */
  set: string;
}

export const NODE_IP = '10.0.0.10';
export const PEER_IP = '10.0.48.10';

function sh(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    // A command that exits without reading its stdin would otherwise raise EPIPE here.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function deleteNetns(name: string): Promise<void> {
  const pids = (await sh('ip', ['netns', 'pids', name]).catch(() => '')).split('\n').filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await sh('ip', ['netns', 'del', name]).catch(() => undefined);
}

export function ourNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith('eodp-'));
  } catch {
    return [];
  }
}

/** Removes namespaces left by test processes that died without their teardown. */
export async function sweepStale(): Promise<string[]> {
  const stale = ourNetns().filter((n) => !alive(Number(STALE_RE.exec(n)?.[1] ?? 0)));
  for (const n of stale) await deleteNetns(n);
  return stale;
}

export class Topology {
  readonly prefix = `eodp-${process.pid}-${randomBytes(3).toString('hex')}`;
  readonly nodeName = `${this.prefix}-node`;
  readonly vpcName = `${this.prefix}-vpc`;
  readonly peerName = `${this.prefix}-peer`;
  readonly node: Netns = namedNetns(this.nodeName);
  readonly enis: Eni[] = [
    { id: 'eni-one', mac: '02:e1:00:00:00:01', nic: 'eth1', vpcPort: 'e1', subnetPrefix: 20, gateway: '10.0.16.1', set: 'eni1' },
    { id: 'eni-two', mac: '02:e2:00:00:00:02', nic: 'eth2', vpcPort: 'e2', subnetPrefix: 20, gateway: '10.0.32.1', set: 'eni2' },
  ];
  private readonly created: string[] = [];

  static async create(): Promise<Topology> {
    await sweepStale();
    const t = new Topology();
    try {
      await t.build();
    } catch (err) {
      await t.teardown();
      throw err;
    }
    return t;
  }

  private async addNetns(name: string): Promise<void> {
    this.created.push(name);
    await sh('ip', ['netns', 'add', name]);
    await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async batch(ns: string, lines: string[]): Promise<void> {
    await sh('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  }

  private async sysctl(ns: string, settings: string[]): Promise<void> {
    await sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings]);
  }

  private async build(): Promise<void> {
    const { nodeName: node, vpcName: vpc, peerName: peer } = this;
    for (const ns of [node, vpc, peer]) await this.addNetns(ns);
    await this.batch(node, [
      `link add eth0 type veth peer name p0 netns ${vpc}`,
      ...this.enis.map((e) => `link add ${e.nic} address ${e.mac} type veth peer name ${e.vpcPort} netns ${vpc}`),
      `address add ${NODE_IP}/24 dev eth0`,
      'link set eth0 up',
      'route add default via 10.0.0.1 dev eth0',
    ]);
    await this.batch(vpc, [
      `link add tp type veth peer name eth0 netns ${peer}`,
      'address add 10.0.0.1/24 dev p0',
      'link set p0 up',
      'address add 10.0.48.1/24 dev tp',
      'link set tp up',
      ...this.enis.flatMap((e) => [`address add ${e.gateway}/${e.subnetPrefix} dev ${e.vpcPort}`, `link set ${e.vpcPort} up`]),
    ]);
    await this.batch(peer, [`address add ${PEER_IP}/24 dev eth0`, 'link set eth0 up', 'route add default via 10.0.48.1']);
    // The VPC forwards and filters with nftables, not rp_filter, and answers ARP only for the
    // gateway of the port asked (arp_ignore=1), like a router.
    const ports = ['p0', 'tp', ...this.enis.map((e) => e.vpcPort)];
    await this.sysctl(vpc, [
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      ...ports.flatMap((d) => [`net.ipv4.conf.${d}.rp_filter=0`, `net.ipv4.conf.${d}.arp_ignore=1`]),
    ]);
    // The node and its pods run strict reverse-path filtering, as many distributions do: the
    // datapaths must not depend on it being off.
    await this.sysctl(node, STRICT_RP_FILTER);
    const eniPorts = this.enis.map((e) => `"${e.vpcPort}"`).join(', ');
    const ruleset = `
table inet fabric {
  ${this.enis.map((e) => `set ${e.set} { type ipv4_addr; }\n  counter from_${e.set} {}`).join('\n  ')}
  counter spoofed {}
  chain guard {
    type filter hook prerouting priority -300; policy accept;
    ${this.enis.map((e) => `iifname "${e.vpcPort}" ip saddr @${e.set} counter name from_${e.set} accept`).join('\n    ')}
    iifname { ${eniPorts} } meta nfproto ipv4 counter name spoofed drop
    iifname "p0" ip saddr != ${NODE_IP} counter name spoofed drop
  }
  chain deliver {
    type filter hook forward priority 0; policy accept;
    ${this.enis.map((e) => `oifname "${e.vpcPort}" ip daddr != @${e.set} drop`).join('\n    ')}
  }
}
`;
    await sh('ip', ['netns', 'exec', vpc, 'nft', '-f', '-'], ruleset);
  }

  /** The cloud's assignment of an address to an ENI, as the VPC router enforces it. */
  async assign(eni: Eni, ip: string): Promise<void> {
    await sh('ip', ['netns', 'exec', this.vpcName, 'nft', 'add', 'element', 'inet', 'fabric', eni.set, `{ ${ip} }`]);
  }

  async unassign(eni: Eni, ip: string): Promise<void> {
    await sh('ip', ['netns', 'exec', this.vpcName, 'nft', 'delete', 'element', 'inet', 'fabric', eni.set, `{ ${ip} }`]);
  }

  /** Packets the VPC counted: accepted per ENI, and dropped as spoofed. */
  async counter(name: string): Promise<number> {
    const out = await sh('ip', ['netns', 'exec', this.vpcName, 'nft', '-j', 'list', 'counter', 'inet', 'fabric', name]);
    const doc = JSON.parse(out) as { nftables: { counter?: { packets: number } }[] };
    return doc.nftables.find((x) => x.counter)?.counter?.packets ?? 0;
  }

  /** A pod network namespace; returns its name and the path a runtime would pass as CNI_NETNS. */
  async addPod(label: string): Promise<{ name: string; path: string }> {
    const name = `${this.prefix}-${label}`;
    await this.addNetns(name);
    await this.sysctl(name, STRICT_RP_FILTER);
    return { name, path: `/run/netns/${name}` };
  }

  async deletePod(name: string): Promise<void> {
    await deleteNetns(name);
  }

  attachment(podUID: string, mode: Attachment['mode'], eni: Eni, ip: string, routes?: Attachment['routes']): Attachment {
    const a: Attachment = { podUID, namespace: 'default', name: `pod-${podUID}`, mode, ip: `${ip}/${eni.subnetPrefix}`, gateway: eni.gateway, eniID: eni.id, mac: eni.mac };
    if (routes) a.routes = routes;
    return a;
  }

  /** `ip -n <ns> ...` for tests that break things on purpose or inspect them. */
  async ip(ns: string, args: string[]): Promise<string> {
    return sh('ip', ['-n', ns, ...args]);
  }

  async teardown(): Promise<void> {
    for (const name of [...this.created].reverse()) await deleteNetns(name);
    for (const name of ourNetns().filter((n) => n.startsWith(`${this.prefix}-`))) await deleteNetns(name);
  }
}
