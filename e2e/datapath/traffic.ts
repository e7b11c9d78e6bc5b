// Real TCP and UDP between namespaces: an echo server that answers with the
// source address it saw (so tests can tell NAT or a wrong path), and a
// one-shot client. Both run under `ip netns exec`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

// Answers "<remote address> <payload>" on TCP and UDP.
const SERVER = `
const net = require('node:net'), dgram = require('node:dgram');
const port = Number(process.argv[1]);
let up = 0;
const ready = () => { if (++up === 2) process.stdout.write('ready\\n'); };
net.createServer((s) => s.once('data', (d) => s.end(s.remoteAddress.replace(/^::ffff:/, '') + ' ' + d))).listen(port, '0.0.0.0', ready);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(r.address + ' ' + m, r.port, r.address));
u.bind(port, '0.0.0.0', ready);
`;

// Prints the reply, or exits 3 on timeout and 4 on error.
const CLIENT = `
const [proto, host, port, payload, timeout] = process.argv.slice(1);
const fail = (code, why) => { process.stderr.write(why + '\\n'); process.exit(code); };
setTimeout(() => fail(3, 'timeout'), Number(timeout)).unref();
if (proto === 'tcp') {
  const s = require('node:net').connect(Number(port), host, () => s.write(payload));
  let buf = ''; s.on('data', (d) => (buf += d)); s.on('end', () => { process.stdout.write(buf); process.exit(0); });
  s.on('error', (e) => fail(4, e.message));
} else {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (m) => { process.stdout.write(String(m)); process.exit(0); });
  u.on('error', (e) => fail(4, e.message));
  u.send(payload, Number(port), host);
}
`;

export const ECHO_PORT = 7007;

export class EchoServers {
  private readonly servers: ChildProcess[] = [];

  /** Starts an echo server in `netns` on ECHO_PORT, resolved once it listens. */
  async start(netns: string): Promise<void> {
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', netns, process.execPath, '-e', SERVER, String(ECHO_PORT)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`echo server in ${netns} did not start: ${err}`)), 10_000);
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`echo server in ${netns} exited ${code}: ${err}`));
      });
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exitCode !== null || s.signalCode !== null) return resolve();
            s.once('exit', () => resolve());
            s.kill('SIGKILL');
          }),
      ),
    );
    this.servers.length = 0;
  }
}

export type Reply = { ok: true; from: string; payload: string } | { ok: false; error: string };

/** One request from `netns` to host:ECHO_PORT; the reply says which source address the server saw. */
export function request(netns: string, proto: 'tcp' | 'udp', host: string, payload = 'ping', timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netns, process.execPath, '-e', CLIENT, proto, host, String(ECHO_PORT), payload, String(timeoutMs)], (err, stdout, stderr) => {
      if (err) return resolve({ ok: false, error: stderr.trim() || err.message });
      const space = stdout.indexOf(' ');
      resolve({ ok: true, from: stdout.slice(0, space), payload: stdout.slice(space + 1) });
    });
  });
}
