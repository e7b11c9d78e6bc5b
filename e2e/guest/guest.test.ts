// The QEMU guest that datapath tests use for ipvlan (this machine's kernel has
// none). Two full boots (~10-15 s each under TCG) and one cut short at a few
// seconds; each full boot runs several checks.
import { release } from 'node:os';
import { isAlive } from '../harness/processes.js';
import { GuestTimeoutError, runInGuest } from './guest.js';
import { guestInitramfs, guestKernel } from './initramfs.js';

const BOOT_TIMEOUT_MS = 150_000; // generous: TCG on 2 shared cores

interface Findings {
  kernel: string;
  node: string;
  script: string;
  env: string;
  rootWrite: string;
  netns: number;
  ipvlan: { info_kind?: string; info_data?: { mode?: string } };
  tcp: string;
  error?: string;
}

beforeAll(async () => {
  await guestInitramfs(); // built once per kernel and recipe; not part of the boots' timing
}, 120_000);

test('the guest runs a compiled script with Node 24 on the Debian kernel, with ipvlan, veth and netns working', async () => {
  const tricky = `it's "quoted" $HOME \\ ok`;
  const result = await runInGuest({
    script: 'node dist/e2e/guest/fixtures/probe.js',
    env: { ENI_GUEST_PROBE_VALUE: tricky },
    timeoutMs: BOOT_TIMEOUT_MS,
  });
  console.log(`guest boot: init after ${result.initUptimeMs} ms of guest uptime, script ${result.scriptMs} ms, whole run ${result.durationMs} ms`);
  expect(result.exitCode).toBe(0);
  const line = result.output.trim().split('\n').at(-1)!;
  const findings = JSON.parse(line) as Findings;

  expect(findings.error).toBeUndefined();
  expect(findings.kernel).toBe(guestKernel().version);
  expect(findings.kernel).toBe(result.kernel);
  expect(findings.kernel).not.toBe(release()); // really another kernel than the host's
  expect(findings.node).toMatch(/^v24\./);
  expect(findings.script).toMatch(/\/dist\/e2e\/guest\/fixtures\/probe\.js$/);
  expect(findings.env).toBe(tricky);
  expect(findings.rootWrite).toBe('EROFS'); // the host's root cannot be changed from the guest
  expect(findings.netns).toBe(2);
  expect(findings.ipvlan.info_kind).toBe('ipvlan');
  expect(findings.ipvlan.info_data?.mode).toBe('l2');
  expect(findings.tcp).toBe('hello over ipvlan');
}, BOOT_TIMEOUT_MS + 30_000);

test("a failing script's exit code and its stdout and stderr are reported", async () => {
  const result = await runInGuest({
    script: 'echo to-stdout; echo to-stderr >&2; exit 7',
    timeoutMs: BOOT_TIMEOUT_MS,
    memoryMiB: 512,
    cpus: 1,
  });
  expect(result.exitCode).toBe(7);
  expect(result.output).toBe('to-stdout\nto-stderr\n');
}, BOOT_TIMEOUT_MS + 30_000);

test('a guest that overruns its timeout is killed and the error carries the serial console tail', async () => {
  const error = await runInGuest({ script: 'sleep 600', timeoutMs: 4_000 }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(GuestTimeoutError);
  const timeout = error as GuestTimeoutError;
  expect(timeout.message).toContain('did not finish within 4000 ms');
  // Cut short while booting: the tail shows how far the firmware or kernel got.
  expect(timeout.consoleTail).toMatch(/SeaBIOS|Linux version|\[\s*\d+\.\d+\]/);
  expect(timeout.message).toContain(timeout.consoleTail);
  expect(isAlive(timeout.pid)).toBe(false);
}, 60_000);

test('bad input is rejected before anything boots', async () => {
  await expect(runInGuest({ script: ' ', timeoutMs: 1000 })).rejects.toThrow(/script must be a non-empty/);
  await expect(runInGuest({ script: 'true', timeoutMs: 0 })).rejects.toThrow(/timeoutMs must be a positive/);
  await expect(runInGuest({ script: 'true', timeoutMs: 1000, cpus: 0 })).rejects.toThrow(/cpus must be/);
  await expect(runInGuest({ script: 'true', timeoutMs: 1000, env: { 'A-B': 'x' } })).rejects.toThrow(/invalid environment variable name/);
});
