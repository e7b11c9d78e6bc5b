// Container ID → pod UID, kept in a small file so that a DEL arriving after an
// agent restart, without K8S_POD_UID, still finds what to tear down.
//
// The file is a journal: each change appends one line ("+ <container> <pod>"
// when an ADD starts, "= <container>" when it has succeeded, "- <container>"
// when the DEL is done), which costs a small write instead of rewriting and
// renaming the whole map on every ADD and DEL (about 1 ms each here). It is
// rewritten whole, atomically, when the journal grows well past the map.
// Files written by earlier versions (one JSON object) are still read.
//
// The "=" lines make a finished ADD durable at once, where the NodeNetwork
// status that reports it is written a little later: an agent killed in
// between still knows, when it starts again, that the pod is Ready.
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The key under which the agent remembers a pod it found Ready at start-up without knowing its container. */
export const restoredContainer = (podUID: string): string => `restored:${podUID}`;

/** Container IDs and pod UIDs carry no whitespace; anything else is refused rather than written ambiguously. */
const TOKEN = /^\S+$/;

/** One container the agent has wired or is wiring. */
export interface ContainerEntry {
  podUID: string;
  /** Its last ADD succeeded. */
  ready: boolean;
}

/** Reads a journal (or a legacy JSON map, whose entries count as not ready); a torn last line from a crash is skipped. */
export function readContainerFile(text: string): Map<string, ContainerEntry> {
  const map = new Map<string, ContainerEntry>();
  if (text.trimStart().startsWith('{')) {
    try {
      const saved = JSON.parse(text) as Record<string, unknown>;
      for (const [k, v] of Object.entries(saved)) if (typeof v === 'string') map.set(k, { podUID: v, ready: false });
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
    if (op === '+' && pod) map.set(container, { podUID: pod, ready: false });
    else if (op === '=' && pod === undefined) {
      const entry = map.get(container);
      if (entry) entry.ready = true;
    } else if (op === '-' && pod === undefined) map.delete(container);
  }
  return map;
}

export class ContainerMap {
  private readonly map: Map<string, ContainerEntry>;
  /** Lines in the journal file now; a rewrite starts it again at the map's size. */
  private lines = 0;
  /**
   * A map file was found at start: the map is the record of what was wired,
   * not a fresh start after a lost state directory.
   */
  readonly found: boolean;

  constructor(private readonly file: string) {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No file yet (first start).
    }
    this.found = text !== undefined;
    this.map = readContainerFile(text ?? '');
    // Start from a compact file in the current format.
    if (text) this.rewrite();
  }

  get(containerID: string): string | undefined {
    return this.map.get(containerID)?.podUID;
  }

  /** An ADD starts: the container is wired (or being wired), not ready until markReady. */
  set(containerID: string, podUID: string): void {
    if (!TOKEN.test(containerID) || !TOKEN.test(podUID)) throw new Error(`cannot record container ${JSON.stringify(containerID)} of pod ${JSON.stringify(podUID)}: IDs must not contain whitespace`);
    const entry = this.map.get(containerID);
    if (entry?.podUID === podUID && !entry.ready) return;
    this.map.set(containerID, { podUID, ready: false });
    this.append(`+ ${containerID} ${podUID}\n`);
  }

  /** The container's ADD succeeded. */
  markReady(containerID: string): void {
    const entry = this.map.get(containerID);
    if (!entry || entry.ready) return;
    entry.ready = true;
    this.append(`= ${containerID}\n`);
  }

  /** Pods with at least one container the agent has wired (or is wiring) and not yet torn down. */
  pods(): Set<string> {
    return new Set([...this.map.values()].map((e) => e.podUID));
  }

  /** Pods with a container whose last ADD succeeded. */
  readyPods(): Set<string> {
    return new Set([...this.map.values()].filter((e) => e.ready).map((e) => e.podUID));
  }

  delete(containerID: string): void {
    if (this.map.delete(containerID)) this.append(`- ${containerID}\n`);
  }

  /** Forgets containers of pods that are neither planned nor known locally. */
  prune(keep: (podUID: string) => boolean): void {
    let changed = false;
    for (const [c, e] of this.map) if (!keep(e.podUID)) changed = this.map.delete(c) || changed;
    if (changed) this.rewrite();
  }

  private append(line: string): void {
    // A compact file holds up to two lines per container (+ and =).
    if (this.lines > 4 * this.map.size + 100) return this.rewrite();
    if (this.lines === 0) mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, line, { mode: 0o600 });
    this.lines++;
  }

  private rewrite(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const lines = [...this.map].flatMap(([c, e]) => [`+ ${c} ${e.podUID}\n`, ...(e.ready ? [`= ${c}\n`] : [])]);
    writeFileSync(tmp, lines.join(''), { mode: 0o600 });
    renameSync(tmp, this.file);
    this.lines = lines.length;
  }
}
