// Two nodes and a VPC, built from network namespaces, for the datapath table
// (datapath-table.ts): pods wired by the agent's own Datapath (veth policy
// routing, exclusive ENI, ipvlan where the kernel has it) and by the reference
// `bridge` plugin, with the node-to-node path as the floor.
//
//   <p>-vpc   the VPC: a bridge per subnet with its gateway — 10.0.0.1/24 for
//             the nodes' primary NICs, 10.0.16.1/20 for the ENIs — routing
//             between them and to each node's bridge-plugin pod range
//             (10.244.<n>.0/24 via the node: a VPC route entry). nftables drops
//             what enters from a port with a source address the cloud has not
//             assigned to it, so a datapath that sends from the wrong NIC
//             loses its packets instead of being timed on the wrong path.
//   <p>-n1, <p>-n2   nodes: eth0 primary (10.0.0.11, .12), eth1 the veth pods'
//             shared ENI, eth4 the ipvlan pods' (a node runs one shared
//             datapath), eth2 (and on n1 eth3) exclusive ENIs — veths whose far
//             ends are the VPC's ports, down and unaddressed until the datapath
//             wires them.
//   <p>-<pod> one namespace per pod.
//
// Names start with `benchdp-<pid>-`; namespaces of a dead pid are swept first.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Attachment } from '../../src/api/nodenetwork.js';
import { Datapath } from '../../src/agent/datapath/datapath.js';
import { namedNetns } from '../../src/agent/netlink/netns.js';
import { CNIRuntime, type NetworkConfigList } from '../kubelet/cni.js';

export type PodMode = 'veth' | 'exclusive' | 'ipvlan' | 'bridge';

export interface Eni {
  nic: string;
  mac: string;
  /** The VPC's port for it, and the nft set of the addresses assigned to it. */
  port: string;
}

export interface WorldNode {
  index: 1 | 2;
  netns: string;
  primaryIP: string;
  /** eth1: shared by veth pods; eth4: shared by ipvlan pods; eth2 (and eth3 on node 1): exclusive. */
  enis: Eni[];
  datapath: Datapath;
}

export interface WorldPod {
  mode: PodMode;
  node: 1 | 2;
  netns: string;
  ip: string;
}

const ENI_SUBNET = { prefix: 20, gateway: '10.0.16.1' };
const STALE_RE = /^benchdp-(\d+)-/;
const REFERENCE_PLUGINS = '/usr/lib/cni';

function sh(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
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
  for (const pid of (await sh('ip', ['netns', 'pids', name]).catch(() => '')).split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await sh('ip', ['netns', 'del', name]).catch(() => undefined);
}

function ownNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => STALE_RE.test(n));
  } catch {
    return [];
  }
}

export class DatapathWorld {
  readonly prefix = `benchdp-${process.pid}-${randomBytes(2).toString('hex')}`;
  readonly vpc = `${this.prefix}-vpc`;
  readonly nodes: [WorldNode, WorldNode];
  private readonly created: string[] = [];
  private readonly ipamDir = mkdtempSync(join(tmpdir(), 'eni-bench-dp-ipam-'));
  private pods = 0;
  private nextHost = 10;

  private constructor() {
    const node = (index: 1 | 2): WorldNode => {
      const netns = `${this.prefix}-n${index}`;
      const enis = (index === 1 ? [1, 2, 3, 4] : [1, 2, 4]).map((k) => ({ nic: `eth${k}`, mac: `02:e${index}:00:00:00:0${k}`, port: `e${index}${k}` }));
      return { index, netns, primaryIP: `10.0.0.${10 + index}`, enis, datapath: new Datapath({ node: namedNetns(netns) }) };
    };
    this.nodes = [node(1), node(2)];
  }

  static async create(): Promise<DatapathWorld> {
    for (const n of ownNetns().filter((n) => !alive(Number(STALE_RE.exec(n)?.[1] ?? 0)))) await deleteNetns(n);
    const w = new DatapathWorld();
    try {
      await w.build();
    } catch (err) {
      await w.teardown();
      throw err;
    }
    return w;
  }

