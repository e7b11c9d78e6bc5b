// What the CNI tests share: a per-run name prefix, network namespaces that are
// removed even after a crash, the plugin installed in a temporary CNI_PATH, and
// runners for the plugin (as a runtime execs it) and for the pinned cnitool.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../harness/processes.js';
import { repoPath } from '../harness/paths.js';

const exec = promisify(execFile);

/** Every kernel name these tests create starts with this, then the owner's pid. */
export const NETNS_PREFIX = 'enicni-';
/** Temporary folders: this, then the owner's pid. */
const TMP_PREFIX = 'eni-cni-test-';
/** libcni (inside cnitool) caches ADD results here, named <network>-<containerID>-<ifname>. */
const LIBCNI_RESULTS = '/var/lib/cni/results';

export const PLUGIN = repoPath('dist', 'bin', 'eni-cni');

export function cnitoolPath(): string {
  const path = join(resolve(process.env.ENI_TOOLS_BIN ?? repoPath('.tools', 'bin')), 'cnitool');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make tools\` first`);
  return path;
}

/** Removes namespaces and folders left by test processes that died without their teardown. */
export async function sweepStaleLeftovers(): Promise<string[]> {
  const { stdout } = await exec('ip', ['netns', 'list']);
  const removed: string[] = [];
  const ownerGone = (name: string, prefix: string) => {
    const m = new RegExp(`^${prefix}(\\d+)-`).exec(name);
    return m !== null && !isAlive(Number(m[1]));
  };
  for (const name of stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    if (!ownerGone(name, NETNS_PREFIX)) continue;
    await exec('ip', ['netns', 'del', name]).catch(() => undefined);
    removed.push(name);
  }
  const files = (dir: string, prefix: string) => (existsSync(dir) ? readdirSync(dir).filter((n) => ownerGone(n, prefix)).map((n) => join(dir, n)) : []);
  for (const path of [...files(tmpdir(), TMP_PREFIX), ...files(LIBCNI_RESULTS, NETNS_PREFIX)]) {
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** A temporary folder the sweep removes if this process dies before removing it. */
export function ownedTempDir(): string {
  return mkdtempSync(join(tmpdir(), `${TMP_PREFIX}${process.pid}-`));
}

/** The runtime's side of one test file: namespaces, CNI_PATH with the plugin, NETCONFPATH, cleanup. */
export class CniWorld {
  readonly id = `${NETNS_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  readonly dir = ownedTempDir();
  readonly binDir = join(this.dir, 'bin');
  readonly confDir = join(this.dir, 'net.d');
  /** The agent socket, in a directory of its own as the server requires. */
  readonly socket = join(this.dir, 'agent', 'agent.sock');
  private readonly namespaces: string[] = [];
  private count = 0;
  private networks = 0;

  constructor() {
    mkdirSync(this.binDir);
    mkdirSync(this.confDir);
    this.installPlugin();
  }

  /** A symlink to the native plugin (native/eni-cni), as a node's CNI bin dir holds it. */
  private installPlugin(): void {
    if (!existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: build it first (\`make build\`)`);
    symlinkSync(PLUGIN, join(this.binDir, 'eni-cni'));
  }

  /** Writes the only conflist in NETCONFPATH, under a new network name (libcni's cache is per network). */
  writeConflist(cniVersion: string, extra: Record<string, unknown> = {}): string {
    const name = `${this.id}-n${++this.networks}`;
    const conf = { cniVersion, name, plugins: [{ type: 'eni-cni', agentSocket: this.socket, timeoutMs: 5000, ...extra }] };
    writeFileSync(join(this.confDir, '10-eni.conflist'), JSON.stringify(conf, null, 2));
    return name;
  }

  /** The configuration the runtime derives for the plugin (spec §3): name and cniVersion injected. */
  pluginConfig(cniVersion = '1.0.0', extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { cniVersion, name: this.id, type: 'eni-cni', agentSocket: this.socket, timeoutMs: 5000, ...extra };
  }

  async addNamespace(): Promise<string> {
    const name = `${this.id}-${++this.count}`;
    await exec('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    return `/run/netns/${name}`;
  }

  /** The environment cnitool and the plugin need (PATH keeps this node first, for tests' own helpers). */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, CNI_PATH: this.binDir, NETCONFPATH: this.confDir, ...extra };
  }

  async cnitool(args: string[], extra: Record<string, string> = {}): Promise<Exec> {
    return run(cnitoolPath(), args, this.env(extra), '');
  }

  /** Execs the installed plugin exactly as a runtime does: CNI_* env and the configuration on stdin. */
  async plugin(cniEnv: Record<string, string>, stdin: string): Promise<Exec> {
    return run(join(this.binDir, 'eni-cni'), [], { PATH: this.env().PATH, CNI_PATH: this.binDir, ...cniEnv }, stdin);
  }

  async cleanup(): Promise<void> {
    for (const name of this.namespaces) await exec('ip', ['netns', 'del', name]).catch(() => undefined);
    if (existsSync(LIBCNI_RESULTS)) {
      for (const f of readdirSync(LIBCNI_RESULTS)) if (f.startsWith(`${this.id}-`)) rmSync(join(LIBCNI_RESULTS, f), { force: true });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async namespacesLeft(): Promise<string[]> {
    const { stdout } = await exec('ip', ['netns', 'list']);
    return stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(this.id));
  }
}

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to the process's exit, in ms. */
  ms: number;
}

/** Async on purpose: the agent's server runs in this process and must keep answering. */
export function run(file: string, args: string[], env: NodeJS.ProcessEnv, stdin: string): Promise<Exec> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr, ms: performance.now() - t0 }));
    child.stdin.end(stdin);
  });
}
