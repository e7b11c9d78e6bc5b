// A client of the agent's CNI socket that sends requests exactly as the eni-cni
// plugin (native/eni-cni) does, for tests and benchmarks that talk to an agent
// without exec'ing the plugin: one HTTP/1.1 request per connection, the answer
// taken as soon as its Content-Length body is in. (It was the Node plugin's
// client before the plugin became a Go program.)
import { connect } from 'node:net';

export interface AgentResponse {
  status: number;
  body: string;
}

/** Why the agent could not be asked or did not answer. */
export type AgentFailureKind = 'unreachable' | 'timeout' | 'connection-lost' | 'malformed-response';

export class AgentCallError extends Error {
  constructor(
    readonly kind: AgentFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'AgentCallError';
  }
}

/** Errors of connect(2) meaning nothing listens on the path (the agent is not running). */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR']);

export type AgentCall = (socketPath: string, path: string, body: string, timeoutMs: number) => Promise<AgentResponse>;

export const postToAgent: AgentCall = (socketPath, path, body, timeoutMs) =>
  new Promise<AgentResponse>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let connected = false;
    let settled = false;
    const sock = connect(socketPath);
    const finish = (err: AgentCallError | undefined, res?: AgentResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => finish(new AgentCallError('timeout', `no answer from the agent at ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => {
      connected = true;
      sock.write(`POST ${path} HTTP/1.1\r\nHost: eni-agent\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Done once the body is whole: do not wait for the agent to close the connection.
      const res = completeResponse(Buffer.concat(chunks));
      if (res) finish(undefined, res);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && err.code !== undefined && NOT_LISTENING.has(err.code)) finish(new AgentCallError('unreachable', `connect ${socketPath}: ${err.code}`));
      else finish(new AgentCallError('connection-lost', `${socketPath}: ${err.message}`));
    });
    sock.on('close', () => {
      try {
        finish(undefined, parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        finish(err instanceof AgentCallError ? err : new AgentCallError('malformed-response', String(err)));
      }
    });
  });

/** The response if `raw` already holds all of it (headers and a Content-Length body), else undefined. */
export function completeResponse(raw: Buffer): AgentResponse | undefined {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const m = /\r\ncontent-length:\s*(\d+)\r\n/i.exec(raw.subarray(0, headerEnd + 2).toString('latin1'));
  if (!m || raw.length - headerEnd - 4 < Number(m[1])) return undefined;
  return parseResponse(raw);
}

/** A complete HTTP/1.x response read until the server closed the connection. */
export function parseResponse(raw: Buffer): AgentResponse {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) {
    throw new AgentCallError(raw.length === 0 ? 'connection-lost' : 'malformed-response', raw.length === 0 ? 'the agent closed the connection without answering' : 'incomplete HTTP response from the agent');
  }
  const head = raw.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
  if (!m) throw new AgentCallError('malformed-response', `not an HTTP response: ${JSON.stringify(head[0])}`);
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(headerEnd + 4);
  if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') body = dechunk(body);
  else if (headers.has('content-length')) {
    const length = Number(headers.get('content-length'));
    if (!Number.isInteger(length) || length < 0 || body.length < length) throw new AgentCallError('connection-lost', `the agent's answer was cut short (${body.length} of ${headers.get('content-length')} bytes)`);
    body = body.subarray(0, length);
  }
  return { status: Number(m[1]), body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) throw new AgentCallError('connection-lost', 'the agent\'s chunked answer was cut short');
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new AgentCallError('malformed-response', 'bad chunk size in the agent\'s answer');
    if (size === 0) return Buffer.concat(parts);
    if (lineEnd + 2 + size > data.length) throw new AgentCallError('connection-lost', 'the agent\'s chunked answer was cut short');
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
