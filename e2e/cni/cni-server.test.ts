// The agent's CNI server on a real unix socket: file modes, stale sockets,
// ordering per container, error mapping, metrics and graceful close. Requests
// go through the plugin's own client (postToAgent), as the plugin sends them.
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Registry } from 'prom-client';
import { startCniServer, type CniHandler, type CniRequest } from '../../src/agent/cni-server.js';
import { postToAgent, type AgentResponse } from './agent-client.js';
import { CniCode, CniError } from '../../src/cni/errors.js';
import { commandPath, wireRequest, type AgentCommand } from '../../src/cni/protocol.js';
import { CniMetrics } from '../../src/metrics/cni.js';
import { ownedTempDir, run, sweepStaleLeftovers } from './kit.js';

const dirs: string[] = [];
beforeAll(() => sweepStaleLeftovers());
function socketPath(): string {
  const dir = ownedTempDir();
  dirs.push(dir);
  return join(dir, 'run', 'agent.sock');
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const CONFIG = { cniVersion: '1.0.0', name: 'eni', type: 'eni-cni', timeoutMs: 5000 };
const RESULT = { interfaces: [{ name: 'eth0', sandbox: '/run/netns/x', mtu: 9000 }], ips: [{ address: '192.0.2.7/32', interface: 0 }], routes: [{ dst: '0.0.0.0/0', table: 7 }] };

function send(socket: string, command: AgentCommand, containerID = 'c1', config: Record<string, unknown> = CONFIG): Promise<AgentResponse> {
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: containerID, CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=p' };
  return postToAgent(socket, commandPath(command), JSON.stringify(wireRequest(env, config)), 5000);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ok: CniHandler = { add: () => Promise.resolve(RESULT), del: () => Promise.resolve(), check: () => Promise.resolve() };

test('socket 0600 in a 0700 directory (tightened if it existed looser), removed on close', async () => {
  const path = socketPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  chmodSync(dirname(path), 0o755); // as a kubelet hostPath DirectoryOrCreate leaves it
  const server = await startCniServer(path, ok);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
  await server.close();
  expect(existsSync(path)).toBe(false);
});

test('a stale socket is replaced; a live one, a non-socket file and a shared directory are refused', async () => {
  const path = socketPath();
  mkdirSync(dirname(path), { recursive: true });
  await run(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], {}, '');
  expect(statSync(path).isSocket()).toBe(true);
  const server = await startCniServer(path, ok);
  expect((await send(path, 'ADD')).status).toBe(200);
  await expect(startCniServer(path, ok)).rejects.toThrow(/already listens/);
  await server.close();

  writeFileSync(path, 'not a socket');
  await expect(startCniServer(path, ok)).rejects.toThrow(/is not a socket/);
  await expect(startCniServer(join(tmpdir(), 'eni-cni-shared.sock'), ok)).rejects.toThrow(/directory of its own/);
});

test('ADD result: checked, stamped with the request version, 1.1 fields dropped for 1.0.0', async () => {
  const path = socketPath();
  let result: unknown = RESULT;
  const server = await startCniServer(path, { ...ok, add: () => Promise.resolve(result as typeof RESULT) });
  try {
    const v100 = await send(path, 'ADD');
    expect(JSON.parse(v100.body)).toEqual({ cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }], ips: RESULT.ips, routes: [{ dst: '0.0.0.0/0' }] });
    const v110 = await send(path, 'ADD', 'c1', { ...CONFIG, cniVersion: '1.1.0' });
    expect(JSON.parse(v110.body)).toEqual({ cniVersion: '1.1.0', ...RESULT });
    result = { ips: [{ address: 'not-a-cidr' }] };
    const bad = await send(path, 'ADD');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.body)).toMatchObject({ code: CniCode.AgentInternal, msg: 'the agent produced an invalid ADD result' });
  } finally {
    await server.close();
  }
});

