// The agent's end of the CNI plugin protocol (src/cni/protocol.ts): an HTTP/1.1
// server on a unix socket that validates each request, runs it through a
// CniHandler one request per container at a time, and answers with the CNI
// result or error the plugin prints.
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { asCniError, CniCode, CniError } from '../cni/errors.js';
import { commandFromPath, parseWireRequest, type AgentCommand, type AgentRequest, type CniRequest, type GcRequest, type StatusRequest } from '../cni/protocol.js';
import { parseResult, resultForVersion, ResultShapeError } from '../cni/result.js';
import type { CniAddResult } from '../cni/types.js';
import type { Logger } from '../log/logger.js';
import type { CniMetrics } from '../metrics/cni.js';

export type { CniRequest, GcRequest, StatusRequest } from '../cni/protocol.js';

export interface CniRequestContext {
  /** Aborted when the plugin stops waiting (its timeout, or it was killed) or the server is closing. */
  signal: AbortSignal;
  /** Epoch ms after which the plugin no longer waits (arrival + the configuration's timeoutMs). */
  deadline: number;
}

/**
 * What the agent does for each CNI command. Requests reach it validated, and
 * never two at once for the same container ID. Throw CniError for a classified
 * failure (e.g. code 11 when the pod's address is not planned yet, 3 when the
 * container is unknown); anything else is answered as code 100 (internal).
 */
export interface CniHandler {
  /**
   * Set the attachment (containerID, ifName) up and describe it. MUST be
   * idempotent: an ADD of an attachment that is already set up returns the same
   * result (runtimes retry after timeouts). The server stamps cniVersion and
   * drops fields the request's version does not define.
   */
  add(req: CniRequest, ctx: CniRequestContext): Promise<CniAddResult>;
  /**
   * Tear the attachment down. MUST succeed when it is already gone or was never
   * there (DEL is repeated, and may come for an ADD that failed); netns and the
   * pod fields may be ''. config.prevResult, when present, is the ADD result.
   */
  del(req: CniRequest, ctx: CniRequestContext): Promise<void>;
  /** Verify the attachment against config.prevResult (always present); throw CniError when it is broken. */
  check(req: CniRequest, ctx: CniRequestContext): Promise<void>;
  /** Readiness for ADD (CNI 1.1 STATUS): throw CniError 50 or 51 when not ready. Absent: always ready. */
  status?(req: StatusRequest, ctx: CniRequestContext): Promise<void>;
  /** Remove what belongs to no valid attachment (CNI 1.1 GC). Absent: nothing to do. */
  gc?(req: GcRequest, ctx: CniRequestContext): Promise<void>;
}

export interface CniServerOptions {
  /** Handler calls running at once; more wait in line. Default 16. */
  maxConcurrent?: number;
  /** Requests waiting beyond the running ones; more are refused with code 11. Default 1024. */
  maxQueued?: number;
  /** How long close() lets running handlers finish before aborting them. Default 10 s. */
  closeTimeoutMs?: number;
  metrics?: CniMetrics;
  logger?: Logger;
}

export interface CniServer {
  readonly socketPath: string;
  /** Stops accepting, refuses queued requests with code 11, waits for running ones (then aborts them), removes the socket. */
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

/** Runs tasks one at a time per key and at most `limit` at once overall. Pure scheduling, no I/O. */
export class KeyedLimiter {
  private running = 0;
  private waitingCount = 0;
  private readonly slots: (() => void)[] = [];
  private readonly tails = new Map<string, Promise<void>>();

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {
    if (!(limit >= 1)) throw new Error(`maxConcurrent must be at least 1 (got ${limit})`);
  }

  /** Tasks started and not finished. */
  get active(): number {
    return this.running;
  }

  /** Tasks accepted and not started. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Whether one more task would be refused. */
  get full(): boolean {
    return this.waitingCount >= this.maxWaiting;
  }

  /** Runs `task` after every earlier task of `key` (undefined: no ordering) has finished and a slot is free. */
  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    this.waitingCount++;
    const previous = key === undefined ? Promise.resolve() : (this.tails.get(key) ?? Promise.resolve());
    const result = previous.then(() => this.acquire()).then(async () => {
      this.waitingCount--;
      try {
        return await task();
      } finally {
        this.release();
      }
    });
    if (key !== undefined) {
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      this.tails.set(key, tail);
      void tail.then(() => {
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    }
    return result;
  }

  /** Keys with queued or running work (for tests and diagnostics). */
  get keys(): number {
    return this.tails.size;
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slots.push(resolve));
  }

