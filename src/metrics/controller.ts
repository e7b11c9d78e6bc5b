// The controller's own metrics (the cloud layer's are in cloud.ts).
import { Gauge, Histogram, type Registry } from 'prom-client';

export class ControllerMetrics {
  readonly ips: Gauge<'node' | 'state'>;
  readonly enis: Gauge<'node' | 'role'>;
  readonly podsWaiting: Gauge<'node'>;
  readonly allocation: Histogram;
  readonly release: Histogram;
  readonly reconcile: Histogram<'controller' | 'result'>;
  readonly apiRequest: Histogram<'verb' | 'resource' | 'code'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.ips = new Gauge({ name: 'eni_operator_pool_ips', help: 'IPs per node by state (free, assigned, cooldown).', labelNames: ['node', 'state'], registers });
    this.enis = new Gauge({ name: 'eni_operator_pool_enis', help: 'ENIs per node by role (shared, exclusive).', labelNames: ['node', 'role'], registers });
    this.podsWaiting = new Gauge({ name: 'eni_operator_pods_waiting', help: 'Bound pods on the node still without an address.', labelNames: ['node'], registers });
    this.allocation = new Histogram({
      name: 'eni_operator_allocation_latency_seconds',
      help: 'From seeing a pod bound to its address being in the NodeNetwork plan.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.release = new Histogram({
      name: 'eni_operator_release_latency_seconds',
      help: 'From a pod being gone to its address entering cooldown.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.reconcile = new Histogram({
      name: 'eni_operator_reconcile_duration_seconds',
      help: 'Reconcile duration by controller and result.',
      labelNames: ['controller', 'result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers,
    });
    this.apiRequest = new Histogram({
      name: 'eni_operator_kube_request_duration_seconds',
      help: 'API server calls on the operator\'s custom resources, by verb, resource and HTTP code (0: no answer): the ledger and plan writes that allocation waits for.',
      labelNames: ['verb', 'resource', 'code'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
  }

  /** The per-node gauges after a node's reconcile. */
  setPool(node: string, p: { free: number; assigned: number; cooldown: number; enis: Record<'shared' | 'exclusive', number>; waiting: number }): void {
    this.ips.set({ node, state: 'free' }, p.free);
    this.ips.set({ node, state: 'assigned' }, p.assigned);
    this.ips.set({ node, state: 'cooldown' }, p.cooldown);
    this.enis.set({ node, role: 'shared' }, p.enis.shared);
    this.enis.set({ node, role: 'exclusive' }, p.enis.exclusive);
    this.podsWaiting.set({ node }, p.waiting);
  }

  /** A deleted node's series go with it. */
  forgetNode(node: string): void {
    for (const state of ['free', 'assigned', 'cooldown']) this.ips.remove({ node, state });
    for (const role of ['shared', 'exclusive']) this.enis.remove({ node, role });
    this.podsWaiting.remove({ node });
  }
}