test('handler errors: CniError passes through, anything else is code 100; bad requests never reach the handler', async () => {
  const path = socketPath();
  let calls = 0;
  const server = await startCniServer(path, {
    add: () => (calls++, Promise.reject(new CniError(CniCode.TryAgainLater, 'address not planned yet', 'pod default/p'))),
    del: () => (calls++, Promise.reject(new TypeError('x is undefined'))),
    check: () => Promise.resolve(),
  });
  try {
    const add = await send(path, 'ADD');
    expect([add.status, JSON.parse(add.body)]).toEqual([503, { code: 11, msg: 'address not planned yet', details: 'pod default/p' }]);
    const del = await send(path, 'DEL');
    expect(JSON.parse(del.body)).toEqual({ code: 100, msg: 'internal error', details: 'x is undefined' });
    expect(calls).toBe(2);

    const raw = (p: string, body: string) => postToAgent(path, p, body, 5000);
    expect(JSON.parse((await raw('/v1/cni/add', '{')).body)).toMatchObject({ code: 6 });
    expect(JSON.parse((await raw('/v1/cni/add', JSON.stringify({ ...wireRequest({ CNI_COMMAND: 'ADD' }, CONFIG), protocol: 9 }))).body)).toMatchObject({ code: 1 });
    expect(JSON.parse((await raw('/v1/cni/add', JSON.stringify(wireRequest({ CNI_COMMAND: 'ADD' }, CONFIG)))).body)).toMatchObject({ code: 4 });
    expect(JSON.parse((await raw('/v2/whatever', '{}')).body)).toMatchObject({ code: 101 });
    expect(JSON.parse((await send(path, 'CHECK')).body)).toMatchObject({ code: 7, msg: 'CHECK needs prevResult' });
    expect(calls).toBe(2);
  } finally {
    await server.close();
  }
});

test('one request per container at a time, others in parallel, at most maxConcurrent handlers', async () => {
  const path = socketPath();
  const gate = deferred();
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const slow = async (req: CniRequest) => {
    log.push(`${req.command} ${req.containerID} start`);
    peak = Math.max(peak, ++running);
    await gate.promise;
    running--;
    log.push(`${req.command} ${req.containerID} end`);
  };
  const server = await startCniServer(path, { add: async (r) => (await slow(r), RESULT), del: slow, check: () => Promise.resolve() }, { maxConcurrent: 2 });
  try {
    const a1 = send(path, 'ADD', 'a');
    const a2 = send(path, 'DEL', 'a');
    const b = send(path, 'ADD', 'b');
    const c = send(path, 'ADD', 'c');
    const until = Date.now() + 3000;
    while (log.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    expect(log.sort()).toEqual(['ADD a start', 'ADD b start']);
    gate.resolve();
    const answers = await Promise.all([a1, a2, b, c]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(log.indexOf('DEL a start')).toBeGreaterThan(log.indexOf('ADD a end'));
    expect(peak).toBe(2);
  } finally {
    await server.close();
  }
});

test('metrics count requests by command and result and time them', async () => {
  const path = socketPath();
  const registry = new Registry();
  const server = await startCniServer(path, { ...ok, del: () => Promise.reject(new CniError(11, 'busy')) }, { metrics: new CniMetrics(registry) });
  try {
    await send(path, 'ADD');
    await send(path, 'ADD');
    await send(path, 'DEL');
  } finally {
    await server.close();
  }
  const text = await registry.metrics();
  expect(text).toContain('eni_operator_cni_requests_total{command="ADD",result="ok",code="0"} 2');
  expect(text).toContain('eni_operator_cni_requests_total{command="DEL",result="error",code="11"} 1');
  expect(text).toContain('eni_operator_cni_request_duration_seconds_count{command="ADD",result="ok"} 2');
  expect(text).toContain('eni_operator_cni_requests_in_flight 0');
  expect(text).toContain('eni_operator_cni_requests_queued 0');
});

test('close: the running request is answered, the queued one gets 11, new connections are refused', async () => {
  const path = socketPath();
  const gate = deferred();
  let started = 0;
  const server = await startCniServer(path, { ...ok, add: async () => (started++, await gate.promise, RESULT) });
  const running = send(path, 'ADD', 'same');
  const queued = send(path, 'ADD', 'same');
  while (started === 0) await new Promise((r) => setTimeout(r, 10));
  const closing = server.close();
  await new Promise((r) => setTimeout(r, 50));
  gate.resolve();
  await closing;
  expect((await running).status).toBe(200);
  const q = await queued;
  expect([q.status, JSON.parse(q.body)]).toEqual([503, { code: 11, msg: 'the agent is shutting down' }]);
  expect(started).toBe(1);
  expect(existsSync(path)).toBe(false);
  await expect(send(path, 'ADD')).rejects.toMatchObject({ kind: 'unreachable' });
});

test('close aborts handlers that outlive the grace period', async () => {
  const path = socketPath();
  let signal: AbortSignal | undefined;
  const server = await startCniServer(path, { ...ok, add: (_r, ctx) => ((signal = ctx.signal), new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new CniError(11, 'stopped'))))) }, { closeTimeoutMs: 100 });
  const pending = send(path, 'ADD').catch((e: unknown) => e);
  while (!signal) await new Promise((r) => setTimeout(r, 10));
  const t0 = Date.now();
  await server.close();
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(signal.aborted).toBe(true);
  await pending;
});
