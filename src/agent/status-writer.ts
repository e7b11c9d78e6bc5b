// Writes the agent's NodeNetwork status, coalescing bursts of changes (a
// hundred ADDs in a second make a handful of writes) and retrying failures.
import type { NodeNetwork, NodeNetworkStatus } from '../api/nodenetwork.js';
import type { CRClient } from '../controller/kube.js';
import { sameJSON } from '../util/json.js';

export interface StatusWriterDeps {
  cr: CRClient;
  nodeName: string;
  /** The status to write now, from the current plan and local states; undefined while there is no NodeNetwork. */
  compute(): NodeNetworkStatus | undefined;
  current(): NodeNetwork | undefined;
  onError(err: unknown): void;
  /** Wait after the first change before writing, so that changes close together share a write. */
  coalesceMs?: number;
}

export class StatusWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private failures = 0;
  private closed = false;

  constructor(private readonly d: StatusWriterDeps) {}

  /** Something changed: write soon. */
  poke(): void {
    this.dirty = true;
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => void this.flush(), this.d.coalesceMs ?? 20);
  }

  /** Writes now if anything changed; resolves when that write is done. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing) return this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.dirty && !this.closed) this.poke();
    });
    return this.writing;
  }

  private async write(): Promise<void> {
    const status = this.d.compute();
    if (!status) return;
    const held = this.d.current()?.status;
    if (held && sameJSON({ ...held, conditions: held.conditions ?? [] }, status)) return;
    try {
      await this.d.cr.patchStatus<NodeNetwork>('nodenetworks', this.d.nodeName, status);
      this.failures = 0;
    } catch (err) {
      this.d.onError(err);
      this.dirty = true;
      this.failures++;
      // Back off, up to 5 s, then try again.
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** this.failures)));
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
