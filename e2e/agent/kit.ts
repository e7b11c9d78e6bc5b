// A small cluster on the VPC fabric for agent tests: the emulator with its
// fabric, a NetworkMode, Nodes backed by emulated instances, the controller,
// and per node an agent and a simulated kubelet whose CNI is eni-cni. Each
// process runs in the host namespace (where the API server is) and acts on
// its node's fabric namespace: the kubelet execs the plugin there, the agent
// writes netlink there.
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { NetworkModeSpec } from '../../src/api/networkmode.js';
import { startFabric, type Fabric } from '../../src/cloudsim/index.js';
import { controlPlane, kubeConfig } from '../harness/cluster.js';
import { FAST_DELAYS, startCloudsim, type Cloudsim } from '../harness/cloudsim.js';
import { repoPath } from '../harness/paths.js';
import { ProcessGroup } from '../harness/processes.js';
import { createEmulatedMode, createNodes, createPodNamespace, removeScenario } from '../harness/scenario.js';
import { listNetns } from '../kubelet/netns.js';

const execFileP = promisify(execFile);
/** The emulated region every AgentCluster lives in. */
export const SCOPE = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };

export interface SimNode {
  name: string;
  instance: string;
  /** The node's namespace in the fabric. */
  netns: string;
  primaryIP: string;
  dir: string;
  socket: string;
  /** Pod namespaces of this node are `<podPrefix>-<uid12>`. */
  podPrefix: string;
  agent?: ChildProcess;
  agentRuns: number;
}

export interface ProbeResult {
  target: string;
  proto: 'tcp' | 'udp';
  ok: boolean;
  reply?: string;
  error?: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000, stepMs = 100): Promise<T> {
  for (const until = Date.now() + ms; ; await sleep(stepMs)) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
  }
}

export class AgentCluster {
  readonly core = kubeConfig('admin').makeApiClient(k8s.CoreV1Api);
  readonly nodes: SimNode[] = [];
  private constructor(
    readonly scenario: string,
    readonly namespace: string,
    readonly sim: Cloudsim,
    readonly fabric: Fabric,
    readonly group: ProcessGroup,
    readonly dir: string,
    /** The agents' --repair-interval. */
    readonly repairInterval: string,
  ) {}

