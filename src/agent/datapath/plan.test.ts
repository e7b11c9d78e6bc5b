// Drift repair as a pure function, checked against a small model of the kernel
// (below) that applies actions to a snapshot: from any drift the plan converges
// in one step, never deletes what a desired pod uses, and removes every orphan.
import fc from 'fast-check';
import type { Attachment } from '../../api/nodenetwork.js';
import type { Link, Snapshot } from '../netlink/model.js';
import { EMPTY_SNAPSHOT } from '../netlink/model.js';
import type { Action } from './actions.js';
import { addressKey, proxyKey, routeKey, ruleKey } from './intent.js';
import { exclusiveAlias, exclusiveHostName, OWNED_PROTOCOL, vethHostName } from './names.js';
import { ownedObjects, plan } from './plan.js';

// ---- a kernel model: what each action does to a snapshot ----

function link(l: Partial<Link> & { name: string; index: number }): Link {
  return { mac: '', kind: undefined, up: true, linkName: undefined, linkIndex: undefined, linkElsewhere: false, alias: undefined, ipvlanMode: undefined, ...l };
}

function without(s: Snapshot, dev: string): Snapshot {
  const keep = (o: { dev?: string | undefined }) => o.dev !== dev;
  return { ...s, links: s.links.filter((l) => l.name !== dev), addresses: s.addresses.filter(keep), routes: s.routes.filter(keep), neighbours: s.neighbours.filter(keep), proxies: s.proxies.filter(keep) };
}

function execute(start: Snapshot, actions: readonly Action[]): Snapshot {
  let s: Snapshot = structuredClone(start);
  for (const a of actions) {
    switch (a.kind) {
      case 'link-up':
        s.links = s.links.map((l) => (l.name === a.dev ? { ...l, up: true } : l));
        break;
      case 'link-delete':
        s = without(s, a.dev);
        break;
      case 'ipvlan-add': {
        const parent = s.links.find((l) => l.name === a.parent)!;
        s.links.push(link({ name: a.dev, index: Math.max(...s.links.map((l) => l.index)) + 1, kind: 'ipvlan', linkName: a.parent, mac: parent.mac, up: false }));
        break;
      }
      case 'eni-release':
        s.addresses = s.addresses.filter((x) => x.dev !== a.dev);
        s.links = s.links.map((l) => (l.name === a.dev ? { ...l, up: false, alias: undefined, name: a.name } : l));
        break;
      case 'address-add':
        s.addresses.push({ dev: a.address.dev, address: a.address.cidr.split('/')[0]!, prefix: Number(a.address.cidr.split('/')[1]), scope: 0 });
        break;
      case 'address-delete':
        s.addresses = s.addresses.filter((x) => addressKey({ dev: x.dev, cidr: `${x.address}/${x.prefix}` }) !== addressKey(a.address));
        break;
      case 'route-replace':
        s.routes = s.routes.filter((r) => routeKey(r) !== routeKey(a.route));
        s.routes.push({ table: a.route.table, dst: a.route.dst, gateway: a.route.gateway, dev: a.route.dev, scope: a.route.scope ? 253 : 0, protocol: OWNED_PROTOCOL, type: 1, onlink: a.route.onlink ?? false });
        break;
      case 'route-delete':
        s.routes = s.routes.filter((r) => routeKey(r) !== routeKey(a.route));
        break;
      case 'rule-add':
        s.rules.push({ priority: a.rule.priority, src: a.rule.src, dst: a.rule.dst, table: a.rule.table, protocol: OWNED_PROTOCOL });
        break;
      case 'rule-delete': {
        const i = s.rules.findIndex((r) => ruleKey(r) === ruleKey(a.rule));
        if (i >= 0) s.rules.splice(i, 1);
        break;
      }
      case 'neighbour-replace':
        s.neighbours = [...s.neighbours.filter((n) => !(n.dst === a.neighbour.dst && n.dev === a.neighbour.dev)), { ...a.neighbour, permanent: true }];
        break;
      case 'proxy-add':
        s.proxies = [...s.proxies.filter((p) => proxyKey(p) !== proxyKey(a.proxy)), { ...a.proxy, protocol: OWNED_PROTOCOL }];
        break;
      case 'proxy-delete':
        s.proxies = s.proxies.filter((p) => proxyKey(p) !== proxyKey(a.proxy));
        break;
      case 'sysctl': {
        const [, , kind, dev, key] = a.sysctl.path;
        if (a.sysctl.path.join('/') === 'net/ipv4/ip_forward') {
          s.netconf = s.netconf.map((c) => ({ ...c, forwarding: true }));
        } else if (kind === 'conf' && dev) {
          const c = s.netconf.find((x) => x.dev === dev) ?? { dev, forwarding: false, rpFilter: 0 };
          s.netconf = [...s.netconf.filter((x) => x.dev !== dev), { ...c, ...(key === 'rp_filter' ? { rpFilter: Number(a.sysctl.value) } : { forwarding: true }) }];
        }
        break;
      }
    }
  }
  return s;
}

