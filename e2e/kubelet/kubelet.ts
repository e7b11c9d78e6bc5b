// A simulated kubelet: the pod lifecycle of a real kubelet + container runtime,
// with processes instead of containers. For each pod bound to its node it
// creates a network namespace, runs the node's CNI plugins exactly as a
// runtime does, starts the pod's processes inside, and reports status; on
// deletion it stops them, runs CNI DEL, removes the namespace and finalises
// the pod. Work is serialised per pod and concurrent (bounded) across pods.
import * as k8s from '@kubernetes/client-node';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../src/log/logger.js';
import { EventRecorder, type ObjectRef } from '../../src/controller/kube.js';
import { podInformer, type Informer } from '../../src/controller/runtime/informer.js';
import { WorkQueue, type Result } from '../../src/controller/runtime/workqueue.js';
import { CNIRuntime, loadNetworkConfig, podIPs, type RuntimeConf } from './cni.js';
import { ContainerRunner } from './containers.js';
import { deleteNetns, ensureNetns, listNetns, netnsExists, netnsPath, primaryIPv4 } from './netns.js';
import { NodeHeartbeat, type NodeRegistration } from './node-heartbeat.js';
import { ConditionClock, podStatusPatch, type ContainerView } from './pod-status.js';
import { SandboxStore, type SandboxRecord } from './sandbox-store.js';

export const ECHO_SERVER = fileURLToPath(new URL('./echo-server.js', import.meta.url));

export interface KubeletOptions {
  kubeConfig: k8s.KubeConfig;
  nodeName: string;
  /** Name of the node's network namespace (/run/netns/<name>): "the host" of its pods. */
  nodeNetns: string;
  /** The node's primary IP: hostIP of its pods, InternalIP of the Node. Default: the first global IPv4 address in nodeNetns. */
  nodeIP?: string;
  cniBinDirs: string[];
  cniConfDir: string;
  /** Pod namespaces are named `<prefix>-<12 hex of the pod UID>`; orphans with this prefix are removed. */
  netnsPrefix: string;
  /** Sandbox records (CNI config + cached ADD result) survive restarts here. */
  stateDir: string;
  /** Containers' stdout/stderr: <podLogDir>/<namespace>_<pod>_<uid>/<container>.log. */
  podLogDir: string;
  logger: Logger;
  /** Pods worked on at once. Default 4. */
  workers?: number;
  /** Retry of a failing pod (sandbox, container start): doubles from initialMs to maxMs. Default 1 s → 30 s. */
  backoff?: { initialMs: number; maxMs: number };
  heartbeatIntervalMs?: number;
  nodeStatusIntervalMs?: number;
  register?: NodeRegistration;
  capacity?: Record<string, string>;
  /** argv every container runs, before its port arguments. Default: node echo-server.js. */
  containerCommand?: string[];
  /** Housekeeping (resync of every pod, orphan sweep) period. Default 30 s. */
  housekeepingMs?: number;
}

/** What the kubelet remembers of a pod between syncs. */
interface PodMemory {
  firstSeen: number;
  startTime: Date;
  conditions: ConditionClock;
  restarts: Map<string, number>;
  lastTerminated: Map<string, NonNullable<ContainerView['lastTerminated']>>;
  /** Container name → earliest restart time after a crash. */
  restartAt: Map<string, number>;
  /** Container name → the exit (its time) already counted as a crash. */
  countedExit: Map<string, Date>;
  lastPatch?: string;
  runningLogged?: boolean;
}

const IFNAME = 'eth0';
const MAX_GRACE_MS = 30_000;
const strategicMerge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

