import { Writable } from 'node:stream';
import { createLogger, reconcileLogger, type Logger } from './logger.js';
import { isSecretField, redact } from './redact.js';

/** A logger whose lines land in an array. */
function captured(level = 'info'): { log: Logger; lines: () => Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level, component: 'controller', stream });
  const lines = () => raw.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, raw };
}

/** Winston writes asynchronously through the stream; wait for it. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('logger', () => {
  test('one JSON object per line with time, level, msg, component and fields', async () => {
    const { log, lines, raw } = captured();
    log.info('pool filled', { node: 'n1', assigned: 3 });
    log.warn('slow');
    await flush();
    expect(raw.join('').split('\n').filter(Boolean)).toHaveLength(2);
    const [first, second] = lines();
    expect(Object.keys(first!).slice(0, 4)).toEqual(['time', 'level', 'msg', 'component']);
    expect(first).toMatchObject({ level: 'info', msg: 'pool filled', component: 'controller', node: 'n1', assigned: 3 });
    expect(new Date(first!.time as string).toISOString()).toBe(first!.time);
    expect(Math.abs(Date.parse(first!.time as string) - Date.now())).toBeLessThan(5_000);
    expect(second).toMatchObject({ level: 'warn', msg: 'slow' });
    expect(second).not.toHaveProperty('message');
  });

  test('levels below the configured one are dropped', async () => {
    const { log, lines } = captured('warn');
    log.info('hidden');
    log.debug('hidden too');
    log.error('shown');
    await flush();
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
  });

  test('child loggers carry key and reconcileID on every line', async () => {
    const { log, lines } = captured();
    const child = reconcileLogger(log, { key: 'node-a', reconcileID: 'r-1' });
    child.info('start');
    child.child({ attempt: 2 }).info('retry');
    log.info('plain');
    await flush();
    const [a, b, c] = lines();
    expect(a).toMatchObject({ msg: 'start', component: 'controller', key: 'node-a', reconcileID: 'r-1' });
    expect(b).toMatchObject({ msg: 'retry', key: 'node-a', reconcileID: 'r-1', attempt: 2 });
    expect(c).not.toHaveProperty('key');
  });

  test('secret fields are removed at any depth and circular objects do not throw', async () => {
    const { log, lines } = captured();
    const provider: Record<string, unknown> = { type: 'alibaba', accessKeyId: 'AKID', accessKeySecret: 'S3CR3T', nested: { secretKey: 'K', password: 'P', Token: 'T', ok: 1 } };
    provider.self = provider;
    expect(() => log.info('provider', { provider, secret: 'top', list: [{ apiToken: 'x', n: 1 }] })).not.toThrow();
    await flush();
    const [line] = lines();
    const text = JSON.stringify(line);
    for (const s of ['S3CR3T', '"K"', '"P"', '"T"', 'top', '"x"']) expect(text).not.toContain(s);
    expect(line).toMatchObject({ provider: { type: 'alibaba', accessKeyId: 'AKID', nested: { ok: 1 }, self: '[Circular]' }, list: [{ n: 1 }] });
    expect(line).not.toHaveProperty('secret');
  });

  test('errors keep message and stack, both as the message and as a field', async () => {
    const { log, lines } = captured();
    log.error(new Error('attach failed'));
    log.error('reconcile failed', { err: Object.assign(new Error('throttled'), { code: 'Throttling', token: 'abc' }) });
    await flush();
    const [a, b] = lines();
    expect(a).toMatchObject({ level: 'error', msg: 'attach failed' });
    expect(a!.stack).toContain('Error: attach failed');
    expect(b).toMatchObject({ msg: 'reconcile failed', err: { name: 'Error', message: 'throttled', code: 'Throttling' } });
    expect(b!.err).not.toHaveProperty('token');
  });
});

describe('redact', () => {
  test('names like secret, password, token, accessKeySecret, secretKey are secret; ids are not', () => {
    for (const n of ['secret', 'password', 'passwd', 'token', 'accessKeySecret', 'secretKey', 'secret_key', 'SECRET_ID', 'x-auth-token', 'credentials', 'Authorization']) expect(isSecretField(n)).toBe(true);
    for (const n of ['accessKeyId', 'key', 'reconcileID', 'name', 'node']) expect(isSecretField(n)).toBe(false);
  });

  test('returns a JSON-safe copy and leaves the input alone', () => {
    const input: Record<string, unknown> = { a: 1n, f: () => 1, d: new Date(0), arr: [1, undefined, () => 2], password: 'p' };
    input.arr2 = [input];
    const out = redact(input);
    expect(out).toEqual({ a: '1', d: '1970-01-01T00:00:00.000Z', arr: [1, null, null], arr2: ['[Circular]'] });
    expect(input.password).toBe('p');
    expect(() => JSON.stringify(out)).not.toThrow();
  });

  test('a shared (non-circular) object appears in full each time', () => {
    const shared = { v: 1 };
    expect(redact({ x: shared, y: shared })).toEqual({ x: { v: 1 }, y: { v: 1 } });
  });

  test('very deep objects are truncated instead of overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) deep = (deep.next = {});
    expect(JSON.stringify(redact(root))).toContain('[Truncated]');
  });

  test('a getter that throws does not make redact throw', () => {
    const hostile = Object.defineProperty({}, 'boom', { enumerable: true, get: () => { throw new Error('no'); } });
    expect(redact({ hostile })).toEqual({ hostile: '[Unreadable]' });
  });
});
