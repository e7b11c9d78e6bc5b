// The plugin exec'd the way a runtime does it (CNI_* env, configuration on
// stdin), for what cnitool cannot send: malformed input, and an agent that is
// down or hangs. Exit status and the error object's code are the contract.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startCniServer, type CniHandler, type CniServer } from '../../src/agent/cni-server.js';
import { FakeAgent } from './fake-agent.js';
import { CniWorld, run, sweepStaleLeftovers, type Exec } from './kit.js';
import { errorSchema } from './result-schema.js';
import { schemaProblems } from './validate.js';

let world: CniWorld;
let agent: FakeAgent;
let server: CniServer;
let netns: string;

const ARGS = 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=db-0';
const env = (extra: Record<string, string> = {}): Record<string, string> => ({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'ctr-exec-1', CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_ARGS: ARGS, ...extra });

function cniError(out: Exec): { cniVersion: string; code: number; msg: string; details?: string } {
  expect(out.code).not.toBe(0);
  const e = JSON.parse(out.stdout) as unknown;
  expect(schemaProblems(errorSchema, e)).toEqual([]);
  return e as { cniVersion: string; code: number; msg: string; details?: string };
}

beforeAll(async () => {
  await sweepStaleLeftovers();
  world = new CniWorld();
  agent = new FakeAgent();
  server = await startCniServer(world.socket, agent);
  netns = await world.addNamespace();
});

afterAll(async () => {
  await server?.close();
  await world?.cleanup();
  expect(await world.namespacesLeft()).toEqual([]);
});

beforeEach(() => {
  agent.calls.length = 0;
});

test('a direct ADD and DEL work and print what the spec says', async () => {
  const add = await world.plugin(env(), JSON.stringify(world.pluginConfig()));
  expect(add).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(add.stdout)).toMatchObject({ cniVersion: '1.0.0', ips: [{ address: expect.stringMatching(/^192\.0\.2\.\d+\/32$/) as unknown }] });
  expect(await world.plugin(env({ CNI_COMMAND: 'DEL' }), JSON.stringify(world.pluginConfig()))).toMatchObject({ code: 0, stdout: '' });
});

test('malformed configuration: the right code, and the agent is never asked', async () => {
  const conf = world.pluginConfig();
  const cases: [string, string, number][] = [
    ['not JSON', '{"cniVersion": "1.0.0", "name": ', 6],
    ['empty stdin', '', 6],
    ['a JSON array', '[]', 6],
    ['old cniVersion', JSON.stringify({ ...conf, cniVersion: '0.4.0' }), 1],
    ['no cniVersion', JSON.stringify({ ...conf, cniVersion: undefined }), 1],
    ['no name', JSON.stringify({ ...conf, name: undefined }), 7],
    ['unknown type', JSON.stringify({ ...conf, type: 'macvlan' }), 7],
    ['relative agentSocket', JSON.stringify({ ...conf, agentSocket: 'agent.sock' }), 7],
    ['an ipam section', JSON.stringify({ ...conf, ipam: { type: 'host-local' } }), 2],
  ];
  for (const [what, stdin, code] of cases) {
    const e = cniError(await world.plugin(env(), stdin));
    expect([what, e.code]).toEqual([what, code]);
  }
  expect(agent.calls).toEqual([]);
});

