// Container ID → pod UID, kept in a small file so that a DEL arriving after an
// agent restart, without K8S_POD_UID, still finds what to tear down.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The key under which the agent remembers a pod it found Ready at start-up without knowing its container. */
export const restoredContainer = (podUID: string): string => `restored:${podUID}`;

export class ContainerMap {
  private readonly map = new Map<string, string>();

  constructor(private readonly file: string) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(saved)) if (typeof v === 'string') this.map.set(k, v);
    } catch {
      // No file yet (first start) or a torn one: DEL then relies on K8S_POD_UID.
    }
  }

  get(containerID: string): string | undefined {
    return this.map.get(containerID);
  }

  set(containerID: string, podUID: string): void {
    if (this.map.get(containerID) === podUID) return;
    this.map.set(containerID, podUID);
    this.save();
  }

  /** Pods with at least one container the agent has wired (or is wiring) and not yet torn down. */
  pods(): Set<string> {
    return new Set(this.map.values());
  }

  delete(containerID: string): void {
    if (this.map.delete(containerID)) this.save();
  }

  /** Forgets containers of pods that are neither planned nor known locally. */
  prune(keep: (podUID: string) => boolean): void {
    let changed = false;
    for (const [c, uid] of this.map) if (!keep(uid)) changed = this.map.delete(c) || changed;
    if (changed) this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.map)), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