  /**
   * `instances`: emulated instances to make nodes of (zone i: ...001/002,
   * zone j: ...003/004/005). `prefix`: the fabric's kernel-name prefix, fixed
   * per test file so that a crashed run's leftovers are swept by the next.
   * `repairInterval`: the agents' periodic drift repair (default 2s); a long
   * one leaves the agents to clean up on events alone.
   */
  static async start(opts: { scenario: string; prefix: string; instances: string[]; mode?: Partial<NetworkModeSpec>; repairInterval?: string }): Promise<AgentCluster> {
    const dir = mkdtempSync(join(tmpdir(), `eni-agent-${opts.scenario}-`));
    const sim = await startCloudsim(FAST_DELAYS);
    const fabric = await startFabric(sim.emulator, { prefix: opts.prefix });
    const group = new ProcessGroup(`agent-${opts.scenario}`, dir, false);
    const c = new AgentCluster(opts.scenario, `${opts.scenario}-pods`, sim, fabric, group, dir, opts.repairInterval ?? '2s');
    const ali = sim.spec.credentials.find((x) => x.provider === 'alibaba')!;
    const secret = `${opts.scenario}-credentials`;
    await c.core.createNamespacedSecret({ namespace: 'eni-operator-system', body: { metadata: { name: secret }, stringData: { accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret } } });
    await createEmulatedMode(opts.scenario, sim.host, { secret, datapath: 'veth', exclusive: { enabled: true, warmENIs: 0 }, pool: { warmIPs: 4, maxIdleIPs: 10, cooldown: '2s' }, ...opts.mode } as never);
    const names = opts.instances.map((instance, i) => ({ name: `${opts.scenario}-${i + 1}`, instance }));
    await createNodes(opts.scenario, names);
    await createPodNamespace(c.namespace);

    // The cni bin dir: eni-cni as a runtime finds it (a symlink to the native plugin).
    const bin = join(dir, 'cni-bin');
    mkdirSync(bin);
    symlinkSync(repoPath('dist/bin/eni-cni'), join(bin, 'eni-cni'));

    c.startController();
    for (const [i, n] of names.entries()) {
      const primary = sim.world.describeENIs(SCOPE, { instanceId: n.instance, primary: true })[0]!;
      const ndir = join(dir, n.name);
      mkdirSync(join(ndir, 'net.d'), { recursive: true });
      mkdirSync(join(ndir, 'run'), { recursive: true, mode: 0o700 });
      const node: SimNode = { name: n.name, instance: n.instance, netns: fabric.nodeNamespace(n.instance), primaryIP: primary.primaryIP, dir: ndir, socket: join(ndir, 'run', 'agent.sock'), podPrefix: `${opts.prefix}p${i + 1}`, agentRuns: 0 };
      writeFileSync(join(ndir, 'net.d', '10-eni.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'eni', plugins: [{ type: 'eni-cni', agentSocket: node.socket, timeoutMs: 30_000 }] }));
      c.nodes.push(node);
      await c.startAgent(node);
      c.startKubelet(node, bin);
    }
    return c;
  }

  private startController(): void {
    this.group.start(
      'controller',
      process.execPath,
      [repoPath('dist/src/cmd/eni-operator.js'), 'controller', '--kubeconfig', controlPlane().kubeconfigs.controller, '--networkmode-selector', `eni-operator.io/scenario=${this.scenario}`, '--cluster-id', this.scenario, '--lease-name', `${this.scenario}-controller`, '--listen', '127.0.0.1:0', '--release-grace', '5s', '--identity', `${this.scenario}-controller`],
      join(this.dir, 'controller.log'),
    );
  }

  /**
   * Starts (or restarts) the node's agent; resolves when it serves the CNI
   * socket, or with `until: 'starting'` as soon as it has logged its start
   * (it then reads its plan and repairs the node before serving). `args`: more agent flags.
   */
  async startAgent(node: SimNode, opts: { until?: 'ready' | 'starting'; args?: string[] } = {}): Promise<ChildProcess> {
    const run = ++node.agentRuns;
    const log = join(node.dir, `agent-${run}.log`);
    node.agent = this.group.start(
      `agent-${node.name}-${run}`,
      process.execPath,
      [repoPath('dist/src/cmd/eni-operator.js'), 'agent', '--kubeconfig', controlPlane().kubeconfigs.agent, '--node', node.name, '--node-netns', node.netns, '--socket', node.socket, '--state-dir', join(node.dir, 'run'), '--listen', '127.0.0.1:0', '--plan-wait', '20s', '--repair-interval', this.repairInterval, ...(opts.args ?? [])],
      log,
    );
    const line = opts.until === 'starting' ? '"agent starting"' : '"agent ready"';
    await eventually(`agent of ${node.name} logging ${line}`, () => (readFileSync(log, 'utf8').includes(line) ? true : undefined), 30_000, 20).catch((err: Error) => {
      throw new Error(`${err.message}\n${readFileSync(log, 'utf8')}`);
    });
    return node.agent;
  }

  /**
   * kill -9 of the agent's process group — the agent and any `ip` it is
   * running, as a container runtime kills a container; resolves once it is gone.
   */
  async killAgent(node: SimNode): Promise<void> {
    const proc = node.agent;
    if (proc?.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the agent of ${node.name} is not running`);
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    process.kill(-proc.pid, 'SIGKILL');
    await exited;
  }

  /** The log of one run of the node's agent (default: the latest). */
  agentLog(node: SimNode, run = node.agentRuns): string {
    return readFileSync(join(node.dir, `agent-${run}.log`), 'utf8');
  }

  kubeletLog(node: SimNode): string {
    return readFileSync(join(node.dir, 'kubelet.log'), 'utf8');
  }

  /** /metrics of the node's running agent (its address is in its "agent ready" line). */
  async agentMetrics(node: SimNode): Promise<string> {
    const ready = this.agentLog(node)
      .split('\n')
      .map((l) => (l.includes('"agent ready"') ? (JSON.parse(l) as { health?: string }) : undefined))
      .find((l) => l?.health);
    if (!ready) throw new Error(`the agent of ${node.name} has not said where it listens`);
    const res = await fetch(`http://${ready.health}/metrics`);
    if (!res.ok) throw new Error(`agent ${node.name} /metrics: HTTP ${res.status}`);
    return res.text();
  }

  private startKubelet(node: SimNode, bin: string): void {
    this.group.start(
      `kubelet-${node.name}`,
      process.execPath,
      [
        repoPath('dist/e2e/kubelet/main.js'),
        ...['--kubeconfig', controlPlane().kubeconfigs.admin, '--node', node.name, '--node-netns', node.netns, '--node-ip', node.primaryIP],
        ...['--netns-prefix', node.podPrefix, '--cni-bin-dir', bin, '--cni-conf-dir', join(node.dir, 'net.d'), '--state-dir', join(node.dir, 'kubelet')],
        ...['--backoff-initial', '500ms', '--backoff-max', '4s', '--workers', '8'],
      ],
      join(node.dir, 'kubelet.log'),
    );
  }

  /** A pod bound to `node` running the echo server on 8080 TCP + UDP. */
  async createPod(name: string, node: SimNode, exclusive = false): Promise<k8s.V1Pod> {
    return this.core.createNamespacedPod({
      namespace: this.namespace,
      body: {
        metadata: { name, ...(exclusive ? { annotations: { 'network.eni-operator.io/eni-mode': 'exclusive' } } : {}) },
        spec: {
          nodeName: node.name,
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'echo', image: 'sim/echo', ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 8080, protocol: 'UDP' }] }],
        },
      },
    });
  }

  /** Deletes the pod with its own grace period: the kubelet stops it, runs CNI DEL, removes its namespace, then finalises it. */
  async deletePod(name: string): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace: this.namespace });
  }

  async pod(name: string): Promise<k8s.V1Pod | undefined> {
    return this.core.readNamespacedPod({ name, namespace: this.namespace }).catch(() => undefined);
  }

  async runningPods(names: string[], ms = 60_000): Promise<k8s.V1Pod[]> {
    return eventually(`pods ${names.join(', ')} Running`, async () => {
      const pods = await Promise.all(names.map((n) => this.pod(n)));
      return pods.every((p) => p?.status?.phase === 'Running' && p.status.podIP) ? (pods as k8s.V1Pod[]) : undefined;
    }, ms, 200);
  }

  nodeOf(pod: k8s.V1Pod): SimNode {
    return this.nodes.find((n) => n.name === pod.spec?.nodeName)!;
  }

  podNetns(pod: k8s.V1Pod): string {
    return `${this.nodeOf(pod).podPrefix}-${pod.metadata!.uid!.replace(/-/g, '').slice(0, 12)}`;
  }

  /** An echo server (TCP + UDP) in the node's own namespace, as a host-network service would be. */
  async nodeEcho(node: SimNode, port: number): Promise<void> {
    const log = join(node.dir, `node-echo-${port}.log`);
    this.group.start(`node-echo-${node.name}-${port}`, 'ip', ['netns', 'exec', node.netns, process.execPath, repoPath('dist/e2e/kubelet/echo-server.js'), '--tcp', String(port), '--udp', String(port)], log);
    await eventually(`echo server in ${node.netns}`, () => (readFileSync(log, 'utf8').includes('"ready":true') ? true : undefined), 10_000);
  }

  /** TCP and UDP echo from inside `netns` to each target (IP:PORT). */
  async probe(netns: string, targets: string[], timeoutMs = 3000): Promise<ProbeResult[]> {
    const list = targets.join(',');
    const args = ['netns', 'exec', netns, process.execPath, repoPath('dist/e2e/kubelet/echo-client.js'), '--tcp', list, '--udp', list, '--timeout-ms', String(timeoutMs)];
    const out = await execFileP('ip', args).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '[]' }));
    return JSON.parse(out.stdout) as ProbeResult[];
  }

  logs(): string {
    const parts = [`controller:\n${readFileSync(join(this.dir, 'controller.log'), 'utf8').slice(-4000)}`];
    for (const n of this.nodes) {
      for (let r = 1; r <= n.agentRuns; r++) parts.push(`agent ${n.name} #${r}:\n${readFileSync(join(n.dir, `agent-${r}.log`), 'utf8').slice(-4000)}`);
      parts.push(`kubelet ${n.name}:\n${readFileSync(join(n.dir, 'kubelet.log'), 'utf8').slice(-4000)}`);
    }
    return parts.join('\n\n');
  }

  /** Stops everything and removes what it made; `keepLogs` leaves the run's folder (logs) and says where. */
  async stop(opts: { keepLogs?: boolean } = {}): Promise<void> {
    // Pods first, while the kubelets and agents still run: they tear down what they made and then
    // finalise the pods (a grace period of 0 would remove them from the API before that).
    await this.core.deleteCollectionNamespacedPod({ namespace: this.namespace, gracePeriodSeconds: 1 }).catch(() => undefined);
    await eventually('pods gone', async () => ((await this.core.listNamespacedPod({ namespace: this.namespace })).items.length === 0 ? true : undefined), 30_000).catch(() => undefined);
    await this.group.stop();
    // Whatever a kubelet could not tear down (a failed test may leave a dead agent behind).
    const own = new RegExp(`^(${this.nodes.map((n) => n.podPrefix).join('|')})-[0-9a-f]{12}$`);
    for (const ns of listNetns().filter((n) => this.nodes.length > 0 && own.test(n))) await execFileP('ip', ['netns', 'delete', ns]).catch(() => undefined);
    await removeScenario(this.scenario, this.nodes.map((n) => n.name), this.namespace);
    await this.core.deleteNamespacedSecret({ name: `${this.scenario}-credentials`, namespace: 'eni-operator-system' }).catch(() => undefined);
    await this.fabric.stop();
    await this.sim.close();
    if (opts.keepLogs) process.stdout.write(`${this.scenario}: logs kept in ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}