test('malformed CNI_* variables are code 4 naming the variable; the agent is never asked', async () => {
  const conf = JSON.stringify(world.pluginConfig());
  const cases: [Record<string, string>, string][] = [
    [{ CNI_CONTAINERID: '' }, 'CNI_CONTAINERID'],
    [{ CNI_CONTAINERID: '../etc' }, 'CNI_CONTAINERID'],
    [{ CNI_IFNAME: 'this-name-is-too-long' }, 'CNI_IFNAME'],
    [{ CNI_NETNS: '' }, 'CNI_NETNS'],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE' }, 'CNI_ARGS'],
    [{ CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=db-0;EXTRA=1' }, 'CNI_ARGS'],
    [{ CNI_ARGS: '' }, 'K8S_POD_NAMESPACE'],
    [{ CNI_COMMAND: 'REPAIR' }, 'CNI_COMMAND'],
  ];
  for (const [extra, variable] of cases) {
    const e = cniError(await world.plugin(env(extra), conf));
    expect([extra, e.code]).toEqual([extra, 4]);
    expect(e.msg).toContain(variable);
  }
  expect(agent.calls).toEqual([]);
});

test('VERSION needs no agent and lists what the plugin speaks', async () => {
  const out = await world.plugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
  expect(out.code).toBe(0);
  expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '1.0.0', supportedVersions: ['1.0.0', '1.1.0'] });
});

describe('agent down', () => {
  // Two ways to be down: no socket file at all, and a socket file nobody listens on (a crashed agent).
  const missing = () => join(world.dir, 'nowhere', 'agent.sock');
  async function staleSocket(): Promise<string> {
    const path = join(world.dir, 'stale', 'agent.sock');
    if (existsSync(path)) return path;
    mkdirSync(dirname(path), { recursive: true });
    // A listener killed with SIGKILL leaves its socket file behind, as a crashed agent does.
    await run(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], {}, '');
    expect(existsSync(path)).toBe(true);
    return path;
  }

  test('ADD and CHECK: 11 (try again later); STATUS: 50; DEL and GC: success with a warning', async () => {
    for (const socket of [missing(), await staleSocket()]) {
      const conf = (v = '1.0.0', extra = {}) => JSON.stringify(world.pluginConfig(v, { agentSocket: socket, ...extra }));
      const add = cniError(await world.plugin(env(), conf()));
      expect([socket, add.code, add.msg]).toEqual([socket, 11, 'the eni-operator agent is not running']);
      const prevResult = { cniVersion: '1.0.0', ips: [{ address: '192.0.2.9/32' }] };
      expect(cniError(await world.plugin(env({ CNI_COMMAND: 'CHECK' }), conf('1.0.0', { prevResult }))).code).toBe(11);
      expect(cniError(await world.plugin({ CNI_COMMAND: 'STATUS' }, conf('1.1.0'))).code).toBe(50);
      const del = await world.plugin(env({ CNI_COMMAND: 'DEL' }), conf());
      expect(del).toMatchObject({ code: 0, stdout: '' });
      expect(del.stderr).toContain('DEL succeeded without the agent');
      expect(await world.plugin({ CNI_COMMAND: 'GC' }, conf('1.1.0'))).toMatchObject({ code: 0, stdout: '' });
    }
    expect(agent.calls).toEqual([]);
  });
});

test('an agent that does not answer in time: 11, also for DEL; the handler sees the plugin leave', async () => {
  const aborted: string[] = [];
  const hanging: CniHandler = {
    add: (req, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => (aborted.push(req.command), reject(new Error('aborted'))))),
    del: (req, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => (aborted.push(req.command), reject(new Error('aborted'))))),
    check: () => Promise.resolve(),
  };
  const socket = join(world.dir, 'slow', 'agent.sock');
  const slow = await startCniServer(socket, hanging);
  try {
    const conf = JSON.stringify(world.pluginConfig('1.0.0', { agentSocket: socket, timeoutMs: 300 }));
    const add = await world.plugin(env({ CNI_CONTAINERID: 'slow-1' }), conf);
    expect(cniError(add)).toMatchObject({ code: 11, msg: 'the eni-operator agent did not answer in time' });
    expect(add.ms).toBeGreaterThanOrEqual(300);
    expect(cniError(await world.plugin(env({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'slow-2' }), conf)).code).toBe(11);
    const until = Date.now() + 2000;
    while (aborted.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(aborted).toEqual(['ADD', 'DEL']);
  } finally {
    await slow.close();
  }
});
