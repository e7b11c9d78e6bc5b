import { World } from '../world.js';
import { loadWorldSpec, parseWorldSpec } from '../world-spec.js';
import { addNic, addRouter, nftRuleset, removeAddresses, removeNic, Stages } from './commands.js';
import { buildLayout, type WorldSnapshot } from './layout.js';
import { bridgeMac, bridgeName, fallbackNicName, MAX_LINK_NAME, nicName, nodeNamespace, ownsName, portName, routerNamespace, validatePrefix } from './names.js';

function defaultLayout() {
  const world = new World(loadWorldSpec(new URL('../../../config/cloudsim/world.yaml', import.meta.url).pathname));
  return buildLayout('sim', world.snapshot() as WorldSnapshot);
}

describe('names', () => {
  test('a prefix is short lowercase letters and digits; anything else is refused with the rule', () => {
    for (const ok of ['a', 'sim1', 'ft0a1b2c3d4e']) expect(validatePrefix(ok)).toBe(ok);
    for (const bad of ['', 'Sim', 'a-b', '1abc', 'abcdefghijklm', 'a b']) expect(() => validatePrefix(bad)).toThrow('1-12 lowercase letters or digits');
  });

  test('namespaces carry the prefix and a sweep of one prefix never matches another', () => {
    expect(routerNamespace('sim')).toBe('sim-r');
    expect(nodeNamespace('sim', 'i-bp1simnode000000001')).toBe('sim-n-i-bp1simnode000000001');
    expect(nodeNamespace('sim', '../etc')).toMatch(/^sim-n-h[0-9a-f]{16}$/);
    expect(ownsName('sim', 'sim-n-x')).toBe(true);
    expect(ownsName('sim', 'sim2-n-x')).toBe(false);
    expect(ownsName('sim', 'simr')).toBe(false);
  });

  test('link names fit the kernel limit; bridge MACs are stable and locally administered', () => {
    expect(portName('00:16:3E:00:00:2a')).toBe('v00163e00002a');
    expect(() => portName('zz')).toThrow('not a MAC');
    expect(portName('20:90:6f:ff:ff:ff').length).toBeLessThanOrEqual(MAX_LINK_NAME);
    expect(bridgeName('vsw-bp1simnodesi00001')).toMatch(/^br[0-9a-f]{8}$/);
    expect(bridgeName('a')).not.toBe(bridgeName('b'));
    expect(bridgeMac('a')).toBe(bridgeMac('a'));
    expect(bridgeMac('a')).toMatch(/^02(:[0-9a-f]{2}){5}$/);
  });

  test('a NIC is eth<deviceIndex>, or a MAC-derived name when that one is taken', () => {
    expect(nicName(2)).toBe('eth2');
    expect(fallbackNicName('00:16:3e:00:00:07')).toBe('e00163e000007');
  });
});

describe('layout of the default world', () => {
  test('a bridge per subnet with the gateway each cloud uses, a namespace per instance, its primary NIC', () => {
    const layout = defaultLayout();
    expect(layout.routerNs).toBe('sim-r');
    expect(layout.subnets.size).toBe(10);
    expect(layout.subnets.get('vsw-bp1simnodesi00001')).toMatchObject({ cidr: '10.0.0.0/24', gateway: '10.0.0.253', prefixLength: 24 });
    expect(layout.subnets.get('vsw-bp1simsmalli00001')).toMatchObject({ gateway: '10.0.48.13', prefixLength: 28 });
    expect(layout.subnets.get('subnet-nodes003')).toMatchObject({ gateway: '10.1.0.1' });
    expect(layout.nodes.size).toBe(9);
    expect(layout.nodes.get('ins-simnode1')?.netns).toBe('sim-n-ins-simnode1');
    expect(layout.nics).toHaveLength(9);
    expect(layout.nics.every((n) => n.primary && n.deviceIndex === 0 && n.ips.length === 1)).toBe(true);
    expect(layout.vpcs.get('vpc-sim00001')).toHaveLength(5);
  });

  test('only attached ENIs (InUse or Detaching) are NICs', () => {
    let now = 0;
    const world = new World(loadWorldSpec(new URL('../../../config/cloudsim/world.yaml', import.meta.url).pathname), () => now);
    const scope = { provider: 'alibaba' as const, regionId: 'cn-hangzhou' };
    const eni = world.createENI(scope, { subnetId: 'vsw-bp1simpodsi000001', securityGroupIds: ['sg-bp1simpods00000001'], secondaryIPCount: 2 });
    world.attachENI(scope, eni.id, 'i-bp1simnode000000001');
    expect(buildLayout('sim', world.snapshot() as WorldSnapshot).nics).toHaveLength(9);
    now += 60_000;
    const nics = buildLayout('sim', world.snapshot() as WorldSnapshot).nics;
    expect(nics.find((n) => n.eniId === eni.id)).toMatchObject({ instanceId: 'i-bp1simnode000000001', deviceIndex: 1, primary: false, ips: [eni.primaryIP, ...eni.secondaryIPs] });
  });

  test('overlapping VPCs are refused: they would share the router\'s routing table', () => {
    const region = (id: string, vpc: string, cidr: string) => ({
      id,
      provider: 'tencent',
      zones: ['z'],
      vpcs: [{ id: vpc, cidr, subnets: [{ id: `${vpc}-s`, zone: 'z', cidr: cidr.replace('/16', '/24') }] }],
      securityGroups: [],
      instanceTypes: [{ type: 't', maxENIs: 2, ipsPerENI: 2 }],
    });
    const spec = parseWorldSpec({
      credentials: [{ provider: 'tencent', accessKeyId: 'a', accessKeySecret: 'b' }],
      regions: [region('r1', 'vpc-a', '10.5.0.0/16'), region('r2', 'vpc-b', '10.5.0.0/16')],
    });
    expect(() => buildLayout('sim', new World(spec).snapshot() as WorldSnapshot)).toThrow('VPCs vpc-a (10.5.0.0/16) and vpc-b (10.5.0.0/16) overlap');
  });
});

