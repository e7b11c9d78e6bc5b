// `eni-operator controller`: informers, work queues, leader election, health
// and metrics around the NodeReconciler and NetworkModeReconciler.
import * as k8s from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { PROVIDERS, type ProviderType } from '../api/common.js';
import { DEFAULT_NAMESPACE } from '../api/rbac.js';
import { loadProvider, parseProviderList } from '../cloud/factory.js';
import type { ENIPool } from '../api/enipool.js';
import type { NetworkMode } from '../api/networkmode.js';
import type { NodeNetwork } from '../api/nodenetwork.js';
import { shareConnections } from '../kube/connections.js';
import { createLogger, reconcileLogger, type Logger } from '../log/logger.js';
import { CloudMetrics } from '../metrics/cloud.js';
import { ControllerMetrics } from '../metrics/controller.js';
import { parseHostPort } from '../cmd/host-port.js';
import { parseDuration } from './duration.js';
import { GarbageCollector } from './gc.js';
import { CRClient, EventRecorder, PodConditions } from './kube.js';
import { NetworkModeReconciler } from './networkmode-reconciler.js';
import { NodeReconciler } from './node-reconciler.js';
import { Providers } from './providers.js';
import { HealthServer } from './runtime/health.js';
import { customInformer, nodeInformer, podInformer } from './runtime/informer.js';
import { LeaderElector } from './runtime/leader.js';
import { WorkQueue } from './runtime/workqueue.js';

export const USAGE = `Usage: eni-operator controller [options]

Reconciles NetworkModes, keeps warm ENI/IP pools per node and plans each pod's
network. Only the leader (a Lease in --namespace) acts.

  --kubeconfig FILE       kubeconfig (default: in-cluster, then $KUBECONFIG)
  --cluster-id ID         tags every ENI this cluster creates (default "default")
  --networkmode-selector SEL
                          manage only NetworkModes matching this label selector (default: all)
  --namespace NS          namespace of the leader Lease (default ${DEFAULT_NAMESPACE})
  --identity ID           this replica's name in the Lease (default hostname-random)
  --listen HOST:PORT      /healthz, /readyz, /metrics (default 0.0.0.0:9090)
  --workers N             parallel node reconciles (default 4)
  --release-grace DUR     release a gone pod's IP without the agent after this (default 5m)
  --resync DUR            full cloud resync per node at least this often (default 10m)
  --gc-interval DUR       sweep for orphaned ENIs this often (default 1m)
  --gc-grace DUR          delete an orphaned ENI of this cluster after this long (default 5m)
  --lease-name NAME       the leader Lease in --namespace (default eni-operator-controller);
                          replicas of one controller share it, separate controllers must not
  --lease-duration DUR    leader Lease validity without renewal (default 10s)
  --renew-deadline DUR    a leader that cannot renew for this long steps down (default 8s)
  --retry-period DUR      between leader election attempts (default 2s)
  --cloud-sdks LIST       cloud SDKs loaded before seeking the lease, comma-separated
                          (default alibaba,tencent); a NetworkMode naming another loads it
                          on demand, which can stall a leader for seconds on a busy node
  --log-level LEVEL       error | warn | info | debug (default info)
`;

