// qperf (Debian package `qperf`, the tool of the seed that evaluated
// Kubernetes networking) between two network namespaces: a server in one, the
// client in the other, and its report parsed. Pure parsing apart from the
// process handling, so the parser is unit-tested.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

/** One qperf run: one-way latency (µs) and bandwidth (bytes/s) as qperf reports them. */
export interface QperfResult {
  tcpLatUs: number;
  udpLatUs: number;
  tcpBw: number;
  /** UDP: what the receiver got (the sender's rate is whatever it could push). */
  udpRecvBw: number;
  udpSendBw: number;
}

export const QPERF_TESTS = ['tcp_lat', 'udp_lat', 'tcp_bw', 'udp_bw'] as const;

const TIME_UNITS: Record<string, number> = { ns: 1e-3, us: 1, ms: 1e3, sec: 1e6, s: 1e6 };
const BW_UNITS: Record<string, number> = { 'bytes/sec': 1, 'KB/sec': 1e3, 'MB/sec': 1e6, 'GB/sec': 1e9, 'TB/sec': 1e12 };

/**
 * Parses qperf's report, e.g.
 *   tcp_lat:
 *       latency  =  23.4 us
 *   udp_bw:
 *       send_bw  =  1.4 GB/sec
 *       recv_bw  =  712 MB/sec
 */
export function parseQperf(text: string): QperfResult {
  const values = new Map<string, number>();
  let test = '';
  for (const line of text.split('\n')) {
    const head = /^(\w+):\s*$/.exec(line);
    if (head) {
      test = head[1]!;
      continue;
    }
    const m = /^\s+(\w+)\s+=\s+([\d.]+)\s+(\S+)\s*$/.exec(line);
    if (!m || !test) continue;
    const [, key, num, unit] = m;
    const scale = key === 'latency' ? TIME_UNITS[unit!] : BW_UNITS[unit!];
    if (scale === undefined) throw new Error(`qperf: unknown unit ${JSON.stringify(unit)} in ${JSON.stringify(line.trim())}`);
    values.set(`${test}.${key}`, Number(num) * scale);
  }
  const get = (k: string): number => {
    const v = values.get(k);
    if (v === undefined || !Number.isFinite(v)) throw new Error(`qperf report lacks ${k}:\n${text}`);
    return v;
  };
  return { tcpLatUs: get('tcp_lat.latency'), udpLatUs: get('udp_lat.latency'), tcpBw: get('tcp_bw.bw'), udpRecvBw: get('udp_bw.recv_bw'), udpSendBw: get('udp_bw.send_bw') };
}

/** Request/response transactions per second implied by a one-way latency (netperf's *_RR). */
export function transactionsPerSecond(oneWayLatUs: number): number {
  return 1e6 / (2 * oneWayLatUs);
}

/** A qperf server in a named network namespace, killed with its owner; resolves once it listens. */
export async function startQperfServer(netns: string, port: number): Promise<ChildProcess> {
  const server = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', netns, 'qperf', '--listen_port', String(port)], { stdio: 'ignore' });
  const listening = (): Promise<boolean> =>
    new Promise((resolve) => execFile('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], (err, stdout) => resolve(!err && stdout.trim() !== '')));
  // Slow to start under an emulated CPU (the QEMU guest): wait for its socket rather than guess.
  for (const until = Date.now() + 60_000; !(await listening()); await new Promise((r) => setTimeout(r, 100))) {
    if (server.exitCode !== null || Date.now() > until) {
      server.kill('SIGKILL');
      throw new Error(`qperf server in ${netns} did not listen on port ${port}`);
    }
  }
  return server;
}

/** All four tests from `netns` against a server at host:port, each for `seconds`. */
export function runQperf(netns: string, host: string, port: number, seconds: number): Promise<QperfResult> {
  const args = ['netns', 'exec', netns, 'qperf', '--listen_port', String(port), '--time', String(seconds), host, ...QPERF_TESTS];
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: (seconds * QPERF_TESTS.length * 10 + 120) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`qperf from ${netns} to ${host} (exit ${err.code ?? err.signal}): ${stderr.trim() || err.message}; it printed: ${stdout.trim()}`, { cause: err }));
      try {
        resolve(parseQperf(stdout));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
