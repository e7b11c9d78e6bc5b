// JSON Schemas (draft-07) of the CNI ADD success result, written from the spec:
// 1.0.0 (SPEC.md of that release, §5 "ADD Success") and 1.1.0, which adds the
// interface fields mtu, socketPath, pciID and the route fields mtu, advmss,
// priority, table, scope. No additional properties, so a 1.1.0-only field in a
// 1.0.0 result fails.
const uint = { type: 'integer', minimum: 0, maximum: 4294967295 };
const ip = { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] };
const cidr = { type: 'string', pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$' };
const strings = { type: 'array', items: { type: 'string' } };

export function resultSchema(version: '1.0.0' | '1.1.0'): object {
  const v11 = version === '1.1.0';
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `CNI ${version} ADD result`,
    type: 'object',
    required: ['cniVersion'],
    additionalProperties: false,
    properties: {
      cniVersion: { const: version },
      interfaces: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1 },
            mac: { type: 'string', pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' },
            sandbox: { type: 'string' },
            ...(v11 && { mtu: uint, socketPath: { type: 'string' }, pciID: { type: 'string' } }),
          },
        },
      },
      ips: {
        type: 'array',
        items: {
          type: 'object',
          required: ['address'],
          additionalProperties: false,
          properties: { address: cidr, gateway: ip, interface: uint },
        },
      },
      routes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['dst'],
          additionalProperties: false,
          properties: { dst: cidr, gw: ip, ...(v11 && { mtu: uint, advmss: uint, priority: uint, table: uint, scope: { type: 'integer', minimum: 0, maximum: 255 } }) },
        },
      },
      dns: {
        type: 'object',
        additionalProperties: false,
        properties: { nameservers: { type: 'array', items: ip }, domain: { type: 'string' }, search: strings, options: strings },
      },
    },
  };
}

/** The spec's error object (§5 "Error"). */
export const errorSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['cniVersion', 'code', 'msg'],
  additionalProperties: false,
  properties: { cniVersion: { type: 'string' }, code: { type: 'integer', minimum: 1 }, msg: { type: 'string', minLength: 1 }, details: { type: 'string' } },
};
