// Container ID → pod UID, kept in a small file so that a DEL arriving after an
// agent restart, without K8S_POD_UID, still finds what to tear down.
//
// The file is a journal: each change appends one line ("+ <container> <pod>"
// or "- <container>"), which costs a small write instead of rewriting and
// renaming the whole map on every ADD and DEL (about 1 ms each here). It is
// rewritten whole, atomically, when the journal grows well past the map.
// Files written by earlier versions (one JSON object) are still read.
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The key under which the agent remembers a pod it found Ready at start-up without knowing its container. */
export const restoredContainer = (podUID: string): string => `restored:${podUID}`;

/** Container IDs and pod UIDs carry no whitespace; anything else is refused rather than written ambiguously. */
const TOKEN = /^\S+$/;

/** Reads a journal (or a legacy JSON map); a torn last line from a crash is skipped. */
export function readContainerFile(text: string): Map<string, string> {
  const map = new Map<string, string>();
  if (text.trimStart().startsWith('{')) {
    try {
      const saved = JSON.parse(text) as Record<string, unknown>;
      for (const [k, v] of Object.entries(saved)) if (typeof v === 'string') map.set(k, v);
    } catch {
      // A torn legacy file: DEL then relies on K8S_POD_UID.
    }
    return map;
  }
  const lines = text.split('\n');
  lines.pop(); // what follows the last newline: nothing, or a line torn by a crash
  for (const line of lines) {
    const [op, container, pod, ...rest] = line.split(' ');
    if (rest.length > 0 || !container) continue;
    if (op === '+' && pod) map.set(container, pod);
    else if (op === '-' && pod === undefined) map.delete(container);
  }
  return map;
}

export class ContainerMap {
  private readonly map: Map<string, string>;
  /** Lines in the journal file now; a rewrite starts it again at the map's size. */
  private lines = 0;

  constructor(private readonly file: string) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No file yet (first start).
    }
    this.map = readContainerFile(text);
    // Start from a compact file in the current format.
    if (text !== '') this.rewrite();
  }

  get(containerID: string): string | undefined {
    return this.map.get(containerID);
  }

  set(containerID: string, podUID: string): void {
    if (!TOKEN.test(containerID) || !TOKEN.test(podUID)) throw new Error(`cannot record container ${JSON.stringify(containerID)} of pod ${JSON.stringify(podUID)}: IDs must not contain whitespace`);
    if (this.map.get(containerID) === podUID) return;
    this.map.set(containerID, podUID);
    this.append(`+ ${containerID} ${podUID}\n`);
  }

  /** Pods with at least one container the agent has wired (or is wiring) and not yet torn down. */
  pods(): Set<string> {
    return new Set(this.map.values());
  }

  delete(containerID: string): void {
    if (this.map.delete(containerID)) this.append(`- ${containerID}\n`);
  }

  /** Forgets containers of pods that are neither planned nor known locally. */
  prune(keep: (podUID: string) => boolean): void {
    let changed = false;
    for (const [c, uid] of this.map) if (!keep(uid)) changed = this.map.delete(c) || changed;
    if (changed) this.rewrite();
  }

  private append(line: string): void {
    if (this.lines > 2 * this.map.size + 100) return this.rewrite();
    if (this.lines === 0) mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, line, { mode: 0o600 });
    this.lines++;
  }

  private rewrite(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, [...this.map].map(([c, p]) => `+ ${c} ${p}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.lines = this.map.size;
  }
}
