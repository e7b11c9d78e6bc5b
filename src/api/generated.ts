// Every file generated from src/api, with its path relative to the repository
// root. `make generate` writes them; a unit test fails when a committed copy is stale.
import { stringify } from 'yaml';
import { renderCRDs } from './crds.js';
import { DEFAULT_NAMESPACE, rbacObjects } from './rbac.js';

export const GENERATED_HEADER = '# Generated from src/api by `make generate`. Do not edit.\n';

function yamlDocs(objects: unknown[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

export function generatedFiles(): { path: string; text: string }[] {
  const crds = renderCRDs();
  const files = crds.flatMap(({ file, object }) => {
    const text = GENERATED_HEADER + yamlDocs([object]);
    return [
      { path: `crds/${file}`, text },
      { path: `charts/eni-operator/crds/${file}`, text },
    ];
  });
  files.push({
    path: 'crds/kustomization.yaml',
    text: GENERATED_HEADER + yamlDocs([{ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: crds.map((c) => c.file) }]),
  });
  files.push({ path: 'config/rbac/rbac.yaml', text: GENERATED_HEADER + yamlDocs(rbacObjects(DEFAULT_NAMESPACE, true)) });
  // The chart installs into the release namespace; Helm substitutes the placeholder.
  const chartRbac = yamlDocs(rbacObjects('__NAMESPACE__', false)).replaceAll('__NAMESPACE__', '{{ .Release.Namespace }}');
  files.push({ path: 'charts/eni-operator/templates/rbac.yaml', text: GENERATED_HEADER + chartRbac });
  return files;
}
