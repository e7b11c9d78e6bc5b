// The CNI configuration of each sandbox node, in one replaceable place.
//
// Until the project's own plugin and agent run in the sandbox, a node's pods
// sit on the reference `bridge` plugin with `host-local` addresses from a
// node-local range (10.244.<n>.0/24) that is routed only inside that node's
// namespace: pods run and reach each other and their node, but not other
// nodes (nothing routes 10.244/16 between nodes, and the VPC router drops
// addresses no ENI owns). Switching the sandbox to eni-cni means changing
// `nodeNetworkConfig` (and CNI_BIN_DIRS) only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkConfigList } from '../kubelet/cni.js';

/** Where the kubelets look for plugin binaries: Debian's containernetworking-plugins. */
export const CNI_BIN_DIRS = ['/usr/lib/cni'];

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
}

/** The node-local pod range of the bridge configuration. */
export function podCIDR(index: number): { subnet: string; gateway: string } {
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new Error(`node index ${index}: want 0..255`);
  return { subnet: `10.244.${index}.0/24`, gateway: `10.244.${index}.1` };
}

export function nodeNetworkConfig(node: NodeNetworkContext): NetworkConfigList {
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
export function writeNodeNetworkConfig(confDir: string, node: NodeNetworkContext): string {
  mkdirSync(confDir, { recursive: true });
  const file = join(confDir, '10-sandbox.conflist');
  writeFileSync(file, JSON.stringify(nodeNetworkConfig(node), null, 2) + '\n');
  return file;
}
