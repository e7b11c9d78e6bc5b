// The guest's kernel (Debian's stock `linux-image-amd64`) and an initramfs that
// can mount the host's root over 9p (the stock one lacks the 9p modules).
//
// The initramfs holds only the listed modules (MODULES=list): 5 MB instead of
// 30 MB, built in about 1 s, and the guest reaches its init 3 s sooner. Every
// other module (ipvlan, veth, nftables...) is loaded from the host's
// /lib/modules through the 9p root once it is mounted.
//
// Built once per kernel and recipe into `${TOOLS_CACHE:-~/.cache/eni-operator}/guest/`.
// Concurrent builders each build into their own folder and rename the result
// into place; rename is atomic, so a reader never sees a partial file.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const HOST_CONFIG = '/etc/initramfs-tools';
/** Modules the initramfs needs to reach the 9p root; dependencies are added by mkinitramfs. */
const BOOT_MODULES = ['virtio_pci', '9p', '9pnet', '9pnet_virtio', 'netfs'];
/** Sourced after initramfs.conf, so it wins over the host's own settings. */
const CONF_OVERRIDE = 'MODULES=list\n';
/** Bump to rebuild every cached image when the recipe changes in a way the hash cannot see. */
const RECIPE_VERSION = '1';
/** Build folders older than this were left by a crashed builder. */
const STALE_BUILD_MS = 60 * 60 * 1000;

export interface GuestKernel {
  version: string;
  vmlinuz: string;
}

/** Compares dotted/dashed versions numerically where both parts are numbers ("6.1.0-10" < "6.1.0-9" is false). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/);
  const pb = b.split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The newest installed Debian amd64 kernel that has its modules: /boot/vmlinuz-<version>. */
export function guestKernel(): GuestKernel {
  const versions = readdirSync('/boot')
    .filter((f) => /^vmlinuz-.+-amd64$/.test(f))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join('/lib/modules', v, 'modules.dep')))
    .sort(compareVersions);
  const version = versions.at(-1);
  if (version === undefined) {
    throw new Error('no Debian kernel for the guest: expected /boot/vmlinuz-*-amd64 with /lib/modules/<version>; run `make deps` (installs linux-image-amd64)');
  }
  return { version, vmlinuz: join('/boot', `vmlinuz-${version}`) };
}

export function guestCacheDir(): string {
  return join(process.env.TOOLS_CACHE ?? join(homedir(), '.cache', 'eni-operator'), 'guest');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Everything the image depends on: the recipe, the host's initramfs-tools config, the kernel build. */
function recipeHash(kernel: GuestKernel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ RECIPE_VERSION, BOOT_MODULES, CONF_OVERRIDE, kernel: kernel.version }));
  const vmlinuz = statSync(kernel.vmlinuz);
  hash.update(`${vmlinuz.size}:${vmlinuz.mtimeMs}`);
  for (const file of filesUnder(HOST_CONFIG)) hash.update(`${relative(HOST_CONFIG, file)}\0`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

function removeStaleBuilds(cacheDir: string): void {
  for (const entry of readdirSync(cacheDir)) {
    const path = join(cacheDir, entry);
    if (entry.startsWith('.build-') && Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
  }
}

async function build(kernel: GuestKernel, target: string): Promise<void> {
  const cacheDir = guestCacheDir();
  removeStaleBuilds(cacheDir);
  const work = mkdtempSync(join(cacheDir, '.build-'));
  try {
    const conf = join(work, 'initramfs-tools');
    cpSync(HOST_CONFIG, conf, { recursive: true });
    appendFileSync(join(conf, 'modules'), `\n${BOOT_MODULES.join('\n')}\n`);
    mkdirSync(join(conf, 'conf.d'), { recursive: true });
    writeFileSync(join(conf, 'conf.d', 'zz-eni-guest'), CONF_OVERRIDE);
    const image = join(work, 'initrd.img');
    try {
      await exec('mkinitramfs', ['-d', conf, '-o', image, kernel.version], { maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const { stderr, message } = err as { stderr?: string; message: string };
      throw new Error(`mkinitramfs failed for kernel ${kernel.version} (is initramfs-tools installed? run \`make deps\`): ${stderr?.trim() || message}`, { cause: err });
    }
    renameSync(image, target);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const builds = new Map<string, Promise<string>>();

/** Path of the cached initramfs for `kernel`, built first if missing. */
export function guestInitramfs(kernel: GuestKernel = guestKernel()): Promise<string> {
  mkdirSync(guestCacheDir(), { recursive: true });
  const target = join(guestCacheDir(), `initrd-${kernel.version}-${recipeHash(kernel)}.img`);
  if (existsSync(target)) return Promise.resolve(target);
  let pending = builds.get(target);
  if (!pending) {
    pending = build(kernel, target).then(() => target);
    builds.set(target, pending);
    pending.catch(() => builds.delete(target)); // a later call may retry
  }
  return pending;
}
