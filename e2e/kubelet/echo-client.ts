// Probes echo servers from wherever it runs (tests start it inside a pod's
// network namespace): sends a unique payload to each target and checks the
// reply is the same bytes.
//   node echo-client.js [--tcp IP:PORT,...] [--udp IP:PORT,...] [--timeout-ms 2000]
// Prints a JSON array of {proto, target, ok, ms, error?}; exits 1 if any failed.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';

export interface ProbeResult {
  proto: 'tcp' | 'udp';
  target: string;
  ok: boolean;
  ms: number;
  error?: string;
}

function split(target: string): { host: string; port: number } {
  const i = target.lastIndexOf(':');
  const port = Number(target.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`not IP:PORT: "${target}"`);
  return { host: target.slice(0, i), port };
}

function probeTCP(target: string, timeoutMs: number): Promise<void> {
  const { host, port } = split(target);
  const payload = `tcp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let got = '';
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => settle(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (c) => {
      got += c.toString();
      if (got.length >= payload.length) settle(got === payload ? undefined : new Error(`echo mismatch: sent ${payload}, got ${got}`));
    });
    sock.on('error', settle);
    sock.on('close', () => settle(new Error(`connection closed after ${got.length} bytes`)));
  });
}

function probeUDP(target: string, timeoutMs: number): Promise<void> {
  const { host, port } = split(target);
  const payload = `udp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const done = (err?: Error) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
    sock.on('message', (msg) => done(msg.toString() === payload ? undefined : new Error(`echo mismatch: sent ${payload}, got ${msg.toString()}`)));
    sock.on('error', (err) => done(err));
    sock.send(payload, port, host);
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { tcp: { type: 'string' }, udp: { type: 'string' }, 'timeout-ms': { type: 'string', default: '2000' } } });
  const timeoutMs = Number(values['timeout-ms']);
  const list = (v: string | undefined) => (v ? v.split(',') : []);
  const probes = [
    ...list(values.tcp).map((t) => ({ proto: 'tcp' as const, target: t, run: () => probeTCP(t, timeoutMs) })),
    ...list(values.udp).map((t) => ({ proto: 'udp' as const, target: t, run: () => probeUDP(t, timeoutMs) })),
  ];
  const results: ProbeResult[] = await Promise.all(
    probes.map(async (p) => {
      const began = performance.now();
      try {
        await p.run();
        return { proto: p.proto, target: p.target, ok: true, ms: Math.round((performance.now() - began) * 10) / 10 };
      } catch (err) {
        return { proto: p.proto, target: p.target, ok: false, ms: Math.round(performance.now() - began), error: (err as Error).message };
      }
    }),
  );
  process.stdout.write(JSON.stringify(results) + '\n');
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`echo-client: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
