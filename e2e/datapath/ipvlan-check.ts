// End-to-end check of the ipvlan datapath, for a kernel that has ipvlan (this
// project's CI kernel does not: run it in the QEMU guest, e2e/guest/guest.ts):
//
//   node dist/e2e/datapath/ipvlan-check.js
//
// Builds the same throwaway node as the other datapath tests (two fake ENIs
// behind an anti-spoofing VPC router), wires three ipvlan pods, and proves with
// real TCP and UDP: pod ↔ VPC peer, pod ↔ node, pod ↔ pod on one ENI and across
// ENIs; then ADD twice, CHECK, DEL and the repair leave nothing behind.
// Prints one line per check; exits 0 when all pass, 1 when one fails, 2 when
// the kernel has no ipvlan.
import { isDeepStrictEqual } from 'node:util';
import { Datapath, ipvlanHostName, ipvlanSupported, ownedObjects, probeLinkKind } from '../../src/agent/datapath/index.js';
import { NODE_IP, PEER_IP, Topology, type Eni } from './topology.js';
import { EchoServers, request, type Reply } from './traffic.js';

let failures = 0;

function check(name: string, ok: boolean, detail?: unknown): void {
  if (!ok) failures++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok || detail === undefined ? '' : ` (${JSON.stringify(detail)})`}`);
}

function answered(reply: Reply, from: string): boolean {
  return reply.ok && reply.from === from;
}

async function main(): Promise<number> {
  if (!(await ipvlanSupported())) {
    console.log(`not ok - this kernel has no ipvlan: ${(await probeLinkKind('ipvlan')).detail}`);
    return 2;
  }
  const topo = await Topology.create();
  const echo = new EchoServers();
  try {
    const dp = new Datapath({ node: topo.node });
    const [eni1, eni2] = topo.enis as [Eni, Eni];
    const ips = { a: '10.0.16.5', b: '10.0.16.6', c: '10.0.32.7' };
    const pods = { a: await topo.addPod('a'), b: await topo.addPod('b'), c: await topo.addPod('c') };
    const atts = {
      a: topo.attachment('uid-a', 'ipvlan', eni1, ips.a),
      b: topo.attachment('uid-b', 'ipvlan', eni1, ips.b),
      c: topo.attachment('uid-c', 'ipvlan', eni2, ips.c),
    };
    await topo.assign(eni1, ips.a);
    await topo.assign(eni1, ips.b);
    await topo.assign(eni2, ips.c);
    const sandbox = (p: keyof typeof pods) => ({ netns: pods[p].path, ifName: 'eth0' });
    // a and b at once: they race to create their ENI's host slave.
    const [resA] = await Promise.all([dp.apply(atts.a, sandbox('a')), dp.apply(atts.b, sandbox('b'))]);
    await dp.apply(atts.c, sandbox('c'));
    check('ADD result names the ipvlan interface in the pod with the ENI MAC', isDeepStrictEqual(resA.interfaces, [{ name: 'eth0', mac: eni1.mac, sandbox: pods.a.path }]), resA.interfaces);
    check('ADD result has the subnet-prefixed address and gateway', isDeepStrictEqual(resA.ips, [{ address: `${ips.a}/20`, gateway: eni1.gateway, interface: 0 }]), resA.ips);
    const kind = JSON.parse(await topo.ip(pods.a.name, ['-j', '-d', 'link', 'show', 'eth0'])) as { linkinfo?: { info_kind?: string; info_data?: { mode?: string } } }[];
    check('the pod interface is an ipvlan slave in L2 mode', kind[0]?.linkinfo?.info_kind === 'ipvlan' && kind[0]?.linkinfo?.info_data?.mode === 'l2', kind[0]?.linkinfo);
    check('the node has one host slave per ENI', (await topo.ip(topo.nodeName, ['-br', 'link'])).includes(ipvlanHostName(eni1.mac)));

    for (const ns of [topo.peerName, topo.nodeName, pods.a.name, pods.b.name, pods.c.name]) await echo.start(ns);
    for (const proto of ['tcp', 'udp'] as const) {
      check(`${proto}: pod → VPC peer, seen with the pod's address`, answered(await request(pods.a.name, proto, PEER_IP), ips.a));
      check(`${proto}: VPC peer → pod`, answered(await request(topo.peerName, proto, ips.a), PEER_IP));
      check(`${proto}: pod on ENI 2 → VPC peer`, answered(await request(pods.c.name, proto, PEER_IP), ips.c));
      check(`${proto}: pod → node`, answered(await request(pods.a.name, proto, NODE_IP), ips.a));
      check(`${proto}: node → pod`, (await request(topo.nodeName, proto, ips.a)).ok);
      check(`${proto}: pod → pod on the same ENI`, answered(await request(pods.a.name, proto, ips.b), ips.a));
      check(`${proto}: pod → pod on another ENI`, answered(await request(pods.a.name, proto, ips.c), ips.a));
      check(`${proto}: pod on ENI 2 → pod on ENI 1`, answered(await request(pods.c.name, proto, ips.b), ips.c));
    }
    check('nothing was dropped as spoofed', (await topo.counter('spoofed')) === 0);

    const again = await dp.apply(atts.a, sandbox('a'));
    check('ADD twice gives the same result', isDeepStrictEqual(again, resA), again);
    check('CHECK finds nothing wrong', (await dp.check(atts.a, sandbox('a'))).length === 0, await dp.check(atts.a, sandbox('a')));
    await topo.ip(pods.a.name, ['route', 'del', 'default']);
    const problems = await dp.check(atts.a, sandbox('a'));
    check('CHECK reports a deleted default route', problems.length === 1 && /route 0\.0\.0\.0\/0 via 10\.0\.16\.1 dev eth0 missing/.test(problems[0] ?? ''), problems);
    await dp.apply(atts.a, sandbox('a'));
    check('ADD again repairs it', (await dp.check(atts.a, sandbox('a'))).length === 0);

    await topo.ip(topo.nodeName, ['link', 'del', ipvlanHostName(eni1.mac)]);
    const repaired = await dp.repair([atts.a, atts.b, atts.c]);
    check('repair re-creates a deleted host slave', repaired.problems.length === 0 && answered(await request(topo.nodeName, 'tcp', ips.b), NODE_IP), repaired);

    await dp.remove({ podUID: 'uid-a', netns: pods.a.path, ifName: 'eth0' }, atts.a);
    await dp.remove({ podUID: 'uid-b', netns: pods.b.path, ifName: 'eth0' });
    await dp.remove({ podUID: 'uid-c', netns: pods.c.path, ifName: 'eth0' }, atts.c);
    await dp.remove({ podUID: 'uid-c', netns: pods.c.path, ifName: 'eth0' }, atts.c);
    check('DEL removes the pod interfaces', !(await topo.ip(pods.a.name, ['-br', 'link'])).includes('eth0') && !(await topo.ip(pods.b.name, ['-br', 'link'])).includes('eth0'));
    await dp.repair([]);
    const left = ownedObjects(await dp.observe());
    check('DEL + repair leave nothing owned on the node', left.length === 0, left);
  } catch (err) {
    check('no unexpected error', false, err instanceof Error ? err.message : String(err));
  } finally {
    await echo.stopAll();
    await topo.teardown();
  }
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.log(`not ok - ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