  private async addNetns(name: string): Promise<void> {
    this.created.push(name);
    await sh('ip', ['netns', 'add', name]);
    await sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async build(): Promise<void> {
    await this.addNetns(this.vpc);
    await sh('ip', ['-n', this.vpc, '-batch', '-'], ['link add br0 type bridge', 'link add br1 type bridge', 'address add 10.0.0.1/24 dev br0', `address add ${ENI_SUBNET.gateway}/${ENI_SUBNET.prefix} dev br1`, 'link set br0 up', 'link set br1 up'].join('\n') + '\n');
    for (const n of this.nodes) {
      await this.addNetns(n.netns);
      const lines = [`link add eth0 type veth peer name p${n.index} netns ${this.vpc}`, ...n.enis.map((e) => `link add ${e.nic} address ${e.mac} type veth peer name ${e.port} netns ${this.vpc}`), `address add ${n.primaryIP}/24 dev eth0`, 'link set eth0 up', 'route add default via 10.0.0.1 dev eth0'];
      await sh('ip', ['-n', n.netns, '-batch', '-'], lines.join('\n') + '\n');
      const ports = [`link set p${n.index} master br0 up`, ...n.enis.map((e) => `link set ${e.port} master br1 up`), `route add 10.244.${n.index}.0/24 via ${n.primaryIP} dev br0`];
      await sh('ip', ['-n', this.vpc, '-batch', '-'], ports.join('\n') + '\n');
    }
    // The VPC routes, never redirects (a node must keep sending through it), and filters sources
    // with nftables rather than rp_filter (an ENI without an address ARPs with another source).
    const perDevice = (key: string, value: number) => ['all', 'default', 'br0', 'br1'].map((d) => `net.ipv4.conf.${d}.${key}=${value}`);
    await sh('ip', ['netns', 'exec', this.vpc, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', ...perDevice('send_redirects', 0), ...perDevice('rp_filter', 0)]);
    const eniPorts = this.nodes.flatMap((n) => n.enis.map((e) => e.port));
    const ruleset = `
table bridge vpc {
  ${eniPorts.map((p) => `set ${p} { type ipv4_addr; }`).join('\n  ')}
  chain guard {
    type filter hook prerouting priority -300; policy accept;
    ${eniPorts.map((p) => `iifname "${p}" ether type ip ip saddr != @${p} drop`).join('\n    ')}
    ${this.nodes.map((n) => `iifname "p${n.index}" ether type ip ip saddr != { ${n.primaryIP}, 10.244.${n.index}.0/24 } drop`).join('\n    ')}
  }
}
`;
    await sh('ip', ['netns', 'exec', this.vpc, 'nft', '-f', '-'], ruleset);
  }

  /** The cloud assigns an address to an ENI: the VPC lets it through that ENI's port. */
  private async assign(eni: Eni, ip: string): Promise<void> {
    await sh('ip', ['netns', 'exec', this.vpc, 'nft', 'add', 'element', 'bridge', 'vpc', eni.port, `{ ${ip} }`]);
  }

  private attachment(mode: Exclude<PodMode, 'bridge'>, eni: Eni, ip: string): Attachment {
    const podUID = `${this.prefix}-pod-${this.pods}`;
    return { podUID, namespace: 'bench', name: podUID, mode, ip: `${ip}/${ENI_SUBNET.prefix}`, gateway: ENI_SUBNET.gateway, eniID: `eni-${eni.port}`, mac: eni.mac };
  }

  /**
   * A pod on `node`: veth pods share the node's eth1, ipvlan pods its eth4; an
   * exclusive pod takes the node's next unused exclusive ENI; a bridge pod gets
   * an address from the node's 10.244.<n>.0/24 through host-local.
   */
  async addPod(mode: PodMode, nodeIndex: 1 | 2): Promise<WorldPod> {
    const node = this.nodes[nodeIndex - 1]!;
    const netns = `${this.prefix}-p${++this.pods}`;
    await this.addNetns(netns);
    if (mode === 'bridge') return { mode, node: nodeIndex, netns, ip: await this.bridgePod(node, netns) };
    const eni = mode === 'exclusive' ? this.takeExclusive(node) : node.enis.find((e) => e.nic === (mode === 'veth' ? 'eth1' : 'eth4'))!;
    const ip = `10.0.${16 + nodeIndex}.${this.nextHost++}`;
    await this.assign(eni, ip);
    await node.datapath.apply(this.attachment(mode, eni, ip), { netns: `/run/netns/${netns}`, ifName: 'eth0', containerID: netns });
    return { mode, node: nodeIndex, netns, ip };
  }

  private readonly usedExclusive = new Set<string>();

  private takeExclusive(node: WorldNode): Eni {
    const eni = node.enis.find((e) => (e.nic === 'eth2' || e.nic === 'eth3') && !this.usedExclusive.has(e.port));
    if (!eni) throw new Error(`node ${node.index} has no exclusive ENI left`);
    this.usedExclusive.add(eni.port);
    return eni;
  }

  private async bridgePod(node: WorldNode, netns: string): Promise<string> {
    const conf: NetworkConfigList = {
      cniVersion: '1.0.0',
      name: `bench-bridge-${node.index}`,
      plugins: [{ type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: false, ipam: { type: 'host-local', ranges: [[{ subnet: `10.244.${node.index}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: this.ipamDir } }],
    };
    const runtime = new CNIRuntime({ binDirs: [REFERENCE_PLUGINS], hostNetns: `/run/netns/${node.netns}` });
    const result = await runtime.add(conf, { containerId: netns, netns: `/run/netns/${netns}`, ifName: 'eth0', args: [] });
    const ip = result.ips?.[0]?.address.split('/')[0];
    if (!ip) throw new Error(`bridge ADD on node ${node.index} gave no address: ${JSON.stringify(result)}`);
    return ip;
  }

  async teardown(): Promise<void> {
    for (const name of [...this.created].reverse()) await deleteNetns(name);
    for (const name of ownNetns().filter((n) => n.startsWith(`${this.prefix}-`))) await deleteNetns(name);
    rmSync(this.ipamDir, { recursive: true, force: true });
  }
}
