// The emulator as a server: concurrency without lost or doubled updates,
// accounting that always adds up, the admin endpoints, and garbage input.
import { randomUUID } from 'node:crypto';
import type { ProviderType } from '../../src/api/common.js';
import { createProvider } from '../../src/cloud/factory.js';
import type { CloudProvider } from '../../src/cloud/types.js';
import { startCloudsim, type Cloudsim } from '../harness/cloudsim.js';

interface WorldJSON {
  regions: {
    id: string;
    provider: ProviderType;
    subnets: { id: string; availableIPs: number; totalIPs: number; used: string[] }[];
    enis: { id: string; subnetId: string; primaryIP: string; secondaryIPs: string[] }[];
  }[];
}

let sim: Cloudsim;
beforeAll(async () => {
  sim = await startCloudsim();
});
afterAll(() => sim.close());
afterEach(() => expect(sim.errors).toEqual([]));

/** Every address is held by exactly one ENI, and free counts match. */
function checkAccounting(world: WorldJSON): void {
  for (const region of world.regions) {
    const held = region.enis.flatMap((e) => [e.primaryIP, ...e.secondaryIPs].map((ip) => `${e.subnetId}/${ip}`));
    expect(new Set(held).size).toBe(held.length);
    for (const s of region.subnets) {
      const mine = held.filter((h) => h.startsWith(`${s.id}/`)).map((h) => h.slice(s.id.length + 1)).sort();
      expect(s.used).toEqual(mine);
      expect(s.availableIPs).toBe(s.totalIPs - mine.length);
    }
  }
}

const CASES = [
  { type: 'alibaba' as const, region: 'cn-hangzhou', subnet: 'vsw-bp1simpodsi000001', sg: 'sg-bp1simpods00000001' },
  { type: 'tencent' as const, region: 'ap-guangzhou', subnet: 'subnet-pods0003', sg: 'sg-simpods1' },
];

test.each(CASES)('$type: 300 concurrent assigns over 10 ENIs lose nothing and double nothing', async (c) => {
  const cloud: CloudProvider = await createProvider(c.type, {
    region: c.region,
    credentials: sim.credentials(c.type),
    endpoint: { host: sim.host, insecure: true },
    rateLimit: { qps: 10_000, burst: 10_000 },
  });
  const enis = await Promise.all(Array.from({ length: 10 }, () => cloud.createENI({ subnetId: c.subnet, securityGroupIds: [c.sg], tags: { t: 'conc' }, idempotencyKey: randomUUID() })));
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => cloud.assignIPs(enis[i % 10]!.id, 1, randomUUID())));
  const ips = results.flat();
  expect(ips).toHaveLength(300);
  expect(new Set(ips).size).toBe(300);
  const after = await cloud.listENIs({ tags: { t: 'conc' } });
  expect(after.reduce((n, e) => n + e.secondaryIPs.length, 0)).toBe(300);
  checkAccounting((await sim.admin('GET', 'world')) as WorldJSON);
}, 60_000);

test('admin endpoints: world, stats, faults, rate limits, delays; bad input is refused', async () => {
  const world = (await sim.admin('GET', 'world')) as WorldJSON;
  expect(world.regions.map((r) => r.provider).sort()).toEqual(['alibaba', 'tencent']);
  await expect(sim.admin('PUT', 'faults', { actions: { X: { errorRate: 3 } } })).rejects.toThrow('actions.X.errorRate');
  await expect(sim.admin('PUT', 'ratelimits', { default: { qps: 0, burst: 1 } })).rejects.toThrow('default: needs qps > 0');
  await expect(sim.admin('PUT', 'delays', { attachMs: -1 })).rejects.toThrow('attachMs');
  expect(await sim.admin('PUT', 'delays', { attachMs: 120 })).toMatchObject({ attachMs: 120 });
  expect(await sim.admin('GET', 'faults')).toEqual({});
  await expect(sim.admin('GET', 'nothing')).rejects.toThrow('404');
});

test('requests that are not an API call get a clear answer, never a crash', async () => {
  const base = `http://${sim.host}`;
  const plain = await fetch(`${base}/`, { method: 'POST', body: '{}' });
  expect(plain.status).toBe(400);
  expect(await plain.json()).toMatchObject({ Code: 'UnknownProtocol' });
  const huge = await fetch(`${base}/`, { method: 'POST', headers: { 'x-tc-action': 'DescribeSubnets' }, body: 'x'.repeat(2 << 20) });
  expect(huge.status).toBe(413);
  const health = await fetch(`${base}/_admin/healthz`);
  expect(await health.json()).toEqual({ ok: true });
});
