// Runs a shell script as root inside a throwaway QEMU guest on Debian's stock
// kernel, for datapath tests that need kernel features this machine's kernel
// lacks (ipvlan). Recipe and background: notes/ipvlan-guest.md.
//
// The guest sees the host's whole root read-only over 9p, so the project's
// checkout, its compiled dist/, the pinned Node (on PATH as `node`) and the
// host's iproute2 are all there at the same paths. /run and /tmp are tmpfs,
// so `ip netns add` works; ipvlan, veth and bridge are loaded. The guest has
// no network device: tests build their own veths and namespaces inside it,
// and everything vanishes when it powers off.
//
// Usage from another integration test (one boot costs ~10-15 s of both cores
// under TCG, so run several checks per boot and give generous timeouts):
//
//   import { runInGuest } from '../guest/guest.js';
//   const r = await runInGuest({ script: 'node dist/e2e/datapath/ipvlan-check.js', timeoutMs: 120_000 });
//   expect(r.exitCode).toBe(0);   // r.output: the script's stdout+stderr
//
// The script runs under /bin/sh in the repository root, with `env` exported
// and ENI_GUEST=1. A timeout throws GuestTimeoutError with the serial
// console's tail; a guest that never reports an exit code (kernel panic, bad
// init) throws an Error with the same tail. QEMU dies with its owner (see
// ProcessGroup), and its temporary folder is removed when the run ends.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, repoPath } from '../harness/paths.js';
import { cleanupStaleInstances, ProcessGroup } from '../harness/processes.js';
import { guestInitramfs, guestKernel } from './initramfs.js';

export interface GuestRun {
  /** Shell script (run by /bin/sh as root, cwd = repository root). */
  script: string;
  /** Extra environment for the script. */
  env?: Record<string, string>;
  /** Whole run, boot included; the guest is killed when it is exceeded. */
  timeoutMs: number;
  /** Guest memory (default 2048). */
  memoryMiB?: number;
  /** Guest vCPUs (default 2). */
  cpus?: number;
}

export interface GuestResult {
  /** The script's exit status. */
  exitCode: number;
  /** The script's stdout and stderr, interleaved. */
  output: string;
  /** QEMU start to QEMU exit, as seen by the host. */
  durationMs: number;
  /** Guest uptime when its init started (kernel and initramfs boot). */
  initUptimeMs: number;
  /** How long the script ran, by the guest's clock. */
  scriptMs: number;
  /** The kernel release the guest booted (/boot/vmlinuz-<kernel>). */
  kernel: string;
}

export class GuestTimeoutError extends Error {
  constructor(
    timeoutMs: number,
    readonly consoleTail: string,
    readonly outputTail: string,
    /** The QEMU process that was killed. */
    readonly pid: number,
  ) {
    super(
      `the guest did not finish within ${timeoutMs} ms and was killed\n` +
        `--- serial console (last lines) ---\n${consoleTail}\n` +
        (outputTail ? `--- script output (last lines) ---\n${outputTail}\n` : ''),
    );
    this.name = 'GuestTimeoutError';
  }
}

const DEFAULT_MEMORY_MIB = 2048;
const DEFAULT_CPUS = 2;
const TAIL_LINES = 40;
const SHARE_TAG = 'eniguest';
let runs = 0;

