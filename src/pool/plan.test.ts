import { allocateExclusive, allocateShared, applyCreated, releasePod, settleCooldowns } from './ledger.js';
import { planPool } from './plan.js';
import { markExhausted, pickSubnet } from './subnets.js';
import type { LedgerENI, LedgerIP, PoolView, Targets } from './types.js';

const MIN = 60_000;
const targets = (t: Partial<Targets> = {}): Targets => ({ minIPs: 0, warmIPs: 4, maxIdleIPs: 8, maxIPs: 64, cooldownMs: 30_000, reclaimAfterMs: 10 * MIN, batchSize: 10, warmENIs: 0, ...t });

/** n addresses from 10.0.0.(base+1); the first is an ENI primary when base is a multiple of 10. */
function ips(n: number, state: LedgerIP['state'] = 'free', since = 0, base = 0): LedgerIP[] {
  return Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${base + i + 1}`, state, primary: i === 0 && base % 10 === 0, since, ...(state === 'assigned' ? { podUID: `p${base + i}` } : {}) }));
}

function eni(id: string, list: LedgerIP[], extra: Partial<LedgerENI> = {}): LedgerENI {
  return { id, role: 'shared', subnetId: 'sn-a', ready: true, ips: list, ...extra };
}

function view(v: Partial<PoolView> = {}): PoolView {
  return {
    limits: { maxENIs: 4, ipsPerENI: 10 },
    targets: targets(),
    enis: [],
    subnets: [
      { id: 'sn-a', availableIPs: 100 },
      { id: 'sn-b', availableIPs: 200 },
    ],
    pendingShared: 0,
    pendingExclusive: 0,
    usePrimaryIPs: true,
    now: 100 * MIN,
    ...v,
  };
}

describe('planPool: deficit', () => {
  test.each([
    // name, view, expected actions
    // Once IPs are wanted, a call asks for a full batch up to maxIdleIPs (8 here): one call, not four.
    ['an empty node attaches one ENI in the roomiest subnet, a batch of IPs at once', view(), [{ kind: 'createENI', role: 'shared', subnetId: 'sn-b', secondaryIPs: 7 }]],
    ['minIPs above warm wins', view({ targets: targets({ minIPs: 7, maxIdleIPs: 7 }) }), [{ kind: 'createENI', role: 'shared', subnetId: 'sn-b', secondaryIPs: 6 }]],
    ['pending pods above warm win', view({ pendingShared: 9 }), [{ kind: 'createENI', role: 'shared', subnetId: 'sn-b', secondaryIPs: 9 }]],
    ['existing ENIs are filled before a new one is made, fullest first', view({ enis: [eni('e1', ips(3, 'assigned')), eni('e2', ips(8, 'assigned', 0, 10))], pendingShared: 5 }), [
      { kind: 'assignIPs', eniId: 'e2', count: 2 },
      { kind: 'assignIPs', eniId: 'e1', count: 7 },
    ]],
    ['assign calls are capped by batchSize; the rest comes next time, not from a new ENI', view({ enis: [eni('e1', ips(1, 'assigned'))], targets: targets({ warmIPs: 9, maxIdleIPs: 9, batchSize: 5 }) }), [{ kind: 'assignIPs', eniId: 'e1', count: 5 }]],
    ['maxIPs caps the deficit', view({ enis: [eni('e1', ips(6, 'assigned'))], targets: targets({ maxIPs: 8 }) }), [{ kind: 'assignIPs', eniId: 'e1', count: 2 }]],
    ['without usable primary IPs a new ENI brings one more secondary', view({ usePrimaryIPs: false }), [{ kind: 'createENI', role: 'shared', subnetId: 'sn-b', secondaryIPs: 8 }]],
    ['an ENI still attaching counts its free IPs: no second ENI', view({ enis: [eni('e1', ips(4), { ready: false })] }), []],
    ['the batch never fills past maxIdleIPs', view({ enis: [eni('e1', ips(7))], targets: targets({ warmIPs: 8, maxIdleIPs: 9 }) }), [{ kind: 'assignIPs', eniId: 'e1', count: 2 }]],
  ] as [string, PoolView, unknown[]][])('%s', (_name, v, expected) => {
    expect(planPool(v).actions).toEqual(expected);
  });

  test('at the instance ENI limit the plan is blocked, not wrong', () => {
    const full = [eni('e1', ips(10, 'assigned')), eni('e2', ips(10, 'assigned', 0, 10)), eni('e3', ips(10, 'assigned', 0, 20))];
    expect(planPool(view({ enis: full, pendingShared: 1 }))).toEqual({ actions: [], unmet: 4, blocked: ['ENILimit'] });
  });

  test('maxIPs reached is a blocker too', () => {
    expect(planPool(view({ enis: [eni('e1', ips(8, 'assigned'))], targets: targets({ maxIPs: 8 }) }))).toEqual({ actions: [], unmet: 0, blocked: ['MaxIPs'] });
  });

  test('all subnets exhausted: blocked, with what is unmet', () => {
    const now = 100 * MIN;
    const subnets = markExhausted(markExhausted(view().subnets, 'sn-a', now), 'sn-b', now);
    expect(planPool(view({ subnets }))).toEqual({ actions: [], unmet: 4, blocked: ['SubnetExhausted'] });
    // After the backoff the subnet is tried again (the cloud's count decides).
    expect(pickSubnet(subnets.map((s) => ({ ...s, availableIPs: 5 })), now + 11 * MIN)?.id).toBe('sn-a');
  });

  test('a small subnet gives what it has', () => {
    expect(planPool(view({ subnets: [{ id: 'sn-small', availableIPs: 3 }], pendingShared: 9 })).actions).toEqual([{ kind: 'createENI', role: 'shared', subnetId: 'sn-small', secondaryIPs: 2 }]);
  });
});

describe('planPool: reclaim', () => {
  const old = 0;
  const recent = 95 * MIN;
  test('free IPs above maxIdleIPs go back after reclaimAfter, oldest first, never primaries', () => {
    const e1 = eni('e1', [...ips(2, 'assigned'), ...ips(8, 'free', old, 2)]);
    e1.ips[5]!.since = recent; // 10.0.0.6: not idle long enough
    const e2 = eni('e2', [
      { address: '10.0.0.11', state: 'free', primary: true, since: old - 5 },
      { address: '10.0.0.12', state: 'assigned', primary: false, podUID: 'x', since: old },
      { address: '10.0.0.13', state: 'free', primary: false, since: old - 1 },
      { address: '10.0.0.14', state: 'free', primary: false, since: old },
    ]);
    // free = 11, maxIdle 8 → release 3: the oldest (10.0.0.13), then the lowest addresses; e2's primary stays.
    expect(planPool(view({ enis: [e1, e2] })).actions).toEqual([
      { kind: 'unassignIPs', eniId: 'e2', addresses: ['10.0.0.13'] },
      { kind: 'unassignIPs', eniId: 'e1', addresses: ['10.0.0.3', '10.0.0.4'] },
    ]);
  });

  test('a whole idle ENI is deleted rather than emptied', () => {
    const plan = planPool(view({ enis: [eni('e1', ips(6, 'assigned')), eni('e2', ips(5, 'free', old, 10)), eni('e3', ips(5, 'free', old, 20))], targets: targets({ maxIdleIPs: 5, warmIPs: 4 }) }));
    expect(plan.actions).toEqual([{ kind: 'deleteENI', eniId: 'e2' }]);
  });

  test('reclaim never goes below minIPs', () => {
    const plan = planPool(view({ enis: [eni('e1', ips(10, 'free', old))], targets: targets({ minIPs: 9, maxIdleIPs: 4 }) }));
    expect(plan.actions).toEqual([{ kind: 'unassignIPs', eniId: 'e1', addresses: ['10.0.0.2'] }]);
  });

  test('nothing is released while pods wait', () => {
    expect(planPool(view({ enis: [eni('e1', ips(10, 'free', old))], pendingShared: 10 })).actions).toEqual([]);
  });
});

describe('exclusive ENIs', () => {
  test('a waiting exclusive pod gets an ENI created before shared needs', () => {
    const plan = planPool(view({ pendingExclusive: 1 }));
    expect(plan.actions).toEqual([{ kind: 'createENI', role: 'exclusive', subnetId: 'sn-b', secondaryIPs: 0 }]);
  });

  test('warmENIs spares are kept, and extra idle spares deleted after reclaimAfter', () => {
    const spare = (id: string, idleSince: number): LedgerENI => eni(id, ips(1, 'free', 0, id.length * 10), { role: 'exclusive', idleSince });
    const shared = eni('s1', ips(6, 'free', 100 * MIN, 50));
    expect(planPool(view({ enis: [shared], targets: targets({ warmENIs: 1 }) })).actions).toEqual([{ kind: 'createENI', role: 'exclusive', subnetId: 'sn-b', secondaryIPs: 0 }]);
    expect(planPool(view({ enis: [shared, spare('x1', 0), spare('x22', 99 * MIN)], targets: targets({ warmENIs: 1 }) })).actions).toEqual([{ kind: 'deleteENI', eniId: 'x1' }]);
  });

  test('allocation: spare ENI to the pod, back after cooldown', () => {
    const enis: LedgerENI[] = [];
    applyCreated(enis, { id: 'x1', role: 'exclusive', subnetId: 'sn-a', primaryIP: '10.0.9.9', secondaryIPs: [], ready: true }, 0);
    expect(allocateExclusive(enis, { uid: 'db', name: 'ns/db' }, 1)).toEqual({ kind: 'eni', eniId: 'x1', address: '10.0.9.9' });
    expect(allocateExclusive(enis, { uid: 'db2', name: 'ns/db2' }, 1)).toBeUndefined();
    expect(releasePod(enis, 'db', 10, 1000)).toBe(true);
    expect(allocateExclusive(enis, { uid: 'db2', name: 'ns/db2' }, 500)).toBeUndefined(); // resting
    settleCooldowns(enis, 1010);
    expect(allocateExclusive(enis, { uid: 'db2', name: 'ns/db2' }, 1010)?.eniId).toBe('x1');
  });
});

describe('shared allocation', () => {
  test('packs onto the busiest ENI, takes the IP free the longest, is idempotent', () => {
    const e1 = eni('e1', [...ips(2, 'assigned'), { address: '10.0.0.50', state: 'free', primary: false, since: 5 }]);
    const e2 = eni('e2', [{ address: '10.0.1.1', state: 'free', primary: true, since: 1 }, { address: '10.0.1.2', state: 'free', primary: false, since: 0 }]);
    const enis = [e2, e1];
    expect(allocateShared(enis, { uid: 'a', name: 'ns/a' }, 10, true)).toEqual({ kind: 'ip', eniId: 'e1', address: '10.0.0.50' });
    expect(allocateShared(enis, { uid: 'a', name: 'ns/a' }, 11, true)).toEqual({ kind: 'ip', eniId: 'e1', address: '10.0.0.50' });
    expect(allocateShared(enis, { uid: 'b', name: 'ns/b' }, 12, true)).toEqual({ kind: 'ip', eniId: 'e2', address: '10.0.1.2' });
    expect(allocateShared(enis, { uid: 'c', name: 'ns/c' }, 12, false)).toBeUndefined(); // only e2's primary is left
  });

  test('a released IP cools down before anyone gets it again', () => {
    const enis = [eni('e1', [{ address: '10.0.0.1', state: 'free', primary: true, since: 0 }])];
    allocateShared(enis, { uid: 'a', name: 'ns/a' }, 0, true);
    releasePod(enis, 'a', 100, 30_000);
    expect(allocateShared(enis, { uid: 'b', name: 'ns/b' }, 200, true)).toBeUndefined();
    expect(settleCooldowns(enis, 30_099)).toBe(0);
    expect(settleCooldowns(enis, 30_100)).toBe(1);
    expect(allocateShared(enis, { uid: 'b', name: 'ns/b' }, 30_100, true)?.address).toBe('10.0.0.1');
  });
});
