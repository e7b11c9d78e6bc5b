// Removes everything an emulator with a given prefix left in the kernel:
// its namespaces (and with them every link inside), any process still running
// in them, and any root-namespace link carrying the prefix. Used at start
// (a crashed predecessor's leftovers) and at stop.
import { readdirSync, statSync } from 'node:fs';
import { findTools, mustRun, runTool } from './exec.js';
import { ownsName, validatePrefix } from './names.js';

const NETNS_DIR = '/run/netns';

export interface CleanupReport {
  namespaces: string[];
  links: string[];
  /** Processes that were still running inside the namespaces, killed. */
  killed: number[];
}

export async function cleanupFabric(prefix: string): Promise<CleanupReport> {
  validatePrefix(prefix);
  const tools = findTools();
  const namespaces = listNamespaces().filter((n) => ownsName(prefix, n));
  // A process inside keeps a namespace (and its NICs) alive after `netns del`.
  const killed = pidsIn(namespaces);
  for (const pid of killed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  if (namespaces.length > 0) {
    // -force: one namespace vanishing under us must not stop the others' removal.
    await runTool(tools.ip, ['-force', '-batch', '-'], namespaces.map((n) => `netns del ${n}\n`).join(''));
    const left = listNamespaces().filter((n) => namespaces.includes(n));
    if (left.length > 0) throw new Error(`fabric cleanup: could not remove namespaces ${left.join(', ')}`);
  }
  // The fabric creates no link in the root namespace; anything named with the prefix is a leftover all the same.
  const links = (JSON.parse(await mustRun(tools.ip, ['-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => ownsName(prefix, n));
  if (links.length > 0) await runTool(tools.ip, ['-force', '-batch', '-'], links.map((l) => `link del ${l}\n`).join(''));
  return { namespaces, links, killed };
}

export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}

/** Processes whose network namespace is one of the named ones (what `ip netns pids` does, for all at once). */
export function pidsIn(namespaces: string[]): number[] {
  const wanted = new Set<string>();
  for (const n of namespaces) {
    try {
      const st = statSync(`${NETNS_DIR}/${n}`);
      wanted.add(`${st.dev}:${st.ino}`);
    } catch {
      // removed meanwhile
    }
  }
  if (wanted.size === 0) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = statSync(`/proc/${entry}/ns/net`);
      if (wanted.has(`${st.dev}:${st.ino}`)) pids.push(Number(entry));
    } catch {
      // exited, or a kernel thread
    }
  }
  return pids;
}
