// The built executable, run as a user runs it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { repoPath, toolPath } from './harness/paths.js';

const run = promisify(execFile);
const bin = repoPath('dist', 'src', 'cmd', 'eni-operator.js');

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('eni-operator executable', () => {
  test('version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
    const r = await cli('version');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^eni-operator ${version.replaceAll('.', '\\.')} \\(node v24\\.`));
  });

  test('--help lists the commands and exits 0', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: eni-operator <command>');
    expect(r.stdout).toMatch(/^ {2}version\s+Print the version/m);
    expect(r.stdout).toMatch(/^ {2}cloudsim\s+Run the Alibaba/m);
  });

  test('an unknown command is an error with usage on stderr', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stdout).toBe('');
  });

  test('no command prints usage and exits 2', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Commands:');
  });
});

describe('kustomize base', () => {
  test('config/default renders the CRDs and both components\' RBAC', async () => {
    const { stdout } = await run(toolPath('kubectl'), ['kustomize', repoPath('config', 'default')]);
    for (const expected of [
      'name: networkmodes.network.eni-operator.io',
      'name: enipools.network.eni-operator.io',
      'name: nodenetworks.network.eni-operator.io',
      'kind: ClusterRole\nmetadata:\n  name: eni-operator-agent',
      'kind: ServiceAccount\nmetadata:\n  name: eni-operator-controller',
    ]) expect(stdout).toContain(expected);
  });
});

describe('eni-operator cloudsim', () => {
  test('--help prints its usage; a bad --listen or world file is a clear error', async () => {
    expect((await cli('cloudsim', '--help')).stdout).toContain('Usage: eni-operator cloudsim');
    const badListen = await cli('cloudsim', '--listen', 'nonsense');
    expect(badListen.code).toBe(2);
    expect(badListen.stderr).toContain('--listen wants HOST:PORT');
    const badWorld = await cli('cloudsim', '--world', '/nonexistent/world.yaml');
    expect(badWorld.code).toBe(1);
    expect(badWorld.stderr).toContain('world file /nonexistent/world.yaml');
  });

  test('serves the default world and stops on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'cloudsim', '--listen', '127.0.0.1:0', '--world', repoPath('config/cloudsim/world.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    const world = (await (await fetch(`${url}/_admin/world`)).json()) as { regions: { provider: string }[] };
    expect(world.regions.map((r) => r.provider).sort()).toEqual(['alibaba', 'tencent']);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