function statusOf(err: unknown): number {
  return err instanceof k8s.ApiException ? err.code : 0;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Kubelet {
  private readonly log: Logger;
  private readonly core: k8s.CoreV1Api;
  private readonly cni: CNIRuntime;
  private readonly store: SandboxStore;
  private readonly runner: ContainerRunner;
  private readonly events: EventRecorder;
  private readonly queue: WorkQueue<string>;
  private readonly informer: Informer<k8s.V1Pod>;
  private heartbeat: NodeHeartbeat | undefined;
  private nodeIP = '';
  /** Sandbox name → the pod's latest state. */
  private readonly pods = new Map<string, k8s.V1Pod>();
  private readonly memory = new Map<string, PodMemory>();
  private readonly ownName: RegExp;
  private readonly backoff: { initialMs: number; maxMs: number };
  private housekeeping: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly opts: KubeletOptions) {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(opts.netnsPrefix)) throw new Error(`invalid netns prefix "${opts.netnsPrefix}" (letters, digits, _ . -)`);
    this.log = opts.logger.child({ node: opts.nodeName });
    this.core = opts.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.cni = new CNIRuntime({ binDirs: opts.cniBinDirs, hostNetns: netnsPath(opts.nodeNetns) });
    this.store = new SandboxStore(join(opts.stateDir, 'sandboxes'));
    this.runner = new ContainerRunner((key) => {
      this.log.warn('container exited', { container: key });
      this.queue.add(key.split('/')[0]!);
    });
    this.events = new EventRecorder(opts.kubeConfig, 'kubelet', (err) => this.log.warn('event not recorded', { error: message(err) }));
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    this.queue = new WorkQueue<string>({
      name: 'pods',
      baseDelayMs: this.backoff.initialMs,
      maxDelayMs: this.backoff.maxMs,
      onError: (key, err) => this.log.warn('pod sync failed; retrying with backoff', { sandbox: key, error: message(err), failures: this.queue.numRequeues(key) }),
    });
    this.ownName = new RegExp(`^${opts.netnsPrefix.replace(/[.]/g, '\\.')}-[0-9a-f]{12}$`);
    this.informer = podInformer(opts.kubeConfig, {
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      onError: (err) => this.log.warn('pod watch failed; restarting', { error: message(err) }),
    });
    this.informer.on('add', (pod) => this.observe(pod, true));
    this.informer.on('update', (pod, old) => {
      if (old.metadata?.uid !== pod.metadata?.uid) this.gone(old);
      // Status writes (ours included) are no reason to sync early: that would
      // skip the backoff of a failing pod. Deletion and spec changes are.
      const changed = old.metadata?.uid !== pod.metadata?.uid || when(old.metadata?.deletionTimestamp) !== when(pod.metadata?.deletionTimestamp) || old.metadata?.generation !== pod.metadata?.generation;
      this.observe(pod, changed);
    });
    this.informer.on('delete', (pod) => this.gone(pod));
  }

  /** The sandbox (network namespace, CNI container id) of a pod. */
  sandboxName(uid: string): string {
    return `${this.opts.netnsPrefix}-${uid.replace(/-/g, '').slice(0, 12)}`;
  }

  /** Heartbeats, then lists and watches the node's pods; resolves once the first list was taken in. */
  async start(): Promise<void> {
    const { opts } = this;
    if (!netnsExists(opts.nodeNetns)) throw new Error(`node network namespace ${netnsPath(opts.nodeNetns)} does not exist`);
    this.nodeIP = opts.nodeIP ?? (await primaryIPv4(opts.nodeNetns));
    this.heartbeat = new NodeHeartbeat({
      kubeConfig: opts.kubeConfig,
      nodeName: opts.nodeName,
      nodeIP: this.nodeIP,
      register: opts.register,
      capacity: opts.capacity ?? { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi' },
      intervalMs: opts.heartbeatIntervalMs,
      statusIntervalMs: opts.nodeStatusIntervalMs,
      logger: this.log,
    });
    await this.heartbeat.start();
    this.informer.start();
    await this.informer.waitForSync();
    this.sweepOrphans();
    this.running = this.queue.run(this.opts.workers ?? 4, (key) => this.sync(key));
    this.housekeeping = setInterval(() => {
      // Pods in backoff keep their schedule.
      for (const name of this.pods.keys()) if (this.queue.numRequeues(name) === 0) this.queue.add(name);
      this.sweepOrphans();
    }, this.opts.housekeepingMs ?? 30_000);
    this.log.info('kubelet started', { pods: this.pods.size, netnsPrefix: opts.netnsPrefix, nodeNetns: opts.nodeNetns, nodeIP: this.nodeIP });
  }

  /** Stops watching and kills the pods' processes; sandboxes stay for the next start, as a kubelet restart leaves containers. */
  async stop(): Promise<void> {
    clearInterval(this.housekeeping);
    this.heartbeat?.stop();
    await this.informer.stop();
    await this.queue.shutdown();
    await this.running;
    await this.runner.stopAll(2000);
  }

  /** Synchronous last resort on process exit. */
  killAllNow(): void {
    this.runner.killAllNow();
  }

  private observe(pod: k8s.V1Pod, sync: boolean): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const name = this.sandboxName(uid);
    this.pods.set(name, pod);
    if (sync) this.queue.add(name);
  }

  private gone(pod: k8s.V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    const name = this.sandboxName(uid);
    this.pods.delete(name);
    this.queue.add(name);
  }

  /** Sandboxes (records or namespaces with our prefix) that no pod of this node owns get torn down. */
  private sweepOrphans(): void {
    const names = new Set([...this.store.names(), ...listNetns().filter((n) => this.ownName.test(n))]);
    for (const name of names) {
      if (this.pods.has(name)) continue;
      this.log.info('sandbox without a pod: tearing it down', { sandbox: name });
      this.queue.add(name);
    }
  }

  private async sync(name: string): Promise<Result> {
    const pod = this.pods.get(name);
    if (!pod || pod.metadata?.deletionTimestamp) {
      await this.teardown(name, pod);
      return {};
    }
    return this.ensureRunning(name, pod);
  }

  private remember(name: string, pod: k8s.V1Pod): PodMemory {
    let mem = this.memory.get(name);
    if (mem) return mem;
    const restarts = new Map<string, number>();
    for (const s of pod.status?.containerStatuses ?? []) {
      // Its process died with the previous kubelet and is about to be started again.
      restarts.set(s.name, s.restartCount + (s.state?.running ? 1 : 0));
    }
    mem = {
      firstSeen: Date.now(),
      startTime: pod.status?.startTime ? new Date(pod.status.startTime) : new Date(),
      conditions: new ConditionClock(pod.status?.conditions),
      restarts,
      lastTerminated: new Map(),
      restartAt: new Map(),
      countedExit: new Map(),
    };
    this.memory.set(name, mem);
    return mem;
  }

  private async ensureRunning(name: string, pod: k8s.V1Pod): Promise<Result> {
    const mem = this.remember(name, pod);
    const hostNetwork = pod.spec?.hostNetwork === true;
    const ips = hostNetwork ? [this.nodeIP] : await this.ensureSandbox(name, pod, mem);
    const netns = netnsPath(hostNetwork ? this.opts.nodeNetns : name);

    let requeueAfter: number | undefined;
    const views: ContainerView[] = [];
    let startError: Error | undefined;
    for (const c of pod.spec?.containers ?? []) {
      const key = `${name}/${c.name}`;
      const view: ContainerView = { name: c.name, image: c.image ?? '', restartCount: mem.restarts.get(c.name) ?? 0 };
      views.push(view);
      let proc = this.runner.get(key);
      if (proc?.exit && mem.countedExit.get(c.name) !== proc.exit.at) {
        mem.countedExit.set(c.name, proc.exit.at);
        // A crash: remember it, count the restart, back off before the next start.
        const crashes = (mem.restarts.get(c.name) ?? 0) + 1;
        mem.restarts.set(c.name, crashes);
        mem.lastTerminated.set(c.name, {
          exitCode: proc.exit.code ?? 137,
          reason: 'Error',
          startedAt: proc.startedAt,
          finishedAt: proc.exit.at,
          containerID: `sim://${proc.pid}`,
        });
        mem.restartAt.set(c.name, Date.now() + Math.min(this.backoff.initialMs * 2 ** (crashes - 1), this.backoff.maxMs));
        view.restartCount = crashes;
      }
      view.lastTerminated = mem.lastTerminated.get(c.name);
      if (proc && !proc.exit) {
        view.running = { startedAt: proc.startedAt, containerID: `sim://${proc.pid}` };
        continue;
      }
      const wait = (mem.restartAt.get(c.name) ?? 0) - Date.now();
      if (wait > 0) {
        view.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${Math.ceil(wait / 1000)}s restarting failed container=${c.name}` };
        requeueAfter = Math.min(requeueAfter ?? wait, wait);
        continue;
      }
      try {
        proc = await this.runner.start({
          key,
          netns,
          argv: [...(this.opts.containerCommand ?? [process.execPath, ECHO_SERVER]), ...portArgs(c)],
          env: containerEnv(pod, c, ips[0] ?? '', this.opts.nodeName, this.nodeIP),
          logFile: join(this.opts.podLogDir, `${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`, `${c.name}.log`),
          readyTimeoutMs: 15_000,
        });
        view.running = { startedAt: proc.startedAt, containerID: `sim://${proc.pid}` };
      } catch (err) {
        view.waiting = { reason: 'RunContainerError', message: message(err) };
        startError ??= err instanceof Error ? err : new Error(String(err));
        await this.events.record(podRef(pod), 'Warning', 'Failed', `Error: ${message(err)}`);
      }
    }
    await this.patchStatus(pod, mem, { podIPs: ips, sandboxReady: true, containers: views });
    if (startError) throw startError;
    if (!mem.runningLogged && views.every((v) => v.running)) {
      mem.runningLogged = true;
      this.log.info('pod running', { pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, sandbox: name, podIPs: ips, sinceSeenMs: Date.now() - mem.firstSeen });
    }
    return requeueAfter !== undefined ? { requeueAfter } : {};
  }

  /** The pod's IPs: from the existing sandbox, or from a new one (namespace + CNI ADD). */
  private async ensureSandbox(name: string, pod: k8s.V1Pod, mem: PodMemory): Promise<string[]> {
    const existing = this.store.read(name);
    if (existing?.result && netnsExists(name)) return podIPs(existing.result);
    // Leftovers of an ADD that failed or was cut short by a crash.
    if (existing || netnsExists(name)) await this.removeSandbox(name, true);
    const began = Date.now();
    try {
      const { file, list } = loadNetworkConfig(this.opts.cniConfDir);
      await ensureNetns(name);
      const meta = pod.metadata!;
      const record: SandboxRecord = { name, pod: { namespace: meta.namespace!, name: meta.name!, uid: meta.uid! }, ifName: IFNAME, config: list, configFile: file, createdAt: new Date().toISOString() };
      this.store.write(record);
      const result = await this.cni.add(list, this.runtimeConf(record));
      const ips = podIPs(result);
      if (ips.length === 0) throw new Error(`the CNI result has no IP for the pod: ${JSON.stringify(result)}`);
      this.store.write({ ...record, result });
      this.log.info('sandbox ready', { sandbox: name, pod: `${meta.namespace}/${meta.name}`, podIPs: ips, addMs: Date.now() - began, network: list.name });
      return ips;
    } catch (err) {
      const text = `Failed to create pod sandbox: ${message(err)}`;
      this.log.warn('sandbox creation failed', { sandbox: name, error: message(err) });
      await this.events.record(podRef(pod), 'Warning', 'FailedCreatePodSandBox', text);
      // As a runtime does after a failed setup: undo whatever the plugins did, drop the namespace.
      await this.removeSandbox(name, true).catch((e: unknown) => this.log.warn('cleanup after failed ADD', { sandbox: name, error: message(e) }));
      const containers = (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', restartCount: mem.restarts.get(c.name) ?? 0, waiting: { reason: 'ContainerCreating' } }));
      await this.patchStatus(pod, mem, { podIPs: [], sandboxReady: false, containers });
      throw err;
    }
  }

  private runtimeConf(record: Pick<SandboxRecord, 'name' | 'ifName'> & { pod?: SandboxRecord['pod'] }): RuntimeConf {
    const args: [string, string][] = record.pod
      ? [
          ['K8S_POD_NAMESPACE', record.pod.namespace],
          ['K8S_POD_NAME', record.pod.name],
          ['K8S_POD_INFRA_CONTAINER_ID', record.name],
          ['K8S_POD_UID', record.pod.uid],
        ]
      : [];
    return { containerId: record.name, netns: netnsPath(record.name), ifName: record.ifName, args };
  }

  /**
   * CNI DEL with the config and result the ADD used (or the current config for
   * a namespace with no record), then the namespace and the record go.
   * Idempotent. `bestEffort`: a failing DEL is logged, not thrown.
   */
  private async removeSandbox(name: string, bestEffort: boolean): Promise<void> {
    const record = this.store.read(name);
    if (record || netnsExists(name)) {
      let list = record?.config;
      if (!list) {
        try {
          list = loadNetworkConfig(this.opts.cniConfDir).list;
        } catch (err) {
          this.log.warn('no CNI config to run DEL with; removing the namespace only', { sandbox: name, error: message(err) });
        }
      }
      if (list) {
        try {
          await this.cni.del(list, this.runtimeConf(record ?? { name, ifName: IFNAME }), record?.result);
        } catch (err) {
          if (!bestEffort) throw err;
          this.log.warn('CNI DEL failed (ignored)', { sandbox: name, error: message(err) });
        }
      }
    }
    await deleteNetns(name);
    this.store.remove(name);
  }

  private async teardown(name: string, pod: k8s.V1Pod | undefined): Promise<void> {
    const graceS = pod?.metadata?.deletionGracePeriodSeconds ?? pod?.spec?.terminationGracePeriodSeconds ?? 30;
    const containers = this.runner.keysOf(name);
    const hadWork = containers.length > 0 || netnsExists(name) || this.store.read(name) !== undefined;
    await Promise.all(containers.map((k) => this.runner.stop(k, Math.min(graceS * 1000, MAX_GRACE_MS))));
    try {
      await this.removeSandbox(name, false);
    } catch (err) {
      if (pod) await this.events.record(podRef(pod), 'Warning', 'FailedKillPod', `error killing pod: failed to destroy network for sandbox "${name}": ${message(err)}`);
      throw err;
    }
    this.memory.delete(name);
    if (pod?.metadata?.deletionTimestamp) {
      try {
        await this.core.deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } } });
      } catch (err) {
        // Gone already, or a newer pod of the same name (uid precondition).
        if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
      }
    }
    if (hadWork) this.log.info('pod torn down', { sandbox: name, ...(pod ? { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` } : {}) });
  }

  private async patchStatus(pod: k8s.V1Pod, mem: PodMemory, view: { podIPs: string[]; sandboxReady: boolean; containers: ContainerView[] }): Promise<void> {
    const body = podStatusPatch({ ...view, hostIP: this.nodeIP, startTime: mem.startTime }, mem.conditions, new Date());
    const text = JSON.stringify(body);
    if (text === mem.lastPatch) return;
    try {
      await this.core.patchNamespacedPodStatus({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body }, strategicMerge);
      mem.lastPatch = text;
    } catch (err) {
      if (statusOf(err) === 404) return; // deleted meanwhile; the watch brings the teardown
      throw err;
    }
  }
}

/** A time from a list (Date) or a watch event (string), comparable. */
function when(t: Date | string | undefined): number {
  return t ? new Date(t).getTime() : 0;
}

function podRef(pod: k8s.V1Pod): ObjectRef {
  return { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, uid: pod.metadata!.uid! };
}

/** `--tcp 8080,9090 --udp 53`: each declared containerPort on its protocol. */
export function portArgs(c: k8s.V1Container): string[] {
  const tcp: number[] = [];
  const udp: number[] = [];
  for (const p of c.ports ?? []) {
    if ((p.protocol ?? 'TCP') === 'UDP') udp.push(p.containerPort);
    else if ((p.protocol ?? 'TCP') === 'TCP') tcp.push(p.containerPort);
  }
  return [...(tcp.length ? ['--tcp', tcp.join(',')] : []), ...(udp.length ? ['--udp', udp.join(',')] : [])];
}

/** The downward-API basics plus the container's literal env values. */
function containerEnv(pod: k8s.V1Pod, c: k8s.V1Container, podIP: string, nodeName: string, hostIP: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    POD_NAME: pod.metadata!.name!,
    POD_NAMESPACE: pod.metadata!.namespace!,
    POD_UID: pod.metadata!.uid!,
    POD_IP: podIP,
    NODE_NAME: nodeName,
    HOST_IP: hostIP,
  };
  for (const e of c.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  return env;
}
