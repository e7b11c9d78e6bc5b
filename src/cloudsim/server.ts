// The emulator's HTTP server: routes each request to the protocol that claims
// it, applies per-API rate limits and injected faults, keeps stats, and serves
// the admin endpoints under /_admin/.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenBucket } from '../util/token-bucket.js';
import { Faults, validateFaults } from './faults.js';
import type { Protocol, SimRequest, SimResponse } from './protocol.js';
import type { World } from './world.js';
import type { DelaySpec, RateLimitSpec, WorldSpec } from './world-spec.js';

const MAX_BODY = 1 << 20;

export interface Stats {
  /** provider -> action -> result code -> count */
  calls: Record<string, Record<string, Record<string, number>>>;
  dropped: number;
  throttled: number;
}

export interface EmulatorOptions {
  world: World;
  protocols: Protocol[];
  rateLimits?: WorldSpec['rateLimits'];
  /** Called for errors that reach the server (a bug in a protocol); requests still get a 500. */
  onError?: (err: unknown) => void;
}

type RateLimits = NonNullable<WorldSpec['rateLimits']>;

export class Emulator {
  readonly faults = new Faults();
  /** Extra read-only admin routes ('GET /_admin/x' -> body), e.g. the VPC fabric's. */
  readonly adminRoutes = new Map<string, () => unknown>();
  private server?: Server;
  private buckets = new Map<string, TokenBucket>();
  private limits: RateLimits;
  private stats: Stats = { calls: {}, dropped: 0, throttled: 0 };

  constructor(private readonly opts: EmulatorOptions) {
    this.limits = opts.rateLimits ?? {};
  }

  get world(): World {
    return this.opts.world;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    const server = createServer((req, res) => void this.serve(req, res));
    server.keepAliveTimeout = 30_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  setRateLimits(limits: RateLimits): void {
    this.limits = limits;
    this.buckets.clear();
  }

  getStats(): Stats {
    return structuredClone(this.stats);
  }

  resetStats(): void {
    this.stats = { calls: {}, dropped: 0, throttled: 0 };
  }

  private limitFor(action: string): RateLimitSpec | undefined {
    return this.limits.perAction?.[action] ?? this.limits.default;
  }

  private count(provider: string, action: string, code: string): void {
    const byAction = (this.stats.calls[provider] ??= {});
    const byCode = (byAction[action] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await readBody(req);
      if (body === undefined) return send(res, { status: 413, body: { Code: 'RequestEntityTooLarge', Message: `body over ${MAX_BODY} bytes` }, code: '' });
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const sim: SimRequest = {
        method: req.method ?? 'GET',
        path: q < 0 ? url : url.slice(0, q),
        rawQuery: q < 0 ? '' : url.slice(q + 1),
        query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        headers: req.headers,
        body,
      };
      if (sim.path.startsWith('/_admin/')) return send(res, this.admin(sim));
      const protocol = this.opts.protocols.find((p) => p.claims(sim));
      if (!protocol) {
        return send(res, { status: 400, body: { Code: 'UnknownProtocol', Message: 'expected an Alibaba (x-acs-action) or Tencent (X-TC-Action) API request' }, code: '' });
      }
      await this.dispatch(protocol, sim, res);
    } catch (err) {
      this.opts.onError?.(err);
      if (!res.headersSent) send(res, { status: 500, body: { Code: 'InternalError', Message: 'emulator error' }, code: '' });
    }
  }

  private async dispatch(protocol: Protocol, req: SimRequest, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const action = protocol.action(req) ?? '(none)';
    const limit = this.limitFor(action);
    if (limit) {
      const key = `${protocol.provider}:${action}`;
      let bucket = this.buckets.get(key);
      if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(limit.qps, limit.burst, Date.now())));
      if (!bucket.tryTake(Date.now())) {
        this.stats.throttled++;
        const answer = protocol.error('Throttled', req, requestId);
        this.count(protocol.provider, action, answer.code);
        return send(res, answer);
      }
    }
    const fault = this.faults.decide(action);
    if (fault.latencyMs > 0) await new Promise((r) => setTimeout(r, fault.latencyMs));
    let answer: SimResponse;
    if (fault.error) {
      answer = protocol.error(fault.error, req, requestId);
    } else {
      try {
        answer = protocol.handle(req, requestId);
      } catch (err) {
        this.opts.onError?.(err);
        answer = protocol.error('InternalError', req, requestId);
      }
    }
    this.count(protocol.provider, action, answer.code);
    if (fault.drop && !fault.error) {
      // The effect happened; the client never hears about it.
      this.stats.dropped++;
      res.socket?.destroy();
      return;
    }
    send(res, answer);
  }

  private admin(req: SimRequest): SimResponse {
    const ok = (body: unknown): SimResponse => ({ status: 200, body, code: 'OK' });
    const bad = (message: string): SimResponse => ({ status: 400, body: { error: message }, code: 'BadRequest' });
    const json = (): unknown => JSON.parse(req.body.toString('utf8') || '{}');
    const route = `${req.method} ${req.path}`;
    try {
      const extra = this.adminRoutes.get(route);
      if (extra) return ok(extra());
      switch (route) {
        case 'GET /_admin/healthz':
          return ok({ ok: true });
        case 'GET /_admin/world':
          return ok(this.world.snapshot());
        case 'GET /_admin/stats':
          return ok(this.getStats());
        case 'DELETE /_admin/stats':
          this.resetStats();
          return ok({});
        case 'GET /_admin/faults':
          return ok(this.faults.get());
        case 'PUT /_admin/faults': {
          const cfg = validateFaults(json());
          this.faults.set(cfg);
          this.world.freezeDescribes(cfg.staleDescribeSeconds ?? 0);
          return ok(cfg);
        }
        case 'DELETE /_admin/faults':
          this.faults.set({});
          this.world.freezeDescribes(0);
          return ok({});
        case 'GET /_admin/ratelimits':
          return ok(this.limits);
        case 'PUT /_admin/ratelimits':
          this.setRateLimits(validateRateLimits(json()));
          return ok(this.limits);
        case 'DELETE /_admin/ratelimits':
          this.setRateLimits({});
          return ok({});
        case 'PUT /_admin/delays': {
          const delays = json() as Partial<DelaySpec>;
          for (const [k, v] of Object.entries(delays)) {
            if (!(k in this.world.delays)) return bad(`unknown delay ${k}`);
            if (typeof v !== 'number' || v < 0) return bad(`${k}: must be a number >= 0`);
          }
          Object.assign(this.world.delays, delays);
          return ok(this.world.delays);
        }
        default:
          return { status: 404, body: { error: `no admin route ${route}` }, code: 'NotFound' };
      }
    } catch (err) {
      return bad((err as Error).message);
    }
  }
}

function validateRateLimits(input: unknown): RateLimits {
  const check = (v: unknown, path: string): RateLimitSpec => {
    const o = v as RateLimitSpec;
    if (typeof o !== 'object' || o === null || !(o.qps > 0) || !(o.burst >= 1)) throw new Error(`${path}: needs qps > 0 and burst >= 1`);
    return { qps: o.qps, burst: o.burst };
  };
  const o = (input ?? {}) as RateLimits;
  const out: RateLimits = {};
  if (o.default !== undefined) out.default = check(o.default, 'default');
  if (o.perAction !== undefined) out.perAction = Object.fromEntries(Object.entries(o.perAction).map(([k, v]) => [k, check(v, `perAction.${k}`)]));
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: SimResponse): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text), ...answer.headers });
  res.end(text);
}
