// ENIPool: one per node (name = node name), written by the controller. The
// node's ledger: instance facts, limits, resolved targets, and in status every
// ENI with every IP and its state.
import { PROVIDERS, conditions, type Resource } from './common.js';
import { array, enumOf, integer, object, string, timestamp, type Infer } from './schema.js';

export const IP_STATES = ['free', 'assigned', 'cooldown'] as const;
export const ENI_ROLES = ['shared', 'exclusive'] as const;

export const enipoolSpec = object({
  nodeName: string({ maxLength: 253 }).required(),
  networkMode: string({ maxLength: 253, description: 'The NetworkMode that governs this node.' }).required(),
  provider: enumOf(PROVIDERS).required(),
  region: string({ maxLength: 64 }),
  instanceID: string({ maxLength: 64, description: 'Cloud instance ID, from the Node spec.providerID.' }).required(),
  instanceType: string({ maxLength: 64 }),
  zone: string({ maxLength: 64 }),
  limits: object(
    {
      maxENIs: integer({ minimum: 1, maximum: 64, description: 'ENIs per instance, primary included.' }).required(),
      ipsPerENI: integer({ minimum: 1, maximum: 256, description: 'Private IPs per ENI, primary IP included.' }).required(),
    },
    { description: 'Instance limits read from the cloud.' },
  ),
  targets: object(
    {
      minIPs: integer({ minimum: 0 }).required(),
      warmIPs: integer({ minimum: 0 }).required(),
      maxIdleIPs: integer({ minimum: 0 }).required(),
      maxIPs: integer({ minimum: 0 }).required(),
      cooldown: string({ maxLength: 32 }).required(),
      reclaimAfter: string({ maxLength: 32 }).required(),
      batchSize: integer({ minimum: 1, maximum: 10 }).required(),
      warmENIs: integer({ minimum: 0 }).required(),
    },
    { description: 'Pool targets resolved from the NetworkMode and clamped to the limits.' },
  ),
  subnets: array(string({ maxLength: 64 }), { maxItems: 32, listType: 'set', description: 'Subnets usable in this node\'s zone.' }),
  securityGroups: array(string({ maxLength: 64 }), { maxItems: 5, listType: 'set' }),
});

export const poolIP = object({
  address: string({ format: 'ipv4', maxLength: 15 }).required(),
  state: enumOf(IP_STATES).required(),
  podUID: string({ maxLength: 64 }),
  pod: string({ maxLength: 317, description: 'namespace/name of the pod holding the IP.' }),
  since: timestamp({ description: 'When the IP entered its state.' }),
  cooldownUntil: timestamp(),
});

export const poolENI = object({
  id: string({ maxLength: 64 }).required(),
  mac: string({ format: 'mac', maxLength: 17 }),
  subnetID: string({ maxLength: 64 }),
  subnetCIDR: string({ format: 'cidr', maxLength: 18 }),
  gateway: string({ format: 'ipv4', maxLength: 15, description: 'Gateway of the ENI\'s subnet (the clouds differ in which address it is).' }),
  deviceIndex: integer({ minimum: 0, maximum: 64 }),
  role: enumOf(ENI_ROLES).required(),
  cloudState: string({ maxLength: 32, description: 'State as the cloud reports it (Available, Attaching, InUse, ...).' }),
  primaryIP: string({ format: 'ipv4', maxLength: 15 }),
  podUID: string({ maxLength: 64, description: 'The pod that owns an exclusive ENI.' }),
  pod: string({ maxLength: 317, description: 'namespace/name of that pod.' }),
  idleSince: timestamp({ description: 'Exclusive ENIs: without a pod since.' }),
  cooldownUntil: timestamp({ description: 'Exclusive ENIs: resting until.' }),
  ips: array(poolIP, { maxItems: 256, listType: 'map', mapKeys: ['address'] }),
});

export const enipoolStatus = object({
  observedGeneration: integer({ minimum: 0, format: 'int64' }),
  conditions,
  enis: array(poolENI, { maxItems: 64, listType: 'map', mapKeys: ['id'] }),
  counts: object({
    enis: integer({ minimum: 0 }),
    freeIPs: integer({ minimum: 0 }),
    assignedIPs: integer({ minimum: 0 }),
    coolingIPs: integer({ minimum: 0 }),
  }),
  lastCloudSync: timestamp(),
});

export type ENIPoolSpec = Infer<typeof enipoolSpec>;
export type ENIPoolStatus = Infer<typeof enipoolStatus>;
export type PoolENI = Infer<typeof poolENI>;
export type PoolIP = Infer<typeof poolIP>;

export type ENIPool = Resource<'ENIPool', ENIPoolSpec, ENIPoolStatus>;
