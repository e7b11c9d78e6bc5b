// NodeNetwork: one per node (name = node name). spec is the controller's plan
// for the node; status is written only by that node's agent.
import { conditions, type Resource } from './common.js';
import { array, boolean, enumOf, integer, object, string, timestamp, type Infer } from './schema.js';

export const ATTACHMENT_MODES = ['veth', 'ipvlan', 'exclusive'] as const;
export const ATTACHMENT_STATES = ['Pending', 'Ready', 'Failed', 'Released'] as const;

const route = object({
  dst: string({ format: 'cidr', maxLength: 18 }).required(),
  via: string({ format: 'ipv4', maxLength: 15 }),
});

export const attachment = object({
  podUID: string({ maxLength: 64 }).required(),
  namespace: string({ maxLength: 63 }).required(),
  name: string({ maxLength: 253 }).required(),
  mode: enumOf(ATTACHMENT_MODES).required(),
  ip: string({ format: 'cidr', maxLength: 18, description: 'Pod address with the subnet prefix, e.g. 10.0.1.5/24.' }).required(),
  gateway: string({ format: 'ipv4', maxLength: 15, description: 'Subnet gateway of the ENI.' }).required(),
  eniID: string({ maxLength: 64 }).required(),
  mac: string({ format: 'mac', maxLength: 17, description: 'MAC of the ENI, by which the agent finds its NIC.' }).required(),
  routes: array(route, { maxItems: 32, listType: 'atomic' }),
});

export const nodeNetworkSpec = object({
  datapath: enumOf(['veth', 'ipvlan'] as const).required(),
  ebpf: object({
    serviceLoadBalancing: boolean().default(false),
    networkPolicy: boolean().default(false),
  }).default({}),
  attachments: array(attachment, { maxItems: 512, listType: 'map', mapKeys: ['podUID'] }),
});

export const attachmentStatus = object({
  podUID: string({ maxLength: 64 }).required(),
  state: enumOf(ATTACHMENT_STATES).required(),
  reason: string({ maxLength: 128 }),
  message: string({ maxLength: 4096 }),
  lastTransitionTime: timestamp(),
});

export const nodeNetworkStatus = object({
  observedGeneration: integer({ minimum: 0, format: 'int64' }),
  conditions,
  attachments: array(attachmentStatus, { maxItems: 1024, listType: 'map', mapKeys: ['podUID'] }),
  capabilities: object({
    kernelVersion: string({ maxLength: 128 }),
    ipvlan: boolean(),
    ebpf: boolean(),
  }),
  counts: object({
    ready: integer({ minimum: 0 }),
    failed: integer({ minimum: 0 }),
    released: integer({ minimum: 0 }),
  }),
});

export type Attachment = Infer<typeof attachment>;
export type AttachmentStatus = Infer<typeof attachmentStatus>;
export type NodeNetworkSpec = Infer<typeof nodeNetworkSpec>;
export type NodeNetworkStatus = Infer<typeof nodeNetworkStatus>;

export type NodeNetwork = Resource<'NodeNetwork', NodeNetworkSpec, NodeNetworkStatus>;
