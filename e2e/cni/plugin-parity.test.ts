// The native plugin (native/eni-cni) and the agent judge input by the same
// rules: the agent validates every request again with src/cni (env.ts,
// config.ts, result.ts), and a plugin that let through what the agent refuses,
// or refused what it accepts, would answer the runtime differently with the
// agent up or down. Generated runtime inputs — valid ones with a few fields
// broken — go to the real plugin binary with the agent down, and its answer
// must be the one src/cni's validation implies: its error code (and version),
// or for valid input the agent-down answer (ADD/CHECK 11, STATUS 50, DEL/GC
// success).
import fc from 'fast-check';
import { join } from 'node:path';
import { decodeConfig, parseNetConf, versionForErrors } from '../../src/cni/config.js';
import { parseCniEnv, parseCommand } from '../../src/cni/env.js';
import { CniCode, CniError } from '../../src/cni/errors.js';
import { CniWorld, sweepStaleLeftovers } from './kit.js';

let world: CniWorld;
beforeAll(async () => {
  await sweepStaleLeftovers();
  world = new CniWorld();
});
afterAll(async () => {
  await world?.cleanup();
});

interface Expected {
  exit: number;
  code?: number;
  cniVersion?: string;
  msg?: string;
}

/** What src/cni's validation says of an input when no agent listens. */
function oracle(env: Record<string, string>, stdin: string): Expected {
  let conf: Record<string, unknown> | undefined;
  try {
    const command = parseCommand(env);
    if (command === 'VERSION') return { exit: 0 };
    parseCniEnv(env);
    conf = decodeConfig(stdin);
    parseNetConf(conf, command);
    if (command === 'ADD' || command === 'CHECK') return { exit: 1, code: CniCode.TryAgainLater, cniVersion: versionForErrors(conf) };
    if (command === 'STATUS') return { exit: 1, code: CniCode.PluginNotAvailable, cniVersion: versionForErrors(conf) };
    return { exit: 0 };
  } catch (err) {
    if (!(err instanceof CniError)) throw err;
    return { exit: 1, code: err.code, cniVersion: versionForErrors(conf), msg: err.msg };
  }
}

const RESULT = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }], ips: [{ address: '10.0.0.5/32', gateway: '10.0.0.1', interface: 0 }], routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }] };
const ABSENT = Symbol('absent');
type Choice = unknown;

/** Each field takes a valid value most of the time, otherwise something a broken runtime or config could send. */
function field<T>(valid: T, ...others: Choice[]): fc.Arbitrary<Choice> {
  return fc.oneof({ weight: 4, arbitrary: fc.constant(valid) }, { weight: 1, arbitrary: fc.constantFrom(...others) });
}

const envArb = fc.record({
  CNI_COMMAND: field('ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION', '', 'add', 'REPAIR', ABSENT),
  CNI_CONTAINERID: field('ctr-1', '', '-x', 'a b', 'ünï', '../etc', ABSENT),
  CNI_NETNS: field('/run/netns/p', '', 'run/netns/p', ABSENT),
  CNI_IFNAME: field('eth0', '', '.', '..', 'a/b', 'e:0', 'x'.repeat(16), 'ü'.repeat(8), 'a\u00a0b', ABSENT),
  CNI_ARGS: field(
    'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
    '',
    'K8S_POD_NAMESPACE=default',
    'garbage',
    '=x',
    'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;EXTRA=1',
    'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;EXTRA=1',
    'IgnoreUnknown=true;K8S_POD_NAMESPACE=Bad;K8S_POD_NAME=web-0',
    'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=a/b',
    'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=6f1c2b9e-0d3a-4c7e',
    'K8S_POD_NAMESPACE=default;K8S_POD_NAME=a.b-c;',
    'K8S_POD_NAMESPACE=default;K8S_POD_NAMESPACE=x;K8S_POD_NAME=y',
    ABSENT,
  ),
});