/** Keys of every object, to tell what an action list deleted. */
function objectKeys(s: Snapshot): Set<string> {
  return new Set([
    ...s.links.map((l) => `link ${l.name}`),
    ...s.routes.map((r) => `route ${routeKey(r)} ${r.dev} ${r.gateway ?? ''}`),
    ...s.rules.map((r) => `rule ${ruleKey(r)}`),
    ...s.proxies.map((p) => `proxy ${proxyKey(p)}`),
    ...s.addresses.map((a) => `address ${a.dev} ${a.address}/${a.prefix}`),
  ]);
}

// ---- a node: two ENIs, a primary NIC; pods as their ADD left them ----

const ENIS = [
  { id: 'eni-1', mac: '02:aa:00:00:00:01', nic: 'eth1', index: 3, net: 16 },
  { id: 'eni-2', mac: '02:aa:00:00:00:02', nic: 'eth2', index: 4, net: 32 },
];

function baseNode(): Snapshot {
  return {
    ...structuredClone(EMPTY_SNAPSHOT),
    links: [link({ name: 'lo', index: 1 }), link({ name: 'eth0', index: 2, mac: '02:00:00:00:00:10' }), ...ENIS.map((e) => link({ name: e.nic, index: e.index, mac: e.mac, kind: 'veth', up: false }))],
    addresses: [{ dev: 'eth0', address: '192.168.0.10', prefix: 24, scope: 0 }],
    routes: [{ table: 254, dst: '0.0.0.0/0', gateway: '192.168.0.1', dev: 'eth0', scope: 0, protocol: 3, type: 1, onlink: false }],
    rules: [
      { priority: 0, src: undefined, dst: undefined, table: 255, protocol: 2 },
      { priority: 32766, src: undefined, dst: undefined, table: 254, protocol: 2 },
    ],
    netconf: [
      { dev: 'all', forwarding: false, rpFilter: 1 },
      { dev: 'default', forwarding: false, rpFilter: 1 },
    ],
  };
}

interface PodSpec {
  mode: Attachment['mode'];
  eni: number;
}

/** Shared pods use the two ENIs; each exclusive pod has its own ENI, which ADD moved out of the node. */
function attachments(pods: PodSpec[]): Attachment[] {
  return pods.map((p, i) => {
    if (p.mode === 'exclusive') {
      return { podUID: `pod-${i}`, namespace: 'ns', name: `p${i}`, mode: p.mode, ip: `10.0.48.${10 + i}/20`, gateway: '10.0.48.1', eniID: `eni-x${i}`, mac: `02:bb:00:00:00:${String(10 + i)}` };
    }
    const eni = ENIS[p.eni]!;
    return { podUID: `pod-${i}`, namespace: 'ns', name: `p${i}`, mode: p.mode, ip: `10.0.${eni.net}.${10 + i}/20`, gateway: `10.0.${eni.net}.1`, eniID: eni.id, mac: eni.mac };
  });
}

