// A TCP proxy on 127.0.0.1 in front of the API server (TLS passes through), so
// a test can cut every connection of one client, or refuse new ones, the way
// a network failure or an API server restart would.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import * as k8s from '@kubernetes/client-node';

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private accepting = true;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    // Connections arrive only after listen(), by when the proxy exists.
    const ref: { proxy?: TcpProxy } = {};
    const server = createServer((client) => ref.proxy!.connect(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('proxy has no TCP address');
    ref.proxy = new TcpProxy(server, addr.port);
    return ref.proxy;
  }

  /** A copy of `kc` whose cluster is reached through this proxy. */
  static async forKubeConfig(kc: k8s.KubeConfig): Promise<{ proxy: TcpProxy; kubeConfig: k8s.KubeConfig }> {
    const server = new URL(kc.getCurrentCluster()!.server);
    const proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${proxy.port}` })),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return { proxy, kubeConfig };
  }

  /** Open client connections. */
  connections(): number {
    return this.sockets.size / 2;
  }

  /** Cuts every open connection (both directions, no FIN: a reset). */
  dropAll(): void {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  /** While false, new connections are reset as soon as they arrive. */
  setAccepting(accepting: boolean): void {
    this.accepting = accepting;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private connect(client: Socket, target: { host: string; port: number }): void {
    if (!this.accepting) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }
}

/** Polls `check` until it stops throwing (an expect() inside), or rethrows its last error after `timeoutMs`. */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 10_000, intervalMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
