// NetworkMode: user-written; declares how a set of nodes networks its pods.
import { ID_FORMATS, PROVIDERS, conditions, duration, labelSelector, type Resource } from './common.js';
import { array, boolean, enumOf, integer, object, string, type Infer } from './schema.js';

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** Rules tying an ID list to the provider's ID format, one per provider. */
function idFormatRules(field: 'subnets' | 'securityGroups', key: 'subnet' | 'securityGroup') {
  return PROVIDERS.map((p) => ({
    rule: `!has(self.${field}) || self.provider.type != '${p}' || self.${field}.all(x, x.matches('${ID_FORMATS[p][key]}'))`,
    message:
      key === 'subnet'
        ? `${p} subnets must be ${ID_FORMATS[p].subnetNoun}`
        : `${p} security groups must match ${ID_FORMATS[p].securityGroup}`,
    fieldPath: `.${field}`,
  }));
}

export const provider = object({
  type: enumOf(PROVIDERS, { description: 'Cloud provider. Immutable.' }).required(),
  region: string({
    pattern: '^[a-z]{2,}(-[a-z0-9]+)+$',
    maxLength: 64,
    description: 'Region ID, e.g. cn-hangzhou (Alibaba) or ap-guangzhou (Tencent).',
  }).required(),
  vpcId: string({ maxLength: 64, description: 'VPC of the subnets; discovered from the instances when omitted.' }),
  credentialsSecretRef: object(
    {
      name: string({ pattern: DNS_SUBDOMAIN, maxLength: 253 }).required(),
      namespace: string({ pattern: DNS_LABEL, maxLength: 63 }).required(),
    },
    { description: 'Secret holding accessKeyId / accessKeySecret (Alibaba) or secretId / secretKey (Tencent).' },
  ).required(),
  endpoint: string({
    pattern: '^(https?://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$',
    maxLength: 255,
    description: 'API endpoint override (host[:port] or URL), e.g. the local cloud emulator.',
  }),
  allowInsecureHTTP: boolean({ description: 'Permit a plain-HTTP endpoint. Only for the local emulator.' }).default(false),
  rateLimit: object(
    {
      qps: integer({ minimum: 1, maximum: 1000, description: 'Sustained cloud API calls per second, per API.' }).default(10),
      burst: integer({ minimum: 1, maximum: 2000, description: 'Token bucket size, per API.' }).default(20),
    },
    { description: 'Client-side token bucket for cloud API calls.' },
  )
    .validate({ rule: 'self.burst >= self.qps', message: 'burst must be at least qps', fieldPath: '.burst' })
    .default({ qps: 10, burst: 20 }),
})
  .validate(
    {
      rule: "!has(self.endpoint) || !self.endpoint.startsWith('http://') || self.allowInsecureHTTP",
      message: 'a plain-HTTP endpoint needs spec.provider.allowInsecureHTTP: true',
      fieldPath: '.endpoint',
    },
    {
      rule: `!has(self.vpcId) || (self.type == 'alibaba' && self.vpcId.matches('${ID_FORMATS.alibaba.vpc}')) || (self.type == 'tencent' && self.vpcId.matches('${ID_FORMATS.tencent.vpc}'))`,
      message: 'vpcId must be an ID of the provider, like vpc-2zeexample01 (alibaba) or vpc-2x5lf5q0 (tencent)',
      fieldPath: '.vpcId',
    },
    {
      rule: 'self.type == oldSelf.type',
      message: 'spec.provider.type is immutable; create a new NetworkMode instead',
      fieldPath: '.type',
    },
  )
  .required();

