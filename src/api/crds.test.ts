import { crdFor, RESOURCES } from './crds.js';
import { AGENT, CONTROLLER } from './rbac.js';
import type { JSONSchemaProps } from './schema.js';

/** Visits every schema node with its path. */
function walk(node: JSONSchemaProps, path: string, visit: (n: JSONSchemaProps, p: string) => void): void {
  visit(node, path);
  for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties) walk(node.additionalProperties, `${path}{}`, visit);
}

describe.each(RESOURCES.map((r) => [r.kind, r] as const))('%s CRD', (_kind, def) => {
  const crd = crdFor(def) as { spec: { versions: { schema: { openAPIV3Schema: JSONSchemaProps }; subresources: object; additionalPrinterColumns: { jsonPath: string }[] }[] } };
  const version = crd.spec.versions[0]!;
  const root = version.schema.openAPIV3Schema;

  test('is structural: every node has a type', () => {
    walk(root, '', (n, p) => expect([p, n.type]).toEqual([p, expect.any(String)]));
  });

  test('bounds every list and map, so CEL cost estimates stay finite', () => {
    walk(root, '', (n, p) => {
      if (n.type === 'array') expect([p, n.maxItems]).toEqual([p, expect.any(Number)]);
      if (n.additionalProperties) expect([p, n.maxProperties]).toEqual([p, expect.any(Number)]);
    });
  });

  test('has a status subresource and printer columns that point into the schema', () => {
    expect(version.subresources).toEqual({ status: {} });
    for (const col of version.additionalPrinterColumns) {
      if (col.jsonPath.startsWith('.metadata')) continue;
      const fields = col.jsonPath.replace(/\[.*$/, '').split('.').filter(Boolean);
      let node: JSONSchemaProps | undefined = root;
      for (const f of fields) node = node?.properties?.[f];
      expect([col.jsonPath, node?.type]).toEqual([col.jsonPath, expect.any(String)]);
    }
  });
});

describe('RBAC', () => {
  const grants = (rules: typeof AGENT.rules, resource: string) => rules.some((r) => r.resources.includes(resource));

  test('the agent cannot read Secrets, pools or NetworkModes, nor write plans', () => {
    for (const r of ['secrets', 'enipools', 'networkmodes', 'pods', 'nodes']) expect([r, grants(AGENT.rules, r)]).toEqual([r, false]);
    const nn = AGENT.rules.find((r) => r.resources.includes('nodenetworks'))!;
    expect(nn.verbs).not.toContain('update');
  });

  test('the controller may not write NetworkMode specs', () => {
    const nm = CONTROLLER.rules.find((r) => r.resources.includes('networkmodes'))!;
    expect(nm.verbs).toEqual(['get', 'list', 'watch']);
  });
});
