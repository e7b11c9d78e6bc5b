// A node for kubelet tests: its own network namespace, a CNI conf dir with the
// reference bridge + host-local (+ tuning) plugins on a private /24 that exists
// only inside that namespace, and folders for IPAM and kubelet state.
// Every kernel name carries `klt-<pid>-<hex>`, so a crashed run's leftovers are
// recognised (owner pid gone) and swept by the next run.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkConfigList } from './cni.js';
import { deleteNetns, ensureNetns, listNetns } from './netns.js';

const NAME = /^klt-(\d+)-[0-9a-f]{4}-/;
const DIR_PREFIX = 'eni-kubelet-test-';

export interface TestNode {
  /** `klt-<pid>-<hex>`: every kernel name of this node starts with it. */
  id: string;
  nodeNetns: string;
  /** Pod namespaces are `<podPrefix>-<uid12>`. */
  podPrefix: string;
  bridge: string;
  subnet: string;
  gateway: string;
  dir: string;
  confDir: string;
  ipamDir: string;
  stateDir: string;
  /** The working config (bridge + host-local, then tuning setting the pod's MTU). */
  goodConfig(): NetworkConfigList;
  writeConfig(config: object): void;
  /** IPs host-local holds (its reservation files). */
  reservedIPs(): string[];
  /** This node's pod namespaces that exist. */
  podNetns(): string[];
  remove(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes namespaces and folders of earlier runs whose process is gone. */
export async function sweepStaleTestNodes(): Promise<string[]> {
  const swept: string[] = [];
  for (const ns of listNetns()) {
    const m = NAME.exec(ns);
    if (m && !alive(Number(m[1]))) {
      await deleteNetns(ns);
      swept.push(ns);
    }
  }
  for (const d of readdirSync(tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(d);
    if (m && !alive(Number(m[1]))) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  return swept;
}

export async function createTestNode(): Promise<TestNode> {
  const hex = randomBytes(2).toString('hex');
  const id = `klt-${process.pid}-${hex}`;
  const dir = join(tmpdir(), `${DIR_PREFIX}${process.pid}-${hex}`);
  const confDir = join(dir, 'net.d');
  const ipamDir = join(dir, 'ipam');
  const stateDir = join(dir, 'state');
  for (const d of [confDir, ipamDir, stateDir]) mkdirSync(d, { recursive: true });
  // A random private /24: it is only ever routed inside this node's namespace.
  const third = randomBytes(1)[0]!;
  const subnet = `10.251.${third}.0/24`;
  const gateway = `10.251.${third}.1`;
  const nodeNetns = `${id}-node`;
  const podPrefix = `${id}-p`;
  const bridge = `klb${hex}`; // inside the node namespace, removed with it
  const network = `${id}-net`;
  await ensureNetns(nodeNetns);

  const node: TestNode = {
    id,
    nodeNetns,
    podPrefix,
    bridge,
    subnet,
    gateway,
    dir,
    confDir,
    ipamDir,
    stateDir,
    goodConfig: () => ({
      cniVersion: '1.0.0',
      name: network,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
        },
        // Chained: needs prevResult to find the pod's interface.
        { type: 'tuning', mtu: 1400 },
      ],
    }),
    writeConfig: (config) => writeFileSync(join(confDir, '10-test.conflist'), JSON.stringify(config, null, 2)),
    reservedIPs: () => {
      try {
        return readdirSync(join(ipamDir, network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
      } catch {
        return [];
      }
    },
    podNetns: () => listNetns().filter((n) => n.startsWith(`${podPrefix}-`)),
    remove: async () => {
      for (const ns of listNetns()) if (ns.startsWith(`${id}-`)) await deleteNetns(ns);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  node.writeConfig(node.goodConfig());
  return node;
}
