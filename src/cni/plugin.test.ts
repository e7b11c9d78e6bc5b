import { AgentCallError, type AgentCall, type AgentFailureKind, type AgentResponse } from './client.js';
import { CniCode } from './errors.js';
import { runPlugin, type PluginOutcome } from './plugin.js';
import type { WireRequest } from './protocol.js';

const CONF = JSON.stringify({ cniVersion: '1.0.0', name: 'eni', type: 'eni-cni', agentSocket: '/run/test/agent.sock', timeoutMs: 1234 });
const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web', CNI_PATH: '/opt/cni/bin' };
const RESULT = '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/p"}],"ips":[{"address":"10.0.0.5/32","interface":0}]}';

interface Run extends PluginOutcome {
  calls: { socket: string; path: string; body: WireRequest; timeoutMs: number }[];
  warnings: string[];
}

async function run(env: Record<string, string | undefined>, stdin: string | Error, answer: AgentResponse | AgentFailureKind = { status: 200, body: RESULT }): Promise<Run> {
  const calls: Run['calls'] = [];
  const warnings: string[] = [];
  const call: AgentCall = (socket, path, body, timeoutMs) => {
    calls.push({ socket, path, body: JSON.parse(body) as WireRequest, timeoutMs });
    return typeof answer === 'string' ? Promise.reject(new AgentCallError(answer, `simulated ${answer}`)) : Promise.resolve(answer);
  };
  const out = await runPlugin({
    env,
    readStdin: () => {
      if (stdin instanceof Error) throw stdin;
      return stdin;
    },
    call,
    warn: (m) => warnings.push(m),
  });
  return { ...out, calls, warnings };
}

function errorOf(out: PluginOutcome): { cniVersion: string; code: number; msg: string; details?: string } {
  expect(out.exitCode).not.toBe(0);
  return JSON.parse(out.stdout) as { cniVersion: string; code: number; msg: string; details?: string };
}

test('ADD forwards env and config to the socket and prints the agent result', async () => {
  const out = await run(ENV, CONF);
  expect(out).toMatchObject({ exitCode: 0, stdout: RESULT });
  expect(out.calls).toHaveLength(1);
  const [c] = out.calls;
  expect(c).toMatchObject({ socket: '/run/test/agent.sock', path: '/v1/cni/add', timeoutMs: 1234 });
  expect(c!.body).toEqual({ protocol: 1, env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web' }, config: JSON.parse(CONF) as unknown });
});

test('DEL and CHECK print nothing on success', async () => {
  for (const command of ['DEL', 'CHECK']) {
    const conf = command === 'CHECK' ? JSON.stringify({ ...(JSON.parse(CONF) as object), prevResult: JSON.parse(RESULT) as unknown }) : CONF;
    const out = await run({ ...ENV, CNI_COMMAND: command }, conf, { status: 200, body: '' });
    expect([command, out.exitCode, out.stdout]).toEqual([command, 0, '']);
    expect(out.calls[0]!.path).toBe(`/v1/cni/${command.toLowerCase()}`);
  }
});

test('bad input never reaches the agent, with the right code and version', async () => {
  const cases: [Record<string, string | undefined>, string | Error, number][] = [
    [{ ...ENV, CNI_CONTAINERID: undefined }, CONF, CniCode.InvalidEnvironment],
    [{ ...ENV, CNI_ARGS: 'garbage' }, CONF, CniCode.InvalidEnvironment],
    [{ ...ENV, CNI_COMMAND: undefined }, CONF, CniCode.InvalidEnvironment],
    [ENV, '{"cniVersion":', CniCode.DecodingFailure],
    [ENV, new Error('EIO'), CniCode.IOFailure],
    [ENV, CONF.replace('1.0.0', '0.3.1'), CniCode.IncompatibleVersion],
    [ENV, CONF.replace('"name":"eni",', ''), CniCode.InvalidNetworkConfig],
    [ENV, CONF.replace('eni-cni', 'bridge'), CniCode.InvalidNetworkConfig],
  ];
  for (const [env, stdin, code] of cases) {
    const out = await run(env, stdin);
    expect([stdin, errorOf(out).code]).toEqual([stdin, code]);
    expect(out.calls).toHaveLength(0);
  }
  // The error carries the configuration's version when it has one.
  expect(errorOf(await run(ENV, CONF.replace('1.0.0', '0.3.1'))).cniVersion).toBe('0.3.1');
  expect(errorOf(await run({ ...ENV, CNI_ARGS: 'x' }, CONF)).cniVersion).toBe('1.1.0');
});

test('VERSION answers without the agent and echoes the asked version', async () => {
  const out = await run({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}');
  expect(JSON.parse(out.stdout)).toEqual({ cniVersion: '0.4.0', supportedVersions: ['1.0.0', '1.1.0'] });
  expect(JSON.parse((await run({ CNI_COMMAND: 'VERSION' }, '')).stdout)).toMatchObject({ cniVersion: '1.1.0' });
  expect(out.calls).toHaveLength(0);
});

test('agent errors pass through with our version; garbage answers are code 101', async () => {
  const out = await run(ENV, CONF, { status: 503, body: '{"code":11,"msg":"address not planned yet","details":"pod default/web"}' });
  expect(errorOf(out)).toEqual({ cniVersion: '1.0.0', code: 11, msg: 'address not planned yet', details: 'pod default/web' });
  for (const answer of [{ status: 500, body: '<html>' }, { status: 500, body: '{"code":"11"}' }, { status: 200, body: 'not json' }]) {
    expect(errorOf(await run(ENV, CONF, answer)).code).toBe(CniCode.AgentProtocol);
  }
  expect(errorOf(await run(ENV, CONF, 'malformed-response')).code).toBe(CniCode.AgentProtocol);
});

test('agent down: ADD/CHECK try again later, STATUS not available, DEL/GC succeed with a warning', async () => {
  const v11 = CONF.replace('1.0.0', '1.1.0');
  const prev = JSON.stringify({ ...(JSON.parse(CONF) as object), prevResult: JSON.parse(RESULT) as unknown });
  expect(errorOf(await run(ENV, CONF, 'unreachable'))).toMatchObject({ code: 11, msg: 'the eni-operator agent is not running' });
  expect(errorOf(await run({ ...ENV, CNI_COMMAND: 'CHECK' }, prev, 'unreachable')).code).toBe(11);
  expect(errorOf(await run({ CNI_COMMAND: 'STATUS' }, v11, 'unreachable')).code).toBe(CniCode.PluginNotAvailable);
  for (const [env, conf] of [[{ ...ENV, CNI_COMMAND: 'DEL' }, CONF], [{ CNI_COMMAND: 'GC' }, v11]] as const) {
    const out = await run(env, conf, 'unreachable');
    expect(out).toMatchObject({ exitCode: 0, stdout: '' });
    expect(out.warnings.join()).toMatch(/succeeded without the agent/);
  }
  // A DEL the agent took but did not finish is retried by the runtime.
  for (const kind of ['timeout', 'connection-lost'] as const) {
    expect(errorOf(await run({ ...ENV, CNI_COMMAND: 'DEL' }, CONF, kind)).code).toBe(CniCode.TryAgainLater);
  }
});