const configArb = (socket: string) =>
  fc.record({
    cniVersion: field('1.1.0', '1.0.0', '0.4.0', '2.0.0', 1, null, ABSENT),
    name: field('eni', '', 'bad/name', '-x', 3, null, ABSENT),
    type: field('eni-cni', 'bridge', null, ABSENT),
    // Never absent or null: the default socket could be a real agent's on this machine.
    agentSocket: field(socket, 'relative.sock', '/' + 'x'.repeat(107), 5),
    timeoutMs: field(ABSENT, 1, 600000, 0, 1.5, '100', 600001, null, -1),
    ipam: field(ABSENT, { type: 'host-local' }, {}, null),
    dns: field(ABSENT, { nameservers: ['10.96.0.10', 'fd00::a'], search: ['svc'] }, { nameservers: ['not-an-ip'] }, { search: 'x' }, null, []),
    runtimeConfig: field(ABSENT, { bandwidth: {} }, [], null, 'x'),
    args: field(ABSENT, { cni: {} }, 1, null),
    prevResult: field(
      ABSENT,
      RESULT,
      'garbage',
      null,
      { ips: [{ address: '10.0.0.5' }] },
      { interfaces: [{ name: '' }] },
      { ips: [{ address: '10.0.0.5/32', interface: 1 }] },
      { routes: [{ dst: '0.0.0.0/0', gw: 'x' }] },
      { interfaces: [{ name: 'eth0', mtu: -1 }] },
      { routes: [{ dst: '10.0.0.0/8', scope: 256 }] },
      { ...RESULT, dns: { nameservers: ['fe80::1%eth0'] } },
    ),
    'cni.dev/valid-attachments': field(ABSENT, [{ containerID: 'c1', ifname: 'eth0' }], [{ containerID: 'c1' }], [{ containerID: '-c', ifname: 'eth0' }], {}, null),
    'cni.dev/attachments': field(ABSENT, [], null, 'x'),
    unknownKey: field(ABSENT, 1, { nested: true }),
  });

/** How the configuration reaches stdin: as JSON, or broken on the way. */
const framingArb = field('json', 'truncated', 'empty', 'array', 'trailing', 'null');

function frame(conf: Record<string, unknown>, how: Choice): string {
  const text = JSON.stringify(conf);
  switch (how) {
    case 'truncated':
      return text.slice(0, Math.max(1, text.length - 3));
    case 'empty':
      return '';
    case 'array':
      return `[${text}]`;
    case 'trailing':
      return `${text} {}`;
    case 'null':
      return 'null';
    default:
      return text;
  }
}

function present(record: Record<string, Choice>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== ABSENT));
}

test('on 400 generated inputs the native plugin answers as src/cni validation says, with the agent down', async () => {
  const socket = join(world.dir, 'down', 'agent.sock');
  const cases = fc.sample(fc.tuple(envArb, configArb(socket), framingArb), { numRuns: 400, seed: 1616 });
  const mismatches: string[] = [];
  const seen = new Set<string>();
  for (const [env, conf, framing] of cases) {
    const cniEnv = present(env) as Record<string, string>;
    const stdin = frame(present(conf), framing);
    const want = oracle(cniEnv, stdin);
    const out = await world.plugin(cniEnv, stdin);
    const got: Expected = { exit: out.code ?? -1 };
    if (out.stdout.trim() !== '' && got.exit !== 0) {
      const e = JSON.parse(out.stdout) as { code: number; cniVersion: string; msg: string };
      Object.assign(got, { code: e.code, cniVersion: e.cniVersion, msg: e.msg });
    }
    // Messages must match where they do not quote a JSON value (whose key order differs between the languages).
    if (want.msg?.includes('{') || want.msg === undefined) delete got.msg;
    if (want.msg?.includes('{')) delete want.msg;
    seen.add(String(want.code ?? 0));
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(cniEnv)} ${stdin}\n  plugin ${JSON.stringify(got)}\n  src/cni ${JSON.stringify(want)}`);
  }
  expect(mismatches.slice(0, 5)).toEqual([]);
  // The sample reached every kind of answer, so the comparison covered them.
  expect([...seen].sort()).toEqual(['0', '1', '11', '2', '4', '50', '6', '7']);
}, 120_000);
