// One node's reconcile: onboard it (ENIPool + NodeNetwork), keep its ledger in
// step with the cloud, release the addresses of pods whose datapath is gone,
// give waiting pods addresses, write the plan, and move the warm pool towards
// its targets. Level-triggered and idempotent: it can stop at any line and the
// next run picks up from the API server and the cloud.
//
// Order of writes, for crash safety: the ledger (ENIPool status) is written
// before anything relies on it — a pod's address reaches the NodeNetwork plan
// only once the ledger that gives it is stored; cloud results are written as
// soon as they arrive, and a crash between a cloud call and that write is
// repaired by the next cloud sync (tags find the ENI, listings find the IPs).
import { randomUUID } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, type Condition } from '../api/common.js';
import type { ENIPool, ENIPoolStatus } from '../api/enipool.js';
import type { NetworkMode } from '../api/networkmode.js';
import type { NodeNetwork } from '../api/nodenetwork.js';
import { CloudError } from '../cloud/errors.js';
import { subnetGateway } from '../cloud/gateway.js';
import type { CloudProvider } from '../cloud/types.js';
import { adoptPlanned, allocateExclusive, allocateShared, applyAssigned, applyCreated, applyDeleted, applyUnassigned, findPod, releasePod, settleCooldowns, type PlannedHolding } from '../pool/ledger.js';
import { planPool, type Plan, type PoolAction } from '../pool/plan.js';
import { markExhausted } from '../pool/subnets.js';
import type { SubnetInfo, Targets } from '../pool/types.js';
import { ENI_MODE_ANNOTATION, podMode } from './annotations.js';
import { attachmentsFor } from './attachments.js';
import { eniTags, syncWithCloud } from './cloud-sync.js';
import { fromLedger, statusCounts, toLedger, type NodeENI } from './codec.js';
import { POD_NETWORK_CONDITION, POOL_FINALIZER, statusOf, type CRClient, type EventRecorder, type ObjectRef, type PodConditionWriter } from './kube.js';
import { governingMode } from './match.js';
import { sameJSON } from '../util/json.js';
import { newerCopy } from '../util/resource-version.js';
import { parseDuration } from './duration.js';

export interface NodeReconcilerDeps {
  cr: CRClient;
  events: EventRecorder;
  /** The pod's NetworkAllocated condition; written only when something is wrong or stops being wrong. */
  podConditions?: PodConditionWriter;
  nodes: { get(name: string): k8s.V1Node | undefined };
  /** Informer copies; the reconciler reads the API server only when neither these nor its own last write will do. */
  cached?: { pool(name: string): ENIPool | undefined; plan(name: string): NodeNetwork | undefined };
  pods: { onNode(name: string): k8s.V1Pod[] };
  modes: { list(): NetworkMode[] };
  cloudFor(mode: NetworkMode): Promise<CloudProvider>;
  clusterID: string;
  /** Release a gone pod's address without the agent's word after this long. */
  releaseGraceMs: number;
  /** Full cloud resync of a node's ledger at least this often. */
  resyncMs: number;
  now(): number;
  /** Asks for the node's reconcile soon (the pool filler calls it when it has added addresses). */
  wake?(node: string): void;
  log: { info(msg: string, meta?: object): void; warn(msg: string, meta?: object): void };
  observe?: {
    allocated(seconds: number): void;
    released(seconds: number): void;
    /** The node's pool after a reconcile, for the per-node gauges. */
    pool(node: string, pool: { free: number; assigned: number; cooldown: number; enis: Record<'shared' | 'exclusive', number>; waiting: number }): void;
  };
}

export interface ReconcileResult {
  requeueAfter?: number;
}

interface NodeMemory {
  lastSync: number;
  subnets?: { at: number; list: SubnetInfo[]; facts: Map<string, { cidr: string; gateway: string; zone: string }> };
  goneSince: Map<string, number>;
  firstSeen: Map<string, number>;
  /** The copies this reconciler last read or wrote: newer than the informer's until its watch catches up. */
  pool?: ENIPool;
  nn?: NodeNetwork;
  /** Serialises ledger writes between the reconcile and the node's pool filler. */
  lock: Promise<void>;
  /** The node's pool filler, while it runs: cloud calls that grow or shrink the pool. */
  filling?: Promise<void>;
  /** After a failed fill: no new one before this, and the wait doubles. */
  fillNotBefore: number;
  fillBackoffMs: number;
  /** Pods the last reconcile could not give an address: what the filler fills for. */
  pending: { shared: number; exclusive: number };
}

