// Invalid NetworkModes must be rejected by the API server itself (schema and
// CEL rules in the CRD), with a message that names the offending field, and
// must leave nothing behind.
import { API_VERSION, type NetworkMode } from '../../src/api/index.js';
import { Resources, apiError } from '../harness/cluster.js';

type Spec = Record<string, unknown>;

function validSpec(): Spec {
  return {
    provider: {
      type: 'alibaba',
      region: 'cn-hangzhou',
      credentialsSecretRef: { name: 'alibaba-credentials', namespace: 'eni-operator-system' },
    },
    subnets: ['vsw-bp1example0zonei01'],
    securityGroups: ['sg-bp1example0pods01'],
  };
}

function tencentSpec(): Spec {
  return {
    provider: { type: 'tencent', region: 'ap-guangzhou', credentialsSecretRef: { name: 'tc', namespace: 'eni-operator-system' } },
    subnets: ['subnet-3x5lf5q0'],
    securityGroups: ['sg-5x5lf5q0'],
  };
}

const provider = (s: Spec) => s.provider as Spec;

/** name, how to break a valid spec, the field the message must name, and a fragment of the reason. */
const invalid: [string, () => Spec, string, RegExp][] = [
  ['warmIPs above maxIPs', () => ({ ...validSpec(), pool: { warmIPs: 20, maxIPs: 10, maxIdleIPs: 20 } }), 'spec.pool.warmIPs', /must not exceed maxIPs/],
  ['minIPs above maxIPs', () => ({ ...validSpec(), pool: { minIPs: 11, maxIPs: 10, warmIPs: 2 } }), 'spec.pool.minIPs', /must not exceed maxIPs/],
  ['maxIdleIPs below warmIPs', () => ({ ...validSpec(), pool: { warmIPs: 8, maxIdleIPs: 4 } }), 'spec.pool.maxIdleIPs', /at least warmIPs/],
  ['empty subnet list', () => ({ ...validSpec(), subnets: [] }), 'spec.subnets', /at least 1 item/],
  ['missing subnets', () => { const s = validSpec(); delete s.subnets; return s; }, 'spec.subnets', /Required/],
  ['Tencent subnet ID on Alibaba', () => ({ ...validSpec(), subnets: ['subnet-3x5lf5q0'] }), 'spec.subnets', /alibaba subnets must be vSwitch IDs/],
  ['vSwitch ID on Tencent', () => ({ ...tencentSpec(), subnets: ['vsw-bp1example0zonei01'] }), 'spec.subnets', /tencent subnets must be subnet IDs/],
  ['malformed security group', () => ({ ...tencentSpec(), securityGroups: ['sg-TOO-LONG-123'] }), 'spec.securityGroups', /tencent security groups must match/],
  ['unknown provider', () => { const s = validSpec(); provider(s).type = 'aws'; return s; }, 'spec.provider.type', /Unsupported value: "aws"/],
  ['bad region', () => { const s = validSpec(); provider(s).region = 'Hangzhou'; return s; }, 'spec.provider.region', /should match/],
  ['missing credentials', () => { const s = validSpec(); delete provider(s).credentialsSecretRef; return s; }, 'spec.provider.credentialsSecretRef', /Required/],
  ['unknown datapath', () => ({ ...validSpec(), datapath: 'bridge' }), 'spec.datapath', /Unsupported value: "bridge"/],
  ['batch of 11 IPs', () => ({ ...validSpec(), pool: { batchSize: 11 } }), 'spec.pool.batchSize', /less than or equal to 10/],
  ['unparseable cooldown', () => ({ ...validSpec(), pool: { cooldown: '5 minutes' } }), 'spec.pool.cooldown', /should match/],
  ['cooldown too long', () => ({ ...validSpec(), pool: { cooldown: '2h' } }), 'spec.pool.cooldown', /at most 1h/],
  ['warm ENIs without exclusive', () => ({ ...validSpec(), exclusive: { warmENIs: 2 } }), 'spec.exclusive.warmENIs', /only be set when exclusive.enabled/],
  ['plain HTTP endpoint not allowed', () => { const s = validSpec(); provider(s).endpoint = 'http://127.0.0.1:8080'; return s; }, 'spec.provider.endpoint', /allowInsecureHTTP/],
  ['burst below qps', () => { const s = validSpec(); provider(s).rateLimit = { qps: 50, burst: 10 }; return s; }, 'spec.provider.rateLimit.burst', /at least qps/],
  ['duplicate subnets', () => ({ ...validSpec(), subnets: ['vsw-bp1example0zonei01', 'vsw-bp1example0zonei01'] }), 'spec.subnets[1]', /Duplicate value/],
  ['In selector without values', () => ({ ...validSpec(), nodeSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }), 'spec.nodeSelector.matchExpressions[0].values', /non-empty for operators In/],
  ['VPC ID of the other cloud', () => { const s = tencentSpec(); provider(s).vpcId = 'vpc-bp1example0vpc01'; return s; }, 'spec.provider.vpcId', /vpcId must be an ID of the provider/],
  ['priority out of range', () => ({ ...validSpec(), priority: 5000 }), 'spec.priority', /less than or equal to 1000/],
];