describe('commands', () => {
  test('the router gets bridges with gateways, no ARP solicitation, proxy ARP, and a ruleset', () => {
    const layout = defaultLayout();
    const stages = new Stages();
    addRouter(stages, layout.routerNs, [...layout.subnets.values()], layout.vpcs);
    const br = layout.subnets.get('vsw-bp1simnodesi00001')!.bridge;
    expect(stages.root).toEqual(['netns add sim-r']);
    expect(stages.routerLinks).toContain(`addr add 10.0.0.253/24 dev ${br}`);
    expect(stages.routerSysctls).toEqual(expect.arrayContaining([`net.ipv4.neigh.${br}.mcast_solicit=0`, `net.ipv4.neigh.${br}.ucast_solicit=0`, `net.ipv4.conf.${br}.proxy_arp_pvlan=1`, 'net.ipv4.ip_forward=1']));
    expect(stages.nft).toHaveLength(1);
  });

  test('the forward filter pairs only bridges of the same VPC', () => {
    const layout = defaultLayout();
    const ruleset = nftRuleset([...layout.subnets.values()], layout.vpcs);
    const ali = layout.subnets.get('vsw-bp1simnodesi00001')!;
    const ali2 = layout.subnets.get('vsw-bp1simpodsj000001')!;
    const ten = layout.subnets.get('subnet-nodes003')!;
    expect(ruleset).toContain(`"${ali.bridge}" . "${ali2.bridge}"`);
    expect(ruleset).not.toContain(`"${ali.bridge}" . "${ten.bridge}"`);
    expect(ruleset).toContain(`"${ten.bridge}" . 10.1.0.1`);
    expect(ruleset).not.toContain(`"${ten.bridge}" . 10.0.0.253`);
  });

  test('a NIC is made from the router side in one go; a primary one is then addressed in its node, a hot-plugged one is not', () => {
    const subnet = defaultLayout().subnets.get('vsw-bp1simnodesi00001')!;
    const base = { routerNs: 'sim-r', netns: 'sim-n-x', port: 'v00163e000001', mac: '00:16:3e:00:00:01', subnet, ips: ['10.0.0.5'], fallbackIfname: 'e00163e000001' };
    const primary = new Stages();
    const group = addNic(primary, { ...base, ifname: 'eth0', primaryIP: '10.0.0.5' });
    expect(group.lines).toEqual([
      'link add v00163e000001 type veth peer name eth0 address 00:16:3e:00:00:01 netns sim-n-x',
      `link set v00163e000001 master ${subnet.bridge}`,
      'link set v00163e000001 type bridge_slave learning off isolated on',
      'link set v00163e000001 up',
    ]);
    expect(group.fallback.lines[0]).toBe('link add v00163e000001 type veth peer name e00163e000001 address 00:16:3e:00:00:01 netns sim-n-x');
    expect(primary.node('sim-n-x')).toEqual(['addr add 10.0.0.5/24 dev eth0', 'link set eth0 up', 'route add default via 10.0.0.253 dev eth0']);
    const hot = new Stages();
    addNic(hot, { ...base, ifname: 'eth1' });
    expect(hot.nodes.size).toBe(0);
    expect(hot.router).toEqual([`neigh replace 10.0.0.5 lladdr 00:16:3e:00:00:01 dev ${subnet.bridge} nud permanent`]);
    expect(hot.fdb).toEqual(['fdb replace 00:16:3e:00:00:01 dev v00163e000001 master static']);
    expect(hot.nft).toEqual([
      // The port may ask the gateway with any sender address; it may send only from its own.
      'add element bridge eni_fabric eni_ports { "v00163e000001" . 00:16:3e:00:00:01 }',
      'add element bridge eni_fabric eni_sources { "v00163e000001" . 00:16:3e:00:00:01 . 10.0.0.5 }',
      // The router forwards to assigned addresses only.
      'add element inet eni_fabric assigned { 10.0.0.5 }',
    ]);
  });

  test('removals tolerate what is already gone: neighbours by a forced batch, nft elements added before deleted', () => {
    const subnet = defaultLayout().subnets.get('vsw-bp1simnodesi00001')!;
    const stages = new Stages();
    removeAddresses(stages, 'v1', '00:16:3e:00:00:01', subnet, []);
    expect(stages.empty).toBe(true);
    removeNic(stages, 'v1', '00:16:3e:00:00:01', subnet, ['10.0.0.5']);
    expect(stages.routerRemovals).toEqual([`neigh del 10.0.0.5 dev ${subnet.bridge}`, 'link del v1']);
    expect(stages.nft.filter((_, i) => i % 2 === 0).every((l) => l.startsWith('add element'))).toBe(true);
    expect(stages.nft.filter((_, i) => i % 2 === 1).every((l) => l.startsWith('delete element'))).toBe(true);
    expect(stages.nft.some((l) => l.startsWith('delete element inet eni_fabric assigned { 10.0.0.5 }'))).toBe(true);
    expect(stages.nft.some((l) => l.startsWith('delete element bridge eni_fabric eni_ports'))).toBe(true);
  });
});