export async function runController(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        'cluster-id': { type: 'string', default: 'default' },
        'networkmode-selector': { type: 'string', default: '' },
        namespace: { type: 'string', default: DEFAULT_NAMESPACE },
        identity: { type: 'string', default: `${hostname()}-${randomUUID().slice(0, 8)}` },
        listen: { type: 'string', default: '0.0.0.0:9090' },
        workers: { type: 'string', default: '4' },
        'release-grace': { type: 'string', default: '5m' },
        resync: { type: 'string', default: '10m' },
        'gc-interval': { type: 'string', default: '1m' },
        'gc-grace': { type: 'string', default: '5m' },
        'lease-name': { type: 'string', default: 'eni-operator-controller' },
        'lease-duration': { type: 'string', default: '10s' },
        'renew-deadline': { type: 'string', default: '8s' },
        'retry-period': { type: 'string', default: '2s' },
        'cloud-sdks': { type: 'string', default: PROVIDERS.join(',') },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`controller: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const workers = Number(values.workers);
  let listen: { host: string; port: number };
  let sdks: ProviderType[];
  let releaseGraceMs: number, resyncMs: number, gcIntervalMs: number, gcGraceMs: number, lease: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  try {
    lease = { leaseDurationMs: parseDuration(values['lease-duration']), renewDeadlineMs: parseDuration(values['renew-deadline']), retryPeriodMs: parseDuration(values['retry-period']) };
    if (!(lease.retryPeriodMs < lease.renewDeadlineMs && lease.renewDeadlineMs < lease.leaseDurationMs)) throw new Error('want --retry-period < --renew-deadline < --lease-duration');
    releaseGraceMs = parseDuration(values['release-grace']);
    resyncMs = parseDuration(values.resync);
    gcIntervalMs = parseDuration(values['gc-interval']);
    gcGraceMs = parseDuration(values['gc-grace']);
    listen = parseHostPort(values.listen);
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers wants a positive integer, got "${values.workers}"`);
    sdks = parseProviderList(values['cloud-sdks'], '--cloud-sdks');
  } catch (err) {
    process.stderr.write(`controller: ${(err as Error).message}\n`);
    return 2;
  }

  const log = createLogger({ component: 'controller', level: values['log-level'] });
  const kc = new k8s.KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  shareConnections(kc);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eni_operator_controller_' });
  const metrics = new ControllerMetrics(registry);
  const providers = new Providers(kc, new CloudMetrics(registry));
  const cr = new CRClient(kc, (verb, resource, code, seconds) => metrics.apiRequest.observe({ verb, resource, code: String(code) }, seconds));
  const events = new EventRecorder(kc, 'eni-operator-controller', (err) => log.warn('event not recorded', { err: String(err) }));
  const podConditions = new PodConditions(kc, (err) => log.warn('pod condition not written', { err: String(err) }));
  const onError = (what: string) => (err: unknown) => log.warn(`${what} informer error`, { err: String(err) });

  const nodes = nodeInformer(kc, { onError: onError('node') });
  const pods = podInformer(kc, { fieldSelector: 'spec.nodeName!=', onError: onError('pod') });
  const modes = customInformer<NetworkMode>(kc, 'networkmodes', { onError: onError('networkmode'), ...(values['networkmode-selector'] ? { labelSelector: values['networkmode-selector'] } : {}) });
  const plans = customInformer<NodeNetwork>(kc, 'nodenetworks', { onError: onError('nodenetwork') });
  const pools = customInformer<ENIPool>(kc, 'enipools', { onError: onError('enipool') });

  const podsByNode = new Map<string, Map<string, k8s.V1Pod>>();
  const nodeReconciler = new NodeReconciler({
    cr,
    events,
    podConditions,
    nodes: { get: (n) => nodes.get(n) },
    cached: { pool: (n) => pools.get(n), plan: (n) => plans.get(n) },
    pods: { onNode: (n) => [...(podsByNode.get(n)?.values() ?? [])] },
    modes: { list: () => modes.list() },
    cloudFor: (m) => providers.forMode(m),
    clusterID: values['cluster-id'],
    releaseGraceMs,
    resyncMs,
    now: () => Date.now(),
    wake: (n) => nodeQueue.add(n),
    log,
    observe: { allocated: (s) => metrics.allocation.observe(s), released: (s) => metrics.release.observe(s), pool: (node, p) => metrics.setPool(node, p) },
  });
  const modeReconciler = new NetworkModeReconciler({
    cr,
    modes: { get: (n) => modes.get(n), list: () => modes.list() },
    nodes: { list: () => nodes.list() },
    pools: { list: () => pools.list() },
    cloudFor: (m) => providers.forMode(m),
    now: () => Date.now(),
  });

  const gc = new GarbageCollector({
    cr,
    nodes: { get: (n) => nodes.get(n) },
    pools: { list: () => pools.list() },
    modes: { list: () => modes.list() },
    cloudFor: (m) => providers.forMode(m),
    clusterID: values['cluster-id'],
    graceMs: gcGraceMs,
    now: () => Date.now(),
    log,
  });
  const gcQueue = new WorkQueue<string>({ name: 'gc', registry, onError: (_key, err) => log.warn('garbage collection failed; retrying', { err: String(err) }) });
  const nodeQueue = new WorkQueue<string>({ name: 'nodes', registry, onError: (key, err) => log.warn('node reconcile failed; retrying', { key, err: String(err) }) });
  const modeQueue = new WorkQueue<string>({ name: 'networkmodes', registry, onError: (key, err) => log.warn('networkmode reconcile failed; retrying', { key, err: String(err) }) });
  const allNodes = () => {
    for (const n of nodes.list()) nodeQueue.add(n.metadata!.name!);
  };
  const allModes = () => {
    for (const m of modes.list()) modeQueue.add(m.metadata.name!);
  };

  const trackPod = (pod: k8s.V1Pod, gone: boolean): void => {
    const node = pod.spec?.nodeName;
    const uid = pod.metadata?.uid;
    if (!node || !uid) return;
    let onNode = podsByNode.get(node);
    if (!onNode) podsByNode.set(node, (onNode = new Map<string, k8s.V1Pod>()));
    if (gone) onNode.delete(uid);
    else {
      onNode.set(uid, pod);
      nodeReconciler.podBound(pod, Date.now());
    }
    nodeQueue.add(node);
  };
  pods.on('add', (p) => trackPod(p, false));
  pods.on('update', (p) => trackPod(p, false));
  pods.on('delete', (p) => trackPod(p, true));
  nodes.on('add', (n) => (nodeQueue.add(n.metadata!.name!), allModes()));
  nodes.on('update', (n, old) => {
    nodeQueue.add(n.metadata!.name!);
    if (JSON.stringify(n.metadata?.labels) !== JSON.stringify(old.metadata?.labels)) allModes();
  });
  nodes.on('delete', (n) => {
    nodeReconciler.forget(n.metadata!.name!);
    metrics.forgetNode(n.metadata!.name!);
    allModes();
    gcQueue.add('gc'); // its ENIs go back to the cloud
  });
  const onMode = (m: NetworkMode): void => {
    modeQueue.add(m.metadata.name!);
    allModes(); // priorities and selectors of one mode change the others' conflicts
    allNodes();
  };
  // The agent's Released attachments wake the node's reconcile (an address to return);
  // its other status writes and our own spec writes do not.
  const released = (nn: NodeNetwork | undefined) => (nn?.status?.attachments ?? []).filter((a) => a.state === 'Released').map((a) => a.podUID).sort().join(',');
  const onPlan = (nn: NodeNetwork): void => nodeQueue.add(nn.metadata.name!);
  const onPlanUpdate = (nn: NodeNetwork, old: NodeNetwork): void => {
    if (released(nn) !== released(old)) nodeQueue.add(nn.metadata.name!);
  };
  // A NetworkMode's totals follow its pools within a second: during a burst of
  // allocations that is one status write a second, not one per ledger write.
  const onPool = (p: ENIPool): void => modeQueue.addAfter(p.spec.networkMode, 1000);
  modes.on('add', onMode).on('update', onMode).on('delete', onMode);
  plans.on('add', onPlan).on('update', onPlanUpdate).on('delete', onPlan);
  pools.on('add', onPool).on('update', onPool).on('delete', onPool);

  let shuttingDown = false;
  const elector = new LeaderElector({
    kubeConfig: kc,
    namespace: values.namespace,
    name: values['lease-name'],
    identity: values.identity,
    ...lease,
    registry,
    onStartedLeading: () => {
      log.info('leading: starting reconcilers', { identity: values.identity });
      const timed = (controller: string, fn: (key: string, rlog: Logger) => Promise<{ requeueAfter?: number }>) => async (key: string) => {
        const end = metrics.reconcile.startTimer({ controller });
        const rlog = reconcileLogger(log, { controller, key, reconcileID: randomUUID().slice(0, 8) });
        try {
          const result = await fn(key, rlog);
          end({ result: 'ok' });
          rlog.debug('reconciled', { requeueAfter: result.requeueAfter });
          return result;
        } catch (err) {
          end({ result: 'error' });
          throw err;
        }
      };
      void nodeQueue.run(workers, timed('node', (k, rlog) => nodeReconciler.reconcile(k, rlog)));
      // Several workers: one NetworkMode whose cloud is unreachable must not hold up the others.
      void modeQueue.run(Math.min(workers, 4), timed('networkmode', (k) => modeReconciler.reconcile(k)));
      void gcQueue.run(1, timed('gc', async () => {
        const report = await gc.run();
        if (report.deletedENIs.length || report.deletedPools.length) log.info('garbage collected', { ...report });
        return { requeueAfter: gcIntervalMs };
      }));
      gcQueue.add('gc');
      allNodes();
      allModes();
    },
    onStoppedLeading: () => {
      if (shuttingDown) return; // our own release on SIGTERM
      // Like controller-runtime: a replica that lost the lease exits and restarts clean.
      log.error('lost leadership; exiting');
      process.exit(1);
    },
    onError: (err) => log.warn('leader election error', { err: String(err) }),
  });

  const health = new HealthServer({ registry });
  const informers = [nodes, pods, modes, plans, pools];
  health.addLivenessCheck('ping', () => true);
  health.addReadinessCheck('informers-synced', () => informers.every((i) => i.hasSynced()));
  const address = await health.listen(listen.host, listen.port);
  log.info('controller starting', { identity: values.identity, health: `${address.host}:${address.port}`, clusterID: values['cluster-id'] });

  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  // Cloud SDKs are loaded before the lease is sought, not while it must be renewed (see loadProvider).
  const sdkStart = Date.now();
  const types = [...new Set([...sdks, ...modes.list().map((m) => m.spec.provider.type)])];
  await Promise.all(types.map((t) => loadProvider(t)));
  if (types.length > 0) log.info('cloud SDKs loaded', { providers: types, ms: Date.now() - sdkStart });
  elector.start();

  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  shuttingDown = true;
  log.info('shutting down: finishing in-flight reconciles');
  // In-flight reconciles finish (their cloud calls settle or stay recoverable by tag), then the lease goes.
  await Promise.all([nodeQueue.shutdown(), modeQueue.shutdown(), gcQueue.shutdown()]);
  await nodeReconciler.drain(); // pool fillers' cloud calls finish and reach the ledger
  await elector.release();
  await Promise.all(informers.map((i) => i.stop()));
  await health.close();
  return 0;
}

