// Property-based tests of the pool core: random nodes, random targets, random
// churn, against a small in-memory cloud that enforces the limits. The
// invariants must hold after every step, and a quiet node must converge.
import fc from 'fast-check';
import { count } from './counts.js';
import { allocateExclusive, allocateShared, applyAssigned, applyCreated, applyDeleted, applyUnassigned, findPod, releasePod, settleCooldowns } from './ledger.js';
import { planPool, type Plan } from './plan.js';
import { markExhausted } from './subnets.js';
import type { LedgerENI, LedgerIP, Limits, PoolView, SubnetInfo, Targets } from './types.js';

interface Node {
  limits: Limits;
  targets: Targets;
  usePrimaryIPs: boolean;
  enis: LedgerENI[];
  subnets: SubnetInfo[];
  now: number;
  nextAddress: number;
  nextENI: number;
  /** Live pods and what they asked for. */
  pods: Map<string, 'shared' | 'exclusive'>;
}

const limitsArb = fc.record({ maxENIs: fc.integer({ min: 2, max: 6 }), ipsPerENI: fc.integer({ min: 2, max: 12 }) });

const targetsArb = fc
  .record({
    minIPs: fc.integer({ min: 0, max: 20 }),
    warmIPs: fc.integer({ min: 0, max: 10 }),
    idleExtra: fc.integer({ min: 0, max: 10 }),
    maxExtra: fc.integer({ min: 0, max: 40 }),
    cooldownMs: fc.integer({ min: 0, max: 5000 }),
    reclaimAfterMs: fc.integer({ min: 0, max: 10_000 }),
    batchSize: fc.integer({ min: 1, max: 10 }),
    warmENIs: fc.integer({ min: 0, max: 2 }),
  })
  .map((t): Targets => ({
    minIPs: t.minIPs,
    warmIPs: t.warmIPs,
    maxIdleIPs: t.warmIPs + t.idleExtra, // admission guarantees maxIdleIPs >= warmIPs
    maxIPs: Math.max(1, t.minIPs, t.warmIPs) + t.maxExtra, // and minIPs, warmIPs <= maxIPs
    cooldownMs: t.cooldownMs,
    reclaimAfterMs: t.reclaimAfterMs,
    batchSize: t.batchSize,
    warmENIs: t.warmENIs,
  }));

/** A node in any state the ledger can be in: ENIs with IPs in every state, pods on them. */
const nodeArb = fc
  .record({
    limits: limitsArb,
    targets: targetsArb,
    usePrimaryIPs: fc.boolean(),
    eniShapes: fc.array(fc.record({ exclusive: fc.boolean(), states: fc.array(fc.constantFrom<LedgerIP['state']>('free', 'assigned', 'cooldown'), { minLength: 1, maxLength: 12 }) }), { maxLength: 5 }),
    subnetSizes: fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ limits, targets, usePrimaryIPs, eniShapes, subnetSizes }): Node => {
    const node: Node = {
      limits,
      targets,
      usePrimaryIPs,
      enis: [],
      subnets: subnetSizes.map((n, i) => ({ id: `sn-${i}`, availableIPs: n })),
      now: 1_000_000,
      nextAddress: 1,
      nextENI: 1,
      pods: new Map(),
    };
    for (const shape of eniShapes.slice(0, limits.maxENIs - 1)) {
      const id = `eni-${node.nextENI++}`;
      if (shape.exclusive) {
        const owner = shape.states[0] === 'assigned' ? `pod-${id}` : undefined;
        node.enis.push({ id, role: 'exclusive', subnetId: 'sn-0', ready: true, ips: [{ address: addr(node), state: 'free', primary: true, since: 0 }], ...(owner ? { podUID: owner } : { idleSince: 0 }) });
        if (owner) node.pods.set(owner, 'exclusive');
        continue;
      }
      const ips = shape.states.slice(0, limits.ipsPerENI).map((state, i): LedgerIP => {
        const ip: LedgerIP = { address: addr(node), state, primary: i === 0, since: 0 };
        // Without usable primaries, a primary IP is never handed to a pod.
        if (ip.primary && !usePrimaryIPs) ip.state = 'free';
        if (ip.state === 'assigned') {
          ip.podUID = `pod-${ip.address}`;
          node.pods.set(ip.podUID, 'shared');
        }
        if (ip.state === 'cooldown') ip.cooldownUntil = 500_000;
        return ip;
      });
      node.enis.push({ id, role: 'shared', subnetId: 'sn-0', ready: true, ips });
    }
    return node;
  });

