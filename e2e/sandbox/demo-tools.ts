// Small readers and probes for hack/demo.sh, so the script stays a story and
// not a pile of JSON plumbing. Each exits non-zero when what it checks fails.
//   demo-tools.js world URL PROVIDER            the emulator's region: subnets, instances
//   demo-tools.js in-cidrs "CIDR ..." NAME=IP... each IP inside one of the CIDRs
//   demo-tools.js probe NETNS NAME=IP:PORT...   TCP + UDP echo from inside NETNS
//   demo-tools.js metrics URL REGEX...          the sample lines of a /metrics that match a REGEX
//                                               (each must match one, unless it starts with '?')
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cidrContains, parseCidr } from '../../src/util/ipv4.js';
import type { ProbeResult } from '../kubelet/echo-client.js';
import { repoPath } from '../harness/paths.js';

const exec = promisify(execFile);
const USAGE = 'usage: demo-tools world URL PROVIDER | in-cidrs "CIDR ..." NAME=IP... | probe NETNS NAME=IP:PORT... | metrics URL REGEX...';

interface WorldView {
  regions: {
    id: string;
    provider: string;
    zones: string[];
    subnets: { id: string; zone: string; cidr: string; availableIPs: number }[];
    instances: { id: string; type: string; zone: string }[];
    instanceTypes: { type: string; maxENIs: number; ipsPerENI: number }[];
  }[];
}

async function world(url: string, provider: string): Promise<number> {
  const w = (await (await fetch(`${url}/_admin/world`)).json()) as WorldView;
  for (const r of w.regions.filter((x) => x.provider === provider)) {
    console.log(`${r.provider} ${r.id}: zones ${r.zones.join(', ')}`);
    for (const s of r.subnets) console.log(`  subnet   ${s.id.padEnd(22)} ${s.zone.padEnd(15)} ${s.cidr.padEnd(14)} ${String(s.availableIPs).padStart(5)} free`);
    for (const i of r.instances) {
      const t = r.instanceTypes.find((x) => x.type === i.type);
      console.log(`  instance ${i.id.padEnd(22)} ${i.type.padEnd(15)} ${i.zone.padEnd(14)} ${t ? `${t.maxENIs} ENIs x ${t.ipsPerENI} IPs` : ''}`);
    }
  }
  return 0;
}

/** `name=value` pairs; a bare value names itself. */
function pairs(args: string[]): [string, string][] {
  return args.map((a) => {
    const eq = a.lastIndexOf('=');
    return eq < 0 ? [a, a] : [a.slice(0, eq), a.slice(eq + 1)];
  });
}

function inCidrs(cidrList: string, args: string[]): number {
  const cidrs = cidrList.split(/\s+/).filter(Boolean).map((c) => [c, parseCidr(c)] as const);
  if (cidrs.length === 0 || args.length === 0) throw new Error('in-cidrs wants CIDRs and at least one NAME=IP');
  let bad = 0;
  for (const [name, ip] of pairs(args)) {
    const home = cidrs.find(([, c]) => cidrContains(c, ip));
    if (!home) bad++;
    console.log(`  ${home ? 'ok  ' : 'FAIL'} ${name.padEnd(24)} ${ip.padEnd(15)} ${home ? `in ${home[0]}` : `outside ${cidrList}`}`);
  }
  return bad === 0 ? 0 : 1;
}

async function probe(netns: string, args: string[]): Promise<number> {
  const targets = pairs(args);
  if (targets.length === 0) throw new Error('probe wants at least one NAME=IP:PORT');
  const list = targets.map(([, t]) => t).join(',');
  const cmd = ['netns', 'exec', netns, process.execPath, repoPath('dist/e2e/kubelet/echo-client.js'), '--tcp', list, '--udp', list, '--timeout-ms', '3000'];
  // The client exits 1 when a probe fails; its JSON says which.
  const out = await exec('ip', cmd).catch((err: { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`echo client in ${netns} failed: ${err.stderr ?? ''}`);
    return { stdout: err.stdout };
  });
  const results = JSON.parse(out.stdout) as ProbeResult[];
  const name = new Map(targets.map(([n, t]) => [t, n]));
  for (const r of results.sort((a, b) => targets.findIndex(([, t]) => t === a.target) - targets.findIndex(([, t]) => t === b.target) || a.proto.localeCompare(b.proto))) {
    const took = r.ok ? `${r.ms} ms` : r.error ?? 'failed';
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.proto} -> ${(name.get(r.target) ?? '').padEnd(30)} ${r.target.padEnd(21)} ${took}`);
  }
  return results.length === targets.length * 2 && results.every((r) => r.ok) ? 0 : 1;
}

/** Every pattern must match a sample (a metric that vanished is a failure, not an empty line), except one marked optional with a leading '?'. */
async function metrics(url: string, patterns: string[]): Promise<number> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const samples = (await res.text()).split('\n').filter((l) => l && !l.startsWith('#'));
  let missing = 0;
  for (const pattern of patterns) {
    const optional = pattern.startsWith('?');
    const p = optional ? pattern.slice(1) : pattern;
    const re = new RegExp(p);
    const lines = samples.filter((l) => re.test(l));
    if (lines.length === 0) {
      if (!optional) missing++;
      console.log(`  ${optional ? '(absent)' : 'FAIL'} no sample matches /${p}/`);
    }
    for (const l of lines) console.log(`  ${l}`);
  }
  return missing === 0 ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, a, ...rest] = argv;
  if (!cmd || a === undefined) throw new Error(USAGE);
  switch (cmd) {
    case 'world':
      return world(a, rest[0] ?? fail(USAGE));
    case 'in-cidrs':
      return inCidrs(a, rest);
    case 'probe':
      return probe(a, rest);
    case 'metrics':
      return metrics(a, rest);
    default:
      throw new Error(USAGE);
  }
}

function fail(message: string): never {
  throw new Error(message);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo-tools: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
