// Names of one sandbox, all derived from its folder. Pure.
//
// The folder's absolute path is hashed into a short id, so two sandboxes in
// different folders never share a kernel name, and a crashed sandbox's
// leftovers carry the same names as its successor in the same folder (which
// sweeps them before starting).
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export interface SandboxNames {
  /** Registry id of the sandbox's process groups: `sandbox-<12 hex>`. */
  id: string;
  /** The VPC fabric's prefix: every network namespace of the sandbox starts with `<prefix>-`. */
  fabricPrefix: string;
}

export function sandboxNames(dir: string): SandboxNames {
  const hex = createHash('sha256').update(resolve(dir)).digest('hex');
  // 'sb' + 6 hex: a valid fabric prefix (letter first, no dash) that keeps node namespace names short.
  return { id: `sandbox-${hex.slice(0, 12)}`, fabricPrefix: `sb${hex.slice(0, 6)}` };
}

/**
 * Pod namespaces of node `index` (0-based) are `<prefix>-p<index+1>-<12 hex>`:
 * under the fabric's prefix, so the emulator's cleanup (and any later sweep of
 * the prefix) removes them with the node namespaces.
 */
export function podNetnsPrefix(fabricPrefix: string, index: number): string {
  return `${fabricPrefix}-p${index + 1}`;
}
