// Which NetworkMode governs a node: the matching mode with the highest
// priority; a tie at the top is a conflict and the node gets none. Pure.
import type { LabelSelector } from '../api/common.js';
import type { NetworkMode } from '../api/networkmode.js';

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value!)) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export type Governance = { kind: 'governed'; mode: string } | { kind: 'conflict'; modes: string[] } | { kind: 'none' };

export function governingMode(modes: readonly NetworkMode[], labels: Record<string, string>): Governance {
  const matching = modes.filter((m) => !m.metadata.deletionTimestamp && selectorMatches(m.spec.nodeSelector, labels));
  if (matching.length === 0) return { kind: 'none' };
  const top = Math.max(...matching.map((m) => m.spec.priority));
  const winners = matching.filter((m) => m.spec.priority === top).map((m) => m.metadata.name!).sort();
  return winners.length === 1 ? { kind: 'governed', mode: winners[0]! } : { kind: 'conflict', modes: winners };
}
