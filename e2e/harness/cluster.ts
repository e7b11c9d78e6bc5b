// What an integration test uses to talk to the control plane started by the
// global setup: a client per identity and the pinned kubectl.
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { GROUP, VERSION } from '../../src/api/common.js';
import { kubectl, type ControlPlaneInfo, type Identity } from './control-plane.js';

export function controlPlane(): ControlPlaneInfo {
  const file = process.env.ENI_TEST_CONTROL_PLANE;
  if (!file) throw new Error('ENI_TEST_CONTROL_PLANE is unset: run integration tests through jest (globalSetup)');
  return JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo;
}

export function kubeConfig(identity: Identity = 'admin'): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(controlPlane().kubeconfigs[identity]);
  return kc;
}

export function runKubectl(args: string[], identity: Identity = 'admin', input?: string): Promise<string> {
  return kubectl(controlPlane(), args, identity, input);
}

export type Plural = 'networkmodes' | 'enipools' | 'nodenetworks';

/** Thin typed wrapper over the custom-objects API for our cluster-scoped resources. */
export class Resources {
  readonly api: k8s.CustomObjectsApi;

  constructor(identity: Identity = 'admin') {
    this.api = kubeConfig(identity).makeApiClient(k8s.CustomObjectsApi);
  }

  create<T>(plural: Plural, body: object): Promise<T> {
    return this.api.createClusterCustomObject({ group: GROUP, version: VERSION, plural, body }) as Promise<T>;
  }

  get<T>(plural: Plural, name: string): Promise<T> {
    return this.api.getClusterCustomObject({ group: GROUP, version: VERSION, plural, name }) as Promise<T>;
  }

  replace<T>(plural: Plural, name: string, body: object): Promise<T> {
    return this.api.replaceClusterCustomObject({ group: GROUP, version: VERSION, plural, name, body }) as Promise<T>;
  }

  mergePatch<T>(plural: Plural, name: string, body: object): Promise<T> {
    return this.api.patchClusterCustomObject(
      { group: GROUP, version: VERSION, plural, name, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    ) as Promise<T>;
  }

  mergePatchStatus<T>(plural: Plural, name: string, body: object): Promise<T> {
    return this.api.patchClusterCustomObjectStatus(
      { group: GROUP, version: VERSION, plural, name, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    ) as Promise<T>;
  }

  async delete(plural: Plural, name: string): Promise<void> {
    await this.api.deleteClusterCustomObject({ group: GROUP, version: VERSION, plural, name });
  }
}

/** The HTTP status and message of a failed API call. */
export function apiError(err: unknown): { code: number; message: string } {
  if (err instanceof k8s.ApiException) {
    const body = typeof err.body === 'string' ? err.body : JSON.stringify(err.body);
    try {
      return { code: err.code, message: (JSON.parse(body) as { message: string }).message };
    } catch {
      return { code: err.code, message: body };
    }
  }
  throw err;
}
