// The three CustomResourceDefinitions, built from the schemas in this folder.
// `crds/` holds their YAML (see generated.ts).
import { GROUP, VERSION } from './common.js';
import { enipoolSpec, enipoolStatus } from './enipool.js';
import { networkModeSpec, networkModeStatus } from './networkmode.js';
import { nodeNetworkSpec, nodeNetworkStatus } from './nodenetwork.js';
import type { JSONSchemaProps, Schema } from './schema.js';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface ResourceDef {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema<unknown, boolean>;
  status: Schema<unknown, boolean>;
  columns: PrinterColumn[];
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const RESOURCES: readonly ResourceDef[] = [
  {
    kind: 'NetworkMode',
    plural: 'networkmodes',
    singular: 'networkmode',
    shortNames: ['nm'],
    description: 'How a set of nodes networks its pods: cloud, subnets, security groups, datapath and warm-pool targets.',
    spec: networkModeSpec,
    status: networkModeStatus,
    columns: [
      { name: 'Provider', type: 'string', jsonPath: '.spec.provider.type' },
      { name: 'Region', type: 'string', jsonPath: '.spec.provider.region' },
      { name: 'Datapath', type: 'string', jsonPath: '.spec.datapath' },
      { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', priority: 1 },
      { name: 'Nodes', type: 'integer', jsonPath: '.status.matchedNodes' },
      { name: 'Free', type: 'integer', jsonPath: '.status.totals.freeIPs', priority: 1 },
      { name: 'Assigned', type: 'integer', jsonPath: '.status.totals.assignedIPs', priority: 1 },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      age,
    ],
  },
  {
    kind: 'ENIPool',
    plural: 'enipools',
    singular: 'enipool',
    shortNames: ['pool'],
    description: 'Per-node ledger of ENIs and IPs, written by the controller.',
    spec: enipoolSpec,
    status: enipoolStatus,
    columns: [
      { name: 'Instance', type: 'string', jsonPath: '.spec.instanceID' },
      { name: 'Type', type: 'string', jsonPath: '.spec.instanceType', priority: 1 },
      { name: 'Zone', type: 'string', jsonPath: '.spec.zone' },
      { name: 'ENIs', type: 'integer', jsonPath: '.status.counts.enis' },
      { name: 'Free', type: 'integer', jsonPath: '.status.counts.freeIPs' },
      { name: 'Assigned', type: 'integer', jsonPath: '.status.counts.assignedIPs' },
      { name: 'Cooling', type: 'integer', jsonPath: '.status.counts.coolingIPs' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.networkMode', priority: 1 },
      age,
    ],
  },
  {
    kind: 'NodeNetwork',
    plural: 'nodenetworks',
    singular: 'nodenetwork',
    shortNames: ['nn'],
    description: "One node's datapath plan (spec, by the controller) and what its agent applied (status).",
    spec: nodeNetworkSpec,
    status: nodeNetworkStatus,
    columns: [
      { name: 'Datapath', type: 'string', jsonPath: '.spec.datapath' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.counts.ready' },
      { name: 'Failed', type: 'integer', jsonPath: '.status.counts.failed' },
      { name: 'IPVlan', type: 'boolean', jsonPath: '.status.capabilities.ipvlan', priority: 1 },
      { name: 'Kernel', type: 'string', jsonPath: '.status.capabilities.kernelVersion', priority: 1 },
      age,
    ],
  },
];

export function crdFor(def: ResourceDef): Record<string, unknown> {
  const root: JSONSchemaProps = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: def.spec.openapi,
      status: def.status.openapi,
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['eni-operator'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: root },
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
        },
      ],
    },
  };
}

/** File name and object of each CRD. */
export function renderCRDs(): { file: string; object: Record<string, unknown> }[] {
  return RESOURCES.map((def) => ({ file: `${GROUP}_${def.plural}.yaml`, object: crdFor(def) }));
}
