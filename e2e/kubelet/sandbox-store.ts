// What the runtime remembers about each pod sandbox across restarts: the
// network config the ADD used and its result, so DEL runs with exactly those
// (as libcni's result cache does), even after the config dir changed.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CNIResult, NetworkConfigList } from './cni.js';

export interface SandboxRecord {
  /** Sandbox name = network namespace name = CNI container id. */
  name: string;
  pod: { namespace: string; name: string; uid: string };
  ifName: string;
  /** The list ADD ran with (written before ADD, so a crash mid-ADD can still be undone). */
  config: NetworkConfigList;
  configFile: string;
  /** Set once ADD succeeded. */
  result?: CNIResult;
  createdAt: string;
}

export class SandboxStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  read(name: string): SandboxRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.file(name), 'utf8')) as SandboxRecord;
    } catch {
      return undefined;
    }
  }

  /** Atomic: a crash leaves the old record or the new one, never half of one. */
  write(record: SandboxRecord): void {
    const tmp = `${this.file(record.name)}.tmp`;
    writeFileSync(tmp, JSON.stringify(record, null, 2));
    renameSync(tmp, this.file(record.name));
  }

  remove(name: string): void {
    rmSync(this.file(name), { force: true });
  }

  names(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length));
  }
}
