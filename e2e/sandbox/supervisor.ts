// The sandbox supervisor: a detached process that owns every part of one
// sandbox — control plane, cloud emulator with its VPC fabric, one kubelet per
// node and, with the eni CNI, the operator (a controller, an agent per node) —
// until SIGTERM/SIGINT, then takes it all down. Its children die with
// it even when it is SIGKILLed (ProcessGroup: pdeathsig); what stays in the
// kernel is swept by the next `up` or `down` (registry.ts).
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ProviderType } from '../../src/api/common.js';
import { cleanupFabric } from '../../src/cloudsim/fabric/cleanup.js';
import { nodeNamespace, routerNamespace } from '../../src/cloudsim/fabric/names.js';
import { loadWorldSpec, type InstanceTypeSpec, type RegionSpec, type WorldSpec } from '../../src/cloudsim/world-spec.js';
import { ControlPlane, kubectl, type ControlPlaneInfo } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { freePorts } from '../harness/ports.js';
import { ProcessGroup } from '../harness/processes.js';
import { renderEnv, type SandboxInfo, type SandboxNodeInfo, type SandboxOperatorInfo } from './info.js';
import { startKubelet, waitForNodesReady } from './kubelets.js';
import { sandboxNames } from './naming.js';
import { prepareCniBinDirs, type SandboxCNI } from './node-cni.js';
import { startAgent, startController, waitReady, type AgentEndpoint, type Endpoint } from './operator.js';
import { SANDBOX_NODE_LABEL, credentialsSecret, podNetwork, sandboxNetworkMode } from './operator-config.js';
import { registerSandbox, unregisterSandbox } from './registry.js';
import { nodePaths, sandboxPaths, writeState } from './state.js';
import { sandboxWorld } from './world.js';

export interface SuperviseOptions {
  dir: string;
  nodes: number;
  provider: ProviderType;
  cni: SandboxCNI;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);

function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

