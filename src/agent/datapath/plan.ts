// Drift repair for the node namespace: from the attachments the node should
// have and what the kernel holds, the actions that repair the former and remove
// what the agent owns that no attachment references. Pure.
//
// Owned means: a link named eop/eox/eoi + 12 hex of the matching kind; a route
// in a table in [TABLE_BASE, TABLE_LIMIT); a route, rule or proxy neighbour
// stamped with OWNED_PROTOCOL; a rule at an owned priority; an ENI carrying the
// exclusive alias. Nothing else is ever deleted.
import type { Attachment } from '../../api/nodenetwork.js';
import type { Snapshot } from '../netlink/model.js';
import { TABLE_LOCAL, TABLE_MAIN } from '../netlink/model.js';
import type { Action, RuleSpec } from './actions.js';
import { addressKey, diff, proxyKey, routeKey, ruleKey, SnapshotIndex, type NsIntent } from './intent.js';
import { nodeAddresses, nodeIntent } from './intents.js';
import { exclusiveHostName, isOwnedTable, OWNED_PROTOCOL, OWNED_RULE_PRIORITIES, ownedRole, parseExclusiveAlias, returnedEniName, vethHostName } from './names.js';
import { toPodNetwork, type PodNetwork } from './types.js';

export interface PodProblem {
  podUID: string;
  problem: string;
}

export interface Plan {
  actions: Action[];
  /** Drift the node side cannot repair alone (the pod needs a new ADD), per pod. */
  problems: PodProblem[];
}

function actionKey(a: Action): string {
  const { why: _why, ...rest } = a;
  return JSON.stringify(rest);
}

interface Wanted {
  links: Set<string>;
  routes: Set<string>;
  rules: Set<string>;
  proxies: Set<string>;
  addresses: Set<string>;
}

function collect(intents: readonly NsIntent[]): Wanted {
  const w: Wanted = { links: new Set(), routes: new Set(), rules: new Set(), proxies: new Set(), addresses: new Set() };
  for (const i of intents) {
    for (const l of i.links) w.links.add(l.dev);
    for (const r of i.routes) w.routes.add(routeKey(r));
    for (const r of i.rules) w.rules.add(ruleKey(r));
    for (const p of i.proxies) w.proxies.add(proxyKey(p));
    for (const a of i.addresses) w.addresses.add(addressKey(a));
  }
  return w;
}

function ownedRoute(r: Snapshot['routes'][number], snapshot: Snapshot): boolean {
  if (r.table === TABLE_LOCAL || r.type !== 1 || r.dev === undefined) return false;
  if (isOwnedTable(r.table)) return true;
  if (r.table !== TABLE_MAIN) return false;
  if (r.protocol === OWNED_PROTOCOL) return true;
  const link = snapshot.links.find((l) => l.name === r.dev);
  return r.protocol !== 2 && link !== undefined && ownedRole(link) !== undefined;
}

function ownedRule(r: Snapshot['rules'][number]): boolean {
  return OWNED_RULE_PRIORITIES.has(r.priority) || r.protocol === OWNED_PROTOCOL;
}

/** Every object in the namespace the agent owns, described; [] on a node with no pods and no leftovers. */
export function ownedObjects(snapshot: Snapshot): string[] {
  const out: string[] = [];
  for (const l of snapshot.links) {
    const role = ownedRole(l);
    if (role) out.push(`link ${l.name} (${role})`);
    if (parseExclusiveAlias(l.alias)) out.push(`link ${l.name} (exclusive ENI still marked: ${l.alias})`);
  }
  for (const r of snapshot.routes) if (ownedRoute(r, snapshot)) out.push(`route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev} table ${r.table}`);
  for (const r of snapshot.rules) if (ownedRule(r)) out.push(`rule ${r.priority}: from ${r.src ?? 'all'} to ${r.dst ?? 'all'} lookup ${r.table}`);
  for (const p of snapshot.proxies) if (p.protocol === OWNED_PROTOCOL) out.push(`proxy neighbour ${p.dst} dev ${p.dev}`);
  return out;
}

