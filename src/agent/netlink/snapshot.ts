// Reads a namespace's links, addresses, routes (all tables), rules, neighbours,
// proxy neighbours and per-device IPv4 settings in a single `ip` process.
import { ipShow } from './ip.js';
import type { Snapshot } from './model.js';
import type { Netns } from './netns.js';
import { parseAddresses, parseLinks, parseNeighbours, parseNetConf, parseProxies, parseRoutes, parseRules } from './parse.js';

const COMMANDS = ['link show', 'address show', 'route show table all', 'rule show', 'neighbour show', 'neighbour show proxy', 'netconf show'];

export async function readSnapshot(ns: Netns): Promise<Snapshot> {
  const [links, addresses, routes, rules, neighbours, proxies, netconf] = await ipShow(ns, COMMANDS);
  return {
    links: parseLinks(links ?? []),
    addresses: parseAddresses(addresses ?? []),
    routes: parseRoutes(routes ?? []),
    rules: parseRules(rules ?? []),
    neighbours: parseNeighbours(neighbours ?? []),
    proxies: parseProxies(proxies ?? []),
    netconf: parseNetConf(netconf ?? []),
  };
}