const api = new Resources('admin');
let seq = 0;

describe('NetworkMode admission', () => {
  test('the valid baseline is accepted and defaulted', async () => {
    const created = await api.create<NetworkMode>('networkmodes', { apiVersion: API_VERSION, kind: 'NetworkMode', metadata: { name: 'adm-baseline' }, spec: validSpec() });
    expect(created.spec.datapath).toBe('veth');
    expect(created.spec.pool).toEqual({ minIPs: 0, warmIPs: 4, maxIdleIPs: 16, maxIPs: 256, cooldown: '30s', reclaimAfter: '10m', batchSize: 10 });
    expect(created.spec.provider.rateLimit).toEqual({ qps: 10, burst: 20 });
    expect(created.spec.exclusive).toEqual({ enabled: false, warmENIs: 0 });
    await api.delete('networkmodes', 'adm-baseline');
  });

  test.each(invalid.map(([what, spec, field, reason]) => ({ what, spec, field, reason })))('rejects $what, naming $field', async ({ spec, field, reason }) => {
    const name = `adm-invalid-${++seq}`;
    const body = { apiVersion: API_VERSION, kind: 'NetworkMode', metadata: { name }, spec: spec() };
    const err = await api.create('networkmodes', body).then(
      () => undefined,
      (e: unknown) => apiError(e),
    );
    expect(err).toBeDefined();
    expect(err!.code).toBe(422);
    expect(err!.message).toContain(field);
    expect(err!.message).toMatch(reason);
    // Nothing was stored.
    const lookup = await api.get('networkmodes', name).then(() => 200, (e: unknown) => apiError(e).code);
    expect(lookup).toBe(404);
  });

  test('provider.type cannot change on update', async () => {
    const name = 'adm-immutable';
    await api.create('networkmodes', { apiVersion: API_VERSION, kind: 'NetworkMode', metadata: { name }, spec: validSpec() });
    const err = await api.mergePatch('networkmodes', name, { spec: { provider: { type: 'tencent' }, subnets: ['subnet-3x5lf5q0'], securityGroups: ['sg-5x5lf5q0'] } }).then(
      () => undefined,
      (e: unknown) => apiError(e),
    );
    expect(err?.code).toBe(422);
    expect(err?.message).toContain('spec.provider.type');
    expect(err?.message).toMatch(/immutable/);
    const after = await api.get<NetworkMode>('networkmodes', name);
    expect(after.spec.provider.type).toBe('alibaba');
    await api.delete('networkmodes', name);
  });

  test('at least ten distinct invalid specs are covered', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(10);
  });
});
