// execute() through the eni-exec helper (native/eni-exec) against real
// processes and real network namespaces, and the direct-spawn fallback giving
// the same answers. Builds dist/bin/eni-exec when it is missing or older than
// its sources; the child-process cases run the compiled dist/ (make build).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { execHelperPid, execMode, execute, processesSpawned, stopExecHelper, type ExecResult } from '../../src/agent/netlink/exec.js';
import { repoPath } from '../harness/paths.js';

const run = promisify(execFile);
const HELPER = repoPath('dist', 'bin', 'eni-exec');
const HELPER_SRC = repoPath('native', 'eni-exec');
const DIST_EXEC = repoPath('dist', 'src', 'agent', 'netlink', 'exec.js');

// Namespaces are eoex-<pid>-<random>-<x>; those of dead test processes are swept first.
const PREFIX = `eoex-${process.pid}-${randomBytes(3).toString('hex')}`;
const STALE_RE = /^eoex-(\d+)-/;
const NS_A = `${PREFIX}-a`;
const NS_B = `${PREFIX}-b`;
const nsPath = (name: string): string => `/run/netns/${name}`;

function newestMtime(dir: string): number {
  return Math.max(...readdirSync(dir).map((f) => statSync(join(dir, f)).mtimeMs));
}

/** Builds the helper the way `make build` does, unless an up-to-date one is there; renamed into place so a running copy is never overwritten. */
function ensureHelper(): void {
  if (existsSync(HELPER) && statSync(HELPER).mtimeMs >= newestMtime(HELPER_SRC)) return;
  const tmp = `${HELPER}.${process.pid}.tmp`;
  try {
    execFileSync('go', ['build', '-C', HELPER_SRC, '-trimpath', '-o', tmp, '.'], { env: { ...process.env, CGO_ENABLED: '0' }, stdio: 'pipe' });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? String(err);
    throw new Error(`${HELPER} is missing or stale and building it failed (run \`make build\`): ${stderr}`, { cause: err });
  }
  renameSync(tmp, HELPER);
}

function assertFreshDist(): void {
  if (!existsSync(DIST_EXEC)) throw new Error(`${DIST_EXEC} is missing: compile first (npx tsc -p .)`);
  const dir = repoPath('src', 'agent', 'netlink');
  for (const f of ['exec.ts', 'exec-helper.ts']) {
    if (statSync(join(dir, f)).mtimeMs > statSync(DIST_EXEC).mtimeMs) throw new Error(`src/agent/netlink/${f} is newer than ${DIST_EXEC}: compile first (npx tsc -p .)`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie waiting for a reaper counts as gone.
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

function ourNetns(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => STALE_RE.test(n)) : [];
}

function deleteNetns(name: string): void {
  execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
}

const linkNames = (json: string): string[] => (JSON.parse(json) as { ifname: string }[]).map((l) => l.ifname).sort();
const ownNetns = readlinkSync('/proc/self/ns/net');

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (cond()) return true;
  return cond();
}

beforeAll(() => {
  ensureHelper();
  for (const n of ourNetns().filter((n) => !alive(Number(STALE_RE.exec(n)?.[1])))) deleteNetns(n);
  for (const [ns, tag] of [[NS_A, 'xa'], [NS_B, 'xb']] as const) {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'name', `${tag}0`, 'type', 'veth', 'peer', 'name', `${tag}1`]);
  }
});

afterAll(async () => {
  await stopExecHelper();
  for (const ns of [NS_A, NS_B]) if (existsSync(nsPath(ns))) deleteNetns(ns);
  expect(ourNetns().filter((n) => n.startsWith(PREFIX))).toEqual([]);
});

test('the helper is in use once built', () => {
  expect(execMode()).toBe('helper');
});

test('50 concurrent commands each get their own output, and each counts as one process', async () => {
  const before = processesSpawned();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => execute('sh', ['-c', 'sleep 0.0$1; echo "out $1"; echo "err $1" >&2; exit $(($1 % 7))', 'sh', String(i)])));
  expect(processesSpawned() - before).toBe(50);
  results.forEach((r, i) => expect(r).toEqual({ code: i % 7, stdout: `out ${i}\n`, stderr: `err ${i}\n` }));
  expect(execHelperPid()).toBeDefined();
});

