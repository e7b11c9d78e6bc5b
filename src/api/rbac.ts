// What each component may do, as ClusterRoles. The same rules feed
// config/rbac (applied by the sandbox) and the Helm chart, so the sandbox's
// RBAC-enabled API server tests exactly what users install.
import { GROUP } from './common.js';

export const DEFAULT_NAMESPACE = 'eni-operator-system';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];

export interface Component {
  /** Name of the ServiceAccount, ClusterRole and ClusterRoleBinding. */
  name: string;
  rules: PolicyRule[];
}

export const CONTROLLER: Component = {
  name: 'eni-operator-controller',
  rules: [
    { apiGroups: [GROUP], resources: ['networkmodes'], verbs: READ },
    { apiGroups: [GROUP], resources: ['networkmodes/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [GROUP], resources: ['enipools', 'nodenetworks'], verbs: [...READ, ...WRITE] },
    { apiGroups: [GROUP], resources: ['enipools/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [''], resources: ['nodes', 'pods'], verbs: READ },
    // Only the NetworkAllocated condition (a bad annotation, an allocation that cannot be made).
    { apiGroups: [''], resources: ['pods/status'], verbs: ['patch'] },
    // Cloud credentials named by NetworkModes; the controller is the only component that reads them.
    { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
  ],
};

export const AGENT: Component = {
  name: 'eni-operator-agent',
  rules: [
    // The agent reads its plan and reports what it applied; it never sees credentials.
    { apiGroups: [GROUP], resources: ['nodenetworks'], verbs: READ },
    { apiGroups: [GROUP], resources: ['nodenetworks/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  ],
};

export const COMPONENTS = [CONTROLLER, AGENT] as const;

/** The user name Kubernetes gives a ServiceAccount's tokens. */
export function serviceAccountUser(component: Component, namespace = DEFAULT_NAMESPACE): string {
  return `system:serviceaccount:${namespace}:${component.name}`;
}

/** ServiceAccounts, ClusterRoles and bindings (and the Namespace if asked) as plain objects. */
export function rbacObjects(namespace: string, withNamespace: boolean): Record<string, unknown>[] {
  const objects: Record<string, unknown>[] = withNamespace ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }] : [];
  for (const c of COMPONENTS) {
    objects.push(
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: c.name, namespace } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: c.name }, rules: c.rules },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: c.name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: c.name },
        subjects: [{ kind: 'ServiceAccount', name: c.name, namespace }],
      },
    );
  }
  return objects;
}
