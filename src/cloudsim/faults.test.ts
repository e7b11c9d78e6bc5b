import { Faults, validateFaults } from './faults.js';

describe('Faults', () => {
  test('error rates are seeded and roughly right; "*" applies to every action', () => {
    const f = new Faults();
    f.set(validateFaults({ seed: 7, actions: { '*': { errorRate: 0.2, error: 'Throttled' }, Create: { latencyMs: 30 } } }));
    const decisions = Array.from({ length: 1000 }, () => f.decide('Create'));
    const errors = decisions.filter((d) => d.error === 'Throttled').length;
    expect(errors).toBeGreaterThan(150);
    expect(errors).toBeLessThan(250);
    expect(decisions.every((d) => d.latencyMs === 30)).toBe(true);
    const again = new Faults();
    again.set(validateFaults({ seed: 7, actions: { '*': { errorRate: 0.2, error: 'Throttled' }, Create: { latencyMs: 30 } } }));
    expect(Array.from({ length: 1000 }, () => again.decide('Create'))).toEqual(decisions);
  });

  test('dropNext drops exactly the next N responses of that action', () => {
    const f = new Faults();
    f.set({ actions: { Create: { dropNext: 2 } } });
    expect([f.decide('Other'), f.decide('Create'), f.decide('Create'), f.decide('Create')].map((d) => d.drop)).toEqual([false, true, true, false]);
  });

  test('validation names the bad field', () => {
    expect(() => validateFaults({ actions: { X: { errorRate: 2 } } })).toThrow('actions.X.errorRate: must be a number in [0, 1]');
    expect(() => validateFaults({ actions: { X: { error: 'Boom' } } })).toThrow('actions.X.error');
  });
});