  private release(): void {
    const next = this.slots.shift();
    if (next) next();
    else this.running--;
  }
}

/** The HTTP status an error is sent with (informational: the plugin reads the body). */
export function httpStatusFor(code: number): number {
  if (code >= 1 && code <= 8) return 400;
  if (code === CniCode.TryAgainLater || code === CniCode.PluginNotAvailable || code === CniCode.LimitedConnectivity) return 503;
  return 500;
}

/** Makes the socket's directory private and removes a socket no process listens on. */
async function prepareSocketPath(socketPath: string): Promise<void> {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A shared directory like /tmp must not be locked down: the socket needs a directory of its own.
  if (dir === '/' || (statSync(dir).mode & 0o1000) !== 0) throw new Error(`the agent socket needs a directory of its own, not ${dir}`);
  chmodSync(dir, 0o700);
  let isSocket: boolean;
  try {
    isSocket = lstatSync(socketPath).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${socketPath} exists and is not a socket`);
  if (await someoneListens(socketPath)) throw new Error(`another process already listens on ${socketPath}`);
  unlinkSync(socketPath);
}

function someoneListens(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startCniServer(socketPath: string, handler: CniHandler, opts: CniServerOptions = {}): Promise<CniServer> {
  const limiter = new KeyedLimiter(opts.maxConcurrent ?? 16, opts.maxQueued ?? 1024);
  let stopping = false;
  const abortRunning = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const { metrics, logger } = opts;

  function send(res: ServerResponse, status: number, body: string): void {
    if (res.destroyed) return;
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
    res.end(body);
  }

  async function dispatch(req: AgentRequest, ctx: CniRequestContext): Promise<string> {
    switch (req.command) {
      case 'ADD': {
        const raw = await handler.add(req, ctx);
        let result;
        try {
          result = parseResult(raw, 'ADD result');
        } catch (err) {
          if (err instanceof ResultShapeError) throw new CniError(CniCode.AgentInternal, 'the agent produced an invalid ADD result', err.message);
          throw err;
        }
        return JSON.stringify(resultForVersion(result, req.config.cniVersion));
      }
      case 'DEL':
        await handler.del(req, ctx);
        return '';
      case 'CHECK':
        await handler.check(req, ctx);
        return '';
      case 'STATUS':
        await handler.status?.(req, ctx);
        return '';
      case 'GC':
        await handler.gc?.(req, ctx);
        return '';
    }
  }

  /** The CNI code answered (0: success), or 'abandoned' when the plugin left before its turn. */
  async function serve(command: AgentCommand, httpReq: IncomingMessage, res: ServerResponse, arrived: number): Promise<number | 'abandoned'> {
    const body = await readBody(httpReq);
    let decoded: unknown;
    try {
      decoded = JSON.parse(body);
    } catch (err) {
      throw new CniError(CniCode.DecodingFailure, 'agent request is not JSON', (err as Error).message);
    }
    const request = parseWireRequest(decoded, command);
    if (stopping) throw new CniError(CniCode.TryAgainLater, 'the agent is shutting down');
    if (limiter.full) throw new CniError(CniCode.TryAgainLater, 'the agent is busy', `${limiter.waiting} requests are waiting`);

    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the plugin stopped waiting'));
    });
    const ctx: CniRequestContext = { signal: AbortSignal.any([gone.signal, abortRunning.signal]), deadline: arrived + request.config.timeoutMs };
    const key = 'containerID' in request ? request.containerID : undefined;
    metrics?.queued.inc();
    const answer = await limiter.run(key, async () => {
      metrics?.queued.dec();
      // We are stopping, or whoever asked is gone: do not start work nobody waits for.
      if (stopping) throw new CniError(CniCode.TryAgainLater, 'the agent is shutting down');
      if (gone.signal.aborted) return undefined;
      metrics?.inFlight.inc();
      try {
        return await dispatch(request, ctx);
      } finally {
        metrics?.inFlight.dec();
      }
    });
    if (answer === undefined) return 'abandoned';
    send(res, 200, answer);
    return 0;
  }

  async function onRequest(httpReq: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = Date.now();
    const command = httpReq.method === 'POST' ? commandFromPath(httpReq.url ?? '') : undefined;
    let code: number | 'abandoned';
    try {
      if (!command) throw new CniError(CniCode.AgentProtocol, 'unknown endpoint', `${httpReq.method} ${httpReq.url}`);
      code = await serve(command, httpReq, res, arrived);
    } catch (err) {
      const e = asCniError(err);
      code = e.code;
      if (code === CniCode.AgentInternal) logger?.error('CNI handler failed', { command, err: err instanceof Error ? err.stack : String(err) });
      else logger?.debug('CNI request refused', { command, code, msg: e.msg, details: e.details });
      send(res, httpStatusFor(code), JSON.stringify({ code: e.code, msg: e.msg, ...(e.details && { details: e.details }) }));
    }
    const label = command ?? 'unknown';
    const result = code === 0 ? 'ok' : code === 'abandoned' ? 'abandoned' : 'error';
    metrics?.requests.inc({ command: label, result, code: typeof code === 'number' ? String(code) : '-' });
    metrics?.duration.observe({ command: label, result }, (Date.now() - arrived) / 1000);
  }

  await prepareSocketPath(socketPath);
  const server = createServer((req, res) => {
    const p = onRequest(req, res);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  logger?.info('CNI server listening', { socket: socketPath });

  let closed: Promise<void> | undefined;
  return {
    socketPath,
    close: () =>
      (closed ??= (async () => {
        stopping = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise((resolve) => (timer = setTimeout(resolve, opts.closeTimeoutMs ?? 10_000)));
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        clearTimeout(timer);
        abortRunning.abort(new Error('the agent is shutting down'));
        server.closeAllConnections();
        await stopped;
        try {
          unlinkSync(socketPath);
        } catch {
          // already gone
        }
      })()),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new CniError(CniCode.DecodingFailure, 'agent request too large', `more than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