test('stdin reaches the command; exit code and stderr come back', async () => {
  expect(await execute('cat', [], 'line 1\nünïcødé ✓ <>&"\\\n')).toEqual({ code: 0, stdout: 'line 1\nünïcødé ✓ <>&"\\\n', stderr: '' });
  expect(await execute('sh', ['-c', 'read x; echo "got $x"; echo oops >&2; exit 42'], 'hello\n')).toEqual({ code: 42, stdout: 'got hello\n', stderr: 'oops\n' });
  expect(await execute('sh', ['-c', 'kill -9 $$'])).toMatchObject({ code: 137 });
});

test('a command that does not exist, or a namespace that does not, is a clear error', async () => {
  await expect(execute('eni-exec-no-such-command', ['x'])).rejects.toThrow(/cannot run eni-exec-no-such-command: .*not found/);
  await expect(execute('true', [], undefined, { netns: `/run/netns/${PREFIX}-missing` })).rejects.toThrow(/cannot open netns .*-missing: no such file/);
  await expect(execute('true', [], undefined, { netns: '/proc/self/ns/uts' })).rejects.toThrow(/not a network namespace/);
  await expect(execute('true', [], undefined, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs must be a positive integer/);
  // The helper survived all of that.
  expect(await execute('echo', ['still here'])).toMatchObject({ code: 0, stdout: 'still here\n' });
});

test('a command past its timeout is killed, and stderr says so', async () => {
  const t = performance.now();
  const r = await execute('sh', ['-c', 'echo started; exec sleep 20'], undefined, { timeoutMs: 300 });
  expect(performance.now() - t).toBeLessThan(5000);
  expect(r.code).toBe(137);
  expect(r.stdout).toBe('started\n');
  expect(r.stderr).toMatch(/sh killed with SIGKILL after the 300 ms timeout/);
});

test('1 MiB in and out intact', async () => {
  const line = 'ünïcødé ✓ 0123456789abcdefghijklmnopqrstuvwxyz\n';
  const input = Array.from({ length: Math.ceil((1 << 20) / line.length) }, (_, i) => `${i} ${line}`).join('');
  expect(Buffer.byteLength(input)).toBeGreaterThan(1 << 20);
  const r = await execute('cat', [], input);
  expect(r.code).toBe(0);
  expect(r.stdout.length).toBe(input.length);
  expect(r.stdout === input).toBe(true);
  const zeros = await execute('head', ['-c', String(1 << 20), '/dev/zero']);
  expect(zeros.stdout).toBe('\0'.repeat(1 << 20));
});

test('a command in a namespace sees only its links, and the next one without sees ours', async () => {
  const inA = await execute('ip', ['-json', 'link', 'show'], undefined, { netns: nsPath(NS_A) });
  expect(linkNames(inA.stdout)).toEqual(['lo', 'xa0', 'xa1']);
  const here = await execute('ip', ['-json', 'link', 'show']);
  expect(linkNames(here.stdout)).toEqual(linkNames(execFileSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' })));
  expect(linkNames(here.stdout)).not.toContain('xa0');
});

test('no thread keeps a namespace: 240 requests, namespaced and not, interleaved in concurrent waves', async () => {
  const expected = (i: number): { netns?: string; links?: string[] } =>
    i % 3 === 0 ? { netns: nsPath(NS_A), links: ['lo', 'xa0', 'xa1'] } : i % 3 === 1 ? { netns: nsPath(NS_B), links: ['lo', 'xb0', 'xb1'] } : {};
  const nsIdentity = (path: string): string => `net:[${statSync(path).ino}]`;
  for (let wave = 0; wave < 6; wave++) {
    const ids = Array.from({ length: 40 }, (_, k) => wave * 40 + k);
    const answers = await Promise.all(
      ids.map(async (i) => {
        const { netns } = expected(i);
        // Odd ones ask the kernel which namespace they are in, even ones list links.
        return i % 2 === 1 ? execute('readlink', ['/proc/self/ns/net'], undefined, { netns }) : execute('ip', ['-json', 'link', 'show'], undefined, { netns });
      }),
    );
    answers.forEach((r, k) => {
      const i = ids[k]!;
      const { netns, links } = expected(i);
      expect({ i, code: r.code }).toEqual({ i, code: 0 });
      if (i % 2 === 1) expect({ i, ns: r.stdout.trim() }).toEqual({ i, ns: netns ? nsIdentity(netns) : ownNetns });
      else if (links) expect({ i, links: linkNames(r.stdout) }).toEqual({ i, links });
      else expect({ i, hasA: linkNames(r.stdout).includes('xa0'), hasB: linkNames(r.stdout).includes('xb0') }).toEqual({ i, hasA: false, hasB: false });
    });
  }
});

test('a helper killed with SIGKILL fails what it was running; the next call starts a new one', async () => {
  await execute('true', []);
  const pid = execHelperPid()!;
  expect(alive(pid)).toBe(true);
  const inFlight = execute('sleep', ['2']);
  process.kill(pid, 'SIGKILL');
  await expect(inFlight).rejects.toThrow(new RegExp(`eni-exec helper .* \\(pid ${pid}\\) was killed by SIGKILL while running \`sleep 2\``));
  expect(await execute('echo', ['again'])).toEqual({ code: 0, stdout: 'again\n', stderr: '' });
  expect(execHelperPid()).not.toBe(pid);
});

/** The same questions for either path; what differs only in wording is reduced to what it means. */
async function scenario(): Promise<unknown> {
  const plain = (r: ExecResult): ExecResult => r;
  const timedOut = (r: ExecResult): unknown => ({ code: r.code, saysTimeout: /SIGKILL/.test(r.stderr) && /timeout/.test(r.stderr) });
  const failure = (p: Promise<ExecResult>): Promise<string> =>
    p.then(
      () => 'resolved',
      (e: Error) => (/cannot run nope-no-such-cmd/.test(e.message) ? 'not found' : /cannot open netns/.test(e.message) ? 'no netns' : e.message),
    );
  return {
    status: plain(await execute('sh', ['-c', 'echo out; echo err >&2; exit 7'])),
    stdin: plain(await execute('cat', [], 'a\nünï\n')),
    killed: plain(await execute('sh', ['-c', 'kill -9 $$'])),
    timeout: timedOut(await execute('sleep', ['10'], undefined, { timeoutMs: 200 })),
    linksA: linkNames((await execute('ip', ['-json', 'link', 'show'], undefined, { netns: nsPath(NS_A) })).stdout),
    whereB: (await execute('readlink', ['/proc/self/ns/net'], undefined, { netns: nsPath(NS_B) })).stdout,
    sysctlB: await execute('sh', ['-c', 'cat /proc/sys/net/ipv4/conf/xb0/forwarding'], undefined, { netns: nsPath(NS_B) }),
    notFound: await failure(execute('nope-no-such-cmd', [])),
    noNetns: await failure(execute('true', [], undefined, { netns: nsPath(`${PREFIX}-missing`) })),
  };
}

test('the direct-spawn fallback (ENI_EXEC_HELPER=off) gives the same results', async () => {
  const viaHelper = await scenario();
  const saved = process.env.ENI_EXEC_HELPER;
  process.env.ENI_EXEC_HELPER = 'off';
  try {
    expect(execMode()).toBe('spawn');
    const pid = execHelperPid();
    const viaSpawn = await scenario();
    expect(viaSpawn).toEqual(viaHelper);
    expect(execHelperPid()).toBe(pid); // the helper was not asked
  } finally {
    if (saved === undefined) delete process.env.ENI_EXEC_HELPER;
    else process.env.ENI_EXEC_HELPER = saved;
  }
  expect(viaHelper).toMatchObject({ status: { code: 7, stdout: 'out\n', stderr: 'err\n' }, killed: { code: 137 }, timeout: { code: 137, saysTimeout: true }, linksA: ['lo', 'xa0', 'xa1'], notFound: 'not found', noNetns: 'no netns' });
});

describe('a compiled agent process', () => {
  beforeAll(assertFreshDist);

  /** Runs one command through dist's execute() in a fresh node process that must exit by itself. */
  async function child(env: NodeJS.ProcessEnv, module = DIST_EXEC): Promise<{ mode: string; pid: number | null; out: string }> {
    const script = [
      `import { execute, execMode, execHelperPid } from ${JSON.stringify(pathToFileURL(module).href)};`,
      `const r = await execute('echo', ['hi']);`,
      `process.stdout.write(JSON.stringify({ mode: execMode(), pid: execHelperPid() ?? null, out: r.stdout }));`,
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 20_000, killSignal: 'SIGKILL' });
    return JSON.parse(stdout) as { mode: string; pid: number | null; out: string };
  }

  test('finds dist/bin/eni-exec beside its build, exits without being told to, and its helper exits with it', async () => {
    const r = await child({ ENI_EXEC_HELPER: '' });
    expect(r).toMatchObject({ mode: 'helper', out: 'hi\n' });
    expect(r.pid).toEqual(expect.any(Number));
    expect(await waitUntil(() => !alive(r.pid!), 3000)).toBe(true);
  });

  test('with ENI_EXEC_HELPER=off spawns directly', async () => {
    expect(await child({ ENI_EXEC_HELPER: 'off' })).toEqual({ mode: 'spawn', pid: null, out: 'hi\n' });
  });

  test('without a helper beside its build spawns directly; so it does when the helper cannot be started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eoex-'));
    try {
      const netlink = join(dir, 'dist', 'src', 'agent', 'netlink');
      mkdirSync(netlink, { recursive: true });
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
      for (const f of ['exec.js', 'exec-helper.js']) copyFileSync(repoPath('dist', 'src', 'agent', 'netlink', f), join(netlink, f));
      expect(await child({ ENI_EXEC_HELPER: '' }, join(netlink, 'exec.js'))).toEqual({ mode: 'spawn', pid: null, out: 'hi\n' });
      const notExecutable = join(dir, 'eni-exec');
      writeFileSync(notExecutable, '');
      chmodSync(notExecutable, 0o644);
      expect(await child({ ENI_EXEC_HELPER: notExecutable })).toEqual({ mode: 'spawn', pid: null, out: 'hi\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an agent without its helper refuses to start and says why (its kernel work has no other way)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eoex-agent-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
      const agent = [repoPath('dist', 'src', 'cmd', 'eni-operator.js'), 'agent', '--kubeconfig', kubeconfig, '--node', 'n', '--socket', join(dir, 'run', 'agent.sock'), '--state-dir', join(dir, 'state'), '--listen', '127.0.0.1:0'];
      const failure = await run(process.execPath, agent, { env: { ...process.env, ENI_EXEC_HELPER: 'off' }, timeout: 20_000 }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toMatch(/^agent: ENI_EXEC_HELPER=off, but the datapath writes and reads the kernel through the eni-exec helper/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with ENI_EXEC_HELPER naming a missing file fails clearly', async () => {
    await expect(child({ ENI_EXEC_HELPER: '/nonexistent/eni-exec' })).rejects.toThrow(/ENI_EXEC_HELPER=\/nonexistent\/eni-exec: no such file/);
  });
});

test('the helper answers a malformed request with an error and keeps serving', async () => {
  const input = ['not json', '{"id":5,"file":"echo","args":"x"}', '{"id":6}', '{"id":7,"file":"echo","args":["ok"]}', ''].join('\n');
  const child = execFile(HELPER);
  child.stdin!.end(input);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('close', resolve));
  const byId = new Map(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; exec?: { code: number; stdout: string; stderr: string }; error?: string })
      .map((r) => [r.id, r]),
  );
  expect([...byId.keys()].sort()).toEqual([0, 5, 6, 7]);
  expect(byId.get(0)!.error).toMatch(/^bad request: invalid character/);
  expect(byId.get(5)!.error).toMatch(/^bad request: .*args/);
  expect(byId.get(6)!.error).toBe('bad request: "file" is required');
  expect(byId.get(7)).toEqual({ id: 7, exec: { code: 0, stdout: 'ok\n', stderr: '' } });
});