type Event = { kind: 'bindShared' } | { kind: 'bindExclusive' } | { kind: 'delete'; pick: number } | { kind: 'tick'; ms: number };
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Event>({ kind: 'bindShared' }) },
  { weight: 1, arbitrary: fc.constant<Event>({ kind: 'bindExclusive' }) },
  { weight: 3, arbitrary: fc.nat().map((pick): Event => ({ kind: 'delete', pick })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((ms): Event => ({ kind: 'tick', ms })) },
);

function addr(node: Node): string {
  const n = node.nextAddress++;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

let podSeq = 0;

function view(node: Node): PoolView {
  const waiting = [...node.pods].filter(([uid]) => !findPod(node.enis, uid));
  return {
    limits: node.limits,
    targets: node.targets,
    enis: node.enis,
    subnets: node.subnets,
    pendingShared: waiting.filter(([, k]) => k === 'shared').length,
    pendingExclusive: waiting.filter(([, k]) => k === 'exclusive').length,
    usePrimaryIPs: node.usePrimaryIPs,
    now: node.now,
  };
}

/** One reconcile as the controller does it, against an in-memory cloud that refuses what a cloud would. */
function reconcile(node: Node): Plan {
  settleCooldowns(node.enis, node.now);
  for (const eni of node.enis) eni.ready = true; // what was attaching last time is attached now
  const allocate = (): void => {
    for (const [uid, kind] of node.pods) {
      const pod = { uid, name: `ns/${uid}` };
      if (kind === 'shared') allocateShared(node.enis, pod, node.now, node.usePrimaryIPs);
      else allocateExclusive(node.enis, pod, node.now);
    }
  };
  allocate();
  const plan = planPool(view(node));
  for (const action of plan.actions) {
    const subnetOf = (id: string) => node.subnets.find((s) => s.id === id)!;
    switch (action.kind) {
      case 'createENI': {
        const subnet = subnetOf(action.subnetId);
        const wanted = 1 + action.secondaryIPs;
        if (node.enis.length >= node.limits.maxENIs - 1) throw new Error('cloud: ENI limit exceeded');
        if (action.secondaryIPs + 1 > node.limits.ipsPerENI) throw new Error('cloud: IP limit exceeded');
        if (subnet.availableIPs < wanted) {
          node.subnets = markExhausted(node.subnets, subnet.id, node.now);
          break;
        }
        subnet.availableIPs -= wanted;
        applyCreated(node.enis, { id: `eni-${node.nextENI++}`, role: action.role, subnetId: subnet.id, primaryIP: addr(node), secondaryIPs: Array.from({ length: action.secondaryIPs }, () => addr(node)), ready: false }, node.now);
        break;
      }
      case 'assignIPs': {
        const eni = node.enis.find((e) => e.id === action.eniId)!;
        const subnet = subnetOf(eni.subnetId);
        if (action.count < 1 || action.count > 10) throw new Error(`cloud: bad batch ${action.count}`);
        if (eni.ips.length + action.count > node.limits.ipsPerENI) throw new Error('cloud: IP limit exceeded');
        if (subnet.availableIPs < action.count) {
          node.subnets = markExhausted(node.subnets, subnet.id, node.now);
          break;
        }
        subnet.availableIPs -= action.count;
        applyAssigned(node.enis, eni.id, Array.from({ length: action.count }, () => addr(node)), node.now);
        break;
      }
      case 'unassignIPs': {
        const eni = node.enis.find((e) => e.id === action.eniId)!;
        for (const a of action.addresses) {
          const ip = eni.ips.find((x) => x.address === a);
          if (!ip || ip.primary || ip.state !== 'free') throw new Error(`plan unassigns ${a}, which is ${ip ? (ip.primary ? 'a primary' : ip.state) : 'not on the ENI'}`);
        }
        if (action.addresses.length > 10) throw new Error('cloud: more than 10 IPs in one unassign');
        applyUnassigned(node.enis, eni.id, action.addresses);
        subnetOf(eni.subnetId).availableIPs += action.addresses.length;
        break;
      }
      case 'deleteENI': {
        const eni = node.enis.find((e) => e.id === action.eniId)!;
        if (eni.podUID || eni.ips.some((ip) => ip.state !== 'free')) throw new Error(`plan deletes ${eni.id}, which is in use`);
        applyDeleted(node.enis, eni.id);
        subnetOf(eni.subnetId).availableIPs += eni.ips.length;
        break;
      }
    }
  }
  allocate();
  return plan;
}

function apply(node: Node, event: Event): void {
  switch (event.kind) {
    case 'bindShared':
    case 'bindExclusive':
      node.pods.set(`new-${podSeq++}`, event.kind === 'bindShared' ? 'shared' : 'exclusive');
      break;
    case 'delete': {
      const uids = [...node.pods.keys()];
      if (uids.length === 0) return;
      const uid = uids[event.pick % uids.length]!;
      node.pods.delete(uid);
      releasePod(node.enis, uid, node.now, node.targets.cooldownMs);
      break;
    }
    case 'tick':
      node.now += event.ms;
  }
}

function checkInvariants(node: Node, initialTotal: number): void {
  expect(node.enis.length).toBeLessThanOrEqual(node.limits.maxENIs - 1);
  const addresses = new Set<string>();
  const holders = new Map<string, string>();
  for (const eni of node.enis) {
    expect(eni.ips.length).toBeLessThanOrEqual(node.limits.ipsPerENI);
    expect(eni.ips.filter((ip) => ip.primary)).toHaveLength(1);
    if (eni.podUID) {
      expect(holders.has(eni.podUID)).toBe(false);
      holders.set(eni.podUID, eni.id);
      expect(node.pods.get(eni.podUID)).toBe('exclusive');
    }
    for (const ip of eni.ips) {
      expect(addresses.has(ip.address)).toBe(false); // an IP is never in two places
      addresses.add(ip.address);
      if (ip.state === 'assigned') {
        expect(ip.podUID).toBeDefined();
        expect(holders.has(ip.podUID!)).toBe(false); // a pod never holds two addresses
        holders.set(ip.podUID!, ip.address);
        expect(node.pods.get(ip.podUID!)).toBe('shared'); // only live pods hold addresses
        if (ip.primary) expect(node.usePrimaryIPs).toBe(true);
      } else {
        expect(ip.podUID).toBeUndefined();
      }
    }
  }
  expect(count({ enis: node.enis, usePrimaryIPs: node.usePrimaryIPs, now: node.now }).total).toBeLessThanOrEqual(Math.max(node.targets.maxIPs, initialTotal));
}

const total = (node: Node) => count({ enis: node.enis, usePrimaryIPs: node.usePrimaryIPs, now: node.now }).total;

describe('pool core properties', () => {
  test('under random churn, limits hold and no address or pod is ever doubled', () => {
    fc.assert(
      fc.property(nodeArb, fc.array(eventArb, { maxLength: 60 }), (node, events) => {
        const initialTotal = total(node);
        for (const event of events) {
          apply(node, event);
          reconcile(node);
          checkInvariants(node, initialTotal);
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
  });

  test('a quiet node converges to its targets from any start, and then stays put', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        // Some pods go away; the rest stay, so the node is quiet but not empty.
        for (const uid of [...node.pods.keys()]) {
          if (uid.length % 3 !== 0) continue;
          node.pods.delete(uid);
          releasePod(node.enis, uid, node.now, node.targets.cooldownMs);
        }
        let plan: Plan = { actions: [{ kind: 'deleteENI', eniId: 'x' }], unmet: 0, blocked: [] };
        let rounds = 0;
        while (plan.actions.length > 0 && rounds < 60) {
          node.now += node.targets.reclaimAfterMs + node.targets.cooldownMs + 1;
          plan = reconcile(node);
          rounds++;
        }
        expect(plan.actions).toEqual([]); // a fixed point...
        node.now += node.targets.reclaimAfterMs + node.targets.cooldownMs + 1;
        expect(reconcile(node).actions).toEqual([]); // ...that holds
        const c = count({ enis: node.enis, usePrimaryIPs: node.usePrimaryIPs, now: node.now });
        const t = node.targets;
        const waiting = view(node).pendingShared;
        // Warm and minimum targets are met, unless the plan says what blocks them.
        if (plan.blocked.length === 0) {
          expect(c.free).toBeGreaterThanOrEqual(Math.min(t.warmIPs + waiting, t.maxIPs - c.assigned - c.cooling));
          expect(c.total).toBeGreaterThanOrEqual(Math.min(t.minIPs, t.maxIPs));
          expect(waiting).toBe(0);
        }
        // Idle IPs above maxIdleIPs are gone, except primaries that can only leave with their ENI.
        const stuckPrimaries = node.enis.filter((e) => e.role === 'shared' && e.ips.some((ip) => ip.primary && ip.state === 'free')).length;
        if (c.total > t.minIPs) expect(c.free).toBeLessThanOrEqual(t.maxIdleIPs + waiting + (node.usePrimaryIPs ? stuckPrimaries : 0));
        // Spare exclusive ENIs are at their target, unless the ENI limit or the subnets stop it.
        if (plan.blocked.length === 0 && node.enis.length < node.limits.maxENIs - 1) expect(c.spareExclusive).toBeGreaterThanOrEqual(t.warmENIs);
        expect(c.spareExclusive).toBeLessThanOrEqual(Math.max(t.warmENIs, view(node).pendingExclusive) + (node.enis.filter((e) => e.role === 'exclusive' && !e.ready).length));
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 400) },
    );
  });
});
