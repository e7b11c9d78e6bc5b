// The CNI reference driver (cnitool, pinned in tools/cnitool) runs ADD, CHECK,
// DEL, STATUS and GC through the real eni-cni plugin, exec'd from a temporary
// CNI_PATH, against a real agent socket served in this process.
import { startCniServer, type CniServer } from '../../src/agent/cni-server.js';
import { CniCode, CniError } from '../../src/cni/errors.js';
import type { CniRequest } from '../../src/cni/protocol.js';
import { FakeAgent } from './fake-agent.js';
import { CniWorld, sweepStaleLeftovers } from './kit.js';
import { resultSchema } from './result-schema.js';
import { schemaProblems } from './validate.js';

const POD_ARGS = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_UID=6f1c2b9e-0d3a-4c7e-9b8a-1f2e3d4c5b6a';

let world: CniWorld;
let agent: FakeAgent;
let server: CniServer;

beforeAll(async () => {
  await sweepStaleLeftovers();
  world = new CniWorld();
  agent = new FakeAgent();
  server = await startCniServer(world.socket, agent);
});

afterAll(async () => {
  await server?.close();
  await world?.cleanup();
  expect(await world.namespacesLeft()).toEqual([]);
});

beforeEach(() => {
  agent.calls.length = 0;
});

test('1.0.0: ADD result is schema-valid, CHECK passes against prevResult, DEL removes', async () => {
  const net = world.writeConflist('1.0.0');
  const netns = await world.addNamespace();
  const add = await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS });
  expect(add).toMatchObject({ code: 0, stderr: '' });
  const result = JSON.parse(add.stdout) as { cniVersion: string; ips: { address: string }[]; interfaces: { sandbox?: string }[] };
  expect(schemaProblems(resultSchema('1.0.0'), result)).toEqual([]);
  expect(result.cniVersion).toBe('1.0.0');
  expect(result.interfaces[1]!.sandbox).toBe(netns);

  const req = agent.calls[0]!.req as CniRequest;
  expect(req).toMatchObject({ command: 'ADD', netns, ifName: 'eth0', podNamespace: 'shop', podName: 'web-0', podUID: '6f1c2b9e-0d3a-4c7e-9b8a-1f2e3d4c5b6a' });
  expect(req.containerID).toMatch(/^cnitool-[0-9a-f]{20}$/);
  expect(req.config).toMatchObject({ name: net, agentSocket: world.socket, timeoutMs: 5000 });

  // libcni passes the cached ADD result as prevResult; the handler compares against it.
  expect(await world.cnitool(['check', net, netns], { CNI_ARGS: POD_ARGS })).toMatchObject({ code: 0, stdout: '' });
  expect((agent.calls[1]!.req as CniRequest).config.prevResult?.ips).toEqual(result.ips);

  expect(await world.cnitool(['del', net, netns], { CNI_ARGS: POD_ARGS })).toMatchObject({ code: 0, stdout: '' });
  expect(agent.attachments.size).toBe(0);
  expect(agent.commands()).toEqual(['ADD', 'CHECK', 'DEL']);
});

test('CHECK reports what the handler finds broken', async () => {
  const net = world.writeConflist('1.0.0');
  const netns = await world.addNamespace();
  expect((await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS })).code).toBe(0);
  agent.attachments.clear(); // the datapath vanished behind the runtime's back
  const check = await world.cnitool(['check', net, netns], { CNI_ARGS: POD_ARGS });
  expect(check.code).not.toBe(0);
  expect(check.stderr).toContain('no such attachment');
  expect((await world.cnitool(['del', net, netns])).code).toBe(0);
});

test('ADD twice for the same container gives the same result; DEL twice and DEL of the unknown succeed', async () => {
  const net = world.writeConflist('1.0.0');
  const netns = await world.addNamespace();
  const first = await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS });
  const second = await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS });
  expect([first.code, second.code]).toEqual([0, 0]);
  expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
  for (let i = 0; i < 2; i++) expect((await world.cnitool(['del', net, netns])).code).toBe(0);

  const never = await world.addNamespace();
  expect(await world.cnitool(['del', net, never])).toMatchObject({ code: 0, stdout: '' });
  expect(agent.commands()).toEqual(['ADD', 'ADD', 'DEL', 'DEL', 'DEL']);
});

test('ADD into a namespace that does not exist: the handler\'s error reaches the runtime', async () => {
  const net = world.writeConflist('1.0.0');
  const add = await world.cnitool(['add', net, `/run/netns/${world.id}-missing`], { CNI_ARGS: POD_ARGS });
  expect(add.code).not.toBe(0);
  expect(add.stderr).toContain('the network namespace does not exist');
});

test('1.1.0: result keeps the 1.1 fields; STATUS reflects readiness; GC deletes stale attachments then GCs', async () => {
  const net = world.writeConflist('1.1.0');
  const netns = await world.addNamespace();
  const add = await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS });
  expect(add.code).toBe(0);
  const result = JSON.parse(add.stdout) as { interfaces: { mtu?: number }[]; routes: { priority?: number }[] };
  expect(schemaProblems(resultSchema('1.1.0'), result)).toEqual([]);
  expect(schemaProblems(resultSchema('1.0.0'), { ...result, cniVersion: '1.0.0' })).not.toEqual([]); // the schemas tell the versions apart
  expect([result.interfaces[0]!.mtu, result.routes[0]!.priority]).toEqual([1500, 10]);

  expect(await world.cnitool(['status', net, netns])).toMatchObject({ code: 0 });
  agent.notReady = new CniError(CniCode.PluginNotAvailable, 'no free addresses on this node');
  const status = await world.cnitool(['status', net, netns]);
  agent.notReady = undefined;
  expect(status.code).not.toBe(0);
  expect(status.stderr).toContain('no free addresses on this node');

  // cnitool gc passes no valid attachments: libcni DELs every cached attachment of the network, then sends GC.
  agent.calls.length = 0;
  expect((await world.cnitool(['gc', net, netns])).code).toBe(0);
  expect(agent.commands()).toEqual(['DEL', 'GC']);
  expect(agent.attachments.size).toBe(0);
});

test('agent down, as the runtime sees it: ADD fails (try again later), DEL succeeds', async () => {
  const net = world.writeConflist('1.0.0', { agentSocket: `${world.dir}/down/agent.sock` });
  const netns = await world.addNamespace();
  const add = await world.cnitool(['add', net, netns], { CNI_ARGS: POD_ARGS });
  expect(add.code).not.toBe(0);
  expect(add.stderr).toContain('the eni-operator agent is not running');
  const del = await world.cnitool(['del', net, netns], { CNI_ARGS: POD_ARGS });
  expect(del.code).toBe(0);
  expect(del.stderr).toContain('DEL succeeded without the agent');
  expect(agent.calls).toEqual([]);
});