/** The emulator on the sandbox's world, building the VPC fabric under `prefix`; resolves once it serves. */
async function startCloudsim(group: ProcessGroup, dir: string, world: string, prefix: string): Promise<{ url: string; port: number; log: string }> {
  const [port] = (await freePorts(1)) as [number];
  const logFile = join(dir, 'cloudsim.log');
  group.start('cloudsim', process.execPath, [repoPath('dist/src/cmd/eni-operator.js'), 'cloudsim', '--listen', `127.0.0.1:${port}`, '--world', world, '--fabric', prefix], logFile);
  let exited = false;
  void group.exited('cloudsim').then(() => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (const until = Date.now() + 30_000; ; await sleep(50)) {
    if (exited || Date.now() > until) throw new Error(`cloud emulator did not start:\n${tail(logFile)}`);
    if (await fetch(`${url}/_admin/healthz`).then((r) => r.ok, () => false)) return { url, port, log: logFile };
  }
}

interface WorldView {
  regions: { id: string; instances: { id: string; primaryENIId: string }[]; enis: { id: string; primaryIP: string }[] }[];
}

/** Instance ID -> primary IP, as the emulator assigned them. */
async function primaryIPs(cloudsimURL: string, region: string): Promise<Map<string, string>> {
  const world = (await (await fetch(`${cloudsimURL}/_admin/world`)).json()) as WorldView;
  const r = world.regions.find((x) => x.id === region);
  if (!r) throw new Error(`the emulator has no region ${region}`);
  const ipOf = new Map(r.enis.map((e) => [e.id, e.primaryIP]));
  return new Map(r.instances.map((i) => [i.id, ipOf.get(i.primaryENIId) ?? '']));
}

export async function supervise(opts: SuperviseOptions): Promise<void> {
  const began = Date.now();
  const dir = resolve(opts.dir);
  const p = sandboxPaths(dir);
  const { id, fabricPrefix } = sandboxNames(dir);
  writeState(dir, { supervisorPid: process.pid, fabricPrefix, ports: [], pids: [] });
  registerSandbox({ id, fabricPrefix, dir, supervisorPid: process.pid });

  const cloud = new ProcessGroup(`${id}-cloudsim`, dir, false, false);
  const kubelets = new ProcessGroup(`${id}-kubelets`, dir, false, false);
  const operator = new ProcessGroup(`${id}-operator`, dir, false, false);
  let cp: ControlPlane | undefined;
  let stopping = false;
  /** On a failed start the folder stays, so `up` can show the log; the next `up` removes it. */
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      log('stopping: kubelets, operator, cloud emulator (removes the fabric and pod namespaces), control plane');
      await kubelets.stop();
      await operator.stop();
      await cloud.stop();
      await cp?.stop();
      // The emulator removed its namespaces; this catches what a failed stop left.
      const swept = await cleanupFabric(fabricPrefix).catch((err: Error) => (log(`sweep failed: ${err.message}`), undefined));
      if (swept?.namespaces.length) log(`swept ${swept.namespaces.length} namespaces the emulator left`);
      unregisterSandbox(fabricPrefix);
      if (code === 0) rmSync(dir, { recursive: true, force: true });
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));

  try {
    const base = loadWorldSpec(repoPath('config/cloudsim/world.yaml'));
    const { world, nodes } = sandboxWorld(base, opts.provider, opts.nodes);
    writeFileSync(p.world, stringify(world));
    const region = nodes[0]!.region;
    const regionSpec = world.regions.find((r) => r.id === region)!;
    const types = new Map<string, InstanceTypeSpec>(regionSpec.instanceTypes.map((t) => [t.type, t]));
    const cniBinDirs = prepareCniBinDirs(dir, opts.cni);
    const netnsOf = (instanceId: string) => nodeNamespace(fabricPrefix, instanceId);

    // The control plane and the emulator (with its fabric) need nothing from each other. The kubelets
    // need the fabric and the API server, not the CRDs or the kube controllers: they start as soon as
    // the admin kubeconfig exists (written once /readyz answers) and register while the rest comes up.
    const cpStarting = ControlPlane.start({ dir: join(dir, 'cp'), id, removeDir: false, handleSignals: false });
    const simStarting = startCloudsim(cloud, dir, p.world, fabricPrefix);
    const kubeletsStarting = (async () => {
      const sim = await simStarting;
      const kubeconfig = await Promise.race([cpStarting.then((c) => c.info.kubeconfigs.admin), written(join(dir, 'cp', 'kubeconfig-admin'), cpStarting)]);
      const ips = await primaryIPs(sim.url, region);
      if (stopping) throw new Error('stopping');
      return nodes.map((node, index) =>
        startKubelet(kubelets, {
          index,
          node,
          provider: opts.provider,
          instanceType: types.get(node.instanceType)!,
          netns: netnsOf(node.instanceId),
          primaryIP: ips.get(node.instanceId) || fail(`instance ${node.instanceId} has no primary IP`),
          fabricPrefix,
          dir,
          kubeconfig,
          sandboxId: id,
          cni: opts.cni,
          cniBinDirs,
          agentSocket: nodePaths(dir, node.name).agentSocket,
        }),
      );
    })();
    const [cpResult, simResult, kubeletResult] = await Promise.allSettled([cpStarting, simStarting, kubeletsStarting]);
    if (cpResult.status === 'fulfilled') cp = cpResult.value;
    for (const r of [cpResult, simResult, kubeletResult]) if (r.status === 'rejected') throw r.reason;
    const sim = (simResult as PromiseFulfilledResult<Awaited<typeof simStarting>>).value;
    const nodeInfos = (kubeletResult as PromiseFulfilledResult<SandboxNodeInfo[]>).value;
    const { info } = cp!;
    log(`control plane ready (API server ${info.startToReadyMs} ms, full plane ${info.startToFullPlaneMs} ms); emulator at ${sim.url}`);
    if (stopping) return;
    // The operator needs the CRDs and RBAC (in place once the control plane is) and the nodes' namespaces.
    const operatorStarting = opts.cni === 'eni' ? startOperator(operator, info, { dir, id, nodes: nodeInfos, netnsOf }) : undefined;
    await Promise.all([
      waitForNodesReady(info, kubelets, nodes.map((n) => n.name), 60_000).catch((err: Error) =>
        Promise.reject(new Error(`${err.message}\n${nodeInfos.map((n) => `--- ${n.kubeletLog}\n${tail(n.kubeletLog, 10)}`).join('\n')}`)),
      ),
      operatorStarting,
    ]);
    const running = await operatorStarting;
    let operatorInfo: SandboxOperatorInfo | undefined;
    if (running) {
      const offered = await offerNetworkMode(info, { world, provider: opts.provider, region: regionSpec, endpoint: `127.0.0.1:${sim.port}`, sandboxId: id, file: p.networkMode, nodes: nodes.length });
      operatorInfo = { ...offered, controllerURL: running.controller.url, controllerLog: running.controller.log };
      for (const n of nodeInfos) n.agent = { url: running.agents.get(n.name)!.url, log: running.agents.get(n.name)!.log };
      for (const name of ['controller', ...nodes.map((n) => `agent-${n.name}`)]) {
        void operator.exited(name).then((code) => stopping || log(`warning: ${name} exited (code ${code}); see its log in ${dir}`));
      }
    }
    const readyMs = Date.now() - began;
    log(`${nodes.length} nodes Ready${running ? ', the operator ready,' : ''} ${readyMs} ms after launch`);
    if (stopping) return;

    copyFileSync(info.kubeconfigs.admin, p.kubeconfig);
    const sandbox: SandboxInfo = {
      id,
      cni: opts.cni,
      provider: opts.provider,
      region,
      kubeconfig: p.kubeconfig,
      apiserverURL: info.apiserverURL,
      etcdURL: info.etcdURL,
      controllerManagerHealthURL: `https://127.0.0.1:${info.ports.controllerManager}/healthz`,
      schedulerHealthURL: `https://127.0.0.1:${info.ports.scheduler}/healthz`,
      cloudsimURL: sim.url,
      world: p.world,
      cloudsimLog: sim.log,
      fabricPrefix,
      routerNetns: routerNamespace(fabricPrefix),
      kubeconfigs: info.kubeconfigs,
      nodes: nodeInfos,
      ...(operatorInfo ? { operator: operatorInfo } : {}),
      supervisorPid: process.pid,
      apiserverReadyMs: info.startToReadyMs,
      readyMs,
    };
    const { apiserver, etcdClient, etcdPeer, controllerManager, scheduler } = info.ports;
    writeState(dir, {
      supervisorPid: process.pid,
      fabricPrefix,
      ports: [apiserver, etcdClient, etcdPeer, controllerManager, scheduler, sim.port, ...(running ? [running.controller.port, ...[...running.agents.values()].map((a) => a.port)] : [])],
      pids: [...info.pids, ...cloud.pids(), ...operator.pids(), ...kubelets.pids()],
    });
    writeFileSync(p.info, JSON.stringify(sandbox, null, 2) + '\n');
    // Written last, in one rename: its presence tells `up` that the sandbox is ready.
    writeFileSync(`${p.env}.tmp`, renderEnv(sandbox));
    renameSync(`${p.env}.tmp`, p.env);
    log('sandbox ready');
    for (const n of nodes) void kubelets.exited(n.name).then((code) => stopping || log(`warning: the kubelet of ${n.name} exited (code ${code}); see ${join(dir, 'nodes', n.name, 'kubelet.log')}`));
  } catch (err) {
    log(`sandbox failed to start: ${err instanceof Error ? err.message : String(err)}`);
    await stop(1);
  }
  // Keep the event loop alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