/** What the node holds right after the ADDs created the host links (the rest is for plan to fill in). */
function afterAdds(atts: Attachment[]): Snapshot {
  const s = baseNode();
  let index = 10;
  for (const a of atts) {
    if (a.mode === 'veth') s.links.push(link({ name: vethHostName(a.podUID), index: index++, kind: 'veth', up: false, linkElsewhere: true }));
    if (a.mode === 'exclusive') s.links.push(link({ name: exclusiveHostName(a.podUID), index: index++, kind: 'veth', up: false, linkElsewhere: true }));
  }
  return s;
}

const podSpecs = fc.array(fc.record({ mode: fc.constantFrom<Attachment['mode']>('veth', 'ipvlan', 'exclusive'), eni: fc.integer({ min: 0, max: 1 }) }), { maxLength: 8 });

/** Damage to a healthy node: delete some of its objects, take links down, add orphans. */
const damage: fc.Arbitrary<Damage> = fc.record({
  dropRoutes: fc.array(fc.nat(), { maxLength: 4 }),
  dropRules: fc.array(fc.nat(), { maxLength: 4 }),
  dropProxies: fc.array(fc.nat(), { maxLength: 2 }),
  downLinks: fc.array(fc.nat(), { maxLength: 2 }),
  orphanPods: fc.array(fc.constantFrom<Attachment['mode']>('veth', 'exclusive'), { maxLength: 3 }),
  strayRule: fc.boolean(),
  strayTable: fc.boolean(),
});

function pick<T>(xs: T[], picks: number[]): T[] {
  return xs.length === 0 ? [] : [...new Set(picks.map((p) => xs[p % xs.length]!))];
}

interface Damage {
  dropRoutes: number[];
  dropRules: number[];
  dropProxies: number[];
  downLinks: number[];
  orphanPods: Attachment['mode'][];
  strayRule: boolean;
  strayTable: boolean;
}

function damaged(healthy: Snapshot, d: Damage): Snapshot {
  const s = structuredClone(healthy);
  const ownedRoutes = s.routes.filter((r) => r.protocol === OWNED_PROTOCOL);
  const dropR = new Set(pick(ownedRoutes, d.dropRoutes));
  s.routes = s.routes.filter((r) => !dropR.has(r));
  const dropRules = new Set(pick(s.rules.filter((r) => r.protocol === OWNED_PROTOCOL), d.dropRules));
  s.rules = s.rules.filter((r) => !dropRules.has(r));
  const dropP = new Set(pick(s.proxies, d.dropProxies));
  s.proxies = s.proxies.filter((p) => !dropP.has(p));
  const down = new Set(pick(s.links.filter((l) => l.name.startsWith('eo')), d.downLinks).map((l) => l.name));
  s.links = s.links.map((l) => (down.has(l.name) ? { ...l, up: false } : l));
  d.orphanPods.forEach((mode, i) => {
    const name = mode === 'veth' ? vethHostName(`gone-${i}`) : exclusiveHostName(`gone-${i}`);
    s.links.push(link({ name, index: 100 + i, kind: 'veth' }));
    s.routes.push({ table: 254, dst: `10.0.16.${200 + i}/32`, dev: name, gateway: undefined, scope: 253, protocol: OWNED_PROTOCOL, type: 1, onlink: false });
    s.rules.push({ priority: 2000, src: undefined, dst: `10.0.16.${200 + i}/32`, table: 254, protocol: OWNED_PROTOCOL });
    s.proxies.push({ dst: `10.0.16.${200 + i}`, dev: 'eth1', protocol: OWNED_PROTOCOL });
  });
  if (d.strayRule) s.rules.push({ priority: 2100, src: '10.0.16.250/32', dst: undefined, table: 10077, protocol: 0 });
  if (d.strayTable) s.routes.push({ table: 10077, dst: '0.0.0.0/0', gateway: '10.0.16.1', dev: 'eth1', scope: 0, protocol: 3, type: 1, onlink: false });
  return s;
}