/** Owned objects in the snapshot that no intent wants. */
function orphans(snapshot: Snapshot, wanted: Wanted, desired: readonly PodNetwork[]): { actions: Action[]; problems: PodProblem[] } {
  const actions: Action[] = [];
  const problems: PodProblem[] = [];
  const gone = new Set<string>();
  const names = new Set(snapshot.links.map((l) => l.name));
  for (const link of snapshot.links) {
    const role = ownedRole(link);
    if (role && !wanted.links.has(link.name)) {
      actions.push({ kind: 'link-delete', dev: link.name, why: `orphan ${role} link ${link.name}` });
      gone.add(link.name);
      continue;
    }
    const held = parseExclusiveAlias(link.alias);
    if (!held) continue;
    const pod = desired.find((d) => d.podUID === held.podUID && d.mode === 'exclusive');
    if (pod) {
      problems.push({ podUID: pod.podUID, problem: `exclusive ENI ${link.mac} is back in the node namespace as ${link.name}` });
      continue;
    }
    const name = link.name === held.originalName || !names.has(held.originalName) ? held.originalName : returnedEniName(link.mac);
    actions.push({ kind: 'eni-release', dev: link.name, name, why: `exclusive ENI ${link.mac} of a departed pod returns to the pool as ${name}` });
    names.add(name);
  }
  for (const r of snapshot.routes) {
    if (!ownedRoute(r, snapshot) || gone.has(r.dev!) || wanted.routes.has(routeKey(r))) continue;
    const route = { table: r.table, dst: r.dst, dev: r.dev!, ...(r.gateway ? { gateway: r.gateway } : {}) };
    actions.push({ kind: 'route-delete', route, why: `orphan route ${r.dst} dev ${r.dev} table ${r.table}` });
  }
  for (const r of snapshot.rules) {
    if (!ownedRule(r) || r.table === undefined || wanted.rules.has(ruleKey(r))) continue;
    const rule: RuleSpec = { priority: r.priority, table: r.table };
    if (r.src) rule.src = r.src;
    if (r.dst) rule.dst = r.dst;
    actions.push({ kind: 'rule-delete', rule, why: `orphan rule ${r.priority}: from ${r.src ?? 'all'} to ${r.dst ?? 'all'} lookup ${r.table}` });
  }
  for (const p of snapshot.proxies) {
    if (p.protocol !== OWNED_PROTOCOL || gone.has(p.dev) || wanted.proxies.has(proxyKey(p))) continue;
    actions.push({ kind: 'proxy-delete', proxy: { dst: p.dst, dev: p.dev }, why: `orphan proxy neighbour ${p.dst} on ${p.dev}` });
  }
  for (const a of snapshot.addresses) {
    const link = snapshot.links.find((l) => l.name === a.dev);
    if (!link || ownedRole(link) !== 'ipvlan-host' || gone.has(a.dev)) continue;
    const address = { dev: a.dev, cidr: `${a.address}/${a.prefix}` };
    if (!wanted.addresses.has(addressKey(address))) actions.push({ kind: 'address-delete', address, why: `stale address ${address.cidr} on ${a.dev}` });
  }
  return { actions, problems };
}

/**
 * Repairs for the desired attachments plus removal of unreferenced owned
 * objects. A healthy pod's objects are all wanted, so they are never touched.
 * Attachments that fail validation are reported as problems and contribute
 * nothing, so their old objects are kept rather than torn down.
 */
export function plan(desired: readonly Attachment[], observed: Snapshot): Plan {
  const index = new SnapshotIndex(observed);
  const nodeIPs = nodeAddresses(observed);
  const problems: PodProblem[] = [];
  const pods: PodNetwork[] = [];
  const invalidPods = new Set<string>();
  for (const att of desired) {
    try {
      pods.push(toPodNetwork(att));
    } catch (err) {
      problems.push({ podUID: att.podUID, problem: (err as Error).message });
      // Keep whatever the kernel has for a pod we cannot reason about (see touchesInvalid).
      invalidPods.add(att.podUID);
    }
  }
  const intents = pods.map((pn) => ({ pn, intent: nodeIntent(pn, index, nodeIPs) }));
  const seen = new Set<string>();
  const actions: Action[] = [];
  for (const { pn, intent } of intents) {
    const d = diff(intent, index);
    for (const a of d.actions) {
      const key = actionKey(a);
      if (seen.has(key)) continue;
      seen.add(key);
      actions.push(a);
    }
    const repairable = new Set(d.actions.map((a) => a.why));
    for (const p of d.problems) if (!repairable.has(p)) problems.push({ podUID: pn.podUID, problem: p });
  }
  const wanted = collect(intents.map((i) => i.intent));
  const invalid = desired.filter((a) => invalidPods.has(a.podUID));
  for (const att of invalid) wanted.links.add(vethHostName(att.podUID)).add(exclusiveHostName(att.podUID));
  const left = orphans(observed, wanted, pods);
  for (const a of left.actions) {
    if (invalid.length > 0 && touchesInvalid(a, invalid)) continue;
    const key = actionKey(a);
    if (!seen.has(key)) {
      seen.add(key);
      actions.push(a);
    }
  }
  problems.push(...left.problems);
  return { actions, problems };
}

/** Whether an orphan action concerns one of the attachments we could not parse (by link name or IP). */
function touchesInvalid(a: Action, invalid: readonly Attachment[]): boolean {
  const text = JSON.stringify(a);
  return invalid.some((att) => {
    const ip = att.ip.split('/')[0] ?? att.ip;
    return text.includes(`"${ip}/32"`) || text.includes(`"${ip}"`);
  });
}
