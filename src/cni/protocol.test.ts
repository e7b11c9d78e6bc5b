import { CniCode, CniError } from './errors.js';
import { commandFromPath, commandPath, parseWireRequest, wireRequest } from './protocol.js';

const CONFIG = { cniVersion: '1.0.0', name: 'eni', type: 'eni-cni' };
const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p', CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_UID=u-1', CNI_PATH: '/opt/cni/bin', HOME: '/root' };

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return (err as CniError).code;
  }
  return 0;
}

test('paths name the command', () => {
  for (const c of ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC'] as const) expect(commandFromPath(commandPath(c))).toBe(c);
  expect(commandFromPath('/v1/cni/version')).toBeUndefined();
  expect(commandFromPath('/v1/cni/add?x')).toBeUndefined();
});

test('the plugin forwards only the CNI variables the agent uses', () => {
  expect(Object.keys(wireRequest(ENV, CONFIG).env).sort()).toEqual(['CNI_ARGS', 'CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_NETNS']);
});

test('the agent gets a validated request', () => {
  const req = parseWireRequest(JSON.parse(JSON.stringify(wireRequest(ENV, CONFIG))), 'ADD');
  expect(req).toMatchObject({ command: 'ADD', containerID: 'c1', netns: '/run/netns/p', ifName: 'eth0', podNamespace: 'ns', podName: 'web', podUID: 'u-1' });
  expect(req.config).toMatchObject({ name: 'eni', agentSocket: '/run/eni-operator/agent.sock' });
  const gc = parseWireRequest(wireRequest({ CNI_COMMAND: 'GC' }, { ...CONFIG, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] }), 'GC');
  expect(gc).toMatchObject({ command: 'GC', validAttachments: [{ containerID: 'c1', ifName: 'eth0' }] });
});

test('the agent re-validates: bad bodies, skewed protocol, command mismatch', () => {
  expect(code(() => parseWireRequest({}, 'ADD'))).toBe(CniCode.DecodingFailure);
  expect(code(() => parseWireRequest({ ...wireRequest(ENV, CONFIG), protocol: 2 }, 'ADD'))).toBe(CniCode.IncompatibleVersion);
  expect(code(() => parseWireRequest(wireRequest(ENV, CONFIG), 'DEL'))).toBe(CniCode.InvalidEnvironment);
  expect(code(() => parseWireRequest(wireRequest({ ...ENV, CNI_IFNAME: '' }, CONFIG), 'ADD'))).toBe(CniCode.InvalidEnvironment);
  expect(code(() => parseWireRequest(wireRequest(ENV, { ...CONFIG, type: 'x' }), 'ADD'))).toBe(CniCode.InvalidNetworkConfig);
  expect(code(() => parseWireRequest({ protocol: 1, env: { CNI_COMMAND: 5 }, config: CONFIG }, 'ADD'))).toBe(CniCode.DecodingFailure);
  expect(new CniError(3, 'gone').toObject('1.0.0')).toEqual({ cniVersion: '1.0.0', code: 3, msg: 'gone' });
});