test('from the state ADD leaves, one plan converges: a second plan is empty', () => {
  fc.assert(
    fc.property(podSpecs, (pods) => {
      const atts = attachments(pods);
      const start = afterAdds(atts);
      const p = plan(atts, start);
      expect(p.problems).toEqual([]);
      expect(plan(atts, execute(start, p.actions))).toEqual({ actions: [], problems: [] });
    }),
  );
});

test('from any drift, one plan converges, deletes nothing a desired pod uses, and leaves no orphan', () => {
  fc.assert(
    fc.property(podSpecs, damage, (pods, d) => {
      const atts = attachments(pods);
      const healthy = execute(afterAdds(atts), plan(atts, afterAdds(atts)).actions);
      const broken = damaged(healthy, d);
      const p = plan(atts, broken);
      const repaired = execute(broken, p.actions);
      expect(plan(atts, repaired)).toEqual({ actions: [], problems: [] });
      // Everything the healthy node had is still (or again) there: nothing wanted was deleted for good.
      const after = objectKeys(repaired);
      for (const key of objectKeys(healthy)) expect(after).toContain(key);
      // And deletions only hit objects the healthy node did not have.
      const wanted = objectKeys(healthy);
      for (const a of p.actions) {
        if (a.kind === 'link-delete') expect(wanted.has(`link ${a.dev}`)).toBe(false);
        if (a.kind === 'rule-delete') expect(wanted.has(`rule ${ruleKey(a.rule)}`)).toBe(false);
        if (a.kind === 'proxy-delete') expect(wanted.has(`proxy ${proxyKey(a.proxy)}`)).toBe(false);
      }
      expect(ownedObjects(repaired).sort()).toEqual(ownedObjects(healthy).sort());
    }),
  );
});

test('with no attachments left, the plan removes everything the agent owns and nothing else', () => {
  fc.assert(
    fc.property(podSpecs, (pods) => {
      const atts = attachments(pods);
      const healthy = execute(afterAdds(atts), plan(atts, afterAdds(atts)).actions);
      const empty = execute(healthy, plan([], healthy).actions);
      expect(ownedObjects(empty)).toEqual([]);
      const base = baseNode();
      expect(empty.rules).toEqual(base.rules);
      expect(empty.links.map((l) => l.name)).toEqual(base.links.map((l) => l.name));
    }),
  );
});

test('an exclusive ENI left marked in the node goes back to the pool; if its pod is still planned it is reported', () => {
  const s = baseNode();
  s.links.push(link({ name: 'eth0x', index: 20, mac: '02:aa:00:00:00:09', alias: exclusiveAlias('pod-x', 'ens9'), up: true }));
  s.addresses.push({ dev: 'eth0x', address: '10.0.48.5', prefix: 20, scope: 0 });
  expect(plan([], s).actions).toEqual([{ kind: 'eni-release', dev: 'eth0x', name: 'ens9', why: expect.any(String) as unknown }]);
  const planned: Attachment = { podUID: 'pod-x', namespace: 'n', name: 'x', mode: 'exclusive', ip: '10.0.48.5/20', gateway: '10.0.48.1', eniID: 'eni-9', mac: '02:aa:00:00:00:09' };
  const p = plan([planned], s);
  expect(p.problems.map((x) => x.problem)).toEqual(expect.arrayContaining([expect.stringContaining('exclusive ENI eni-9 is in the node namespace')]));
  expect(p.actions.some((a) => a.kind === 'eni-release')).toBe(false);
});

test('an attachment that fails validation is reported and its kernel objects are kept', () => {
  const atts = attachments([{ mode: 'veth', eni: 0 }]);
  const healthy = execute(afterAdds(atts), plan(atts, afterAdds(atts)).actions);
  const bad = { ...atts[0]!, gateway: 'not-an-ip' };
  const p = plan([bad], healthy);
  expect(p.problems).toEqual([{ podUID: 'pod-0', problem: expect.stringContaining('gateway') as unknown }]);
  expect(p.actions.filter((a) => a.kind === 'link-delete' || a.kind === 'rule-delete' || a.kind === 'proxy-delete')).toEqual([]);
});
