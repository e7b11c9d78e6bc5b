// adoptPlanned: a plan that got ahead of its ledger (the two are written side
// by side) is folded back, and a stale plan entry never takes an address.
import fc from 'fast-check';
import { adoptPlanned, allocateExclusive, allocateShared, findPod, type PlannedHolding } from './ledger.js';
import type { LedgerENI, LedgerIP } from './types.js';

const NOW = 1_000_000;

function shared(id: string, ips: Partial<LedgerIP>[]): LedgerENI {
  return { id, role: 'shared', subnetId: 'sn', ready: true, ips: ips.map((ip, i) => ({ address: `10.0.0.${i + 1}`, state: 'free', primary: i === 0, since: 0, ...ip })) };
}

function exclusive(id: string, address: string, extra: Partial<LedgerENI> = {}): LedgerENI {
  return { id, role: 'exclusive', subnetId: 'sn', ready: true, ips: [{ address, state: 'free', primary: true, since: 0 }], idleSince: 0, ...extra };
}

const planned = (uid: string, eniId: string, address: string, isExclusive = false): PlannedHolding => ({ pod: { uid, name: `ns/${uid}` }, eniId, address, exclusive: isExclusive });

describe('adoptPlanned', () => {
  test('a free address the plan gives a pod becomes that pod’s', () => {
    const enis = [shared('eni-1', [{}, {}, {}])];
    expect(adoptPlanned(enis, [planned('p1', 'eni-1', '10.0.0.2')], NOW)).toEqual(['p1']);
    expect(enis[0]!.ips[1]).toMatchObject({ state: 'assigned', podUID: 'p1', pod: 'ns/p1', since: NOW });
    expect(findPod(enis, 'p1')).toEqual({ kind: 'ip', eniId: 'eni-1', address: '10.0.0.2' });
  });

  test.each([
    ['cooling down (released, its plan removal not yet written)', { state: 'cooldown' as const, cooldownUntil: NOW + 5000 }],
    ['held by another pod', { state: 'assigned' as const, podUID: 'other', pod: 'ns/other' }],
  ])('an address %s is left as it is', (_why, ip) => {
    const enis = [shared('eni-1', [{}, ip])];
    const before = structuredClone(enis);
    expect(adoptPlanned(enis, [planned('p1', 'eni-1', '10.0.0.2')], NOW)).toEqual([]);
    expect(enis).toEqual(before);
  });

  test('a pod the ledger already places keeps its place, whatever the plan says', () => {
    const enis = [shared('eni-1', [{}, { state: 'assigned', podUID: 'p1' }, {}])];
    const before = structuredClone(enis);
    expect(adoptPlanned(enis, [planned('p1', 'eni-1', '10.0.0.3')], NOW)).toEqual([]);
    expect(enis).toEqual(before);
  });

  test('unknown ENIs, unknown addresses and a role that does not match are skipped', () => {
    const enis = [shared('eni-1', [{}, {}]), exclusive('eni-2', '10.0.9.1')];
    const before = structuredClone(enis);
    const plan = [planned('a', 'eni-gone', '10.0.0.2'), planned('b', 'eni-1', '10.0.0.77'), planned('c', 'eni-2', '10.0.9.1'), planned('d', 'eni-1', '10.0.0.1', true)];
    expect(adoptPlanned(enis, plan, NOW)).toEqual([]);
    expect(enis).toEqual(before);
  });

  test('an exclusive ENI is adopted when idle and out of cooldown, by its primary address only', () => {
    const idle = exclusive('eni-1', '10.0.9.1', { cooldownUntil: NOW - 1 });
    const resting = exclusive('eni-2', '10.0.9.2', { cooldownUntil: NOW + 1 });
    const taken = exclusive('eni-3', '10.0.9.3', { podUID: 'other' });
    const enis = [idle, resting, taken];
    const plan = [planned('p1', 'eni-1', '10.0.9.1', true), planned('p2', 'eni-2', '10.0.9.2', true), planned('p3', 'eni-3', '10.0.9.3', true), planned('p4', 'eni-1', '10.0.9.9', true)];
    expect(adoptPlanned(enis, plan, NOW)).toEqual(['p1']);
    expect(idle).toMatchObject({ podUID: 'p1', pod: 'ns/p1' });
    expect(idle.idleSince).toBeUndefined();
    expect(idle.cooldownUntil).toBeUndefined();
    expect(resting.podUID).toBeUndefined();
    expect(taken.podUID).toBe('other');
  });

  /** Every pod's holding, as the plan would list it. */
  function holdings(enis: LedgerENI[]): PlannedHolding[] {
    const out: PlannedHolding[] = [];
    for (const e of enis) {
      if (e.role === 'exclusive' && e.podUID) out.push(planned(e.podUID, e.id, e.ips.find((ip) => ip.primary)!.address, true));
      if (e.role === 'shared') for (const ip of e.ips) if (ip.state === 'assigned' && ip.podUID) out.push(planned(ip.podUID, e.id, ip.address));
    }
    return out;
  }

  test('property: a ledger that lost its last allocations gets exactly them back from the plan written with them', () => {
    const ledgerArb = fc
      .array(fc.record({ exclusive: fc.boolean(), states: fc.array(fc.constantFrom<LedgerIP['state']>('free', 'assigned', 'cooldown'), { minLength: 1, maxLength: 8 }) }), { maxLength: 5 })
      .map((shapes) => {
        let n = 0;
        return shapes.map((shape, i): LedgerENI => {
          if (shape.exclusive) return exclusive(`eni-${i}`, `10.1.0.${++n}`, shape.states[0] === 'assigned' ? { podUID: `old-${i}` } : {});
          return {
            id: `eni-${i}`,
            role: 'shared',
            subnetId: 'sn',
            ready: true,
            ips: shape.states.map((state, j): LedgerIP => ({ address: `10.1.0.${++n}`, state, primary: j === 0, since: 0, ...(state === 'assigned' ? { podUID: `old-${i}-${j}` } : {}), ...(state === 'cooldown' ? { cooldownUntil: NOW + 1000 } : {}) })),
          };
        });
      });
    fc.assert(
      fc.property(ledgerArb, fc.array(fc.boolean(), { maxLength: 12 }), (written, binds) => {
        const ahead = structuredClone(written);
        binds.forEach((isExclusive, i) => (isExclusive ? allocateExclusive(ahead, { uid: `new-${i}`, name: `ns/new-${i}` }, NOW) : allocateShared(ahead, { uid: `new-${i}`, name: `ns/new-${i}` }, NOW, true)));
        // The crash: the plan from `ahead` was written, the ledger stayed at `written`.
        const recovered = structuredClone(written);
        const adopted = adoptPlanned(recovered, holdings(ahead), NOW);
        const key = (h: PlannedHolding) => `${h.pod.uid}@${h.eniId}/${h.address}`;
        expect(holdings(recovered).map(key).sort()).toEqual(holdings(ahead).map(key).sort());
        expect(adopted.sort()).toEqual(holdings(ahead).filter((h) => h.pod.uid.startsWith('new-')).map((h) => h.pod.uid).sort());
        // Adopting again changes nothing.
        const again = structuredClone(recovered);
        expect(adoptPlanned(again, holdings(ahead), NOW)).toEqual([]);
        expect(again).toEqual(recovered);
      }),
    );
  });
});