/** What the pool filler needs, fixed for one fill. */
interface FillContext {
  nodeName: string;
  cloud: CloudProvider;
  mode: NetworkMode;
  instanceId: string;
  limits: NonNullable<ENIPool['spec']['limits']>;
  targets: Targets;
  usePrimaryIPs: boolean;
  zone: string | undefined;
  log: NodeReconcilerDeps['log'];
}

const SUBNET_TTL_MS = 60_000;
/** Plans one fill carries out before it hands back to the reconcile (which starts another if needed). */
const MAX_FILL_ROUNDS = 4;
const FILL_BACKOFF_MS = { initial: 1000, max: 30_000 };

/** Instance ID from spec.providerID: "cn-hangzhou.i-xxx", "alicloud://.../i-xxx", "qcloud:///800002/ins-xxx". */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  return /(i-[a-z0-9]+|ins-[a-z0-9]+)$/.exec(providerID ?? '')?.[1];
}

function targetsOf(mode: NetworkMode): Targets {
  const p = mode.spec.pool;
  return {
    minIPs: p.minIPs,
    warmIPs: p.warmIPs,
    maxIdleIPs: p.maxIdleIPs,
    maxIPs: p.maxIPs,
    cooldownMs: parseDuration(p.cooldown),
    reclaimAfterMs: parseDuration(p.reclaimAfter),
    batchSize: p.batchSize,
    warmENIs: mode.spec.exclusive.enabled ? mode.spec.exclusive.warmENIs : 0,
  };
}

function podRef(pod: k8s.V1Pod): ObjectRef {
  return { kind: 'Pod', apiVersion: 'v1', name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, uid: pod.metadata!.uid! };
}

