import type { NetworkMode } from '../api/networkmode.js';
import { podMode } from './annotations.js';
import { attachmentsFor } from './attachments.js';
import { fromLedger, toLedger, type NodeENI } from './codec.js';
import { governingMode, selectorMatches } from './match.js';

const mode = (name: string, priority: number, matchLabels?: Record<string, string>): NetworkMode =>
  ({ metadata: { name }, spec: { priority, nodeSelector: matchLabels ? { matchLabels } : {} } }) as unknown as NetworkMode;

describe('NetworkMode selection', () => {
  test('label selectors', () => {
    const labels = { zone: 'a', tier: 'db' };
    expect(selectorMatches({ matchLabels: { zone: 'a' } }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'cache'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
  });

  test('highest priority wins; a tie at the top is a conflict', () => {
    const labels = { pool: 'x' };
    expect(governingMode([mode('a', 0), mode('b', 5, { pool: 'x' }), mode('c', 9, { pool: 'y' })], labels)).toEqual({ kind: 'governed', mode: 'b' });
    expect(governingMode([mode('b', 5), mode('a', 5, { pool: 'x' }), mode('z', 1)], labels)).toEqual({ kind: 'conflict', modes: ['a', 'b'] });
    expect(governingMode([mode('c', 9, { pool: 'y' })], labels)).toEqual({ kind: 'none' });
  });
});

describe('pod annotation', () => {
  test('shared by default, exclusive on request, anything else is explained', () => {
    expect(podMode(undefined)).toEqual({ kind: 'shared' });
    expect(podMode({ 'network.eni-operator.io/eni-mode': 'exclusive' })).toEqual({ kind: 'exclusive' });
    expect(podMode({ 'network.eni-operator.io/eni-mode': 'Exclusive' })).toMatchObject({ kind: 'invalid', message: expect.stringContaining('use "exclusive"') as string });
  });
});

describe('ledger codec and plan', () => {
  const enis: NodeENI[] = [
    {
      id: 'eni-1', role: 'shared', subnetId: 'sn', ready: true, mac: '00:16:3e:00:00:01', subnetCIDR: '10.0.16.0/20', gateway: '10.0.31.253', deviceIndex: 1, cloudState: 'InUse',
      ips: [
        { address: '10.0.16.1', state: 'free', primary: true, since: 1_700_000_000_000 },
        { address: '10.0.16.2', state: 'assigned', primary: false, since: 1_700_000_000_123, podUID: 'u2', pod: 'default/web-2' },
        { address: '10.0.16.3', state: 'cooldown', primary: false, since: 1_700_000_001_000, cooldownUntil: 1_700_000_031_000 },
      ],
    },
    { id: 'eni-2', role: 'exclusive', subnetId: 'sn', ready: true, mac: '00:16:3e:00:00:02', subnetCIDR: '10.0.16.0/20', gateway: '10.0.31.253', cloudState: 'InUse', podUID: 'u9', pod: 'db/pg-0', ips: [{ address: '10.0.16.9', state: 'free', primary: true, since: 1_700_000_000_000 }] },
  ];

  test('round-trips through ENIPool status', () => {
    expect(toLedger({ enis: fromLedger(enis) })).toEqual(enis);
  });

  test('the plan has one attachment per pod, with the subnet prefix and the ENI to use', () => {
    expect(attachmentsFor(enis, 'veth')).toEqual([
      { podUID: 'u2', namespace: 'default', name: 'web-2', mode: 'veth', ip: '10.0.16.2/20', gateway: '10.0.31.253', eniID: 'eni-1', mac: '00:16:3e:00:00:01' },
      { podUID: 'u9', namespace: 'db', name: 'pg-0', mode: 'exclusive', ip: '10.0.16.9/20', gateway: '10.0.31.253', eniID: 'eni-2', mac: '00:16:3e:00:00:02' },
    ]);
  });
});

describe('durations and provider IDs', () => {
  test('parse Go-style durations', async () => {
    const { parseDuration } = await import('./duration.js');
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(() => parseDuration('5 minutes')).toThrow('not a duration');
  });

  test('instance IDs come out of any provider ID format', async () => {
    const { instanceIdOf } = await import('./node-reconciler.js');
    expect(instanceIdOf('cn-hangzhou.i-bp1simnode000000001')).toBe('i-bp1simnode000000001');
    expect(instanceIdOf('alicloud://cn-hangzhou/i-bp1abc')).toBe('i-bp1abc');
    expect(instanceIdOf('qcloud:///800002/ins-simnode1')).toBe('ins-simnode1');
    expect(instanceIdOf('aws:///us-east-1a/x')).toBeUndefined();
  });
});

describe('cloud sync', () => {
  const cloudENI = (id: string, state: 'InUse' | 'Available', ips: string[], tags: Record<string, string> = {}) => ({
    id, mac: '00:16:3e:00:00:0' + id.slice(-1), subnetId: 'sn', vpcId: 'vpc', instanceId: state === 'InUse' ? 'i-1' : undefined, deviceIndex: 1, state, primary: false, primaryIP: ips[0]!, secondaryIPs: ips.slice(1), securityGroupIds: [], tags,
  });
  const facts = () => ({ cidr: '10.0.0.0/24', gateway: '10.0.0.253' });

  test('adopts what the cloud added, drops what it lost, and reports pods that lost their address', async () => {
    const { syncWithCloud } = await import('./cloud-sync.js');
    const ledger: NodeENI[] = [
      { id: 'eni-1', role: 'shared', subnetId: 'sn', ready: true, ips: [
        { address: '10.0.0.1', state: 'free', primary: true, since: 0 },
        { address: '10.0.0.2', state: 'assigned', primary: false, since: 0, podUID: 'p2' },
        { address: '10.0.0.3', state: 'assigned', primary: false, since: 0, podUID: 'p3' },
      ] },
      { id: 'eni-2', role: 'shared', subnetId: 'sn', ready: true, ips: [{ address: '10.0.0.9', state: 'assigned', primary: true, since: 0, podUID: 'p9' }] },
    ];
    const cloud = [
      cloudENI('eni-1', 'InUse', ['10.0.0.1', '10.0.0.2', '10.0.0.4']), // .3 lost, .4 added behind our back
      cloudENI('eni-2', 'Available', ['10.0.0.9']), // detached by someone
      cloudENI('eni-5', 'InUse', ['10.0.0.5', '10.0.0.6'], { 'eni-operator.io/role': 'exclusive' }), // created before a crash
    ];
    const r = syncWithCloud(ledger, cloud, 100, facts);
    expect(r.enis.map((e) => e.id)).toEqual(['eni-1', 'eni-5']);
    expect(r.enis[0]!.ips.map((ip) => [ip.address, ip.state])).toEqual([['10.0.0.1', 'free'], ['10.0.0.2', 'assigned'], ['10.0.0.4', 'free']]);
    expect(r.enis[1]).toMatchObject({ role: 'exclusive', ready: true, gateway: '10.0.0.253', idleSince: 100 });
    expect(r.adopted).toEqual(['eni-5']);
    expect(r.detached.map((e) => e.id)).toEqual(['eni-2']);
    expect(r.orphanedPods.sort()).toEqual(['p3', 'p9']);
  });
});

describe('--listen', () => {
  test('HOST:PORT, or a clear error', async () => {
    const { parseHostPort } = await import('../cmd/host-port.js');
    expect(parseHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseHostPort('0.0.0.0:9090')).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(() => parseHostPort('nonsense')).toThrow('--listen wants HOST:PORT, got "nonsense"');
    expect(() => parseHostPort('x:70000')).toThrow('--listen wants HOST:PORT');
  });
});

describe('--cloud-sdks', () => {
  it('takes a comma-separated subset of the providers and names an unknown one', async () => {
    const { parseProviderList } = await import('../cloud/factory.js');
    expect(parseProviderList('alibaba,tencent', '--cloud-sdks')).toEqual(['alibaba', 'tencent']);
    expect(parseProviderList(' tencent ,tencent', '--cloud-sdks')).toEqual(['tencent']);
    expect(parseProviderList('', '--cloud-sdks')).toEqual([]);
    expect(() => parseProviderList('alibaba,aws', '--cloud-sdks')).toThrow('--cloud-sdks: unknown provider "aws" (want alibaba, tencent)');
  });
});
