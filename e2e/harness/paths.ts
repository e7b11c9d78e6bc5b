import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (package.json)');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRoot();

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

/** The pinned control-plane tools, built by `make tools` (ENI_TOOLS_BIN overrides). */
export function toolPath(name: 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl'): string {
  const bin = resolve(process.env.ENI_TOOLS_BIN ?? repoPath('.tools', 'bin'));
  const path = join(bin, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make tools\` first`);
  return path;
}
