// A typed, resilient informer: an in-memory cache of one resource kept current
// by list + watch, with add/update/delete handlers.
//
// It builds on client-node's ListWatch, which (2.0.1) relists on 410 Gone and
// reconnects after a clean close or a client-side timeout, but gives up for
// good after any other error (a dropped connection, 5xx, a failed list): it
// only tells its 'error' callbacks. This class restarts it with exponential
// backoff; ListWatch keeps its last resourceVersion across a restart, so the
// new watch resumes where the old one stopped and no event is lost.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../api/common.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';

/** The part of an object the cache needs (our CRD types and client-node's both fit). */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface ObjectList<T> {
  metadata?: { resourceVersion?: string };
  items: T[];
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** Lists the collection with the informer's selectors (the watch uses the same ones). */
export type ListFn<T> = (selectors: Selectors) => Promise<ObjectList<T>>;

export interface InformerOptions<T> extends Selectors {
  kubeConfig: k8s.KubeConfig;
  /** Collection path the watch uses, e.g. /api/v1/nodes. */
  path: string;
  list: ListFn<T>;
  /** For log lines. Default: the path. */
  name?: string;
  /** Restart delay after a failed watch or list: doubles from initialMs (500 ms) to maxMs (30 s). */
  restartBackoff?: { initialMs?: number; maxMs?: number };
  /** Told about each error that stopped the watch (it is restarted regardless). */
  onError?: (err: unknown) => void;
  clock?: Clock;
}

export type AddHandler<T> = (obj: T) => void;
export type UpdateHandler<T> = (obj: T, old: T) => void;
export type DeleteHandler<T> = (obj: T) => void;

/** Counters for tests and debugging. */
export interface InformerStats {
  /** Full lists (the first one, and relists after 410 Gone). */
  lists: number;
  /** Watch or list failures after which the informer restarted. */
  restarts: number;
}

/** The cache key of an object: `name` when cluster-scoped, else `namespace/name`. */
export function objectKey(obj: CachedObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

/** A ListWatch that can be closed for good, even while it is connecting. */
class ClosableWatch extends k8s.Watch {
  private readonly open = new Set<AbortController>();
  private closed = false;

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.closed) {
      // ListWatch re-checks `stopped` only before listing, not before watching.
      const c = new AbortController();
      c.abort();
      done(new Error('informer stopped'));
      return c;
    }
    const ref: { controller?: AbortController; finished?: boolean } = {};
    const controller = await super.watch(path, queryParams, callback, (err: unknown) => {
      ref.finished = true;
      if (ref.controller) this.open.delete(ref.controller);
      done(err);
    });
    ref.controller = controller;
    // stop() may have come while the request was in flight, before ListWatch held it.
    if (this.closed) controller.abort();
    else if (!ref.finished) this.open.add(controller);
    return controller;
  }

  close(): void {
    this.closed = true;
    for (const c of this.open) c.abort();
    this.open.clear();
  }
}

