// A NetworkMode's status: which nodes it governs, overlaps with other modes
// (Conflict), whether its credentials work (CredentialsValid), and totals.
import type * as k8s from '@kubernetes/client-node';
import type { Condition } from '../api/common.js';
import type { ENIPool } from '../api/enipool.js';
import type { NetworkMode, NetworkModeStatus } from '../api/networkmode.js';
import { CloudError } from '../cloud/errors.js';
import type { CloudProvider } from '../cloud/types.js';
import type { CRClient } from './kube.js';
import { sameJSON } from '../util/json.js';
import { governingMode, selectorMatches } from './match.js';

export interface ModeReconcilerDeps {
  cr: CRClient;
  modes: { get(name: string): NetworkMode | undefined; list(): NetworkMode[] };
  nodes: { list(): k8s.V1Node[] };
  pools: { list(): ENIPool[] };
  cloudFor(mode: NetworkMode): Promise<CloudProvider>;
  now(): number;
}

export class NetworkModeReconciler {
  /** Credential checks already made, per mode generation + outcome; cloud calls are not free. */
  private readonly checked = new Map<string, { generation: number; at: number; condition: Omit<Condition, 'lastTransitionTime'> }>();

  constructor(private readonly d: ModeReconcilerDeps) {}

  async reconcile(name: string): Promise<{ requeueAfter?: number }> {
    const mode = this.d.modes.get(name);
    if (!mode || mode.metadata.deletionTimestamp) {
      this.checked.delete(name);
      return {};
    }
    const modes = this.d.modes.list();
    let governed = 0;
    const rivals = new Set<string>();
    for (const node of this.d.nodes.list()) {
      const labels = node.metadata?.labels ?? {};
      if (!selectorMatches(mode.spec.nodeSelector, labels)) continue;
      const gov = governingMode(modes, labels);
      if (gov.kind === 'governed' && gov.mode === name) governed++;
      if (gov.kind === 'conflict' && gov.modes.includes(name)) for (const m of gov.modes) if (m !== name) rivals.add(m);
    }
    const credentials = await this.credentials(mode);
    const pools = this.d.pools.list().filter((p) => p.spec.networkMode === name);
    const totals = { enis: 0, freeIPs: 0, assignedIPs: 0, coolingIPs: 0 };
    for (const p of pools) {
      totals.enis += p.status?.counts?.enis ?? 0;
      totals.freeIPs += p.status?.counts?.freeIPs ?? 0;
      totals.assignedIPs += p.status?.counts?.assignedIPs ?? 0;
      totals.coolingIPs += p.status?.counts?.coolingIPs ?? 0;
    }
    const conflict: Omit<Condition, 'lastTransitionTime'> = rivals.size
      ? { type: 'Conflict', status: 'True', reason: 'EqualPriority', message: `nodes match ${[...rivals].sort().join(', ')} at the same priority ${mode.spec.priority}: they get no NetworkMode until one is given a higher spec.priority` }
      : { type: 'Conflict', status: 'False', reason: 'NoConflict', message: 'no other NetworkMode ties for its nodes' };
    const ready: Omit<Condition, 'lastTransitionTime'> =
      credentials.status !== 'True'
        ? { type: 'Ready', status: 'False', reason: 'CredentialsInvalid', message: credentials.message }
        : rivals.size
          ? { type: 'Ready', status: 'False', reason: 'Conflict', message: conflict.message }
          : { type: 'Ready', status: 'True', reason: 'Governing', message: `governs ${governed} node(s)` };
    const status: NetworkModeStatus = {
      observedGeneration: mode.metadata.generation ?? 0,
      matchedNodes: governed,
      totals,
      conditions: this.stamp(mode.status?.conditions ?? [], [ready, credentials, conflict], mode.metadata.generation ?? 0),
    };
    // Only this controller writes NetworkMode status: a merge patch, not a replace of a cached copy.
    if (!sameJSON(status, mode.status)) await this.d.cr.patchStatus<NetworkMode>('networkmodes', name, status);
    return { requeueAfter: credentials.status === 'True' ? 60_000 : 15_000 };
  }

  private async credentials(mode: NetworkMode): Promise<Omit<Condition, 'lastTransitionTime'>> {
    const name = mode.metadata.name!;
    const generation = mode.metadata.generation ?? 0;
    const prev = this.checked.get(name);
    // Re-check a failure every 15 s and a success every 10 min, or at once when the spec changes.
    if (prev && prev.generation === generation && this.d.now() - prev.at < (prev.condition.status === 'True' ? 600_000 : 15_000)) return prev.condition;
    let condition: Omit<Condition, 'lastTransitionTime'>;
    try {
      const cloud = await this.d.cloudFor(mode);
      const found = await cloud.describeSubnets(mode.spec.subnets);
      const missing = mode.spec.subnets.filter((s) => !found.some((f) => f.id === s));
      condition = missing.length
        ? { type: 'CredentialsValid', status: 'True', reason: 'SubnetsMissing', message: `credentials work, but the cloud does not know subnet(s) ${missing.join(', ')}` }
        : { type: 'CredentialsValid', status: 'True', reason: 'Verified', message: `the ${mode.spec.provider.type} API accepted the credentials` };
    } catch (err) {
      const reason = err instanceof CloudError ? (err.kind === 'AuthFailed' ? 'AuthFailed' : 'CloudError') : 'SecretUnusable';
      condition = { type: 'CredentialsValid', status: 'False', reason, message: (err as Error).message.slice(0, 1000) };
    }
    this.checked.set(name, { generation, at: this.d.now(), condition });
    return condition;
  }

  private stamp(previous: Condition[], wanted: Omit<Condition, 'lastTransitionTime'>[], generation: number): Condition[] {
    const now = new Date(this.d.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    return wanted.map((w) => {
      const old = previous.find((p) => p.type === w.type);
      return { ...w, observedGeneration: generation, lastTransitionTime: old && old.status === w.status ? old.lastTransitionTime : now };
    });
  }
}
