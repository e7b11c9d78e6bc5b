import * as k8s from '@kubernetes/client-node';
import { shareConnections } from './connections.js';

// A kubeconfig with TLS material (a CA), the case where client-node makes a dispatcher per request. Nothing connects.
function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64') }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function dispatcherAndAuth(kc: k8s.KubeConfig): Promise<[unknown, string | undefined]> {
  const ctx = new k8s.RequestContext('https://127.0.0.1:6443/api', k8s.HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return [ctx.getDispatcher(), ctx.getHeaders().Authorization];
}

test('without it, each request gets a dispatcher of its own (a new connection)', async () => {
  const kc = kubeConfig();
  const [a] = await dispatcherAndAuth(kc);
  const [b] = await dispatcherAndAuth(kc);
  expect(a).toBeDefined();
  expect(a).not.toBe(b);
});

test('shareConnections: every request of the KubeConfig reuses one dispatcher and still carries its credentials', async () => {
  const kc = shareConnections(kubeConfig());
  const [a, authA] = await dispatcherAndAuth(kc);
  const [b, authB] = await dispatcherAndAuth(kc);
  expect(a).toBeDefined();
  expect(b).toBe(a);
  expect(authA).toBe('Bearer secret-token');
  expect(authB).toBe('Bearer secret-token');
});