export class Informer<T extends CachedObject> {
  readonly name: string;
  private readonly opts: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly cache = new Map<string, T>();
  private readonly addHandlers: AddHandler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private readonly watch: ClosableWatch;
  private readonly listWatch: k8s.ListWatch<k8s.KubernetesObject>;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private restartTimer: TimerHandle | undefined;
  private started = false;
  private stopped = false;
  private synced = false;
  private syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  readonly stats: InformerStats = { lists: 0, restarts: 0 };

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.name = opts.name ?? opts.path;
    this.clock = opts.clock ?? realClock;
    this.initialBackoffMs = opts.restartBackoff?.initialMs ?? 500;
    this.maxBackoffMs = opts.restartBackoff?.maxMs ?? 30_000;
    this.backoffMs = this.initialBackoffMs;
    this.watch = new ClosableWatch(opts.kubeConfig);
    const selectors: Selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    const list = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
      if (this.stopped) throw new Error('informer stopped');
      const result = await opts.list(selectors);
      this.stats.lists++;
      this.backoffMs = this.initialBackoffMs;
      // ListWatch applies the items synchronously once this promise settles;
      // a macrotask later the cache holds them all.
      setImmediate(() => this.markSynced());
      return result;
    };
    this.listWatch = new k8s.ListWatch(opts.path, this.watch, list, false, opts.labelSelector, opts.fieldSelector);
    // ListWatch decides add vs update on its own cache; ours gives handlers the old object too.
    this.listWatch.on(k8s.ADD, (obj) => this.upsert(obj as T));
    this.listWatch.on(k8s.UPDATE, (obj) => this.upsert(obj as T));
    this.listWatch.on(k8s.DELETE, (obj) => this.remove(obj as T));
    this.listWatch.on(k8s.ERROR, (err) => this.failed(err));
  }

  on(event: 'add', handler: AddHandler<T>): this;
  on(event: 'update', handler: UpdateHandler<T>): this;
  on(event: 'delete', handler: DeleteHandler<T>): this;
  on(event: 'add' | 'update' | 'delete', handler: AddHandler<T> | UpdateHandler<T> | DeleteHandler<T>): this {
    if (event === 'add') this.addHandlers.push(handler as AddHandler<T>);
    else if (event === 'update') this.updateHandlers.push(handler);
    else this.deleteHandlers.push(handler as DeleteHandler<T>);
    return this;
  }

  /** Lists, then watches. Returns at once; use waitForSync() to wait for the first list. */
  start(): void {
    if (this.started) throw new Error(`informer ${this.name} already started`);
    this.started = true;
    void this.listWatch.start();
  }

  /** Stops watching for good; pending waitForSync() calls reject. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.watch.close();
    await this.listWatch.stop();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.reject(new Error(`informer ${this.name} stopped before it synced`));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list is in the cache (and its add handlers ran). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer ${this.name} stopped`));
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.syncWaiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
          reject(new Error(`waiting for informer ${this.name} to sync was aborted`));
        },
        { once: true },
      );
    });
  }

  /** The cached object by `name` (cluster-scoped) or `namespace/name`. */
  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** The resourceVersion the next watch resumes from ('' before the first list or after 410). */
  resourceVersion(): string {
    return this.listWatch.latestResourceVersion();
  }

  private markSynced(): void {
    if (this.synced || this.stopped) return;
    this.synced = true;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    this.backoffMs = this.initialBackoffMs;
    // A throwing handler must not break the others or the cache: ListWatch
    // would swallow the exception and skip the resourceVersion bookkeeping.
    if (old) for (const h of this.updateHandlers) this.call(() => h(obj, old));
    else for (const h of this.addHandlers) this.call(() => h(obj));
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    // On a relist ListWatch reports the last state it knew; ours is the same object.
    const last = this.cache.get(key) ?? obj;
    this.cache.delete(key);
    for (const h of this.deleteHandlers) this.call(() => h(last));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError?.(err);
    } catch {
      // Reporting is best effort.
    }
  }

  private failed(err: unknown): void {
    // stop() aborts the request, which ListWatch reports as an error too.
    if (this.stopped) return;
    this.report(err);
    if (this.restartTimer !== undefined) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.stats.restarts++;
      // Keeps the resourceVersion: the watch resumes, or relists if it has none.
      void this.listWatch.start();
    }, delay);
  }
}

export interface ResourceInformerOptions extends Selectors {
  restartBackoff?: InformerOptions<unknown>['restartBackoff'];
  onError?: (err: unknown) => void;
}

export function nodeInformer(kubeConfig: k8s.KubeConfig, opts: ResourceInformerOptions = {}): Informer<k8s.V1Node> {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return new Informer<k8s.V1Node>({ ...opts, kubeConfig, name: 'nodes', path: '/api/v1/nodes', list: (s) => api.listNode(s) });
}

/** Pods of all namespaces (or those the selectors pick, e.g. `spec.nodeName=<node>`). */
export function podInformer(kubeConfig: k8s.KubeConfig, opts: ResourceInformerOptions = {}): Informer<k8s.V1Pod> {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return new Informer<k8s.V1Pod>({ ...opts, kubeConfig, name: 'pods', path: '/api/v1/pods', list: (s) => api.listPodForAllNamespaces(s) });
}

export type CustomPlural = 'networkmodes' | 'enipools' | 'nodenetworks';

/** One of our cluster-scoped custom resources, e.g. `customInformer<NodeNetwork>(kc, 'nodenetworks')`. */
export function customInformer<T extends CachedObject>(kubeConfig: k8s.KubeConfig, plural: CustomPlural, opts: ResourceInformerOptions = {}): Informer<T> {
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  return new Informer<T>({
    ...opts,
    kubeConfig,
    name: plural,
    path: `/apis/${GROUP}/${VERSION}/${plural}`,
    list: (s) => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural, ...s }) as Promise<ObjectList<T>>,
  });
}
