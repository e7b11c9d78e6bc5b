// The CNI configuration of each sandbox node, in one replaceable place.
//
// Two choices (`sandbox up --cni`):
//  - `eni` (default): the operator itself. The node's conflist names the
//    project's `eni-cni` plugin, which forwards every call to the node's agent
//    on its unix socket; pods get VPC addresses from the node's ENIs.
//  - `bridge`: the reference `bridge` plugin with `host-local` addresses from
//    a node-local range (10.244.<n>.0/24) routed only inside that node's
//    namespace. Pods run and reach each other and their node, but not other
//    nodes. It proves the simulated kubelet without any of the operator.
import { accessSync, constants, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkConfigList } from '../kubelet/cni.js';
import { repoPath } from '../harness/paths.js';

export const SANDBOX_CNIS = ['eni', 'bridge'] as const;
export type SandboxCNI = (typeof SANDBOX_CNIS)[number];

/** Debian's containernetworking-plugins (bridge, host-local, loopback, ...). */
const REFERENCE_PLUGINS = '/usr/lib/cni';

/** What a node's network configuration may depend on. */
export interface NodeNetworkContext {
  /** 0-based position of the node in the sandbox. */
  index: number;
  name: string;
  instanceId: string;
  /** The node's fabric namespace and primary (VPC) IP. */
  netns: string;
  primaryIP: string;
  /** Folder the node's plugins may keep state in (IPAM reservations). */
  stateDir: string;
  /** The node agent's CNI socket (eni only). */
  agentSocket: string;
}

/** The node-local pod range of the bridge configuration. */
export function podCIDR(index: number): { subnet: string; gateway: string } {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new Error(`node index ${index}: want 0..255`);
  return { subnet: `10.244.${index}.0/24`, gateway: `10.244.${index}.1` };
}

/** Longest path a unix socket address holds (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

export function nodeNetworkConfig(node: NodeNetworkContext, cni: SandboxCNI): NetworkConfigList {
  if (cni === 'eni') {
    if (Buffer.byteLength(node.agentSocket) > MAX_SOCKET_PATH) {
      throw new Error(`agent socket ${node.agentSocket} is longer than a unix socket path may be (${MAX_SOCKET_PATH} bytes): use a shorter sandbox folder`);
    }
    // The agent answers quickly once the pod's address is planned; the plugin waits as long as the agent may wait for the plan.
    return { cniVersion: '1.0.0', name: 'eni', plugins: [{ type: 'eni-cni', agentSocket: node.agentSocket, timeoutMs: 30_000 }] };
  }
  const { subnet, gateway } = podCIDR(node.index);
  return {
    cniVersion: '1.0.0',
    name: 'sandbox-bridge',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0', // inside the node's namespace: every node has its own
        isGateway: true,
        ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet, gateway }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(node.stateDir, 'ipam') },
      },
    ],
  };
}

/** Writes the node's configuration as the only file of `confDir`; returns its path. */
export function writeNodeNetworkConfig(confDir: string, node: NodeNetworkContext, cni: SandboxCNI): string {
  mkdirSync(confDir, { recursive: true });
  const file = join(confDir, '10-sandbox.conflist');
  writeFileSync(file, JSON.stringify(nodeNetworkConfig(node, cni), null, 2) + '\n');
  return file;
}

/**
 * The kubelets' plugin directories. For eni, `<sandbox>/cni-bin` holds
 * `eni-cni`, a symlink to the native plugin `make build` writes to
 * dist/bin/eni-cni (as a runtime finds any plugin binary); the reference
 * plugins stay on the path after it.
 */
export function prepareCniBinDirs(sandboxDir: string, cni: SandboxCNI): string[] {
  if (cni === 'bridge') return [REFERENCE_PLUGINS];
  const plugin = repoPath('dist/bin/eni-cni');
  try {
    accessSync(plugin, constants.X_OK);
  } catch (err) {
    throw new Error(`${plugin} is not an executable plugin (${(err as Error).message}): build it first (\`make build\`)`, { cause: err });
  }
  const bin = join(sandboxDir, 'cni-bin');
  mkdirSync(bin, { recursive: true });
  rmSync(join(bin, 'eni-cni'), { force: true });
  symlinkSync(plugin, join(bin, 'eni-cni'));
  return [bin, REFERENCE_PLUGINS];
}
