// One simulated kubelet per sandbox node: it registers the Node (providerID,
// labels, capacity), runs the node's pods in the node's fabric namespace with
// the node's CNI configuration, and dies with the supervisor (ProcessGroup).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProviderType } from '../../src/api/common.js';
import type { InstanceTypeSpec } from '../../src/cloudsim/world-spec.js';
import { kubectl, type ControlPlaneInfo } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import type { ProcessGroup } from '../harness/processes.js';
import type { SandboxNodeInfo } from './info.js';
import { podNetnsPrefix } from './naming.js';
import { writeNodeNetworkConfig, type SandboxCNI } from './node-cni.js';
import { nodeCapacity, nodeLabels, pairs, providerID } from './node-spec.js';
import type { SandboxNode } from './world.js';

export interface KubeletLaunch {
  index: number;
  node: SandboxNode;
  provider: ProviderType;
  instanceType: InstanceTypeSpec;
  netns: string;
  primaryIP: string;
  fabricPrefix: string;
  /** The sandbox folder; the node's files go under nodes/<name>/. */
  dir: string;
  kubeconfig: string;
  sandboxId: string;
  cni: SandboxCNI;
  cniBinDirs: string[];
  /** The node agent's CNI socket (eni). */
  agentSocket: string;
}

/** Writes the node's CNI configuration and starts its kubelet; returns what the sandbox reports of it. */
export function startKubelet(group: ProcessGroup, l: KubeletLaunch): SandboxNodeInfo {
  const home = join(l.dir, 'nodes', l.node.name);
  const cniConfDir = join(home, 'net.d');
  const stateDir = join(home, 'state');
  mkdirSync(stateDir, { recursive: true });
  const context = { index: l.index, name: l.node.name, instanceId: l.node.instanceId, netns: l.netns, primaryIP: l.primaryIP, stateDir, agentSocket: l.agentSocket };
  writeNodeNetworkConfig(cniConfDir, context, l.cni);
  const id = providerID(l.provider, l.node);
  const podPrefix = podNetnsPrefix(l.fabricPrefix, l.index);
  const kubeletLog = join(home, 'kubelet.log');
  const args = [
    repoPath('dist/e2e/kubelet/main.js'),
    ...['--kubeconfig', l.kubeconfig, '--node', l.node.name, '--node-netns', l.netns, '--node-ip', l.primaryIP],
    ...['--netns-prefix', podPrefix, '--cni-bin-dir', l.cniBinDirs.join(':'), '--cni-conf-dir', cniConfDir, '--state-dir', stateDir],
    ...['--register', '--provider-id', id, '--node-labels', pairs(nodeLabels(l.node, l.sandboxId)), '--capacity', pairs(nodeCapacity(l.instanceType))],
  ];
  // eni-cni starts with `#!/usr/bin/env node`: the plugins the kubelet execs must find this Node (24) first.
  const env = { ...process.env, PATH: [dirname(process.execPath), process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':') };
  const proc = group.start(l.node.name, process.execPath, args, kubeletLog, env);
  return {
    name: l.node.name,
    instanceId: l.node.instanceId,
    zone: l.node.zone,
    instanceType: l.node.instanceType,
    providerID: id,
    netns: l.netns,
    ip: l.primaryIP,
    podNetnsPrefix: podPrefix,
    cniConfDir,
    agentSocket: l.cni === 'eni' ? l.agentSocket : '',
    kubeletLog,
    kubeletPid: proc.pid!,
  };
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/** Resolves once every named Node is Ready; rejects when a kubelet exits or after timeoutMs. */
export async function waitForNodesReady(cp: ControlPlaneInfo, group: ProcessGroup, names: string[], timeoutMs: number): Promise<void> {
  let exited: string | undefined;
  for (const name of names) void group.exited(name).then((code) => (exited ??= `the kubelet of ${name} exited (code ${code})`));
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(exited);
    const list = await kubectl(cp, ['get', 'nodes', '-o', 'json'])
      .then((out) => JSON.parse(out) as NodeList)
      .catch(() => ({ items: [] }));
    const ready = new Set(list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name));
    const waiting = names.filter((n) => !ready.has(n));
    if (waiting.length === 0) return;
    if (Date.now() > until) throw new Error(`nodes not Ready after ${timeoutMs} ms: ${waiting.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
