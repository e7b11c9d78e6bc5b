import { decodeConfig, parseNetConf, versionForErrors } from './config.js';
import { CniCode, CniError } from './errors.js';
import type { CniCommand } from './types.js';

const BASE = { cniVersion: '1.0.0', name: 'eni', type: 'eni-cni' };
const PREV = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }], ips: [{ address: '10.0.0.5/32', interface: 0 }] };

function failure(conf: unknown, command: CniCommand = 'ADD'): CniError {
  try {
    parseNetConf(conf as Record<string, unknown>, command);
  } catch (err) {
    if (err instanceof CniError) return err;
    throw err;
  }
  throw new Error('expected a CniError');
}

test('defaults for our fields; well-known fields kept', () => {
  const conf = parseNetConf({ ...BASE, dns: { nameservers: ['10.96.0.10'] }, runtimeConfig: { bandwidth: {} }, unknownKey: 1 }, 'ADD');
  expect(conf).toMatchObject({ cniVersion: '1.0.0', name: 'eni', type: 'eni-cni', agentSocket: '/run/eni-operator/agent.sock', timeoutMs: 60000 });
  expect(conf.dns).toEqual({ nameservers: ['10.96.0.10'] });
  expect(conf.raw.unknownKey).toBe(1);
  expect(parseNetConf({ ...BASE, agentSocket: '/run/x/a.sock', timeoutMs: 500 }, 'DEL')).toMatchObject({ agentSocket: '/run/x/a.sock', timeoutMs: 500 });
});

test('stdin that is not a JSON object is code 6', () => {
  for (const text of ['', '{', '[1]', 'null', '"x"']) {
    expect(() => decodeConfig(text)).toThrow(CniError);
    try {
      decodeConfig(text);
    } catch (err) {
      expect((err as CniError).code).toBe(CniCode.DecodingFailure);
    }
  }
});

test('versions: absent or unsupported is code 1; STATUS and GC need 1.1.0', () => {
  expect(failure({ name: 'eni', type: 'eni-cni' }).code).toBe(CniCode.IncompatibleVersion);
  expect(failure({ ...BASE, cniVersion: '0.4.0' }).code).toBe(CniCode.IncompatibleVersion);
  expect(failure({ ...BASE, cniVersion: '2.0.0' }).details).toMatch(/supports 1.0.0, 1.1.0/);
  expect(failure({ ...BASE, cniVersion: 1 }).code).toBe(CniCode.DecodingFailure);
  expect(failure(BASE, 'STATUS').code).toBe(CniCode.IncompatibleVersion);
  expect(parseNetConf({ ...BASE, cniVersion: '1.1.0' }, 'GC').cniVersion).toBe('1.1.0');
  expect(versionForErrors({ cniVersion: '0.4.0' })).toBe('0.4.0');
  expect(versionForErrors({ cniVersion: 7 })).toBe('1.1.0');
  expect(versionForErrors(undefined)).toBe('1.1.0');
});

test('bad name, type and our fields are code 7; ipam and prevResult on ADD are code 2', () => {
  const seven: unknown[] = [
    { ...BASE, name: undefined },
    { ...BASE, name: '' },
    { ...BASE, name: 'bad/name' },
    { ...BASE, type: 'bridge' },
    { ...BASE, type: undefined },
    { ...BASE, agentSocket: 'relative.sock' },
    { ...BASE, agentSocket: '/' + 'x'.repeat(107) },
    { ...BASE, timeoutMs: 0 },
    { ...BASE, timeoutMs: 1.5 },
    { ...BASE, timeoutMs: '100' },
    { ...BASE, dns: { nameservers: ['not-an-ip'] } },
    { ...BASE, runtimeConfig: [] },
  ];
  for (const conf of seven) expect([conf, failure(conf).code]).toEqual([conf, CniCode.InvalidNetworkConfig]);
  const ipam = failure({ ...BASE, ipam: { type: 'host-local' } });
  expect(ipam.code).toBe(CniCode.UnsupportedField);
  expect(ipam.msg).toContain('ipam={"type":"host-local"}'); // the spec: key and value in the message
  expect(failure({ ...BASE, prevResult: PREV }, 'ADD').code).toBe(CniCode.UnsupportedField);
});

test('prevResult: required and checked on CHECK, tolerated when malformed on DEL', () => {
  expect(failure(BASE, 'CHECK').msg).toMatch(/CHECK needs prevResult/);
  expect(failure({ ...BASE, prevResult: { ips: [{ address: '10.0.0.5' }] } }, 'CHECK').details).toMatch(/prevResult.ips\[0\].address/);
  expect(parseNetConf({ ...BASE, prevResult: PREV }, 'CHECK').prevResult).toEqual(PREV);
  const warnings: string[] = [];
  const del = parseNetConf({ ...BASE, prevResult: 'garbage' }, 'DEL', (w) => warnings.push(w));
  expect(del.prevResult).toBeUndefined();
  expect(warnings).toHaveLength(1);
  expect(parseNetConf(BASE, 'DEL').prevResult).toBeUndefined();
});

test('GC reads the valid attachments (either spelling) and rejects malformed ones', () => {
  const v11 = { ...BASE, cniVersion: '1.1.0' };
  expect(parseNetConf({ ...v11, 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] }, 'GC').validAttachments).toEqual([{ containerID: 'c1', ifName: 'eth0' }]);
  expect(parseNetConf({ ...v11, 'cni.dev/attachments': [] }, 'GC').validAttachments).toEqual([]);
  expect(parseNetConf(v11, 'GC').validAttachments).toBeUndefined();
  expect(failure({ ...v11, 'cni.dev/valid-attachments': [{ containerID: 'c1' }] }, 'GC').code).toBe(CniCode.InvalidNetworkConfig);
  expect(failure({ ...v11, 'cni.dev/valid-attachments': {} }, 'GC').code).toBe(CniCode.InvalidNetworkConfig);
});
