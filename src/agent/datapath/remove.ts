// DEL for any mode. Idempotent, and works from kernel state alone when the
// attachment is no longer known: host links are named from the pod UID, the
// pod IP is read back from the host route or the pod's address.
//
// Only what belongs to this one pod is removed. Objects an ENI shares between
// pods (its routing table, its host ipvlan slave) are left to the drift repair
// (plan), which sees every attachment and holds the node-wide lock.
import { NetlinkError } from '../netlink/kernel.js';
import type { Link, Snapshot } from '../netlink/model.js';
import { TABLE_MAIN } from '../netlink/model.js';
import { netnsExists, netnsFile, pathNetns, type Netns } from '../netlink/netns.js';
import type { Step } from '../netlink/steps.js';
import type { Action, RuleSpec } from './actions.js';
import {
  derivedMac,
  exclusiveHostName,
  OWNED_PROTOCOL,
  OWNED_RULE_PRIORITIES,
  parseExclusiveAlias,
  parsePodLinkAlias,
  returnedEniName,
  vethHostName,
} from './names.js';
import { read, write } from './ops.js';
import type { PodNetwork, PodRef } from './types.js';

function addressOf(snapshot: Snapshot, dev: string): string | undefined {
  return snapshot.addresses.find((a) => a.dev === dev)?.address;
}

interface PodSideOutcome {
  podIP: string | undefined;
  eniReturned: boolean;
  vethDeleted: boolean;
}

/** Hands an exclusive ENI back to the node and deletes the links we put in the pod. */
async function removePodSide(node: Netns, ref: PodRef, pn: PodNetwork | undefined, podNs: Netns): Promise<PodSideOutcome> {
  const snapshot = await read(podNs);
  const out: PodSideOutcome = { podIP: pn?.podIP, eniReturned: false, vethDeleted: false };
  const steps: Step[] = [];
  let move: { eni: Link; original: string } | undefined;
  const ourVethMacs = new Set([derivedMac('veth-pod', ref.podUID), derivedMac('exclusive-pod', ref.podUID)]);
  for (const link of snapshot.links) {
    const held = parseExclusiveAlias(link.alias);
    if (held?.podUID === ref.podUID) {
      out.podIP ??= addressOf(snapshot, link.name);
      steps.push({ do: 'address-flush', dev: link.name });
      move = { eni: link, original: held.originalName };
    } else if (link.kind === 'veth' && ourVethMacs.has(link.mac)) {
      // Deleting this end takes the host end and its route along: learn the pod IP now.
      out.podIP ??= addressOf(snapshot, link.name);
      steps.push({ do: 'link-delete', dev: link.name });
      out.vethDeleted = true;
    } else if (link.kind === 'ipvlan' && (ref.ifName === undefined || link.name === ref.ifName) && (!pn || (pn.mode === 'ipvlan' && link.mac === pn.eniMac))) {
      out.podIP ??= addressOf(snapshot, link.name);
      steps.push({ do: 'link-delete', dev: link.name });
    }
  }
  if (steps.length === 0) return out;
  // Alias cleared in the same request as the move, after it: if the move fails, the mark stays for
  // the retry. The move itself takes the NIC down.
  const moveStep = (name: string): Step => ({ do: 'link-set', dev: move!.eni.name, alias: '', to: netnsFile(node), rename: name });
  try {
    await write(podNs, { before: steps, after: move ? [moveStep(move.original)] : [], tolerateGone: true });
  } catch (err) {
    const cause = err instanceof Error ? err.cause : undefined;
    const taken = cause instanceof NetlinkError && cause.failures.length > 0 && cause.failures.every((f) => f.step === steps.length && f.kind === 'exists');
    if (!move || !taken) throw err;
    // The original name is taken in the node namespace. Either the NIC is still here (its pod name
    // was taken there too) and goes back under its MAC-derived name, or it moved but was not renamed
    // and still carries the mark: then the node side below releases it under a free name.
    if (!(await read(podNs)).links.some((l) => l.mac === move.eni.mac)) return out;
    await write(podNs, { before: [moveStep(returnedEniName(move.eni.mac))] });
  }
  out.eniReturned = move !== undefined;
  return out;
}

/** The pod's own node-side objects, or undefined when a newer sandbox of the pod owns them. */
function nodeSideActions(snapshot: Snapshot, ref: PodRef, knownIP: string | undefined): Action[] | undefined {
  const actions: Action[] = [];
  const deleted = new Set<string>();
  let podIP = knownIP;
  for (const name of [vethHostName(ref.podUID), exclusiveHostName(ref.podUID)]) {
    const link = snapshot.links.find((l) => l.name === name);
    if (!link) continue;
    const owner = parsePodLinkAlias(link.alias);
    if (ref.containerID && owner?.containerID && owner.containerID !== ref.containerID) return undefined;
    podIP ??= snapshot.routes.find((r) => r.table === TABLE_MAIN && r.dev === name && r.dst.endsWith('/32'))?.dst.slice(0, -3);
    actions.push({ kind: 'link-delete', dev: name, why: 'DEL' });
    deleted.add(name);
  }
  const names = new Set(snapshot.links.map((l) => l.name));
  for (const link of snapshot.links) {
    const held = parseExclusiveAlias(link.alias);
    if (held?.podUID !== ref.podUID) continue;
    const name = link.name === held.originalName || !names.has(held.originalName) ? held.originalName : returnedEniName(link.mac);
    actions.push({ kind: 'eni-release', dev: link.name, name, why: 'DEL' });
  }
  if (podIP === undefined) return actions;
  const pod32 = `${podIP}/32`;
  for (const r of snapshot.rules) {
    if (!OWNED_RULE_PRIORITIES.has(r.priority) || r.table === undefined || (r.src !== pod32 && r.dst !== pod32)) continue;
    const rule: RuleSpec = { priority: r.priority, table: r.table };
    if (r.src) rule.src = r.src;
    if (r.dst) rule.dst = r.dst;
    actions.push({ kind: 'rule-delete', rule, why: 'DEL' });
  }
  for (const p of snapshot.proxies) {
    if (p.dst === podIP && p.protocol === OWNED_PROTOCOL) actions.push({ kind: 'proxy-delete', proxy: { dst: p.dst, dev: p.dev }, why: 'DEL' });
  }
  for (const r of snapshot.routes) {
    if (r.table !== TABLE_MAIN || r.dst !== pod32 || r.protocol !== OWNED_PROTOCOL || r.dev === undefined || deleted.has(r.dev)) continue;
    actions.push({ kind: 'route-delete', route: { table: TABLE_MAIN, dst: pod32, dev: r.dev }, why: 'DEL' });
  }
  return actions;
}

export async function removePod(node: Netns, ref: PodRef, pn: PodNetwork | undefined): Promise<void> {
  let podIP = pn?.podIP;
  // A veth pod has nothing in its namespace that deleting the host end does not take with it.
  if (pn?.mode !== 'veth' && ref.netns) {
    const podNs = pathNetns(ref.netns);
    if (netnsExists(podNs)) {
      const out = await removePodSide(node, ref, pn, podNs);
      podIP = out.podIP;
      // An exclusive pod owns nothing else on the node once its ENI is back and its pair is gone.
      if (pn?.mode === 'exclusive' && out.eniReturned && out.vethDeleted) return;
    }
  }
  const snapshot = await read(node);
  const actions = nodeSideActions(snapshot, ref, podIP);
  if (actions && actions.length > 0) await write(node, { actions, tolerateGone: true });
}