export const pool = object(
  {
    minIPs: integer({ minimum: 0, maximum: 1024, description: 'IPs the node always holds, used or not.' }).default(0),
    warmIPs: integer({ minimum: 0, maximum: 256, description: 'Free IPs kept ready for new pods.' }).default(4),
    maxIdleIPs: integer({ minimum: 0, maximum: 1024, description: 'Free IPs above this count are given back after reclaimAfter.' }).default(16),
    maxIPs: integer({ minimum: 1, maximum: 1024, description: 'Upper bound of IPs on the node (instance limits apply too).' }).default(256),
    cooldown: duration('1h', 'Time a released IP rests before another pod gets it.').default('30s'),
    reclaimAfter: duration('168h', 'Idle time before IPs above maxIdleIPs go back to the cloud.').default('10m'),
    batchSize: integer({ minimum: 1, maximum: 10, description: 'IPs per AssignPrivateIpAddresses call (the clouds allow 10).' }).default(10),
  },
  { description: 'Warm-pool targets per node.' },
)
  .validate(
    { rule: 'self.warmIPs <= self.maxIPs', message: 'warmIPs must not exceed maxIPs', fieldPath: '.warmIPs' },
    { rule: 'self.minIPs <= self.maxIPs', message: 'minIPs must not exceed maxIPs', fieldPath: '.minIPs' },
    {
      rule: 'self.maxIdleIPs >= self.warmIPs',
      message: 'maxIdleIPs must be at least warmIPs, or the pool would release what it just warmed',
      fieldPath: '.maxIdleIPs',
    },
  )
  .default({});

export const exclusive = object(
  {
    enabled: boolean({ description: 'Pods may ask for a whole ENI with network.eni-operator.io/eni-mode: exclusive.' }).default(false),
    warmENIs: integer({ minimum: 0, maximum: 8, description: 'Spare ENIs kept attached for exclusive pods.' }).default(0),
  },
  { description: 'Exclusive-ENI pods.' },
)
  .validate({
    rule: 'self.warmENIs == 0 || self.enabled',
    message: 'warmENIs can only be set when exclusive.enabled is true',
    fieldPath: '.warmENIs',
  })
  .default({});

export const ebpf = object(
  {
    serviceLoadBalancing: boolean({ description: 'Resolve Service VIPs in eBPF on the pod interface.' }).default(false),
    networkPolicy: boolean({ description: 'Enforce NetworkPolicy in eBPF on the pod interface.' }).default(false),
  },
  { description: 'eBPF features on pod interfaces.' },
).default({});

export const networkModeSpec = object({
  nodeSelector: labelSelector.default({}),
  priority: integer({ minimum: -1000, maximum: 1000, description: 'When several NetworkModes match a node, the highest priority wins; a tie is a Conflict.' }).default(0),
  provider,
  subnets: array(string({ maxLength: 64 }), {
    minItems: 1,
    maxItems: 32,
    listType: 'set',
    description: 'Subnet (vSwitch) IDs; each node uses those in its zone, the one with most free IPs first.',
  }).required(),
  securityGroups: array(string({ maxLength: 64 }), {
    minItems: 1,
    maxItems: 5,
    listType: 'set',
    description: 'Security groups for the ENIs created for pods.',
  }).required(),
  datapath: enumOf(['veth', 'ipvlan'] as const, { description: 'How shared-ENI pods are wired: veth policy routing or IPVlan L2.' }).default('veth'),
  exclusive,
  pool,
  ebpf,
}).validate(...idFormatRules('subnets', 'subnet'), ...idFormatRules('securityGroups', 'securityGroup'));

export const networkModeStatus = object({
  observedGeneration: integer({ minimum: 0, format: 'int64' }),
  conditions,
  matchedNodes: integer({ minimum: 0, description: 'Nodes this NetworkMode governs.' }),
  totals: object({
    enis: integer({ minimum: 0 }),
    freeIPs: integer({ minimum: 0 }),
    assignedIPs: integer({ minimum: 0 }),
    coolingIPs: integer({ minimum: 0 }),
  }),
});

export type NetworkModeSpec = Infer<typeof networkModeSpec>;
export type NetworkModeStatus = Infer<typeof networkModeStatus>;
export type Datapath = NetworkModeSpec['datapath'];

export type NetworkMode = Resource<'NetworkMode', NetworkModeSpec, NetworkModeStatus>;