/** Pods that need an address from the pool: not finished, and not on the node's own network. */
const live = (pod: k8s.V1Pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && !pod.spec?.hostNetwork;

export class NodeReconciler {
  private readonly memory = new Map<string, NodeMemory>();

  constructor(private readonly d: NodeReconcilerDeps) {}

  private mem(node: string): NodeMemory {
    let m = this.memory.get(node);
    if (!m) this.memory.set(node, (m = { lastSync: -Infinity, goneSince: new Map(), firstSeen: new Map(), lock: Promise.resolve(), fillNotBefore: 0, fillBackoffMs: FILL_BACKOFF_MS.initial, pending: { shared: 0, exclusive: 0 } }));
    return m;
  }

  /** Runs `fn` alone among the node's ledger writers (its reconcile and its filler). */
  private async locked<T>(node: string, fn: () => Promise<T>): Promise<T> {
    const mem = this.mem(node);
    const before = mem.lock;
    let release!: () => void;
    mem.lock = new Promise<void>((r) => (release = r));
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Waits for the node's pool filler, if one runs; true if it did. */
  async idle(node: string): Promise<boolean> {
    const filling = this.memory.get(node)?.filling;
    if (!filling) return false;
    await filling;
    return true;
  }

  /** Waits for every pool filler (graceful shutdown: cloud calls finish and reach the ledger). */
  async drain(): Promise<void> {
    await Promise.all([...this.memory.values()].flatMap((m) => (m.filling ? [m.filling] : [])));
  }

  /** Notes when a pod was first seen bound, for the bind → planned latency. */
  podBound(pod: k8s.V1Pod, at: number): void {
    const node = pod.spec?.nodeName;
    const uid = pod.metadata?.uid;
    if (node && uid && !this.mem(node).firstSeen.has(uid)) this.mem(node).firstSeen.set(uid, at);
  }

  forget(node: string): void {
    this.memory.delete(node);
  }

  async reconcile(nodeName: string, log: NodeReconcilerDeps['log'] = this.d.log): Promise<ReconcileResult> {
    try {
      return await this.locked(nodeName, () => this.reconcileOnce(nodeName, log));
    } catch (err) {
      // What we remember may be what made this fail (a stale copy, an object deleted meanwhile).
      const mem = this.memory.get(nodeName);
      if (mem) {
        delete mem.pool;
        delete mem.nn;
      }
      throw err;
    }
  }

  /**
   * The newest copy at hand: the informer's or our last write, else the API
   * server. Without an informer our last write alone could miss others'
   * writes (the agent's status), so that case always reads.
   */
  private async current<T extends ENIPool | NodeNetwork>(plural: 'enipools' | 'nodenetworks', name: string, cached: T | undefined, remembered: T | undefined): Promise<T | undefined> {
    if (this.d.cached && (cached || remembered)) {
      const newest = newerCopy<T>(cached, remembered);
      if (newest) return newest;
    }
    return this.d.cr.get<T>(plural, name);
  }

  private async reconcileOnce(nodeName: string, log: NodeReconcilerDeps['log']): Promise<ReconcileResult> {
    const d = { ...this.d, log };
    const node = d.nodes.get(nodeName);
    if (!node) return {}; // the ENIPool follows its Node (owner reference); GC returns its ENIs
    const gov = governingMode(d.modes.list(), node.metadata?.labels ?? {});
    if (gov.kind !== 'governed') return {};
    const mode = d.modes.list().find((m) => m.metadata.name === gov.mode)!;
    const cloud = await d.cloudFor(mode);
    const mem = this.mem(nodeName);
    const targets = targetsOf(mode);
    const usePrimaryIPs = mode.spec.datapath === 'veth';

    const [found, foundNN] = await Promise.all([
      this.current<ENIPool>('enipools', nodeName, d.cached?.pool(nodeName), mem.pool),
      this.current<NodeNetwork>('nodenetworks', nodeName, d.cached?.plan(nodeName), mem.nn),
    ]);
    const onboarded = found && foundNN ? { pool: found, nn: foundNN } : await this.onboard(node, mode, cloud, found, foundNN, log);
    let pool: ENIPool = (mem.pool = onboarded.pool);
    const nn: NodeNetwork = (mem.nn = onboarded.nn);
    // The ENIPool shows the targets in force: keep them in step with the NetworkMode.
    const shown = { networkMode: mode.metadata.name!, targets: { ...mode.spec.pool, warmENIs: targets.warmENIs }, securityGroups: mode.spec.securityGroups };
    if (pool.spec.networkMode !== shown.networkMode || !sameJSON(pool.spec.targets, shown.targets) || !sameJSON(pool.spec.securityGroups, shown.securityGroups)) {
      pool = mem.pool = await d.cr.patchSpec<ENIPool>('enipools', nodeName, { ...pool.spec, ...shown });
    }
    // Pools onboarded before the finalizer existed get it too.
    if (!pool.metadata.deletionTimestamp && !pool.metadata.finalizers?.includes(POOL_FINALIZER)) {
      pool = mem.pool = await d.cr.setFinalizers<ENIPool>('enipools', pool, [...(pool.metadata.finalizers ?? []), POOL_FINALIZER]);
    }
    const instanceId = pool.spec.instanceID;
    const limits = pool.spec.limits!;
    const now = d.now();

    await this.refreshSubnets(mem, mode, cloud, pool.spec.zone, false);
    let enis = toLedger(pool.status);
    // The plan can be newer than the ledger (they are written side by side): take its pods back first.
    const adopted = adoptPlanned(enis, plannedHoldings(nn), now);
    if (adopted.length) log.info('took into the ledger pods the plan gave addresses and the ledger lacked', { node: nodeName, pods: adopted.length });
    let conditions = pool.status?.conditions ?? [];

    // 1. The cloud decides what exists. Not while the filler is between a cloud call and
    // its ledger write: an ENI it has just created would look like a leftover.
    if (now - mem.lastSync >= d.resyncMs && !mem.filling) {
      const listed = [...(await cloud.listENIs({ instanceId })), ...(await cloud.listENIs({ tags: { 'eni-operator.io/cluster': d.clusterID, 'eni-operator.io/node': nodeName } }))];
      const unique = [...new Map(listed.map((e) => [e.id, e])).values()];
      const sync = syncWithCloud(enis, unique, now, (id) => mem.subnets?.facts.get(id));
      enis = sync.enis;
      for (const stray of sync.detached) {
        // Tagged for this node but not attached: the leftover of an interrupted create.
        d.log.info('deleting an unattached ENI of this node', { node: nodeName, eni: stray.id });
        await cloud.deleteENI(stray.id);
      }
      if (sync.adopted.length) d.log.info('adopted ENIs the ledger did not know', { node: nodeName, enis: sync.adopted });
      if (sync.vanished.length) d.log.warn('ENIs gone from the cloud', { node: nodeName, enis: sync.vanished, pods: sync.orphanedPods });
      mem.lastSync = now;
    }

    const save = async (): Promise<void> => {
      pool = await this.writeLedger(mem, pool, enis, conditions, usePrimaryIPs);
    };

    const t = d.now();
    settleCooldowns(enis, t);
    this.releaseGone(nodeName, enis, nn, targets, t);
    const newly: k8s.V1Pod[] = [];
    const pendingPods: k8s.V1Pod[] = [];
    let pendingShared = 0;
    let pendingExclusive = 0;
    for (const pod of d.pods.onNode(nodeName).filter(live).sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))) {
      const uid = pod.metadata!.uid!;
      if (findPod(enis, uid)) continue;
      const want = podMode(pod.metadata?.annotations);
      if (want.kind === 'invalid') {
        await this.refuse(pod, 'InvalidAnnotation', want.message);
        continue;
      }
      if (want.kind === 'exclusive' && !mode.spec.exclusive.enabled) {
        await this.refuse(pod, 'ExclusiveNotAllowed', `NetworkMode ${mode.metadata.name} does not allow exclusive ENIs (spec.exclusive.enabled is false): remove the annotation ${ENI_MODE_ANNOTATION} or enable spec.exclusive`);
        continue;
      }
      const ref = { uid, name: `${pod.metadata!.namespace}/${pod.metadata!.name}` };
      const got = want.kind === 'exclusive' ? allocateExclusive(enis, ref, t) : allocateShared(enis, ref, t, usePrimaryIPs);
      if (got) newly.push(pod);
      else {
        pendingPods.push(pod);
        if (want.kind === 'exclusive') pendingExclusive++;
        else pendingShared++;
      }
    }
    // 2. The pool: what it lacks or has too much of, worked out now so that the ledger,
    // its counts and its conditions go out in one write ahead of the plan (a condition
    // message carries the free count, so a later write would follow every allocation).
    // The cloud calls that fix it run in the node's filler, outside this reconcile, so
    // that pods bound meanwhile are not kept waiting.
    mem.pending = { shared: pendingShared, exclusive: pendingExclusive };
    const plan = planPool({ limits, targets, enis, subnets: mem.subnets?.list ?? [], pendingShared, pendingExclusive, usePrimaryIPs, now: d.now() });
    conditions = this.conditions(conditions, plan, enis, usePrimaryIPs, pool.metadata.generation ?? 0);
    // Ledger and plan go out side by side: a crash between them leaves at worst a plan
    // ahead of its ledger, which the next reconcile folds back (adoptPlanned above).
    const [ledger, written] = await Promise.allSettled([save(), this.writePlan(nn, enis, mode)]);
    if (ledger.status === 'rejected') throw ledger.reason;
    if (written.status === 'rejected') throw written.reason;
    mem.nn = written.value;
    // The plan is written: that is the moment the latency measures, before any Event.
    const planned = d.now();
    for (const pod of newly) {
      const seen = mem.firstSeen.get(pod.metadata!.uid!);
      if (seen !== undefined) d.observe?.allocated((planned - seen) / 1000);
    }
    // Events and conditions do not hold up the next pods' plans: they go out in the
    // background; the recorder and the condition writer report their own errors.
    void Promise.all(
      newly.map(async (pod) => {
        const held = findPod(enis, pod.metadata!.uid!)!;
        const message = `${held.kind === 'eni' ? 'exclusive ENI' : 'address'} ${held.address} on ${held.eniId}`;
        // Clear a condition an earlier refusal set (the annotation was fixed); no write otherwise.
        // Not behind the Event: Events wait their turn, two at a time.
        const refused = pod.status?.conditions?.some((c) => c.type === POD_NETWORK_CONDITION && c.status !== 'True');
        await Promise.all([d.events.record(podRef(pod), 'Normal', 'Allocated', message), refused ? d.podConditions?.set(pod, 'True', 'Allocated', message) : undefined]);
      }),
    );

    if (plan.actions.length > 0 && !mem.filling && d.now() >= mem.fillNotBefore) {
      this.startFill(mem, { nodeName, cloud, mode, instanceId, limits, targets, usePrimaryIPs, zone: pool.spec.zone, log });
    }
    const c = statusCounts(enis, usePrimaryIPs, d.now());
    d.observe?.pool(nodeName, {
      free: c.freeIPs,
      assigned: c.assignedIPs,
      cooldown: c.coolingIPs,
      enis: { shared: enis.filter((e) => e.role === 'shared').length, exclusive: enis.filter((e) => e.role === 'exclusive').length },
      waiting: pendingPods.length,
    });
    if (plan.blocked.length > 0) {
      for (const pod of pendingPods) await d.events.record(podRef(pod), 'Warning', 'AllocationFailed', `no address yet on ${nodeName}: ${plan.blocked.join(', ')}`);
    }
    return { requeueAfter: this.nextWake(enis, targets, pendingPods.length > 0, plan, mem) };
  }

  /** A pod that cannot be given a network as asked: a Warning Event and a False condition, then on to the next pod. */
  private async refuse(pod: k8s.V1Pod, reason: string, message: string): Promise<void> {
    await Promise.all([this.d.events.record(podRef(pod), 'Warning', reason, message), this.d.podConditions?.set(pod, 'False', reason, message)]);
  }

  private async onboard(node: k8s.V1Node, mode: NetworkMode, cloud: CloudProvider, pool: ENIPool | undefined, nn: NodeNetwork | undefined, log: NodeReconcilerDeps['log']): Promise<{ pool: ENIPool; nn: NodeNetwork }> {
    const d = { ...this.d, log };
    const name = node.metadata!.name!;
    const owner = [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid!, controller: true, blockOwnerDeletion: false }];
    if (!pool) {
      const instanceId = instanceIdOf(node.spec?.providerID);
      if (!instanceId) throw new Error(`node ${name} has no cloud instance in spec.providerID ("${node.spec?.providerID ?? ''}")`);
      const inst = await cloud.describeInstance(instanceId);
      const limits = await cloud.instanceLimits(inst);
      const zoneSubnets = (await cloud.describeSubnets(mode.spec.subnets)).filter((s) => s.zone === inst.zone).map((s) => s.id);
      const t = targetsOf(mode);
      pool = await d.cr.create<ENIPool>('enipools', {
        apiVersion: API_VERSION,
        kind: 'ENIPool',
        metadata: { name, ownerReferences: owner, finalizers: [POOL_FINALIZER], labels: { 'network.eni-operator.io/networkmode': mode.metadata.name! } },
        spec: {
          nodeName: name,
          networkMode: mode.metadata.name!,
          provider: mode.spec.provider.type,
          region: mode.spec.provider.region,
          instanceID: inst.id,
          instanceType: inst.type,
          zone: inst.zone,
          limits,
          targets: { ...mode.spec.pool, warmENIs: t.warmENIs },
          subnets: zoneSubnets,
          securityGroups: mode.spec.securityGroups,
        },
      });
      d.log.info('onboarded node', { node: name, instance: inst.id, type: inst.type, zone: inst.zone, limits });
    }
    if (!nn) {
      nn = await d.cr.create<NodeNetwork>('nodenetworks', {
        apiVersion: API_VERSION,
        kind: 'NodeNetwork',
        metadata: { name, ownerReferences: owner },
        spec: { datapath: mode.spec.datapath, ebpf: { ...mode.spec.ebpf }, attachments: [] },
      });
    }
    return { pool, nn };
  }

  private async refreshSubnets(mem: NodeMemory, mode: NetworkMode, cloud: CloudProvider, zone: string | undefined, force: boolean): Promise<void> {
    const now = this.d.now();
    if (mem.subnets && !force && now - mem.subnets.at < SUBNET_TTL_MS) return;
    if (mem.subnets && force && now - mem.subnets.at < 2000) return;
    const found = await cloud.describeSubnets(mode.spec.subnets);
    const old = new Map(mem.subnets?.list.map((s) => [s.id, s]) ?? []);
    const list = found
      .filter((s) => !zone || s.zone === zone)
      .map((s): SubnetInfo => {
        const exhaustedUntil = old.get(s.id)?.exhaustedUntil;
        return { id: s.id, availableIPs: s.availableIPs, ...(exhaustedUntil !== undefined && exhaustedUntil > now ? { exhaustedUntil } : {}) };
      });
    const facts = new Map(found.map((s) => [s.id, { cidr: s.cidr, gateway: subnetGateway(mode.spec.provider.type, s.cidr), zone: s.zone }]));
    mem.subnets = { at: now, list, facts };
  }

  /** Pods gone from the node give their address back once the agent has torn them down (or the grace is over). */
  private releaseGone(nodeName: string, enis: NodeENI[], nn: NodeNetwork, targets: Targets, now: number): void {
    const mem = this.mem(nodeName);
    const liveUIDs = new Set(this.d.pods.onNode(nodeName).filter(live).map((p) => p.metadata!.uid!));
    const reported = new Map((nn.status?.attachments ?? []).map((a) => [a.podUID, a.state]));
    const holders = enis.flatMap((e) => (e.role === 'exclusive' ? (e.podUID ? [e.podUID] : []) : e.ips.filter((ip) => ip.state === 'assigned' && ip.podUID).map((ip) => ip.podUID!)));
    for (const uid of holders) {
      if (liveUIDs.has(uid)) {
        mem.goneSince.delete(uid);
        continue;
      }
      const since = mem.goneSince.get(uid) ?? now;
      mem.goneSince.set(uid, since);
      if (reported.get(uid) === 'Released' || now - since >= this.d.releaseGraceMs) {
        releasePod(enis, uid, now, targets.cooldownMs);
        mem.goneSince.delete(uid);
        mem.firstSeen.delete(uid);
        this.d.observe?.released((now - since) / 1000);
      }
    }
  }

  private async writePlan(nn: NodeNetwork, enis: NodeENI[], mode: NetworkMode): Promise<NodeNetwork> {
    const spec = { datapath: mode.spec.datapath, ebpf: { ...mode.spec.ebpf }, attachments: attachmentsFor(enis, mode.spec.datapath) };
    if (sameJSON(spec, { datapath: nn.spec.datapath, ebpf: nn.spec.ebpf, attachments: nn.spec.attachments ?? [] })) return nn;
    return this.d.cr.patchSpec<NodeNetwork>('nodenetworks', nn.metadata.name!, spec);
  }

  /** Writes the ledger (ENIPool status) when it changed; the new copy is remembered. */
  private async writeLedger(mem: NodeMemory, pool: ENIPool, enis: NodeENI[], conditions: Condition[], usePrimaryIPs: boolean): Promise<ENIPool> {
    const status: ENIPoolStatus = {
      observedGeneration: pool.metadata.generation ?? 0,
      conditions,
      enis: fromLedger(enis),
      counts: statusCounts(enis, usePrimaryIPs, this.d.now()),
      lastCloudSync: new Date(mem.lastSync > 0 ? mem.lastSync : this.d.now()).toISOString(),
    };
    // Unchanged ledger, conditions and counts: no write (lastCloudSync alone is not worth one).
    if (sameJSON(status.enis, pool.status?.enis ?? []) && sameJSON(status.conditions, pool.status?.conditions ?? []) && sameJSON(status.counts, pool.status?.counts)) return pool;
    try {
      return (mem.pool = await this.d.cr.replaceStatus<ENIPool>('enipools', { ...pool, status }));
    } catch (err) {
      mem.lastSync = -Infinity; // what we hold may be stale: resync before acting again
      throw err;
    }
  }

  /**
   * Records a cloud call's result in the ledger, alone among the node's
   * writers, on the newest copy; a conflict (someone else wrote meanwhile) is
   * retried once on a fresh read, since the cloud has already acted.
   */
  private async commit(f: FillContext, mutate: (enis: NodeENI[]) => void): Promise<void> {
    const mem = this.mem(f.nodeName);
    await this.locked(f.nodeName, async () => {
      for (let attempt = 0; ; attempt++) {
        const base = attempt === 0 ? (newerCopy(this.d.cached?.pool(f.nodeName), mem.pool) ?? (await this.d.cr.get<ENIPool>('enipools', f.nodeName))) : await this.d.cr.get<ENIPool>('enipools', f.nodeName);
        if (!base) throw new Error(`ENIPool ${f.nodeName} is gone`);
        const enis = toLedger(base.status);
        mutate(enis);
        try {
          await this.writeLedger(mem, base, enis, base.status?.conditions ?? [], f.usePrimaryIPs);
          return;
        } catch (err) {
          if (attempt > 0 || statusOf(err) !== 409) throw err;
        }
      }
    });
  }

  /** Starts the node's pool filler: plans on the newest ledger and carries them out until the pool needs nothing. */
  private startFill(mem: NodeMemory, f: FillContext): void {
    const filling = (async () => {
      try {
        for (let round = 0; round < MAX_FILL_ROUNDS; round++) {
          const actions = await this.locked(f.nodeName, async () => {
            const enis = toLedger(mem.pool?.status);
            const view = () => ({ limits: f.limits, targets: f.targets, enis, subnets: mem.subnets?.list ?? [], pendingShared: mem.pending.shared, pendingExclusive: mem.pending.exclusive, usePrimaryIPs: f.usePrimaryIPs, now: this.d.now() });
            settleCooldowns(enis, this.d.now());
            let plan = planPool(view());
            if (plan.actions.some((a) => a.kind === 'createENI')) {
              await this.refreshSubnets(mem, f.mode, f.cloud, f.zone, true);
              plan = planPool(view());
            }
            return plan.actions;
          });
          if (actions.length === 0) break;
          for (const action of actions) {
            await this.execute(action, f);
            this.d.wake?.(f.nodeName); // new addresses: waiting pods can have them now
          }
        }
        mem.fillBackoffMs = FILL_BACKOFF_MS.initial;
      } catch (err) {
        // The ledger holds every result that was recorded; anything the cloud did after that
        // is found by the next cloud sync (by tag), which runs before the next fill.
        mem.lastSync = -Infinity;
        mem.fillNotBefore = this.d.now() + mem.fillBackoffMs;
        mem.fillBackoffMs = Math.min(mem.fillBackoffMs * 2, FILL_BACKOFF_MS.max);
        f.log.warn('pool fill failed; retrying after a backoff', { node: f.nodeName, retryInMs: mem.fillNotBefore - this.d.now(), err: String(err) });
      } finally {
        mem.filling = undefined;
        this.d.wake?.(f.nodeName);
      }
    })();
    mem.filling = filling;
  }

  /**
   * One pool action. Growing the pool (create, attach, assign) calls the cloud
   * outside the lock and records each result under it, so allocation goes on
   * meanwhile. Shrinking it (unassign, delete) holds the lock throughout: an
   * address about to go must not be handed to a pod in between.
   */
  private async execute(action: PoolAction, f: FillContext): Promise<void> {
    const { cloud, mode, nodeName, instanceId } = f;
    const mem = this.mem(nodeName);
    const now = () => this.d.now();
    try {
      switch (action.kind) {
        case 'createENI': {
          const created = await cloud.createENI({
            subnetId: action.subnetId,
            securityGroupIds: mode.spec.securityGroups,
            secondaryIPCount: action.secondaryIPs,
            tags: eniTags(this.d.clusterID, nodeName, action.role),
            name: `eni-operator-${nodeName}`.slice(0, 60),
            description: `eni-operator ${action.role} ENI of ${nodeName}`,
            idempotencyKey: `${nodeName}-${randomUUID()}`,
          });
          const facts = mem.subnets?.facts.get(created.subnetId);
          await this.commit(f, (enis) => {
            applyCreated(enis, { id: created.id, role: action.role, subnetId: created.subnetId, primaryIP: created.primaryIP, secondaryIPs: created.secondaryIPs, ready: false }, now());
            Object.assign(enis.find((e) => e.id === created.id)!, { mac: created.mac, cloudState: created.state, ...(facts ? { subnetCIDR: facts.cidr, gateway: facts.gateway } : {}) });
          });
          const attached = await cloud.attachENI(created.id, instanceId);
          await this.commit(f, (enis) => {
            const eni = enis.find((e) => e.id === created.id);
            if (eni) Object.assign(eni, { ready: true, cloudState: attached.state, ...(attached.deviceIndex !== undefined ? { deviceIndex: attached.deviceIndex } : {}) });
          });
          return;
        }
        case 'assignIPs': {
          const ips = await cloud.assignIPs(action.eniId, action.count, `${nodeName}-${randomUUID()}`);
          await this.commit(f, (enis) => applyAssigned(enis, action.eniId, ips, now()));
          return;
        }
        case 'unassignIPs':
        case 'deleteENI':
          await this.locked(nodeName, async () => {
            const pool = newerCopy(this.d.cached?.pool(nodeName), mem.pool) ?? (await this.d.cr.get<ENIPool>('enipools', nodeName));
            if (!pool) return;
            const enis = toLedger(pool.status);
            const eni = enis.find((e) => e.id === action.eniId);
            if (!eni) return;
            if (action.kind === 'unassignIPs') {
              // Only what is still free: a pod may have taken one since the plan.
              const free = new Set(eni.ips.filter((ip) => ip.state === 'free').map((ip) => ip.address));
              const addresses = action.addresses.filter((a) => free.has(a));
              if (addresses.length === 0) return;
              await cloud.unassignIPs(action.eniId, addresses);
              applyUnassigned(enis, action.eniId, addresses);
            } else {
              const idle = eni.role === 'exclusive' ? !eni.podUID : eni.ips.every((ip) => ip.state === 'free');
              if (!idle) return;
              await cloud.detachENI(action.eniId, instanceId);
              await cloud.deleteENI(action.eniId);
              applyDeleted(enis, action.eniId);
            }
            await this.writeLedger(mem, pool, enis, pool.status?.conditions ?? [], f.usePrimaryIPs);
          });
          return;
      }
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'SubnetExhausted' && mem.subnets) {
        const subnetId = action.kind === 'createENI' ? action.subnetId : toLedger(mem.pool?.status).find((e) => 'eniId' in action && e.id === action.eniId)?.subnetId;
        if (subnetId) mem.subnets.list = markExhausted(mem.subnets.list, subnetId, now());
        f.log.warn('subnet exhausted', { node: nodeName, subnet: subnetId });
        return;
      }
      throw err;
    }
  }

  private conditions(previous: Condition[], plan: Plan, enis: NodeENI[], usePrimaryIPs: boolean, generation: number): Condition[] {
    const c = statusCounts(enis, usePrimaryIPs, this.d.now());
    const want: Omit<Condition, 'lastTransitionTime'>[] = [
      c.freeIPs > 0
        ? { type: 'IPsAvailable', status: 'True', reason: 'FreeIPs', message: `${c.freeIPs} free IPs` }
        : { type: 'IPsAvailable', status: 'False', reason: plan.blocked[0] ?? 'Filling', message: plan.blocked.length ? `cannot add IPs: ${plan.blocked.join(', ')}` : 'adding IPs' },
      plan.blocked.includes('SubnetExhausted')
        ? { type: 'SubnetExhausted', status: 'True', reason: 'SubnetExhausted', message: 'every subnet of the node\'s zone is out of IPs' }
        : { type: 'SubnetExhausted', status: 'False', reason: 'SubnetsHaveIPs', message: 'a subnet of the zone has free IPs' },
    ];
    const stamp = new Date(this.d.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    return want.map((w) => {
      const old = previous.find((p) => p.type === w.type);
      const same = old && old.status === w.status;
      return { ...w, observedGeneration: generation, lastTransitionTime: same ? old.lastTransitionTime : stamp };
    });
  }

  /** When to look again: soon while pods wait or actions ran; else at the next cooldown end, reclaim or resync. */
  private nextWake(enis: NodeENI[], targets: Targets, waiting: boolean, plan: Plan, mem: NodeMemory): number {
    const now = this.d.now();
    if (plan.blocked.length > 0) return 5000;
    // A running filler wakes the node itself when it has added addresses; this is a safety net.
    if (mem.filling && (waiting || plan.actions.length > 0)) return 1000;
    if (plan.actions.length > 0) return Math.max(200, mem.fillNotBefore - now);
    if (waiting) return 200;
    const times: number[] = [mem.lastSync + this.d.resyncMs];
    for (const eni of enis) {
      for (const ip of eni.ips) if (ip.cooldownUntil !== undefined) times.push(ip.cooldownUntil);
      for (const ip of eni.ips) if (ip.state === 'free') times.push(ip.since + targets.reclaimAfterMs + 1);
      if (eni.cooldownUntil !== undefined) times.push(eni.cooldownUntil);
    }
    for (const since of mem.goneSince.values()) times.push(since + this.d.releaseGraceMs);
    const next = Math.min(...times.filter((t) => t > now));
    return Number.isFinite(next) ? Math.max(50, next - now) : this.d.resyncMs;
  }
}

/** What a NodeNetwork plan gives its pods, as the ledger's adoption rule reads it. */
function plannedHoldings(nn: NodeNetwork): PlannedHolding[] {
  return (nn.spec.attachments ?? []).map((a) => ({
    pod: { uid: a.podUID, name: `${a.namespace}/${a.name}` },
    eniId: a.eniID,
    address: a.ip.split('/')[0]!,
    exclusive: a.mode === 'exclusive',
  }));
}
