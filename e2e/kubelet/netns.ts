// Named network namespaces (/run/netns/<name>), through iproute2 as a
// runtime's pinned sandbox namespaces would be.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** Runs `ip args...`; the error carries ip's own message. */
export async function ip(args: string[]): Promise<string> {
  try {
    return (await execFileP('ip', args)).stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`ip ${args.join(' ')}: ${e.stderr?.trim() || e.message}`, { cause: err });
  }
}

/** Creates the namespace (if missing) with its loopback up, as the CNI loopback plugin would leave it. */
export async function ensureNetns(name: string): Promise<void> {
  if (!netnsExists(name)) await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Removes the namespace; a missing one is fine. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  try {
    await ip(['netns', 'delete', name]);
  } catch (err) {
    if (netnsExists(name)) throw err;
  }
}

/** The first global IPv4 address in the namespace: a node's primary IP when none is given. */
export async function primaryIPv4(name: string): Promise<string> {
  const links = JSON.parse(await ip(['-n', name, '-j', '-4', 'addr', 'show', 'scope', 'global'])) as { addr_info?: { local?: string }[] }[];
  const found = links.flatMap((l) => l.addr_info ?? []).find((a) => a.local)?.local;
  if (!found) throw new Error(`network namespace ${name} has no global IPv4 address to use as the node IP (pass --node-ip)`);
  return found;
}
