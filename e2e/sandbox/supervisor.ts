// The sandbox supervisor: a detached process that owns every part of one
// sandbox — control plane, cloud emulator with its VPC fabric, one kubelet per
// node — until SIGTERM/SIGINT, then takes it all down. Its children die with
// it even when it is SIGKILLed (ProcessGroup: pdeathsig); what stays in the
// kernel is swept by the next `up` or `down` (registry.ts).
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ProviderType } from '../../src/api/common.js';
import { cleanupFabric } from '../../src/cloudsim/fabric/cleanup.js';
import { nodeNamespace, routerNamespace } from '../../src/cloudsim/fabric/names.js';
import { loadWorldSpec, type InstanceTypeSpec } from '../../src/cloudsim/world-spec.js';
import { ControlPlane } from '../harness/control-plane.js';
import { repoPath } from '../harness/paths.js';
import { freePorts } from '../harness/ports.js';
import { ProcessGroup } from '../harness/processes.js';
import { renderEnv, type SandboxInfo, type SandboxNodeInfo } from './info.js';
import { startKubelet, waitForNodesReady } from './kubelets.js';
import { sandboxNames } from './naming.js';
import { registerSandbox, unregisterSandbox } from './registry.js';
import { sandboxPaths, writeState } from './state.js';
import { sandboxWorld } from './world.js';

export interface SuperviseOptions {
  dir: string;
  nodes: number;
  provider: ProviderType;
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
  let cp: ControlPlane | undefined;
  let stopping = false;
  /** On a failed start the folder stays, so `up` can show the log; the next `up` removes it. */
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      log('stopping: kubelets, cloud emulator (removes the fabric and pod namespaces), control plane');
      await kubelets.stop();
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
    const types = new Map<string, InstanceTypeSpec>(world.regions.find((r) => r.id === region)!.instanceTypes.map((t) => [t.type, t]));

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
          netns: nodeNamespace(fabricPrefix, node.instanceId),
          primaryIP: ips.get(node.instanceId) || fail(`instance ${node.instanceId} has no primary IP`),
          fabricPrefix,
          dir,
          kubeconfig,
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
    await waitForNodesReady(info, kubelets, nodes.map((n) => n.name), 60_000).catch((err: Error) =>
      Promise.reject(new Error(`${err.message}\n${nodeInfos.map((n) => `--- ${n.kubeletLog}\n${tail(n.kubeletLog, 10)}`).join('\n')}`)),
    );
    const readyMs = Date.now() - began;
    log(`${nodes.length} nodes Ready ${readyMs} ms after launch`);
    if (stopping) return;

    copyFileSync(info.kubeconfigs.admin, p.kubeconfig);
    const sandbox: SandboxInfo = {
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
      supervisorPid: process.pid,
      apiserverReadyMs: info.startToReadyMs,
      readyMs,
    };
    const { apiserver, etcdClient, etcdPeer, controllerManager, scheduler } = info.ports;
    writeState(dir, {
      supervisorPid: process.pid,
      fabricPrefix,
      ports: [apiserver, etcdClient, etcdPeer, controllerManager, scheduler, sim.port],
      pids: [...info.pids, ...cloud.pids(), ...kubelets.pids()],
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
