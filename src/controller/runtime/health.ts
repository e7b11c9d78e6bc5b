// The probe and metrics endpoint of a component: /healthz (liveness),
// /readyz (readiness) and /metrics (Prometheus text format).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A probe check: passes when it returns true or nothing; fails when it returns false or throws. */
export type Check = () => boolean | void | Promise<boolean | void>;

export interface HealthServerOptions {
  registry: Registry;
  /** A check slower than this fails. Default 5 s. */
  checkTimeoutMs?: number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

interface CheckOutcome {
  name: string;
  ok: boolean;
  reason?: string;
}

export class HealthServer {
  private readonly liveness = new Map<string, Check>();
  private readonly readiness = new Map<string, Check>();
  private readonly registry: Registry;
  private readonly checkTimeoutMs: number;
  private server: Server | undefined;

  constructor(opts: HealthServerOptions) {
    this.registry = opts.registry;
    this.checkTimeoutMs = opts.checkTimeoutMs ?? 5000;
  }

  addLivenessCheck(name: string, check: Check): this {
    this.liveness.set(name, check);
    return this;
  }

  addReadinessCheck(name: string, check: Check): this {
    this.readiness.set(name, check);
    return this;
  }

  /** Starts serving; port 0 picks a free port. Resolves with the bound address. */
  async listen(host: string, port: number): Promise<ListenAddress> {
    if (this.server) throw new Error('health server already listening');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  /** Stops listening and closes open connections (keep-alive ones too). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    switch (url.pathname) {
      case '/healthz':
        return this.probe(res, this.liveness, url.searchParams.has('verbose'));
      case '/readyz':
        return this.probe(res, this.readiness, url.searchParams.has('verbose'));
      case '/metrics': {
        const body = await this.registry.metrics();
        res.writeHead(200, { 'content-type': this.registry.contentType }).end(body);
        return;
      }
      default:
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  }

  private async probe(res: ServerResponse, checks: Map<string, Check>, verbose: boolean): Promise<void> {
    const outcomes = await Promise.all([...checks].map(([name, check]) => this.run(name, check)));
    const ok = outcomes.every((o) => o.ok);
    // Like kube-apiserver: failures are always listed, passes only on ?verbose.
    const lines = outcomes.filter((o) => verbose || !o.ok).map((o) => `[${o.ok ? '+' : '-'}]${o.name} ${o.ok ? 'ok' : `failed${o.reason ? `: ${o.reason}` : ''}`}`);
    lines.push(ok ? 'ok' : 'failed');
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${lines.join('\n')}\n`);
  }

  private async run(name: string, check: Check): Promise<CheckOutcome> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
      });
      const result = await Promise.race([Promise.resolve().then(check), timeout]);
      return { name, ok: result !== false };
    } catch (err) {
      return { name, ok: false, reason: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}
