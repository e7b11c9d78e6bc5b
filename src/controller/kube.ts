// Typed access to our custom resources and to Events, over client-node.
// Reads that decide a write go to the API server (not a cache) and writes
// carry the resourceVersion they were based on, so a stale copy never wins.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type Resource } from '../api/common.js';

export type Plural = 'networkmodes' | 'enipools' | 'nodenetworks';

/**
 * Holds an ENIPool until the operator has given its ENIs back to the cloud:
 * when a Node goes, Kubernetes' garbage collector deletes the ENIPool it owns,
 * and without this the ledger would go before the ENIs.
 */
export const POOL_FINALIZER = 'network.eni-operator.io/enis-released';

/** The HTTP status of a failed API call (0 when not an API error). */
export function statusOf(err: unknown): number {
  return err instanceof k8s.ApiException ? err.code : 0;
}

/** Told of every API call a CRClient makes: the verb, the resource (`enipools`, `enipools/status`), how it ended (HTTP code, 0 if none) and how long it took. */
export type RequestObserver = (verb: string, resource: string, code: number, seconds: number) => void;

export class CRClient {
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    kc: k8s.KubeConfig,
    private readonly observe?: RequestObserver,
  ) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  private async timed<R>(verb: string, resource: string, call: () => Promise<R>): Promise<R> {
    if (!this.observe) return call();
    const start = performance.now();
    let code = 200;
    try {
      return await call();
    } catch (err) {
      code = statusOf(err);
      throw err;
    } finally {
      this.observe(verb, resource, code, (performance.now() - start) / 1000);
    }
  }

  async get<T extends Resource<string, unknown, unknown>>(plural: Plural, name: string): Promise<T | undefined> {
    try {
      return (await this.timed('get', plural, () => this.api.getClusterCustomObject({ group: GROUP, version: VERSION, plural, name }))) as T;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async list<T extends Resource<string, unknown, unknown>>(plural: Plural): Promise<T[]> {
    const res = (await this.timed('list', plural, () => this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural }))) as { items: T[] };
    return res.items;
  }

  async create<T extends Resource<string, unknown, unknown>>(plural: Plural, body: T): Promise<T> {
    return (await this.timed('create', plural, () => this.api.createClusterCustomObject({ group: GROUP, version: VERSION, plural, body }))) as T;
  }

  /** Replaces spec (and metadata); 409 if `body.metadata.resourceVersion` is stale. */
  async replace<T extends Resource<string, unknown, unknown>>(plural: Plural, body: T): Promise<T> {
    return (await this.timed('update', plural, () => this.api.replaceClusterCustomObject({ group: GROUP, version: VERSION, plural, name: body.metadata.name!, body }))) as T;
  }

  /**
   * JSON merge patch of spec, for objects whose spec only this controller
   * writes: no resourceVersion precondition, so the agent's status writes do
   * not make it conflict.
   */
  async patchSpec<T extends Resource<string, unknown, unknown>>(plural: Plural, name: string, spec: T['spec']): Promise<T> {
    return (await this.timed('patch', plural, () => this.api.patchClusterCustomObject({ group: GROUP, version: VERSION, plural, name, body: { spec } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)))) as T;
  }

  /**
   * Sets the finalizers, based on the copy the caller holds: the merge patch
   * carries its resourceVersion, so a concurrent change to the list is a 409,
   * never lost.
   */
  async setFinalizers<T extends Resource<string, unknown, unknown>>(plural: Plural, held: T, finalizers: string[]): Promise<T> {
    const body = { metadata: { finalizers, resourceVersion: held.metadata.resourceVersion } };
    return (await this.timed('patch', plural, () => this.api.patchClusterCustomObject({ group: GROUP, version: VERSION, plural, name: held.metadata.name!, body }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)))) as T;
  }

  /** JSON merge patch of status, for objects whose status only this controller writes. */
  async patchStatus<T extends Resource<string, unknown, unknown>>(plural: Plural, name: string, status: T['status']): Promise<T> {
    return (await this.timed('patch', `${plural}/status`, () => this.api.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural, name, body: { status } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)))) as T;
  }

  /** Replaces status; 409 if `body.metadata.resourceVersion` is stale. */
  async replaceStatus<T extends Resource<string, unknown, unknown>>(plural: Plural, body: T): Promise<T> {
    return (await this.timed('update', `${plural}/status`, () => this.api.replaceClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural, name: body.metadata.name!, body }))) as T;
  }

  async delete(plural: Plural, name: string): Promise<void> {
    try {
      await this.timed('delete', plural, () => this.api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural, name }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}

export interface ObjectRef {
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  uid?: string;
}

/**
 * Events are informational: at most this many are in flight, so that the
 * Events of a burst of allocations do not take the API server's time from the
 * writes that plan the next pods (client-go's broadcaster sends one at a time).
 */
const EVENTS_IN_FLIGHT = 2;
/** Beyond this many waiting, new Events are dropped and reported, as client-go drops when its queue is full. */
const EVENTS_QUEUED_MAX = 1000;

/**
 * Records Events, once per (object, reason, message) per process, so a
 * reconcile that repeats itself does not flood the object's Events.
 */
export class EventRecorder {
  private readonly api: k8s.CoreV1Api;
  private readonly seen = new Set<string>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    kc: k8s.KubeConfig,
    private readonly component: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.api = kc.makeApiClient(k8s.CoreV1Api);
  }

  async record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const key = `${ref.uid ?? ref.name}/${reason}/${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.seen.size > 50_000) this.seen.clear();
    if (!(await this.slot())) {
      this.seen.delete(key);
      this.onError(new Error(`Event ${reason} for ${ref.kind} ${ref.name} dropped: ${EVENTS_QUEUED_MAX} Events already waiting`));
      return;
    }
    const namespace = ref.namespace ?? 'default';
    const now = new Date();
    try {
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${ref.name}.`, namespace },
          involvedObject: { kind: ref.kind, apiVersion: ref.apiVersion, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), ...(ref.uid ? { uid: ref.uid } : {}) },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.component },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: this.component,
        },
      });
    } catch (err) {
      this.seen.delete(key);
      this.onError(err);
    } finally {
      this.release();
    }
  }

  /** A sending slot, waiting for one if all are taken; false when too many already wait. */
  private async slot(): Promise<boolean> {
    if (this.active < EVENTS_IN_FLIGHT) {
      this.active++;
      return true;
    }
    if (this.waiting.length >= EVENTS_QUEUED_MAX) return false;
    // The slot is handed over by release(), so `active` stays counted.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return true;
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** The pod condition that says whether the operator has given the pod its network. */
export const POD_NETWORK_CONDITION = 'network.eni-operator.io/NetworkAllocated';

export interface PodConditionWriter {
  /** Sets the condition unless the pod already shows it (same status, reason and message). */
  set(pod: k8s.V1Pod, status: 'True' | 'False', reason: string, message: string): Promise<void>;
}

/**
 * Writes POD_NETWORK_CONDITION with a strategic merge patch of pods/status:
 * conditions merge by type, so the kubelet's own conditions stay as they are.
 */
export class PodConditions implements PodConditionWriter {
  private readonly api: k8s.CoreV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.api = kc.makeApiClient(k8s.CoreV1Api);
  }

  async set(pod: k8s.V1Pod, status: 'True' | 'False', reason: string, message: string): Promise<void> {
    const old = pod.status?.conditions?.find((c) => c.type === POD_NETWORK_CONDITION);
    if (old && old.status === status && old.reason === reason && old.message === message) return;
    const condition = { type: POD_NETWORK_CONDITION, status, reason, message: message.slice(0, 1024), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    try {
      await this.api.patchNamespacedPodStatus(
        { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { status: { conditions: [condition] } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      );
    } catch (err) {
      if (statusOf(err) !== 404) this.onError(err); // a pod deleted meanwhile needs no condition
    }
  }
}
