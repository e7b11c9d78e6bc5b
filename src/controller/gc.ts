// Garbage collection: what this cluster left in the cloud that no ledger owns.
//  - ENIPools whose Node is gone: their ENIs are detached and deleted, then
//    the ENIPool and NodeNetwork go. The ENIPool's finalizer keeps it (and so
//    the ledger) while Kubernetes' own garbage collector deletes it with its
//    Node.
//  - ENIs tagged for this cluster that no ENIPool knows and that no node's
//    sync will adopt (not attached to a governed node): deleted once they have
//    been orphans for the grace period (a create in flight is not an orphan
//    for long).
// Untagged ENIs are never touched: the sweep lists by this cluster's tag only.
import type * as k8s from '@kubernetes/client-node';
import type { ENIPool } from '../api/enipool.js';
import type { NetworkMode } from '../api/networkmode.js';
import type { CloudProvider } from '../cloud/types.js';
import { TAGS } from './cloud-sync.js';
import { POOL_FINALIZER, statusOf, type CRClient } from './kube.js';

function ignoreNotFound(err: unknown): undefined {
  if (statusOf(err) === 404) return undefined;
  throw err;
}

export interface GCDeps {
  cr: CRClient;
  nodes: { get(name: string): k8s.V1Node | undefined };
  pools: { list(): ENIPool[] };
  modes: { list(): NetworkMode[] };
  cloudFor(mode: NetworkMode): Promise<CloudProvider>;
  clusterID: string;
  graceMs: number;
  now(): number;
  log: { info(msg: string, meta?: object): void; warn(msg: string, meta?: object): void };
}

export interface GCReport {
  deletedENIs: string[];
  deletedPools: string[];
  waiting: number;
  /** NetworkModes whose cloud could not be swept this time. */
  failed: string[];
}

/** Providers that reach distinct clouds: one sweep each. */
function cloudKey(mode: NetworkMode): string {
  const p = mode.spec.provider;
  return `${p.type}/${p.region}/${p.endpoint ?? ''}`;
}

export class GarbageCollector {
  private readonly orphanSince = new Map<string, number>();

  constructor(private readonly d: GCDeps) {}

  async run(): Promise<GCReport> {
    const report: GCReport = { deletedENIs: [], deletedPools: [], waiting: 0, failed: [] };
    const pools = this.d.pools.list();
    const modes = this.d.modes.list();

    for (const pool of pools) {
      if (this.d.nodes.get(pool.spec.nodeName)) continue;
      const mode = modes.find((m) => m.metadata.name === pool.spec.networkMode);
      if (!mode) {
        this.d.log.warn('ENIPool of a deleted node names a NetworkMode that is gone; its ENIs wait for the sweep', { pool: pool.metadata.name });
        continue;
      }
      const cloud = await this.d.cloudFor(mode);
      for (const eni of pool.status?.enis ?? []) {
        await cloud.detachENI(eni.id, pool.spec.instanceID);
        await cloud.deleteENI(eni.id);
        report.deletedENIs.push(eni.id);
      }
      await this.d.cr.delete('nodenetworks', pool.metadata.name!);
      // The ENIs are back: let the ENIPool go (Kubernetes' garbage collector may have asked already).
      if (pool.metadata.finalizers?.includes(POOL_FINALIZER)) await this.d.cr.setFinalizers('enipools', pool, pool.metadata.finalizers.filter((f) => f !== POOL_FINALIZER)).catch(ignoreNotFound);
      await this.d.cr.delete('enipools', pool.metadata.name!);
      report.deletedPools.push(pool.metadata.name!);
      this.d.log.info('released the ENIs of a deleted node', { node: pool.spec.nodeName, enis: (pool.status?.enis ?? []).map((e) => e.id) });
    }

    const known = new Set(pools.flatMap((p) => (p.status?.enis ?? []).map((e) => e.id)));
    const governedInstances = new Map(pools.filter((p) => this.d.nodes.get(p.spec.nodeName)).map((p) => [p.spec.instanceID, p.metadata.name!]));
    const seen = new Set<string>();
    const swept = new Set<string>();
    for (const mode of modes) {
      if (swept.has(cloudKey(mode))) continue;
      swept.add(cloudKey(mode));
      let tagged;
      try {
        tagged = await (await this.d.cloudFor(mode)).listENIs({ tags: { [TAGS.cluster]: this.d.clusterID } });
      } catch (err) {
        // One unreachable cloud must not stop the sweep of the others.
        this.d.log.warn('cannot sweep a cloud for orphaned ENIs', { networkMode: mode.metadata.name, err: String(err) });
        report.failed.push(mode.metadata.name!);
        continue;
      }
      const cloud = await this.d.cloudFor(mode);
      for (const eni of tagged) {
        if (known.has(eni.id) || eni.primary) continue;
        // Attached to a node we govern: that node's sync adopts it.
        if (eni.instanceId && governedInstances.has(eni.instanceId)) continue;
        seen.add(eni.id);
        const since = this.orphanSince.get(eni.id) ?? this.d.now();
        this.orphanSince.set(eni.id, since);
        if (this.d.now() - since < this.d.graceMs) {
          report.waiting++;
          continue;
        }
        if (eni.instanceId) await cloud.detachENI(eni.id, eni.instanceId);
        await cloud.deleteENI(eni.id);
        this.orphanSince.delete(eni.id);
        report.deletedENIs.push(eni.id);
        this.d.log.info('deleted an orphaned ENI of this cluster', { eni: eni.id, node: eni.tags[TAGS.node], orphanForMs: this.d.now() - since });
      }
    }
    for (const id of this.orphanSince.keys()) if (!seen.has(id)) this.orphanSince.delete(id);
    return report;
  }
}