function validate(run: GuestRun): void {
  if (typeof run.script !== 'string' || run.script.trim() === '') throw new Error('runInGuest: script must be a non-empty shell script');
  if (!Number.isFinite(run.timeoutMs) || run.timeoutMs <= 0) throw new Error(`runInGuest: timeoutMs must be a positive number, got ${run.timeoutMs}`);
  const memory = run.memoryMiB ?? DEFAULT_MEMORY_MIB;
  if (!Number.isInteger(memory) || memory < 256) throw new Error(`runInGuest: memoryMiB must be an integer >= 256, got ${memory}`);
  const cpus = run.cpus ?? DEFAULT_CPUS;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new Error(`runInGuest: cpus must be an integer in 1..64, got ${cpus}`);
  for (const name of Object.keys(run.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`runInGuest: invalid environment variable name ${JSON.stringify(name)}`);
  }
  // The paths below go on the kernel command line, which splits at spaces.
  if (/\s/.test(REPO_ROOT)) throw new Error(`runInGuest: the repository path must not contain whitespace: ${REPO_ROOT}`);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function envFile(run: GuestRun): string {
  const env: Record<string, string> = {
    PATH: `${repoPath('.tools', 'node', 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: '/tmp',
    ENI_GUEST: '1',
    ENI_GUEST_WORKDIR: REPO_ROOT,
    ...run.env,
  };
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');
}

/** Last lines of a file, without the terminal escapes SeaBIOS and the kernel emit. */
function tail(file: string): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8')
    .replace(/\x1b(\[[0-9;?]*[A-Za-z]|c)/g, '') // eslint-disable-line no-control-regex
    .replaceAll('\r', '');
  return text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
}

function qemuArgs(run: GuestRun, kernel: string, initrd: string, share: string): string[] {
  const escape = (path: string) => path.replaceAll(',', ',,'); // QEMU option values escape commas by doubling
  const append = [
    'console=ttyS0',
    'root=hostroot',
    'rootfstype=9p',
    // cache=loose: the guest keeps what it read (Node's 120 MB binary: 6 s per start without it,
    // 0.3 s after the first). A file the host changes during a run may look stale in the guest.
    'rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose',
    'ro',
    'panic=-1',
    'init=/bin/sh', // with the script as its argument: no exec bit needed, and a missing file fails loudly
    '--',
    repoPath('e2e', 'guest', 'init.sh'),
  ];
  return [
    '-accel', 'tcg', // KVM fails on this kind of machine (see the notes)
    '-nographic',
    '-no-reboot', // a panic (panic=-1 reboots) or power-off ends QEMU
    '-nic', 'none',
    '-m', String(run.memoryMiB ?? DEFAULT_MEMORY_MIB),
    '-smp', String(run.cpus ?? DEFAULT_CPUS),
    '-kernel', kernel,
    '-initrd', initrd,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${escape(share)},mount_tag=${SHARE_TAG},security_model=none`,
    // The checkout again on its own, for init.sh to mount where it was when /tmp hides it.
    '-virtfs', `local,path=${escape(REPO_ROOT)},mount_tag=enirepo,security_model=none,readonly=on,multidevs=remap`,
    '-append', append.join(' '),
  ];
}

/** Boots a guest, runs `run.script` in it and returns its exit code and output. */
export async function runInGuest(run: GuestRun): Promise<GuestResult> {
  validate(run);
  const kernel = guestKernel();
  const initrd = await guestInitramfs(kernel);
  cleanupStaleInstances(); // guests whose owner crashed

  const dir = mkdtempSync(join(tmpdir(), 'eni-guest-'));
  const share = join(dir, 'share');
  mkdirSync(share);
  writeFileSync(join(share, 'env.sh'), envFile(run));
  writeFileSync(join(share, 'script.sh'), run.script);
  const consoleLog = join(dir, 'console.log');

  const group = new ProcessGroup(`guest-${process.pid}-${++runs}`, dir, true);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const qemu = group.start('qemu', 'qemu-system-x86_64', qemuArgs(run, kernel.vmlinuz, initrd, share), consoleLog);
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), run.timeoutMs)));
    const outcome = await Promise.race([group.exited('qemu'), timedOut]);
    const durationMs = Date.now() - started;
    if (outcome === 'timeout') {
      const error = new GuestTimeoutError(run.timeoutMs, tail(consoleLog), tail(join(share, 'output')), qemu.pid!);
      await group.stop(2_000);
      throw error;
    }
    const exitFile = join(share, 'exit-code');
    if (!existsSync(exitFile)) {
      throw new Error(`the guest stopped without reporting an exit code (QEMU exited with ${outcome})\n--- serial console (last lines) ---\n${tail(consoleLog)}`);
    }
    const uptimeMs = (name: string) => readFileSync(join(share, name), 'utf8').trim().split(' ').map((s) => Math.round(Number(s) * 1000));
    const [scriptStart = NaN, scriptEnd = NaN] = uptimeMs('script-uptime');
    return {
      exitCode: Number(readFileSync(exitFile, 'utf8').trim()),
      output: readFileSync(join(share, 'output'), 'utf8'),
      durationMs,
      initUptimeMs: uptimeMs('init-uptime')[0] ?? NaN,
      scriptMs: scriptEnd - scriptStart,
      kernel: kernel.version,
    };
  } finally {
    clearTimeout(timer);
    await group.stop(2_000); // removes `dir`
  }
}
