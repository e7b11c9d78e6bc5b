// Client of eni-exec (native/eni-exec), a small long-lived Go process that
// carries out the agent's kernel work: netlink reads and writes of network
// namespaces (kernel.ts) and the rare command (exec.ts). Forking this large
// Node process blocks the event loop for milliseconds per spawn; the helper
// talks netlink in microseconds, forks with vfork semantics and enters
// network namespaces with setns.
//
// Requests are JSON lines on its stdin, answers JSON lines on its stdout,
// matched by id; any number may be in flight.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ExecResult } from './exec.js';

export interface HelperRequest {
  file: string;
  args: readonly string[];
  stdin?: string;
  /** nsfs path of the network namespace to run in. */
  netns?: string;
  timeoutMs: number;
}

/** One request of any op (see native/eni-exec/protocol.go); id is added here. */
export type HelperPayload = { op: 'exec' | 'read' | 'apply' | 'probe'; netns?: string } & Record<string, unknown>;

/** The answer: `error` alone when the request could not be carried out at all, else the part for its op. */
export interface HelperAnswer {
  id: number;
  error?: string;
  exec?: unknown;
  snapshot?: unknown;
  applied?: unknown;
  probe?: unknown;
}

/** The helper binary could not be started at all: the command did not run, so running it another way is safe. */
export class HelperStartError extends Error {
  override readonly name = 'HelperStartError';
}

interface Pending {
  /** What the request does, for messages. */
  what: string;
  resolve: (r: HelperAnswer) => void;
  reject: (e: Error) => void;
}

function isAnswer(v: unknown): v is HelperAnswer {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.id === 'number' && (r.error === undefined || typeof r.error === 'string');
}

function isExecResult(v: unknown): v is ExecResult {
  const r = v as Record<string, unknown> | undefined;
  return typeof r?.code === 'number' && typeof r.stdout === 'string' && typeof r.stderr === 'string';
}

/** ref()/unref() exist on the pipes at run time, though the stream types do not say so. */
function setRef(stream: Readable | Writable, on: boolean): void {
  const handle = stream as unknown as { ref?: () => void; unref?: () => void };
  if (on) handle.ref?.();
  else handle.unref?.();
}

export class ExecHelper {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Bytes of a response line not yet ended by a newline. */
  private partial: Buffer[] = [];
  /** Why we killed it, when we did. */
  private failure: string | undefined;
  private startError: Error | undefined;
  private stopping = false;
  private readonly closed: Promise<void>;

  constructor(
    readonly path: string,
    /** Called once when this helper can take no more requests. */
    private readonly onGone: (helper: ExecHelper, startError: Error | undefined) => void,
  ) {
    // Its stderr is ours: a Go panic lands in the agent's log.
    this.child = spawn(path, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout.on('data', (chunk: Buffer) => this.read(chunk));
    // Writes after it died fail with EPIPE; 'close' below reports the death.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (err) => {
      if (this.child.pid === undefined) this.startError = err;
    });
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.gone(code, signal);
        resolve();
      });
    });
    this.idle();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Runs a command; rejects when it could not be started. */
  async run(request: HelperRequest): Promise<ExecResult> {
    const answer = await this.request({ op: 'exec', ...request }, `running \`${`${request.file} ${request.args.join(' ')}`.trim()}\``);
    if (!isExecResult(answer.exec)) throw new Error(`eni-exec helper ${this.path} answered an exec request without its result: ${JSON.stringify(answer).slice(0, 200)}`);
    return answer.exec;
  }

  /** Sends one request; rejects with the helper's error when it could not carry it out, or when the helper dies. */
  request(payload: HelperPayload, what: string): Promise<HelperAnswer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.busy();
      this.pending.set(id, { what, resolve, reject });
      this.child.stdin.write(JSON.stringify({ id, ...payload }) + '\n');
    });
  }

  /** Closes its stdin: it answers what is in flight, then exits. Resolves when it has. */
  stop(): Promise<void> {
    // Held until it has exited, or an otherwise idle caller would not wait for it.
    this.stopping = true;
    this.busy();
    this.child.stdin.end();
    return this.closed;
  }

  /** While requests are in flight the helper keeps the event loop alive, and only then. */
  private busy(): void {
    this.child.ref();
    setRef(this.child.stdin, true);
    setRef(this.child.stdout, true);
  }

  private idle(): void {
    if (this.stopping) return;
    this.child.unref();
    setRef(this.child.stdin, false);
    setRef(this.child.stdout, false);
  }

  private read(chunk: Buffer): void {
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10)) {
      const line = this.partial.length > 0 ? Buffer.concat([...this.partial, chunk.subarray(0, nl)]) : chunk.subarray(0, nl);
      this.partial = [];
      chunk = chunk.subarray(nl + 1);
      this.answer(line.toString('utf8'));
    }
    if (chunk.length > 0) this.partial.push(chunk);
  }

  private answer(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    const pending = isAnswer(parsed) ? this.pending.get(parsed.id) : undefined;
    if (!isAnswer(parsed) || !pending) {
      // Nothing else can be trusted from it: kill it, and 'close' fails the rest.
      this.failure = `sent an unexpected line ${JSON.stringify(line.slice(0, 200))}`;
      this.child.kill('SIGKILL');
      return;
    }
    this.pending.delete(parsed.id);
    if (this.pending.size === 0) this.idle();
    if (parsed.error !== undefined) pending.reject(new Error(parsed.error));
    else pending.resolve(parsed);
  }

  private gone(code: number | null, signal: NodeJS.Signals | null): void {
    const start = this.startError;
    const why = start ? `could not be started: ${start.message}` : (this.failure ?? (signal ? `was killed by ${signal}` : `exited with code ${code}`));
    for (const { what, reject } of this.pending.values()) {
      const message = `eni-exec helper ${this.path} (pid ${this.child.pid ?? '?'}) ${why} while ${what}; it is restarted on the next call`;
      reject(start ? new HelperStartError(message, { cause: start }) : new Error(message));
    }
    this.pending.clear();
    this.onGone(this, start);
  }
}
