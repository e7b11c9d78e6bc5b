// The kubelet's node-level duties: optionally register the Node, renew its
// Lease in kube-node-lease (what the node lifecycle controller watches), and
// keep the Node's Ready condition True with a fresh lastHeartbeatTime.
import * as k8s from '@kubernetes/client-node';
import { release } from 'node:os';
import type { Logger } from '../../src/log/logger.js';
import { kubeTime } from './pod-status.js';

export const LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeRegistration {
  labels: Record<string, string>;
  taints: k8s.V1Taint[];
  providerID?: string;
}

export interface NodeHeartbeatOptions {
  kubeConfig: k8s.KubeConfig;
  nodeName: string;
  nodeIP: string;
  /** Create the Node if it does not exist; unset: wait for someone else to create it. */
  register?: NodeRegistration;
  /** status.capacity and status.allocatable, e.g. {cpu: '4', memory: '8Gi', pods: '110'}. */
  capacity: Record<string, string>;
  /** Lease renewal and Node check period. Default 10 s. */
  intervalMs?: number;
  /** Lease validity. Default 40 s (the kubelet's). */
  leaseDurationSeconds?: number;
  /** Post node status at least this often even when nothing changed. Default 60 s. */
  statusIntervalMs?: number;
  logger: Logger;
}

function statusOf(err: unknown): number {
  return err instanceof k8s.ApiException ? err.code : 0;
}

const strategicMerge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

export class NodeHeartbeat {
  private readonly core: k8s.CoreV1Api;
  private readonly leases: k8s.CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastStatusPost = 0;
  private nodeUID = '';
  /** Renewals that succeeded: tests and logs read it. */
  renewals = 0;

  constructor(private readonly opts: NodeHeartbeatOptions) {
    this.core = opts.kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.leases = opts.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  }

  /** Resolves once the Node exists (registered or found) and the first heartbeat went out. */
  async start(): Promise<void> {
    let waiting = false;
    for (;;) {
      if (this.stopped) throw new Error('heartbeat stopped before the node existed');
      const node = await this.ensureNode().catch((err: unknown) => {
        this.opts.logger.warn('reading the node failed', { error: String(err) });
        return undefined;
      });
      if (node) break;
      if (!waiting) this.opts.logger.info('waiting for the Node object to exist (no --register)', { node: this.opts.nodeName });
      waiting = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.opts.intervalMs ?? 10_000);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async ensureNode(): Promise<k8s.V1Node | undefined> {
    const { nodeName, register } = this.opts;
    try {
      const node = await this.core.readNode({ name: nodeName });
      this.nodeUID = node.metadata?.uid ?? '';
      return node;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      if (!register) return undefined;
    }
    const labels = { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...register.labels };
    try {
      const node = await this.core.createNode({
        body: { metadata: { name: nodeName, labels }, spec: { taints: register.taints, ...(register.providerID ? { providerID: register.providerID } : {}) } },
      });
      this.opts.logger.info('registered the node', { node: nodeName });
      this.nodeUID = node.metadata?.uid ?? '';
      return node;
    } catch (err) {
      if (statusOf(err) === 409) return this.ensureNode();
      throw err;
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.renewLease();
      this.renewals++;
    } catch (err) {
      this.opts.logger.warn('lease renewal failed', { error: String(err) });
    }
    try {
      await this.postStatusIfNeeded();
    } catch (err) {
      this.opts.logger.warn('node status update failed', { error: String(err) });
    }
  }

  private async renewLease(): Promise<void> {
    const { nodeName } = this.opts;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: this.opts.leaseDurationSeconds ?? 40, renewTime: new k8s.V1MicroTime(Date.now()) };
    // Owned by the Node, so the garbage collector removes it with the Node, as a kubelet's lease is.
    const ownerReferences = this.nodeUID ? [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: this.nodeUID }] : undefined;
    let lease: k8s.V1Lease;
    try {
      lease = await this.leases.readNamespacedLease({ name: nodeName, namespace: LEASE_NAMESPACE });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      await this.leases.createNamespacedLease({ namespace: LEASE_NAMESPACE, body: { metadata: { name: nodeName, namespace: LEASE_NAMESPACE, ownerReferences }, spec } });
      return;
    }
    lease.spec = { ...lease.spec, ...spec };
    if (ownerReferences && !lease.metadata?.ownerReferences?.length) lease.metadata = { ...lease.metadata, ownerReferences };
    // resourceVersion from the read: a concurrent writer makes this a 409, retried next beat.
    await this.leases.replaceNamespacedLease({ name: nodeName, namespace: LEASE_NAMESPACE, body: lease });
  }

  private async postStatusIfNeeded(): Promise<void> {
    const node = await this.core.readNode({ name: this.opts.nodeName });
    this.nodeUID = node.metadata?.uid ?? this.nodeUID;
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const due = Date.now() - this.lastStatusPost >= (this.opts.statusIntervalMs ?? 60_000);
    if (ready?.status === 'True' && !due) return;
    const now = kubeTime(new Date());
    const since = (c: k8s.V1NodeCondition | undefined, status: string) => (c?.status === status && c.lastTransitionTime ? kubeTime(new Date(c.lastTransitionTime)) : now);
    const other = (type: string, reason: string, message: string) => {
      const c = node.status?.conditions?.find((x) => x.type === type);
      return { type, status: 'False', reason, message, lastHeartbeatTime: now, lastTransitionTime: since(c, 'False') };
    };
    const body = {
      status: {
        conditions: [
          other('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
          other('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
          other('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
          { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (simulated kubelet)', lastHeartbeatTime: now, lastTransitionTime: since(ready, 'True') },
        ],
        addresses: [
          { type: 'InternalIP', address: this.opts.nodeIP },
          { type: 'Hostname', address: this.opts.nodeName },
        ],
        capacity: this.opts.capacity,
        allocatable: this.opts.capacity,
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: release(),
          osImage: 'simulated',
          containerRuntimeVersion: 'sim://0.1.0',
          kubeletVersion: 'v0.0.0-simulated',
          kubeProxyVersion: '',
          operatingSystem: 'linux',
          architecture: 'amd64',
        },
      },
    };
    await this.core.patchNodeStatus({ name: this.opts.nodeName, body }, strategicMerge);
    this.lastStatusPost = Date.now();
    if (ready?.status !== 'True') this.opts.logger.info('node status posted: Ready', { node: this.opts.nodeName, was: ready?.status ?? 'unset' });
  }
}
