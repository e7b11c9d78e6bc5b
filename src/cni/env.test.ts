import { CniCode, CniError } from './errors.js';
import { interfaceNameProblem, parseCniArgs, parseCniEnv } from './env.js';

const ADD = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee-1', CNI_NETNS: '/run/netns/p1', CNI_IFNAME: 'eth0', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_UID=0d8b2d3e-9f1a-4c5b-8e7f-123456789abc' };

function codeOf(fn: () => unknown): { code: number; msg: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof CniError) return { code: err.code, msg: err.msg };
    throw err;
  }
  throw new Error('expected a CniError');
}

test('a complete ADD environment parses into the attachment and the pod', () => {
  const env = parseCniEnv(ADD);
  expect(env).toMatchObject({ command: 'ADD', containerID: 'c0ffee-1', netns: '/run/netns/p1', ifName: 'eth0' });
  expect(env.pod).toEqual({ namespace: 'default', name: 'web-0', uid: '0d8b2d3e-9f1a-4c5b-8e7f-123456789abc' });
  expect(env.args.IgnoreUnknown).toBe('1');
});

test('missing or invalid variables are code 4 and name the variable', () => {
  const cases: [Record<string, string | undefined>, RegExp][] = [
    [{}, /CNI_COMMAND: missing/],
    [{ ...ADD, CNI_COMMAND: 'ATTACH' }, /CNI_COMMAND: unknown command "ATTACH"/],
    [{ ...ADD, CNI_CONTAINERID: undefined }, /CNI_CONTAINERID/],
    [{ ...ADD, CNI_CONTAINERID: '-leading-dash' }, /CNI_CONTAINERID: invalid characters/],
    [{ ...ADD, CNI_CONTAINERID: 'has space' }, /CNI_CONTAINERID/],
    [{ ...ADD, CNI_NETNS: '' }, /CNI_NETNS/],
    [{ ...ADD, CNI_NETNS: 'run/netns/x' }, /CNI_NETNS: .* not an absolute path/],
    [{ ...ADD, CNI_IFNAME: 'a-very-long-ifname' }, /CNI_IFNAME: .* longer than 15/],
    [{ ...ADD, CNI_IFNAME: 'eth:0' }, /CNI_IFNAME/],
    [{ ...ADD, CNI_ARGS: 'K8S_POD_NAMESPACE=default' }, /K8S_POD_NAMESPACE and K8S_POD_NAME are required/],
    [{ ...ADD, CNI_ARGS: 'K8S_POD_NAMESPACE=Bad_NS;K8S_POD_NAME=p' }, /K8S_POD_NAMESPACE "Bad_NS"/],
    [{ ...ADD, CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=a/b' }, /K8S_POD_UID/],
  ];
  for (const [env, msg] of cases) {
    const e = codeOf(() => parseCniEnv(env));
    expect(e.code).toBe(CniCode.InvalidEnvironment);
    expect(e.msg).toMatch(msg);
  }
});

test('DEL needs no netns and no pod identity; VERSION, STATUS and GC need only the command', () => {
  const del = parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc', CNI_IFNAME: 'eth0' });
  expect(del).toMatchObject({ netns: '', pod: { namespace: '', name: '', uid: '' } });
  for (const command of ['VERSION', 'STATUS', 'GC']) expect(parseCniEnv({ CNI_COMMAND: command }).command).toBe(command);
  expect(codeOf(() => parseCniEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'abc' })).msg).toMatch(/CNI_IFNAME/);
});

test('CNI_ARGS: pairs, tolerated trailing ";", "=" inside values, unknown keys only with IgnoreUnknown', () => {
  expect(parseCniArgs('')).toEqual({});
  expect(parseCniArgs('K8S_POD_NAME=a;')).toEqual({ K8S_POD_NAME: 'a' });
  expect(parseCniArgs('IgnoreUnknown=true;TOKEN=a=b')).toEqual({ IgnoreUnknown: 'true', TOKEN: 'a=b' });
  expect(codeOf(() => parseCniArgs('FOO=1')).msg).toMatch(/unknown key\(s\) FOO/);
  expect(codeOf(() => parseCniArgs('IgnoreUnknown=0;FOO=1')).msg).toMatch(/unknown key/);
  for (const bad of ['novalue', '=x', 'A B=1', 'K8S_POD_NAME=a;K8S_POD_NAME=b']) {
    expect(codeOf(() => parseCniArgs(bad)).code).toBe(CniCode.InvalidEnvironment);
  }
});

test('interface names follow the kernel rules', () => {
  expect(interfaceNameProblem('eth0')).toBeUndefined();
  expect(interfaceNameProblem('x'.repeat(15))).toBeUndefined();
  expect(interfaceNameProblem('x'.repeat(16))).toMatch(/longer/);
  for (const bad of ['', '.', '..', 'a/b', 'a b', 'a\tb']) expect(interfaceNameProblem(bad)).toBeDefined();
});
