// The container-runtime side of CNI (spec 1.0.0), as containerd/CRI-O drive it
// through libcni: pick the network configuration from the conf dir, exec each
// plugin of the list with the CNI_* environment and the plugin's config on
// stdin, chain results through prevResult on ADD, run DEL in reverse order.
//
// Plugins run inside the node's network namespace ("the host" of the pod), so
// the host ends of veths, bridges and routes land there and not in the
// machine's root namespace.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface PluginConf {
  type: string;
  [field: string]: unknown;
}

export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
}

export interface CNIInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CNIIP {
  address: string;
  gateway?: string;
  interface?: number;
}

/** A plugin's ADD result (spec 1.0.0 shape; 0.3.x/0.4.0 results read the same way). */
export interface CNIResult {
  cniVersion: string;
  interfaces?: CNIInterface[];
  ips?: CNIIP[];
  routes?: { dst: string; gw?: string }[];
  dns?: unknown;
}

/** The per-attachment parameters a runtime passes in CNI_* variables. */
export interface RuntimeConf {
  containerId: string;
  /** Path of the pod's network namespace, e.g. /run/netns/<name>. */
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, in order (IgnoreUnknown=1 is prepended). */
  args: [string, string][];
}

export type CNICommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

/** A failed plugin call: the plugin's error object (code, msg, details) or why it could not run. */
export class CNIError extends Error {
  constructor(
    readonly plugin: string,
    readonly network: string,
    readonly command: CNICommand,
    readonly msg: string,
    readonly code?: number,
    readonly details?: string,
  ) {
    // The shape of containerd's message, so Events read as they do on a real node.
    super(`plugin type="${plugin}" name="${network}" failed (${command.toLowerCase()}): ${msg}${code !== undefined ? ` (code ${code})` : ''}${details ? `: ${details}` : ''}`);
    this.name = 'CNIError';
  }
}

/** The configuration file a runtime uses: the first *.conf, *.conflist or *.json by name, as libcni sorts them. */
export function loadNetworkConfig(confDir: string): { file: string; list: NetworkConfigList } {
  let names: string[];
  try {
    names = readdirSync(confDir);
  } catch (err) {
    throw new Error(`cni config dir ${confDir}: ${(err as Error).message}`, { cause: err });
  }
  const files = names.filter((n) => /\.(conf|conflist|json)$/.test(n)).sort();
  if (files.length === 0) throw new Error(`no network config found in ${confDir} (cni plugin not initialized)`);
  const file = join(confDir, files[0]!);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cni config ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { file, list: toConfigList(raw, file) };
}

/** Validates a parsed .conflist, or wraps a single-plugin .conf into a list of one. */
export function toConfigList(raw: unknown, source: string): NetworkConfigList {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`cni config ${source}: not a JSON object`);
  const obj = raw as Record<string, unknown>;
  const { name, cniVersion } = obj;
  if (typeof name !== 'string' || name === '') throw new Error(`cni config ${source}: "name" must be a non-empty string`);
  if (typeof cniVersion !== 'string' || cniVersion === '') throw new Error(`cni config ${source}: "cniVersion" must be a non-empty string`);
  let plugins: unknown;
  if ('plugins' in obj) plugins = obj.plugins;
  else {
    const { name: _n, cniVersion: _v, ...single } = obj;
    plugins = [single];
  }
  if (!Array.isArray(plugins) || plugins.length === 0) throw new Error(`cni config ${source}: "plugins" must be a non-empty list`);
  for (const [i, p] of plugins.entries()) {
    if (!p || typeof p !== 'object' || typeof (p as { type?: unknown }).type !== 'string' || (p as { type: string }).type === '') {
      throw new Error(`cni config ${source}: plugins[${i}] needs a string "type"`);
    }
  }
  return { cniVersion, name, disableCheck: obj.disableCheck === true, plugins: plugins as PluginConf[] };
}

/** The pod's addresses (without prefix length): IPs on interfaces inside the sandbox, or all IPs if none says where it is. */
export function podIPs(result: CNIResult): string[] {
  const ifaces = result.interfaces ?? [];
  const inSandbox = (ip: CNIIP) => ip.interface === undefined || !ifaces[ip.interface] || Boolean(ifaces[ip.interface]!.sandbox);
  return (result.ips ?? []).filter(inSandbox).map((ip) => ip.address.split('/')[0]!);
}

