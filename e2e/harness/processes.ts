// Child processes that never outlive their owner.
//
// Three layers, because any one of them can be defeated:
//  1. each child runs under `setpriv --pdeathsig KILL`, so the kernel kills it
//     when the owning process dies, even by SIGKILL;
//  2. each child leads its own process group, and the owner kills the groups
//     on stop, on exit and on SIGINT/SIGTERM;
//  3. every instance is recorded in a registry; the next start kills the
//     groups and removes the folders of instances whose owner is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const REGISTRY = process.env.ENI_HARNESS_REGISTRY ?? join(tmpdir(), 'eni-operator-harness');

export interface ChildRecord {
  name: string;
  pid: number;
  /** Executable path, to tell our process from a later one that reused the pid. */
  exe: string;
}

export interface InstanceRecord {
  id: string;
  ownerPid: number;
  ownerStart: string;
  dir: string;
  removeDir: boolean;
  children: ChildRecord[];
}

/** Start time of a process in clock ticks since boot, or '' if it is gone. */
export function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may contain spaces, so split after ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function isOurChild(child: ChildRecord): boolean {
  try {
    return readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').includes(child.exe);
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills what crashed owners left behind. Returns the ids cleaned. */
export function cleanupStaleInstances(): string[] {
  if (!existsSync(REGISTRY)) return [];
  const cleaned: string[] = [];
  for (const file of readdirSync(REGISTRY)) {
    if (!file.endsWith('.json')) continue;
    let record: InstanceRecord;
    try {
      record = JSON.parse(readFileSync(join(REGISTRY, file), 'utf8')) as InstanceRecord;
    } catch {
      rmSync(join(REGISTRY, file), { force: true });
      continue;
    }
    if (processStart(record.ownerPid) === record.ownerStart) continue; // owner still running
    for (const child of record.children) if (isOurChild(child)) killGroup(child.pid, 'SIGKILL');
    if (record.removeDir) rmSync(record.dir, { recursive: true, force: true });
    rmSync(join(REGISTRY, file), { force: true });
    cleaned.push(record.id);
  }
  return cleaned;
}

/** A set of supervised children belonging to this process. */
export class ProcessGroup {
  private readonly children: { record: ChildRecord; proc: ChildProcess; exited: Promise<number | null> }[] = [];
  private readonly record: InstanceRecord;
  private readonly onExit = (): void => this.killAllNow();
  /** Kills the children, then lets the signal do what it would have done. */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.killAllNow();
    this.detach();
    process.kill(process.pid, signal);
  };

  /**
   * @param handleSignals also clean up on SIGINT/SIGTERM/SIGHUP; an owner with
   *   its own graceful shutdown (the sandbox supervisor) passes false.
   */
  constructor(id: string, dir: string, removeDir: boolean, handleSignals = true) {
    this.record = { id, ownerPid: process.pid, ownerStart: processStart(process.pid), dir, removeDir, children: [] };
    mkdirSync(REGISTRY, { recursive: true });
    this.save();
    process.on('exit', this.onExit);
    if (handleSignals) for (const sig of SIGNALS) process.once(sig, this.onSignal);
  }

  private detach(): void {
    process.off('exit', this.onExit);
    for (const sig of SIGNALS) process.off(sig, this.onSignal);
  }

  private get file(): string {
    return join(REGISTRY, `${this.record.id}.json`);
  }

  private save(): void {
    writeFileSync(this.file, JSON.stringify(this.record, null, 2));
  }

  /** Starts `exe args...` in its own process group, output appended to logFile. */
  start(name: string, exe: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const log = openSync(logFile, 'a');
    const proc = spawn('setpriv', ['--pdeathsig', 'KILL', '--', exe, ...args], {
      detached: true,
      stdio: ['ignore', log, log],
      env,
    });
    closeSync(log);
    if (proc.pid === undefined) throw new Error(`could not start ${name} (${exe})`);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const record = { name, pid: proc.pid, exe };
    this.children.push({ record, proc, exited });
    this.record.children.push(record);
    this.save();
    return proc;
  }

  /** Resolves when the named child exits; lets callers fail fast on a crash. */
  exited(name: string): Promise<number | null> {
    const child = this.children.find((c) => c.record.name === name);
    if (!child) throw new Error(`no child named ${name}`);
    return child.exited;
  }

  pids(): number[] {
    return this.children.map((c) => c.record.pid);
  }

  /** Stops children in reverse start order: SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null) continue;
      killGroup(child.record.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.record.pid, 'SIGKILL'), graceMs);
      await child.exited;
      clearTimeout(timer);
      killGroup(child.record.pid, 'SIGKILL'); // anything the child itself left in its group
    }
    this.detach();
    if (this.record.removeDir) rmSync(this.record.dir, { recursive: true, force: true });
    rmSync(this.file, { force: true });
  }

  /** Synchronous last resort for process exit and signals. */
  killAllNow(): void {
    for (const child of this.children) killGroup(child.record.pid, 'SIGKILL');
    if (this.record.removeDir) rmSync(this.record.dir, { recursive: true, force: true });
    rmSync(this.file, { force: true });
  }
}
