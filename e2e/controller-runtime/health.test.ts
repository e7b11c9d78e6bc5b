// The probe/metrics server over loopback.
import { request } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { HealthServer } from '../../src/controller/runtime/health.js';

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HealthServer', () => {
  const registry = new Registry();
  new Counter({ name: 'eni_operator_test_total', help: 'test', registers: [registry] }).inc(3);
  let server: HealthServer;
  let port: number;
  let ready = false;

  beforeAll(async () => {
    server = new HealthServer({ registry, checkTimeoutMs: 200 });
    server.addLivenessCheck('ping', () => true);
    server.addReadinessCheck('informers-synced', () => ready);
    server.addReadinessCheck('leader-or-standby', () => Promise.resolve());
    const addr = await server.listen('127.0.0.1', 0);
    expect(addr.host).toBe('127.0.0.1');
    expect(addr.port).toBeGreaterThan(0);
    port = addr.port;
  });

  afterAll(async () => {
    await server.close();
  });

  test('/healthz passes when the liveness checks pass', async () => {
    const r = await get(port, '/healthz');
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok\n');
    expect((await get(port, '/healthz?verbose')).body).toBe('[+]ping ok\nok\n');
  });

  test('/readyz fails with the failing check named, then passes', async () => {
    ready = false;
    const r = await get(port, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body).toBe('[-]informers-synced failed\nfailed\n');
    ready = true;
    const ok = await get(port, '/readyz?verbose');
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('[+]informers-synced ok\n[+]leader-or-standby ok\nok\n');
  });

  test('a throwing or hanging check fails with its reason', async () => {
    const s = new HealthServer({ registry, checkTimeoutMs: 100 });
    s.addLivenessCheck('throws', () => {
      throw new Error('cloud credentials unreadable');
    });
    s.addLivenessCheck('hangs', () => new Promise<boolean>(() => undefined));
    const { port: p } = await s.listen('127.0.0.1', 0);
    try {
      const r = await get(p, '/healthz');
      expect(r.status).toBe(503);
      expect(r.body).toContain('[-]throws failed: cloud credentials unreadable');
      expect(r.body).toContain('[-]hangs failed: timed out after 100 ms');
    } finally {
      await s.close();
    }
  });

  test('/metrics serves the registry in the Prometheus text format', async () => {
    const r = await get(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toBe(registry.contentType);
    expect(r.type).toContain('text/plain');
    expect(r.body).toContain('eni_operator_test_total 3');
  });

  test('anything else is 404', async () => {
    expect((await get(port, '/')).status).toBe(404);
    expect((await get(port, '/healthz/extra')).status).toBe(404);
  });

  test('close() ends keep-alive connections and frees the port', async () => {
    const s = new HealthServer({ registry });
    const { port: p } = await s.listen('127.0.0.1', 0);
    // A keep-alive client would hold a plain server.close() open.
    const res = await fetch(`http://127.0.0.1:${p}/healthz`);
    expect(res.status).toBe(200);
    await res.text();
    await s.close();
    await expect(get(p, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });
});
