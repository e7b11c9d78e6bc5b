// The "container runtime" part: a pod's container is a process in the pod's
// network namespace. Each runs as
//   setpriv --pdeathsig KILL -- nsenter --net=<netns> -- <argv>
// so the kernel kills it when the kubelet dies (even by SIGKILL), in its own
// process group so a stop reaches anything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';

export interface ContainerLaunch {
  /** Unique per container, e.g. `<sandbox>/<container name>`. */
  key: string;
  /** Path of the network namespace the process joins. */
  netns: string;
  argv: string[];
  env: Record<string, string>;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** How long to wait for the process to print its ready line (`{"ready":true,...}`). */
  readyTimeoutMs: number;
}

export interface ContainerProcess {
  key: string;
  pid: number;
  startedAt: Date;
  /** Set when the process exited (on its own or stopped). */
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: Date };
}

interface Entry {
  info: ContainerProcess;
  child: ChildProcess;
  exited: Promise<void>;
  stopping: boolean;
}

function isReadyLine(line: string): boolean {
  try {
    return (JSON.parse(line) as { ready?: unknown }).ready === true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export class ContainerRunner {
  private readonly entries = new Map<string, Entry>();

  /** @param onUnexpectedExit told when a process exits that nobody stopped (a crash). */
  constructor(private readonly onUnexpectedExit: (key: string) => void) {}

  get(key: string): ContainerProcess | undefined {
    return this.entries.get(key)?.info;
  }

  /** Starts the process and resolves once it printed its ready line; rejects (and kills it) otherwise. */
  async start(l: ContainerLaunch): Promise<ContainerProcess> {
    const old = this.entries.get(l.key);
    if (old && !old.info.exit) throw new Error(`container ${l.key} is already running (pid ${old.info.pid})`);
    mkdirSync(dirname(l.logFile), { recursive: true });
    const fd = openSync(l.logFile, 'a');
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nsenter', `--net=${l.netns}`, '--', ...l.argv], {
      detached: true,
      stdio: ['ignore', 'pipe', fd],
      env: l.env,
    });
    closeSync(fd);
    const log = createWriteStream(l.logFile, { flags: 'a' });
    const lines = createInterface({ input: child.stdout! });
    lines.once('close', () => log.end());
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    lines.on('line', (line) => {
      log.write(line + '\n');
      if (isReadyLine(line)) markReady();
    });
    const spawned = new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    let pid: number;
    try {
      pid = await spawned;
    } catch (err) {
      lines.close();
      throw new Error(`container ${l.key}: could not start ${l.argv[0]}: ${(err as Error).message}`, { cause: err });
    }
    const info: ContainerProcess = { key: l.key, pid, startedAt: new Date() };
    const entry: Entry = {
      info,
      child,
      stopping: false,
      exited: new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          info.exit = { code, signal, at: new Date() };
          resolve();
          if (!entry.stopping) this.onUnexpectedExit(l.key);
        });
      }),
    };
    this.entries.set(l.key, entry);

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      entry.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), l.readyTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') return info;
    entry.stopping = true;
    await this.stop(l.key, 0);
    const how = outcome === 'timeout' ? `printed no ready line within ${l.readyTimeoutMs} ms` : `exited (code ${info.exit?.code}, signal ${info.exit?.signal})`;
    throw new Error(`container ${l.key} ${how}; see ${l.logFile}`);
  }

  /** SIGTERM to the process group, SIGKILL after graceMs; resolves when it is gone. */
  async stop(key: string, graceMs: number): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.stopping = true;
    if (!entry.info.exit) {
      killGroup(entry.info.pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
      const timer = setTimeout(() => killGroup(entry.info.pid, 'SIGKILL'), graceMs);
      await entry.exited;
      clearTimeout(timer);
    }
    killGroup(entry.info.pid, 'SIGKILL'); // whatever it left in its group
    this.entries.delete(key);
  }

  /** Keys of the containers of one sandbox (`<sandbox>/...`). */
  keysOf(sandbox: string): string[] {
    return [...this.entries.keys()].filter((k) => k.startsWith(`${sandbox}/`));
  }

  /** Stops everything (kubelet shutdown). */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.entries.keys()].map((k) => this.stop(k, graceMs)));
  }

  /** Synchronous last resort on process exit. */
  killAllNow(): void {
    for (const e of this.entries.values()) killGroup(e.info.pid, 'SIGKILL');
  }
}
