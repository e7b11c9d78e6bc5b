// Every running sandbox is recorded in a machine-wide registry, so that the
// next `sandbox up` or `down` — from any folder — can remove what a crashed
// (SIGKILLed) sandbox left: its processes die with it (pdeathsig), but its
// network namespaces, the pods' among them, stay in the kernel.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupFabric, listNamespaces } from '../../src/cloudsim/fabric/cleanup.js';
import { findTools, mustRun } from '../../src/cloudsim/fabric/exec.js';
import { ownsName } from '../../src/cloudsim/fabric/names.js';
import { cleanupStaleInstances, processStart } from '../harness/processes.js';

const REGISTRY = process.env.ENI_SANDBOX_REGISTRY ?? join(tmpdir(), 'eni-operator-sandboxes');

export interface SandboxRecord {
  id: string;
  fabricPrefix: string;
  dir: string;
  supervisorPid: number;
  /** Start time of the supervisor, to tell it from a later process with its pid. */
  supervisorStart: string;
}

const fileOf = (prefix: string) => join(REGISTRY, `${prefix}.json`);

export function registerSandbox(record: Omit<SandboxRecord, 'supervisorStart'>): void {
  mkdirSync(REGISTRY, { recursive: true });
  writeFileSync(fileOf(record.fabricPrefix), JSON.stringify({ ...record, supervisorStart: processStart(record.supervisorPid) }, null, 2));
}

export function unregisterSandbox(prefix: string): void {
  rmSync(fileOf(prefix), { force: true });
}

export function readSandboxRecords(): SandboxRecord[] {
  if (!existsSync(REGISTRY)) return [];
  const records: SandboxRecord[] = [];
  for (const file of readdirSync(REGISTRY).filter((f) => f.endsWith('.json'))) {
    try {
      records.push(JSON.parse(readFileSync(join(REGISTRY, file), 'utf8')) as SandboxRecord);
    } catch {
      rmSync(join(REGISTRY, file), { force: true }); // half-written by a crash
    }
  }
  return records;
}

export function supervisorAlive(record: SandboxRecord): boolean {
  return processStart(record.supervisorPid) === record.supervisorStart;
}

export interface SweptSandbox {
  id: string;
  dir: string;
  namespaces: string[];
  /** Processes that were still running in those namespaces. */
  killed: number[];
}

/**
 * Removes the leftovers of every sandbox whose supervisor is gone: stale
 * process groups, namespaces (and processes in them) under its fabric
 * prefix, its folder, its record.
 */
export async function sweepStaleSandboxes(): Promise<SweptSandbox[]> {
  const swept: SweptSandbox[] = [];
  cleanupStaleInstances();
  for (const record of readSandboxRecords()) {
    if (supervisorAlive(record)) continue;
    const { namespaces, killed } = await cleanupFabric(record.fabricPrefix);
    // Only a folder that still looks like a sandbox's: a record must never delete anything else.
    if (existsSync(join(record.dir, 'state.json'))) rmSync(record.dir, { recursive: true, force: true });
    unregisterSandbox(record.fabricPrefix);
    swept.push({ id: record.id, dir: record.dir, namespaces, killed });
  }
  return swept;
}

export interface KernelLeftovers {
  namespaces: string[];
  /** Links in the root namespace named with the prefix (the sandbox creates none there). */
  links: string[];
}

export async function kernelLeftovers(prefix: string): Promise<KernelLeftovers> {
  const links = JSON.parse(await mustRun(findTools().ip, ['-j', 'link', 'show'])) as { ifname: string }[];
  return {
    namespaces: listNamespaces().filter((n) => ownsName(prefix, n)),
    links: links.map((l) => l.ifname).filter((n) => ownsName(prefix, n)),
  };
}
