// A namespace read by iproute2 (`ip -4 -N -d -json`), parsed into the agent's
// model: the independent reading the eni-exec helper's netlink read-back is
// compared with (the agent itself read namespaces this way before it spoke
// netlink).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Snapshot } from '../../src/agent/netlink/model.js';
import { parseAddresses, parseLinks, parseNeighbours, parseNetConf, parseProxies, parseRoutes, parseRules } from './iproute2-parse.js';

const run = promisify(execFile);

const COMMANDS = ['link show', 'address show', 'route show table all', 'rule show', 'neighbour show', 'neighbour show proxy', 'netconf show'];

/** One `ip -batch` process reading everything the agent reads, in the named namespace. */
export async function readWithIproute2(netnsName: string): Promise<Snapshot> {
  const child = run('ip', ['-n', netnsName, '-4', '-N', '-d', '-json', '-batch', '-'], { maxBuffer: 16 << 20 });
  child.child.stdin!.end(COMMANDS.join('\n') + '\n');
  const { stdout } = await child;
  const docs = stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown[]);
  if (docs.length !== COMMANDS.length) throw new Error(`expected ${COMMANDS.length} JSON documents from ip, got ${docs.length}`);
  const [links, addresses, routes, rules, neighbours, proxies, netconf] = docs;
  return {
    links: parseLinks(links!),
    addresses: parseAddresses(addresses!),
    routes: parseRoutes(routes!),
    rules: parseRules(rules!),
    neighbours: parseNeighbours(neighbours!),
    proxies: parseProxies(proxies!),
    netconf: parseNetConf(netconf!),
  };
}
