import type { AttachmentStatus } from '../api/nodenetwork.js';
import { resume, type ResumeInput } from './resume.js';

const input = (over: Partial<ResumeInput>): ResumeInput => ({ reported: [], planned: new Set(), wired: new Set(), ready: new Set(), mapFound: true, now: 7, ...over });
const reported = (podUID: string, state: AttachmentStatus['state'], reason?: string): AttachmentStatus => ({ podUID, state, ...(reason ? { reason } : {}) });
const states = (r: ReturnType<typeof resume>) => Object.fromEntries([...r.states].map(([uid, s]) => [uid, s.reason ? `${s.state}/${s.reason}` : s.state]));

describe('resume', () => {
  test('what was reported stands where the map agrees', () => {
    const r = resume(input({ reported: [reported('a', 'Ready'), reported('b', 'Failed', 'Drift'), reported('c', 'Pending', 'WaitingForPlan')], planned: new Set(['a', 'b', 'c']), wired: new Set(['a', 'b']), ready: new Set(['a']) }));
    expect(states(r)).toEqual({ a: 'Ready', b: 'Failed/Drift', c: 'Pending/WaitingForPlan' });
    expect(r.rewire).toEqual([]);
    expect(r.states.get('a')?.at).toBe(7);
  });

  test('an ADD that succeeded but was not reported is Ready, when still planned', () => {
    const r = resume(input({ reported: [reported('b', 'Pending', 'WaitingForPlan')], planned: new Set(['a', 'b']), wired: new Set(['a', 'b', 'gone']), ready: new Set(['a', 'b', 'gone']) }));
    expect(states(r)).toEqual({ a: 'Ready', b: 'Ready' });
  });

  test('an ADD still running at the kill (wired, not ready) adds nothing', () => {
    expect(states(resume(input({ planned: new Set(['a']), wired: new Set(['a']) })))).toEqual({});
  });

  test('a pod reported Ready that a found map no longer holds had its DEL: Released', () => {
    const r = resume(input({ reported: [reported('a', 'Ready'), reported('b', 'Failed', 'Conflict')], planned: new Set(['a', 'b']) }));
    expect(states(r)).toEqual({ a: 'Released', b: 'Failed/Conflict' });
    expect(r.rewire).toEqual([]);
  });

  test('with no map file (a lost state directory), pods reported Ready are kept wired instead', () => {
    const r = resume(input({ reported: [reported('a', 'Ready'), reported('b', 'Released')], planned: new Set(['a']), mapFound: false }));
    expect(states(r)).toEqual({ a: 'Ready', b: 'Released' });
    expect(r.rewire).toEqual(['a']);
  });
});