/** The controller and one agent per node; resolves once each answers /readyz. */
async function startOperator(
  group: ProcessGroup,
  cp: ControlPlaneInfo,
  o: { dir: string; id: string; nodes: SandboxNodeInfo[]; netnsOf: (instanceId: string) => string },
): Promise<{ controller: Endpoint; agents: Map<string, AgentEndpoint> }> {
  const ports = await freePorts(1 + o.nodes.length);
  const controller = startController(group, { dir: o.dir, kubeconfig: cp.kubeconfigs.controller, clusterId: o.id, port: ports[0]! });
  const agents = new Map<string, AgentEndpoint>();
  o.nodes.forEach((n, i) => {
    const home = nodePaths(o.dir, n.name).home;
    agents.set(n.name, startAgent(group, { home, node: n.name, netns: o.netnsOf(n.instanceId), kubeconfig: cp.kubeconfigs.agent, port: ports[i + 1]! }));
  });
  await Promise.all([waitReady(group, 'controller', controller), ...[...agents.values()].map((a) => waitReady(group, `agent-${a.node}`, a))]);
  log(`operator ready: controller at ${controller.url}, ${agents.size} agent${agents.size === 1 ? '' : 's'}`);
  return { controller, agents };
}

/**
 * Creates the credentials Secret the controller reads and writes the
 * sandbox's NetworkMode to `o.file`, ready to apply; returns what the env
 * file lists of them.
 */
async function offerNetworkMode(
  cp: ControlPlaneInfo,
  o: { world: WorldSpec; provider: ProviderType; region: RegionSpec; endpoint: string; sandboxId: string; file: string; nodes: number },
): Promise<Omit<SandboxOperatorInfo, 'controllerURL' | 'controllerLog'>> {
  const secret = credentialsSecret(o.world, o.provider);
  await kubectl(cp, ['apply', '-f', '-'], 'admin', JSON.stringify(secret));
  const secretRef = `${secret.metadata.namespace}/${secret.metadata.name}`;
  const mode = sandboxNetworkMode({ provider: o.provider, region: o.region, endpoint: o.endpoint, sandboxId: o.sandboxId });
  const { subnets } = podNetwork(o.region);
  const header = [
    `# The NetworkMode of sandbox ${o.sandboxId} (${o.provider} ${o.region.id}, ${o.nodes} node${o.nodes === 1 ? '' : 's'}): kubectl apply -f ${o.file}`,
    `# It governs every Node labelled ${SANDBOX_NODE_LABEL}=${o.sandboxId}; pod subnets: ${subnets.map((s) => `${s.id} (${s.zone}, ${s.cidr})`).join(', ')}.`,
    `# The controller reads the credentials from Secret ${secretRef}, made by the sandbox.`,
  ];
  writeFileSync(o.file, `${header.join('\n')}\n${stringify(mode)}`);
  return { networkMode: o.file, credentialsSecret: secretRef, nodeLabel: `${SANDBOX_NODE_LABEL}=${o.sandboxId}`, podSubnets: subnets };
}

/** Resolves with `file` once it is completely written (a kubeconfig ends with current-context), or when `until` settles. */
async function written(file: string, until: Promise<unknown>): Promise<string> {
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  while (!settled) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes('current-context')) return file;
    await sleep(50);
  }
  return until.then(() => file);
}

function fail(message: string): never {
  throw new Error(message);
}
