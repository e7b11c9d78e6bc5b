import { SimError, World, type Scope } from './world.js';
import { parseWorldSpec, type WorldSpec } from './world-spec.js';

const ali: Scope = { provider: 'alibaba', regionId: 'r1' };

function spec(): WorldSpec {
  return parseWorldSpec({
    credentials: [{ provider: 'alibaba', accessKeyId: 'AK', accessKeySecret: 'SK' }],
    delays: { attachMs: 1000, detachMs: 500, deleteMs: 200, taskMs: 100 },
    maxIPsPerDetachedENI: 8,
    regions: [
      {
        id: 'r1',
        provider: 'alibaba',
        zones: ['z1', 'z2'],
        vpcs: [
          {
            id: 'vpc-1',
            cidr: '10.0.0.0/16',
            subnets: [
              { id: 'sn-big', zone: 'z1', cidr: '10.0.0.0/24' },
              { id: 'sn-tiny', zone: 'z1', cidr: '10.0.1.0/29' }, // 8 addresses, 4 reserved
              { id: 'sn-z2', zone: 'z2', cidr: '10.0.2.0/24' },
            ],
          },
        ],
        securityGroups: [{ id: 'sg-1', vpcId: 'vpc-1' }],
        instanceTypes: [{ type: 'small', maxENIs: 2, ipsPerENI: 4 }],
        instances: [{ id: 'i-1', type: 'small', zone: 'z1', subnetId: 'sn-big' }],
      },
    ],
  });
}

function setup() {
  let now = 1_000_000;
  const world = new World(spec(), () => now);
  return { world, advance: (ms: number) => (now += ms) };
}

function expectSimError(fn: () => unknown, kind: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).kind).toBe(kind);
    return;
  }
  throw new Error(`expected SimError ${kind}`);
}

const free = (world: World, id: string) => world.describeSubnets(ali, { ids: [id] })[0]!.availableIPs;

