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
import { allocateExclusive, allocateShared, applyAssigned, applyCreated, applyDeleted, applyUnassigned, findPod, releasePod, settleCooldowns } from '../pool/ledger.js';
import { planPool, type Plan, type PoolAction } from '../pool/plan.js';
import { markExhausted } from '../pool/subnets.js';
import type { SubnetInfo, Targets } from '../pool/types.js';
import { ENI_MODE_ANNOTATION, podMode } from './annotations.js';
import { attachmentsFor } from './attachments.js';
import { eniTags, syncWithCloud } from './cloud-sync.js';
import { fromLedger, statusCounts, toLedger, type NodeENI } from './codec.js';
import { POD_NETWORK_CONDITION, POOL_FINALIZER, type CRClient, type EventRecorder, type ObjectRef, type PodConditionWriter } from './kube.js';
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
}

const SUBNET_TTL_MS = 60_000;
const MAX_ROUNDS = 4;

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
    if (!m) this.memory.set(node, (m = { lastSync: -Infinity, goneSince: new Map(), firstSeen: new Map() }));
    return m;
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
      return await this.reconcileOnce(nodeName, log);
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
    let nn: NodeNetwork = (mem.nn = onboarded.nn);
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
    let conditions = pool.status?.conditions ?? [];

    // 1. The cloud decides what exists.
    if (now - mem.lastSync >= d.resyncMs) {
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
      const status: ENIPoolStatus = {
        observedGeneration: pool.metadata.generation ?? 0,
        conditions,
        enis: fromLedger(enis),
        counts: statusCounts(enis, usePrimaryIPs, d.now()),
        lastCloudSync: new Date(mem.lastSync > 0 ? mem.lastSync : d.now()).toISOString(),
      };
      // Unchanged ledger, conditions and counts: no write (lastCloudSync alone is not worth one).
      if (sameJSON(status.enis, pool.status?.enis ?? []) && sameJSON(status.conditions, pool.status?.conditions ?? []) && sameJSON(status.counts, pool.status?.counts)) return;
      try {
        pool = mem.pool = await d.cr.replaceStatus<ENIPool>('enipools', { ...pool, status });
      } catch (err) {
        mem.lastSync = -Infinity; // what we hold may be stale: resync before acting again
        throw err;
      }
    };

    let plan: Plan = { actions: [], unmet: 0, blocked: [] };
    let pendingPods: k8s.V1Pod[] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const t = d.now();
      settleCooldowns(enis, t);
      this.releaseGone(nodeName, enis, nn, targets, t);
      const newly: k8s.V1Pod[] = [];
      pendingPods = [];
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
      await save();
      nn = mem.nn = await this.writePlan(nn, enis, mode);
      // The plan is written: that is the moment the latency measures, before any Event.
      const planned = d.now();
      for (const pod of newly) {
        const seen = mem.firstSeen.get(pod.metadata!.uid!);
        if (seen !== undefined) d.observe?.allocated((planned - seen) / 1000);
      }
      // Events and conditions do not hold up the next round (the next pods' plans): they
      // go out in the background; the recorder and the condition writer report their own errors.
      void Promise.all(
        newly.map(async (pod) => {
          const held = findPod(enis, pod.metadata!.uid!)!;
          const message = `${held.kind === 'eni' ? 'exclusive ENI' : 'address'} ${held.address} on ${held.eniId}`;
          await d.events.record(podRef(pod), 'Normal', 'Allocated', message);
          // Clear a condition an earlier refusal set (the annotation was fixed); no write otherwise.
          if (pod.status?.conditions?.some((c) => c.type === POD_NETWORK_CONDITION && c.status !== 'True')) await d.podConditions?.set(pod, 'True', 'Allocated', message);
        }),
      );

      plan = planPool({ limits, targets, enis, subnets: mem.subnets?.list ?? [], pendingShared, pendingExclusive, usePrimaryIPs, now: d.now() });
      if (plan.actions.some((a) => a.kind === 'createENI')) {
        await this.refreshSubnets(mem, mode, cloud, pool.spec.zone, true);
        plan = planPool({ limits, targets, enis, subnets: mem.subnets?.list ?? [], pendingShared, pendingExclusive, usePrimaryIPs, now: d.now() });
      }
      conditions = this.conditions(conditions, plan, enis, usePrimaryIPs, pool.metadata.generation ?? 0);
      if (plan.actions.length === 0) break;
      for (const action of plan.actions) await this.execute(action, { cloud, mode, nodeName, instanceId, enis, mem, save, log });
    }
    await save();
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

  private async execute(action: PoolAction, ctx: { cloud: CloudProvider; mode: NetworkMode; nodeName: string; instanceId: string; enis: NodeENI[]; mem: NodeMemory; save: () => Promise<void>; log: NodeReconcilerDeps['log'] }): Promise<void> {
    const { cloud, mode, nodeName, instanceId, enis, mem, save, log } = ctx;
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
          applyCreated(enis, { id: created.id, role: action.role, subnetId: created.subnetId, primaryIP: created.primaryIP, secondaryIPs: created.secondaryIPs, ready: false }, now());
          const facts = mem.subnets?.facts.get(created.subnetId);
          Object.assign(enis.find((e) => e.id === created.id)!, { mac: created.mac, cloudState: created.state, ...(facts ? { subnetCIDR: facts.cidr, gateway: facts.gateway } : {}) });
          await save();
          const attached = await cloud.attachENI(created.id, instanceId);
          Object.assign(enis.find((e) => e.id === created.id)!, { ready: true, cloudState: attached.state, ...(attached.deviceIndex !== undefined ? { deviceIndex: attached.deviceIndex } : {}) });
          await save();
          return;
        }
        case 'assignIPs': {
          const ips = await cloud.assignIPs(action.eniId, action.count, `${nodeName}-${randomUUID()}`);
          applyAssigned(enis, action.eniId, ips, now());
          await save();
          return;
        }
        case 'unassignIPs': {
          await cloud.unassignIPs(action.eniId, action.addresses);
          applyUnassigned(enis, action.eniId, action.addresses);
          await save();
          return;
        }
        case 'deleteENI': {
          await cloud.detachENI(action.eniId, instanceId);
          await cloud.deleteENI(action.eniId);
          applyDeleted(enis, action.eniId);
          await save();
          return;
        }
      }
    } catch (err) {
      if (err instanceof CloudError && err.kind === 'SubnetExhausted' && mem.subnets) {
        const subnetId = action.kind === 'createENI' ? action.subnetId : enis.find((e) => 'eniId' in action && e.id === action.eniId)?.subnetId;
        if (subnetId) mem.subnets.list = markExhausted(mem.subnets.list, subnetId, now());
        log.warn('subnet exhausted', { node: nodeName, subnet: subnetId });
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
    if (waiting || plan.actions.length > 0) return 200;
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
