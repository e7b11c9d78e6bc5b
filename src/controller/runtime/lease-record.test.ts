import { decide, observe, released, type LeaseRecord } from './lease-record.js';

const T0 = 1_700_000_000_000;

describe('lease decisions', () => {
  test('an unheld lease is taken at once, counting a transition', () => {
    const r: LeaseRecord = { leaseDurationSeconds: 1, renewTime: new Date(T0 - 5), leaseTransitions: 3 };
    const d = decide(r, observe(undefined, r, T0), 'me', T0, 10);
    expect(d).toEqual({ action: 'write', acquired: true, record: expect.objectContaining({ holderIdentity: 'me', leaseDurationSeconds: 10, leaseTransitions: 4 }) as unknown });
  });

  test('another holder is waited for until leaseDuration after its record last changed, by the local clock', () => {
    // renewTime far in the past (skewed clock) does not matter; observation time does.
    const r: LeaseRecord = { holderIdentity: 'other', leaseDurationSeconds: 10, renewTime: new Date(T0 - 3_600_000) };
    const obs = observe(undefined, r, T0);
    expect(decide(r, obs, 'me', T0 + 9_999, 10)).toEqual({ action: 'wait', holder: 'other', expiresAt: T0 + 10_000 });
    const later = observe(obs, r, T0 + 9_999);
    expect(later.at).toBe(T0);
    const d = decide(r, later, 'me', T0 + 10_000, 10);
    expect(d.action).toBe('write');
  });

  test('a renewal by the holder restarts the expiry clock', () => {
    const r1: LeaseRecord = { holderIdentity: 'other', leaseDurationSeconds: 2, renewTime: new Date(T0) };
    const r2: LeaseRecord = { ...r1, renewTime: new Date(T0 + 1_500) };
    let obs = observe(undefined, r1, T0);
    obs = observe(obs, r2, T0 + 1_900);
    expect(decide(r2, obs, 'me', T0 + 3_000, 10).action).toBe('wait');
    expect(decide(r2, obs, 'me', T0 + 3_900, 10).action).toBe('write');
  });

  test('the holder renews its own lease, keeping acquireTime and transitions', () => {
    const acquired = new Date(T0 - 60_000);
    const r: LeaseRecord = { holderIdentity: 'me', leaseDurationSeconds: 10, acquireTime: acquired, renewTime: new Date(T0 - 2_000), leaseTransitions: 7 };
    const d = decide(r, observe(undefined, r, T0), 'me', T0, 10);
    if (d.action !== 'write') throw new Error('expected a write');
    expect(d.acquired).toBe(false);
    expect(d.record.acquireTime).toEqual(acquired);
    expect(d.record.renewTime).toEqual(new Date(T0));
    expect(d.record.leaseTransitions).toBe(7);
  });

  test('a released lease has no holder and a short duration', () => {
    const r = released({ holderIdentity: 'me', leaseDurationSeconds: 10, leaseTransitions: 2 }, T0);
    expect(r.holderIdentity).toBeUndefined();
    expect(r.leaseDurationSeconds).toBe(1);
    expect(r.leaseTransitions).toBe(2);
    expect(decide(r, observe(undefined, r, T0), 'standby', T0, 10).action).toBe('write');
  });
});
