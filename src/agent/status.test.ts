import type { Attachment, NodeNetworkSpec } from '../api/nodenetwork.js';
import { forgettable, PENDING_MEMORY_MS, statusFor, type LocalState } from './status.js';

const caps = { kernelVersion: '6.1.0', ipvlan: false, ebpf: true };
const att = (podUID: string): Attachment => ({ podUID, namespace: 'ns', name: podUID, mode: 'veth', ip: '10.0.16.5/20', gateway: '10.0.31.253', eniID: 'eni-1', mac: '02:00:00:00:00:01' });
const spec = (...uids: string[]): NodeNetworkSpec => ({ datapath: 'veth', ebpf: { serviceLoadBalancing: false, networkPolicy: false }, attachments: uids.map(att) });
const T0 = Date.parse('2026-11-22T03:00:00Z');

describe('statusFor', () => {
  it('reports each planned attachment the agent dealt with, with counts and capabilities', () => {
    const local = new Map<string, LocalState>([
      ['a', { state: 'Ready', at: T0 }],
      ['b', { state: 'Failed', reason: 'ENINotFound', message: 'no NIC with MAC 02:00:00:00:00:01', at: T0 }],
    ]);
    const s = statusFor(spec('a', 'b', 'c'), local, undefined, caps, 7);
    expect(s.attachments).toEqual([
      { podUID: 'a', state: 'Ready', lastTransitionTime: '2026-11-22T03:00:00Z' },
      { podUID: 'b', state: 'Failed', reason: 'ENINotFound', message: 'no NIC with MAC 02:00:00:00:00:01', lastTransitionTime: '2026-11-22T03:00:00Z' },
    ]);
    expect(s.counts).toEqual({ ready: 1, failed: 1, released: 0 });
    expect(s.capabilities).toEqual(caps);
    expect(s.observedGeneration).toBe(7);
  });

  it('keeps a Released entry after the plan dropped it, but nothing else unplanned', () => {
    const local = new Map<string, LocalState>([
      ['gone', { state: 'Released', at: T0 }],
      ['stale', { state: 'Ready', at: T0 }],
    ]);
    const s = statusFor(spec(), local, undefined, caps, 1);
    expect(s.attachments?.map((a) => [a.podUID, a.state])).toEqual([['gone', 'Released']]);
    expect(forgettable(spec('gone', 'stale'), local, T0)).toEqual([]);
  });

  it('forgets what the plan no longer names: released, and wired pods whose DEL it missed; a pending pod only after a while', () => {
    const local = new Map<string, LocalState>([
      ['gone', { state: 'Released', at: T0 }],
      ['missed', { state: 'Ready', at: T0 }],
      ['broken', { state: 'Failed', reason: 'Drift', at: T0 }],
      ['waiting', { state: 'Pending', reason: 'WaitingForPlan', at: T0 }],
      ['planned', { state: 'Ready', at: T0 }],
    ]);
    expect(forgettable(spec('planned'), local, T0 + 1000)).toEqual(['gone', 'missed', 'broken']);
    expect(forgettable(spec('planned'), local, T0 + PENDING_MEMORY_MS + 1)).toEqual(['gone', 'missed', 'broken', 'waiting']);
    expect(forgettable(spec('planned', 'waiting'), local, T0 + PENDING_MEMORY_MS + 1)).toEqual(['gone', 'missed', 'broken']);
  });

  it('keeps the transition time while the state stays the same', () => {
    const local = new Map<string, LocalState>([['a', { state: 'Ready', at: T0 + 60_000 }]]);
    const previous = { attachments: [{ podUID: 'a', state: 'Ready' as const, lastTransitionTime: '2026-11-22T02:00:00Z' }] };
    expect(statusFor(spec('a'), local, previous, caps, 1).attachments?.[0]?.lastTransitionTime).toBe('2026-11-22T02:00:00Z');
    const failed = new Map<string, LocalState>([['a', { state: 'Failed', reason: 'X', at: T0 + 60_000 }]]);
    expect(statusFor(spec('a'), failed, previous, caps, 1).attachments?.[0]?.lastTransitionTime).toBe('2026-11-22T03:01:00Z');
  });
});
