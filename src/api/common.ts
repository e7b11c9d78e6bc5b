// Schemas shared by the three resources: metav1.Condition, LabelSelector,
// durations, and the ID formats of each cloud.
import { array, enumOf, integer, map, object, string, timestamp, type Infer } from './schema.js';

export const GROUP = 'network.eni-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Go time.Duration syntax as accepted by CEL's duration(): 30s, 10m, 1h30m. */
export const DURATION_PATTERN = '^([0-9]+([.][0-9]+)?(ms|s|m|h))+$';

/** A duration string bounded by CEL, so `duration(self)` never sees garbage. */
export function duration(max: string, description: string) {
  return string({ pattern: DURATION_PATTERN, maxLength: 32, description }).validate({
    rule: `!self.matches('${DURATION_PATTERN}') || duration(self) <= duration('${max}')`,
    message: `must be at most ${max}`,
  });
}

/** metav1.Condition, with the same validation the core types carry. */
export const condition = object({
  type: string({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }).required(),
  status: enumOf(['True', 'False', 'Unknown'] as const).required(),
  observedGeneration: integer({ minimum: 0, format: 'int64' }),
  lastTransitionTime: timestamp().required(),
  reason: string({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }).required(),
  message: string({ maxLength: 32768 }).required(),
});
export type Condition = Infer<typeof condition>;

export const conditions = array(condition, {
  maxItems: 32,
  listType: 'map',
  mapKeys: ['type'],
  description: 'Latest observations of the object, one per condition type.',
});

const labelKey = string({ maxLength: 317, minLength: 1 });
const labelValue = string({ maxLength: 63 });

export const labelSelector = object(
  {
    matchLabels: map(labelValue, { maxProperties: 64 }),
    matchExpressions: array(
      object({
        key: labelKey.required(),
        operator: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const).required(),
        values: array(labelValue, { maxItems: 64, listType: 'atomic' }),
      }).validate({
        rule: "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
        message: 'values must be non-empty for operators In and NotIn, and empty for Exists and DoesNotExist',
        fieldPath: '.values',
      }),
      { maxItems: 32, listType: 'atomic' },
    ),
  },
  { description: 'Standard Kubernetes label selector; an empty selector matches every node.' },
);
export type LabelSelector = Infer<typeof labelSelector>;

export const PROVIDERS = ['alibaba', 'tencent'] as const;
export type ProviderType = (typeof PROVIDERS)[number];

/** ID formats per provider, used by CEL rules and by the controller's own checks. */
export const ID_FORMATS: Record<ProviderType, { subnet: string; securityGroup: string; vpc: string; subnetNoun: string }> = {
  alibaba: {
    subnet: '^vsw-[a-z0-9]{8,32}$',
    securityGroup: '^sg-[a-z0-9]{8,32}$',
    vpc: '^vpc-[a-z0-9]{8,32}$',
    subnetNoun: 'vSwitch IDs like vsw-2ze8mz3p4r1t2example',
  },
  tencent: {
    subnet: '^subnet-[a-z0-9]{8}$',
    securityGroup: '^sg-[a-z0-9]{8}$',
    vpc: '^vpc-[a-z0-9]{8}$',
    subnetNoun: 'subnet IDs like subnet-3x5lf5q0',
  },
};

/** Object metadata as it appears on resources; we only rely on these fields. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
  finalizers?: string[];
  deletionTimestamp?: string;
}

/** A custom resource of this API group: the shape all three kinds share. */
export interface Resource<Kind extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}
