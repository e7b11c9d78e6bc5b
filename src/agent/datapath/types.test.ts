// Validation of attachments and CNI requests: clear errors before any kernel call.
import type { Attachment } from '../../api/nodenetwork.js';
import { DatapathError, toPodNetwork, validatePodRef, validateSandbox } from './types.js';

const good: Attachment = { podUID: 'u1', namespace: 'ns', name: 'p', mode: 'veth', ip: '10.0.16.5/20', gateway: '10.0.16.1', eniID: 'eni-1', mac: '02:AA:00:00:00:01', routes: [{ dst: '192.168.0.0/16' }] };

test('a valid attachment is normalised', () => {
  expect(toPodNetwork(good)).toEqual({
    podUID: 'u1',
    mode: 'veth',
    podIP: '10.0.16.5',
    prefix: 20,
    subnet: '10.0.16.0/20',
    gateway: '10.0.16.1',
    eniMac: '02:aa:00:00:00:01',
    eniID: 'eni-1',
    routes: [{ dst: '192.168.0.0/16' }],
  });
});

test.each([
  [{ ip: '10.0.16.5' }, /with the subnet prefix/],
  [{ ip: '10.0.16.0/20' }, /network or broadcast/],
  [{ ip: '10.0.16.5/31' }, /leaves no room/],
  [{ gateway: '10.0.99.1' }, /inside 10\.0\.16\.0\/20/],
  [{ gateway: '10.0.16.5' }, /equals the pod address/],
  [{ mac: 'zz:00' }, /not a MAC/],
  [{ podUID: '' }, /podUID/],
  [{ routes: [{ dst: 'x' }] }, /route/],
  [{ routes: [{ dst: '10.1.0.0/16', via: 'nope' }] }, /route/],
])('invalid attachment %j is refused with InvalidRequest', (patch, message) => {
  const err = (() => {
    try {
      toPodNetwork({ ...good, ...patch });
    } catch (e) {
      return e;
    }
  })() as DatapathError;
  expect(err).toBeInstanceOf(DatapathError);
  expect(err.reason).toBe('InvalidRequest');
  expect(err.retryable).toBe(false);
  expect(err.message).toMatch(message);
});

test('sandboxes and DEL references are checked', () => {
  expect(() => validateSandbox({ netns: '/run/netns/x', ifName: 'eth0' })).not.toThrow();
  expect(() => validateSandbox({ netns: 'relative', ifName: 'eth0' })).toThrow(/absolute/);
  expect(() => validateSandbox({ netns: '/run/netns/x', ifName: 'much-too-long-name' })).toThrow(/1-15/);
  expect(() => validateSandbox({ netns: '/run/netns/x', ifName: 'a/b' })).toThrow(/ifName/);
  expect(() => validatePodRef({ podUID: '' })).toThrow(/pod UID/);
  expect(() => validatePodRef({ podUID: 'u', netns: '/run/netns/ x' })).toThrow(/absolute/);
});
