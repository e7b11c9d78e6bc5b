// The agent's view of its own NodeNetwork: an informer restricted to one
// object by name, and waiting for a pod's attachment when the container
// runtime is faster than the controller's plan.
import type * as k8s from '@kubernetes/client-node';
import type { Attachment, NodeNetwork } from '../api/nodenetwork.js';
import { customInformer, type Informer } from '../controller/runtime/informer.js';

export class PlanSource {
  readonly informer: Informer<NodeNetwork>;
  private waiters = new Set<() => void>();
  private readonly listeners: ((nn: NodeNetwork | undefined) => void)[] = [];

  constructor(
    kc: k8s.KubeConfig,
    readonly nodeName: string,
    onError: (err: unknown) => void,
  ) {
    this.informer = customInformer<NodeNetwork>(kc, 'nodenetworks', { fieldSelector: `metadata.name=${nodeName}`, onError });
    const changed = (nn: NodeNetwork | undefined) => {
      for (const wake of [...this.waiters]) wake();
      for (const l of this.listeners) l(nn);
    };
    this.informer.on('add', changed).on('update', changed).on('delete', () => changed(undefined));
  }

  /** Called on every change of the plan (and its deletion). */
  onChange(listener: (nn: NodeNetwork | undefined) => void): void {
    this.listeners.push(listener);
  }

  current(): NodeNetwork | undefined {
    return this.informer.get(this.nodeName);
  }

  attachment(podUID: string): Attachment | undefined {
    return this.current()?.spec.attachments?.find((a) => a.podUID === podUID);
  }

  byName(namespace: string, name: string): Attachment | undefined {
    return this.current()?.spec.attachments?.find((a) => a.namespace === namespace && a.name === name);
  }

  /** The pod's attachment, waiting up to `timeoutMs` for the plan to name it. */
  async waitFor(podUID: string, timeoutMs: number): Promise<Attachment | undefined> {
    const now = this.attachment(podUID);
    if (now || timeoutMs <= 0) return now;
    return new Promise((resolve) => {
      const done = (value: Attachment | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = () => {
        const found = this.attachment(podUID);
        if (found) done(found);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.waiters.add(check);
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }
}