describe('World', () => {
  test('instances start with an InUse primary ENI at device index 0', () => {
    const { world } = setup();
    const [primary] = world.describeENIs(ali, { instanceId: 'i-1' });
    expect(primary).toMatchObject({ primary: true, status: 'InUse', deviceIndex: 0, subnetId: 'sn-big', primaryIP: '10.0.0.1' });
    expect(free(world, 'sn-big')).toBe(256 - 4 - 1);
  });

  test('attach settles Attaching → InUse after the delay; detach → Available; delete → gone, IPs back', () => {
    const { world, advance } = setup();
    const before = free(world, 'sn-big');
    const eni = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'], secondaryIPCount: 2 });
    expect(eni.status).toBe('Available');
    expect(free(world, 'sn-big')).toBe(before - 3);
    const events: string[] = [];
    world.on('attached', (e, i) => events.push(`attached ${e.id} ${i.id}`));
    world.on('detached', (e, from) => events.push(`detached ${e.id} ${from}`));
    world.on('deleted', (e) => events.push(`deleted ${e.id}`));

    expect(world.attachENI(ali, eni.id, 'i-1', 'task-1')).toMatchObject({ status: 'Attaching', deviceIndex: 1, instanceId: 'i-1' });
    expect(world.task(ali, 'task-1').status).toBe('RUNNING');
    advance(999);
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.status).toBe('Attaching');
    advance(1);
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.status).toBe('InUse');
    expect(world.task(ali, 'task-1').status).toBe('SUCCESS');

    world.detachENI(ali, eni.id, 'i-1');
    advance(500);
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]).toMatchObject({ status: 'Available' });
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.instanceId).toBeUndefined();

    world.deleteENI(ali, eni.id);
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.status).toBe('Deleting');
    advance(200);
    expect(world.describeENIs(ali, { ids: [eni.id] })).toEqual([]);
    expect(free(world, 'sn-big')).toBe(before);
    expect(events).toEqual([`attached ${eni.id} i-1`, `detached ${eni.id} i-1`, `deleted ${eni.id}`]);
  });

  test('state rules: attach only Available, detach only InUse, delete only Available, never the primary', () => {
    const { world, advance } = setup();
    const eni = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] });
    expectSimError(() => world.detachENI(ali, eni.id), 'EniNotAttached');
    world.attachENI(ali, eni.id, 'i-1');
    expectSimError(() => world.attachENI(ali, eni.id, 'i-1'), 'InvalidEniState');
    expectSimError(() => world.detachENI(ali, eni.id), 'InvalidEniState'); // still Attaching
    expectSimError(() => world.deleteENI(ali, eni.id), 'InvalidEniState');
    advance(1000);
    const primary = world.describeENIs(ali, { primary: true })[0]!;
    expectSimError(() => world.detachENI(ali, primary.id), 'DetachPrimaryEni');
    expectSimError(() => world.deleteENI(ali, primary.id), 'InvalidEniState');
    expectSimError(() => world.deleteENI(ali, 'eni-nope'), 'EniNotFound');
  });

  test('limits: ENIs per instance (primary counted), IPs per ENI (primary counted), zone', () => {
    const { world, advance } = setup();
    const a = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] });
    const b = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] });
    world.attachENI(ali, a.id, 'i-1');
    expectSimError(() => world.attachENI(ali, b.id, 'i-1'), 'EniLimitExceeded'); // primary + a = 2 of 2
    advance(1000);
    expect(world.assignIPs(ali, a.id, { count: 3 })).toHaveLength(3); // 1 + 3 = 4 of 4
    expectSimError(() => world.assignIPs(ali, a.id, { count: 1 }), 'IpLimitExceeded');
    const z2 = world.createENI(ali, { subnetId: 'sn-z2', securityGroupIds: ['sg-1'] });
    expectSimError(() => world.attachENI(ali, z2.id, 'i-1'), 'ZoneMismatch');
  });

  test('subnet exhaustion refuses the whole request and changes nothing', () => {
    const { world } = setup();
    expect(free(world, 'sn-tiny')).toBe(4);
    const eni = world.createENI(ali, { subnetId: 'sn-tiny', securityGroupIds: ['sg-1'], secondaryIPCount: 1 });
    expect(free(world, 'sn-tiny')).toBe(2);
    const snapshot = JSON.stringify(world.snapshot());
    expectSimError(() => world.assignIPs(ali, eni.id, { count: 3 }), 'SubnetExhausted');
    expect(JSON.stringify(world.snapshot())).toBe(snapshot);
    expect(world.assignIPs(ali, eni.id, { count: 2 })).toEqual(['10.0.1.3', '10.0.1.4']);
    expect(free(world, 'sn-tiny')).toBe(0);
  });

  test('unassign returns addresses; unknown or primary addresses are refused whole', () => {
    const { world } = setup();
    const eni = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'], secondaryIPCount: 2 });
    const [x, y] = eni.secondaryIPs as [string, string];
    expectSimError(() => world.unassignIPs(ali, eni.id, [x, '10.0.0.200']), 'IpNotAssigned');
    expectSimError(() => world.unassignIPs(ali, eni.id, [eni.primaryIP]), 'InvalidParameter');
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.secondaryIPs).toEqual([x, y]);
    world.unassignIPs(ali, eni.id, [x]);
    expect(world.describeENIs(ali, { ids: [eni.id] })[0]!.secondaryIPs).toEqual([y]);
    // The freed address is the lowest free one again.
    expect(world.assignIPs(ali, eni.id, { count: 1 })).toEqual([x]);
  });

  test('client tokens: a repeat returns the first result; other parameters are refused', () => {
    const { world } = setup();
    const create = () => world.idempotent(ali, 'CreateNetworkInterface', 'tok-1', { subnet: 'sn-big' }, () => world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] }));
    const first = create();
    const second = create();
    expect(second.id).toBe(first.id);
    expect(world.describeENIs(ali, { primary: false })).toHaveLength(1);
    expectSimError(() => world.idempotent(ali, 'CreateNetworkInterface', 'tok-1', { subnet: 'sn-z2' }, () => 0), 'IdempotenceMismatch');
  });

  test('tag filters match key and value; an empty value matches any value', () => {
    const { world } = setup();
    world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'], tags: { cluster: 'a', node: 'n1' } });
    world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'], tags: { cluster: 'b' } });
    expect(world.describeENIs(ali, { tags: { cluster: 'a' } })).toHaveLength(1);
    expect(world.describeENIs(ali, { tags: { cluster: '' } })).toHaveLength(2);
    expect(world.describeENIs(ali, { tags: { cluster: 'a', node: 'n2' } })).toHaveLength(0);
  });

  test('frozen describes show the world as it was, then catch up', () => {
    const { world, advance } = setup();
    world.freezeDescribes(5);
    const eni = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] });
    expect(world.describeENIs(ali, { ids: [eni.id] })).toEqual([]);
    advance(5000);
    expect(world.describeENIs(ali, { ids: [eni.id] })).toHaveLength(1);
  });

  test('unknown region, subnet, security group and instance are named', () => {
    const { world } = setup();
    expectSimError(() => world.describeENIs({ provider: 'alibaba', regionId: 'nowhere' }), 'InvalidRegion');
    expectSimError(() => world.describeENIs({ provider: 'tencent', regionId: 'r1' }), 'InvalidRegion');
    expectSimError(() => world.createENI(ali, { subnetId: 'sn-x', securityGroupIds: ['sg-1'] }), 'SubnetNotFound');
    expectSimError(() => world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-x'] }), 'SecurityGroupNotFound');
    const eni = world.createENI(ali, { subnetId: 'sn-big', securityGroupIds: ['sg-1'] });
    expectSimError(() => world.attachENI(ali, eni.id, 'i-x'), 'InstanceNotFound');
  });
});

describe('parseWorldSpec', () => {
  test('names the bad field', () => {
    const bad = JSON.parse(JSON.stringify(spec())) as { regions: { instances: { subnetId: string }[] }[] };
    bad.regions[0]!.instances[0]!.subnetId = 'sn-z2';
    expect(() => parseWorldSpec(bad)).toThrow('regions[0].instances[0].subnetId: sn-z2 is not a subnet in zone z1');
    expect(() => parseWorldSpec({ credentials: [], regions: [{ id: 'r', provider: 'aws' }] })).toThrow('regions[0].provider: must be one of alibaba, tencent');
  });

  test('the default world file loads', async () => {
    const { loadWorldSpec } = await import('./world-spec.js');
    const world = loadWorldSpec(new URL('../../config/cloudsim/world.yaml', import.meta.url).pathname);
    expect(world.regions.map((r) => r.provider).sort()).toEqual(['alibaba', 'tencent']);
    for (const r of world.regions) {
      expect(r.zones).toHaveLength(2);
      expect(r.instances.length).toBeGreaterThanOrEqual(3);
    }
  });
});
