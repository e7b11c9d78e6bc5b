// One pool of API-server connections per KubeConfig. @kubernetes/client-node
// 2.x builds a new undici Agent for every request when the kubeconfig carries
// TLS material (a CA, client certificates), so every request opens a new
// connection and pays a TLS handshake: about 3 ms of client CPU and 4 ms of
// latency per request here, and the agent writes its status after CNI ADDs.
import type * as k8s from '@kubernetes/client-node';

/**
 * Makes every client built from `kc` reuse one dispatcher, and with it the
 * connections it keeps open. The TLS options are taken from the first request;
 * they are fixed once a kubeconfig is loaded (tokens, which do rotate, travel
 * as headers and are still read per request).
 */
export function shareConnections(kc: k8s.KubeConfig): k8s.KubeConfig {
  const apply = kc.applySecurityAuthentication.bind(kc);
  let shared: ReturnType<k8s.RequestContext['getDispatcher']>;
  kc.applySecurityAuthentication = async (ctx: k8s.RequestContext): Promise<void> => {
    await apply(ctx);
    const fresh = ctx.getDispatcher();
    if (!fresh) return;
    shared ??= fresh;
    if (fresh !== shared) void fresh.close();
    ctx.setDispatcher(shared);
  };
  return kc;
}
