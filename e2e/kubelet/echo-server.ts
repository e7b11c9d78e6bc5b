// What a test pod runs: echo on each given TCP and UDP port (0.0.0.0), so
// traffic between pods can be checked byte for byte. A request of exactly
// "WHOAMI" (one datagram, or a TCP line) is answered with "<POD_NAME> <POD_IP>"
// instead, to tell which pod answered.
//   node echo-server.js [--tcp 8080,9090] [--udp 8080]
// Prints {"ready":true,...} once every port listens (the kubelet waits for it).
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

function ports(list: string | undefined, flag: string): number[] {
  if (!list) return [];
  return list.split(',').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${flag}: not a port: "${p}"`);
    return n;
  });
}

const identity = (): string => `${process.env.POD_NAME ?? 'unknown'} ${process.env.POD_IP ?? ''}`.trim();

function listenTCP(port: number): Promise<void> {
  const server = createServer((sock) => {
    let first = true;
    sock.on('data', (chunk) => {
      if (first && chunk.toString() === 'WHOAMI\n') sock.write(`${identity()}\n`);
      else sock.write(chunk);
      first = false;
    });
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
}

function listenUDP(port: number): Promise<void> {
  const sock = createSocket('udp4');
  sock.on('message', (msg, from) => {
    const reply = msg.toString() === 'WHOAMI' ? Buffer.from(identity()) : msg;
    sock.send(reply, from.port, from.address);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '0.0.0.0', () => resolve());
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tcp: { type: 'string' }, udp: { type: 'string' } } });
  const tcp = ports(values.tcp ?? process.env.ECHO_TCP_PORTS, '--tcp');
  const udp = ports(values.udp ?? process.env.ECHO_UDP_PORTS, '--udp');
  await Promise.all([...tcp.map(listenTCP), ...udp.map(listenUDP)]);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(0));
  // Keeps a pod with no ports alive too.
  setInterval(() => undefined, 1 << 30);
  process.stdout.write(JSON.stringify({ ready: true, tcp, udp, pod: process.env.POD_NAME ?? '' }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`echo-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