export interface CNIRuntimeOptions {
  /** Directories searched for plugin binaries, in order (CNI_PATH). */
  binDirs: string[];
  /** Path of the network namespace the plugins run in (the node); unset: this process's own. */
  hostNetns?: string;
  /** Per plugin call. Default 60 s. */
  timeoutMs?: number;
}

export class CNIRuntime {
  constructor(private readonly opts: CNIRuntimeOptions) {}

  /** ADD through the whole list; returns the last plugin's result. */
  async add(list: NetworkConfigList, rt: RuntimeConf): Promise<CNIResult> {
    let prev: CNIResult | undefined;
    for (const plugin of list.plugins) {
      const out = await this.exec('ADD', list, plugin, rt, prev);
      prev = parseResult(out, plugin.type, list.name);
    }
    return prev!;
  }

  /**
   * DEL in reverse order, each plugin given the cached ADD result. Every plugin
   * runs even when an earlier one fails, so one broken plugin does not leak
   * what the others hold; the first failure is thrown afterwards.
   */
  async del(list: NetworkConfigList, rt: RuntimeConf, cachedResult?: CNIResult): Promise<void> {
    let first: Error | undefined;
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.exec('DEL', list, plugin, rt, cachedResult);
      } catch (err) {
        first ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    if (first) throw first;
  }

  private findPlugin(type: string, network: string, command: CNICommand): string {
    // A type is a file name, never a path: a config must not run arbitrary binaries.
    if (type.includes('/')) throw new CNIError(type, network, command, `invalid plugin type "${type}"`);
    for (const dir of this.opts.binDirs) {
      const path = join(dir, type);
      if (existsSync(path)) return path;
    }
    throw new CNIError(type, network, command, `failed to find plugin "${type}" in path [${this.opts.binDirs.join(' ')}]`);
  }

  private exec(command: CNICommand, list: NetworkConfigList, plugin: PluginConf, rt: RuntimeConf, prevResult: CNIResult | undefined): Promise<string> {
    const path = this.findPlugin(plugin.type, list.name, command);
    const stdin = JSON.stringify({ ...plugin, cniVersion: list.cniVersion, name: list.name, ...(prevResult ? { prevResult } : {}) });
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: rt.containerId,
      CNI_NETNS: rt.netns,
      CNI_IFNAME: rt.ifName,
      CNI_ARGS: [['IgnoreUnknown', '1'], ...rt.args].map(([k, v]) => `${k}=${v}`).join(';'),
      CNI_PATH: this.opts.binDirs.join(':'),
    };
    const [exe, args] = this.opts.hostNetns ? ['nsenter', [`--net=${this.opts.hostNetns}`, '--', path]] : [path, []];
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const child = spawn(exe, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new CNIError(plugin.type, list.name, command, `could not run ${exe}: ${err.message}`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) return resolve(stdout);
        if (signal) return reject(new CNIError(plugin.type, list.name, command, `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}`));
        reject(pluginError(stdout, stderr, code, plugin.type, list.name, command));
      });
      // A plugin that exits without reading stdin makes the write fail with EPIPE; its exit code tells what happened.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    });
  }
}

function pluginError(stdout: string, stderr: string, exitCode: number | null, plugin: string, network: string, command: CNICommand): CNIError {
  try {
    const e = JSON.parse(stdout) as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') return new CNIError(plugin, network, command, e.msg, typeof e.code === 'number' ? e.code : undefined, typeof e.details === 'string' ? e.details : undefined);
  } catch {
    // not a CNI error object: fall through to what the process printed
  }
  const text = (stderr.trim() || stdout.trim() || 'no output').slice(0, 500);
  return new CNIError(plugin, network, command, `exit code ${exitCode}: ${text}`);
}

function parseResult(stdout: string, plugin: string, network: string): CNIResult {
  try {
    const r = JSON.parse(stdout) as CNIResult;
    if (r && typeof r === 'object' && typeof r.cniVersion === 'string') return r;
  } catch {
    // reported below
  }
  throw new CNIError(plugin, network, 'ADD', `invalid result: ${stdout.slice(0, 200) || '(empty)'}`);
}
