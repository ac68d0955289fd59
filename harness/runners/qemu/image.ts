// The guest image, built from Debian packages at first use and cached by their versions: the kernel
// (linux-image-*-cloud-amd64: LZ4-compressed, so it boots in about half the time of the generic one
// under TCG) and the modules the workload needs, downloaded and unpacked with dpkg -x; busybox-static
// and kcapi-tools (with the shared libraries they link) taken from the host's installed packages.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, copyFileSync, rmSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { cachedDir, cacheRoot, safeName } from './cache.ts';
import { cpioNewcGz, type CpioEntry } from './cpio.ts';
import { archiveVersions, downloadAndUnpack, installedVersion, metaDependency, requireProgram } from '../../util/debian.ts';
import { MissingDependencyError } from './errors.ts';
import { guestInit } from './guestInit.ts';
import { DEFAULT_WORKLOAD, WORKLOAD_KEY, paramsFile } from './workload.ts';

/** Modules the workload needs when the kernel has them as modules (=y ones are simply absent). */
export const REQUIRED_MODULES = [
  'crypto_user', // NETLINK_CRYPTO: without it every libkcapi tool fails to look up its cipher
  'af_alg', 'algif_hash', 'algif_skcipher', 'algif_aead',
  'sha512_generic', 'gf128mul', 'ghash_generic', 'ctr', 'gcm',
  'virtio', 'virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_console',
];
/** Lab drivers: loaded when the kernel has them (arm64), skipped otherwise (amd64 has no hisi_sec2). */
export const OPTIONAL_MODULES = ['hisi_qm', 'hisi_sec2', 'hisi_hpre', 'hisi_zip'];

const KERNEL_META = 'linux-image-cloud-amd64';
const BUSYBOX = '/bin/busybox';
const KCAPI_TOOLS = ['/usr/bin/kcapi-dgst', '/usr/bin/kcapi-enc'];

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  kernelRelease: string;
  packages: Record<string, string>;
  modules: string[];
  initrdBytes: number;
}

interface Manifest extends Omit<GuestImage, 'dir' | 'kernel' | 'initrd'> {
  key: string;
}

export interface ImageSources {
  kernelPackage: string;
  kernelVersion: string;
  busybox: string;
  kcapi: string;
  libkcapi: string;
  key: string;
}

/** Package versions the image is made from, and the cache key they give. */
export function resolveImageSources(): ImageSources {
  const kernelPackage = process.env.MIGCOMPAT_GUEST_KERNEL ?? metaDependency(KERNEL_META, 'linux-image-');
  const kernelVersion = archiveVersions(kernelPackage)[0];
  if (!kernelVersion) throw new MissingDependencyError(`Debian's archive has no ${kernelPackage}`);
  requireProgram(BUSYBOX, 'busybox-static');
  for (const t of KCAPI_TOOLS) requireProgram(t, 'kcapi-tools');
  const busybox = installedVersion('busybox-static');
  const kcapi = installedVersion('kcapi-tools');
  const libkcapi = installedVersion('libkcapi1');
  if (!busybox) throw new MissingDependencyError('busybox-static is not installed (listed in .ci/apt-packages.txt)');
  if (!kcapi || !libkcapi) throw new MissingDependencyError('kcapi-tools is not installed (listed in .ci/apt-packages.txt)');
  const h = createHash('sha256');
  for (const part of [kernelPackage, kernelVersion, busybox, kcapi, libkcapi, guestInit(), paramsFile(DEFAULT_WORKLOAD), REQUIRED_MODULES.join(','), OPTIONAL_MODULES.join(',')]) h.update(part + '\0');
  return { kernelPackage, kernelVersion, busybox, kcapi, libkcapi, key: `${safeName(kernelPackage)}_${safeName(kernelVersion)}-${h.digest('hex').slice(0, 10)}` };
}

export function imageDir(sources: ImageSources): string {
  return join(cacheRoot(), 'qemu-image', sources.key);
}

/** Load a built image, or null when the cache does not hold it. */
export function loadImage(dir: string): GuestImage | null {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return null;
  const m = JSON.parse(readFileSync(mf, 'utf8')) as Manifest;
  return { ...m, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio.gz') };
}

/** The image for the current package versions, built on first use. */
export async function ensureImage(log: (s: string) => void = () => {}): Promise<GuestImage> {
  const src = resolveImageSources();
  const dir = imageDir(src);
  if (!existsSync(dir)) log(`building guest image ${src.key} (first use)`);
  await cachedDir(dir, async (tmp) => buildImage(src, tmp, log));
  const img = loadImage(dir);
  if (!img) throw new Error(`guest image cache ${dir} has no manifest`);
  return img;
}

// ---------- building ----------

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const modName = (file: string) => basename(file).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');

/** `depends=` from a module's .modinfo section (NUL-separated key=value strings). */
export function moduleDepends(ko: Buffer): string[] {
  const tag = Buffer.from('\0depends=');
  const i = ko.indexOf(tag);
  if (i < 0) return [];
  const end = ko.indexOf(0, i + tag.length);
  const v = ko.toString('latin1', i + tag.length, end);
  return v ? v.split(',').map((d) => d.replace(/-/g, '_')) : [];
}

/** A module's bytes, uncompressed (Debian compresses modules with xz since 6.x; busybox insmod takes plain ELF). */
export function readModule(file: string): Buffer {
  if (file.endsWith('.ko')) return readFileSync(file);
  if (!file.endsWith('.ko.xz')) throw new MissingDependencyError(`kernel module ${basename(file)}: only .ko and .ko.xz are supported`);
  const r = spawnSync('xz', ['-dc', file], { maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) throw new MissingDependencyError(`xz -dc ${basename(file)} failed: ${r.error?.message ?? r.stderr.toString().trim()} (install xz-utils)`);
  return r.stdout;
}

/**
 * Modules to insmod, dependencies first. Throws when a required one is neither a module nor built in.
 * `want` defaults to the crypto workload's lists.
 */
export function moduleLoadOrder(
  modRoot: string,
  builtin: Set<string>,
  want: { required: readonly string[]; optional: readonly string[] } = { required: REQUIRED_MODULES, optional: OPTIONAL_MODULES },
): { file: string; name: string; optional: boolean }[] {
  const byName = new Map<string, string>();
  for (const f of walk(join(modRoot, 'kernel'))) if (/\.ko(\.[a-z]+)?$/.test(f)) byName.set(modName(f), f);
  const order: { file: string; name: string; optional: boolean }[] = [];
  const seen = new Set<string>();
  const visit = (name: string, optional: boolean, chain: string[]) => {
    if (seen.has(name)) return;
    const file = byName.get(name);
    if (!file) {
      if (builtin.has(name) || optional) return;
      throw new MissingDependencyError(`guest kernel has no module ${name}${chain.length ? ` (needed by ${chain.join(' <- ')})` : ''} and does not build it in`);
    }
    seen.add(name);
    for (const d of moduleDepends(readModule(file))) visit(d, false, [name, ...chain]);
    order.push({ file, name, optional });
  };
  for (const m of want.required) visit(m, false, []);
  for (const m of want.optional) visit(m, true, []);
  return order;
}

function sharedLibs(bins: string[]): string[] {
  const libs = new Set<string>();
  for (const b of bins) {
    const r = spawnSync('ldd', [b], { encoding: 'utf8' });
    if (r.status !== 0) continue; // static binary
    for (const line of r.stdout.split('\n')) {
      const m = /(\/\S+)\s+\(0x/.exec(line);
      if (m) libs.add(m[1]!);
    }
  }
  return [...libs];
}

async function buildImage(src: ImageSources, out: string, log: (s: string) => void): Promise<void> {
  const work = join(out, 'work');
  const root = join(work, 'root');
  log(`apt-get download ${src.kernelPackage}=${src.kernelVersion}`);
  downloadAndUnpack([{ name: src.kernelPackage, version: src.kernelVersion }], root);
  const kreleases = readdirSync(join(root, 'lib', 'modules'));
  const krel = kreleases[0];
  if (!krel) throw new MissingDependencyError(`${src.kernelPackage} has no lib/modules`);
  const modRoot = join(root, 'lib', 'modules', krel);
  const vmlinuz = join(root, 'boot', `vmlinuz-${krel}`);
  if (!existsSync(vmlinuz)) throw new MissingDependencyError(`${src.kernelPackage} has no boot/vmlinuz-${krel}`);
  const builtinFile = join(modRoot, 'modules.builtin');
  const builtin = new Set(existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map(modName) : []);
  const mods = moduleLoadOrder(modRoot, builtin);

  const files: CpioEntry[] = [];
  files.push({ kind: 'file', path: 'init', data: Buffer.from(guestInit()), mode: 0o755 });
  files.push({ kind: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 });
  files.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  for (const t of KCAPI_TOOLS) files.push({ kind: 'file', path: t.slice(1), data: readFileSync(t), mode: 0o755 });
  for (const lib of sharedLibs(KCAPI_TOOLS)) files.push({ kind: 'file', path: lib.slice(1), data: readFileSync(realpathSync(lib)), mode: 0o755 });
  const lines: string[] = [];
  for (const m of mods) {
    const ko = basename(m.file).replace(/\.xz$/, '');
    files.push({ kind: 'file', path: `lib/modules/${ko}`, data: readModule(m.file) });
    lines.push(`${ko} ${m.optional ? 'optional' : 'required'}`);
  }
  files.push({ kind: 'file', path: 'etc/migcompat/modules', data: Buffer.from(lines.join('\n') + '\n') });
  files.push({ kind: 'file', path: 'etc/migcompat/params', data: Buffer.from(paramsFile(DEFAULT_WORKLOAD)) });
  files.push({ kind: 'file', path: 'etc/migcompat/key', data: WORKLOAD_KEY, mode: 0o600 });
  // every parent directory, parents before children (the kernel's unpacker does not create them)
  const dirs = new Set(['proc', 'sys', 'dev', 'tmp', 'run', 'sbin']);
  for (const f of files) for (let i = f.path.indexOf('/'); i > 0; i = f.path.indexOf('/', i + 1)) dirs.add(f.path.slice(0, i));
  const entries: CpioEntry[] = [...[...dirs].sort().map((d): CpioEntry => ({ kind: 'dir', path: d })), ...files];
  const initrd = cpioNewcGz(entries);
  writeFileSync(join(out, 'initrd.cpio.gz'), initrd);
  copyFileSync(vmlinuz, join(out, 'vmlinuz'));
  const manifest: Manifest = {
    key: src.key,
    kernelRelease: krel,
    packages: { [src.kernelPackage]: src.kernelVersion, 'busybox-static': src.busybox, 'kcapi-tools': src.kcapi, libkcapi1: src.libkcapi },
    modules: mods.map((m) => m.name),
    initrdBytes: initrd.length,
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
  log(`guest image: kernel ${krel}, ${mods.length} modules, initrd ${(initrd.length / 1048576).toFixed(1)} MiB, kernel ${(statSync(join(out, 'vmlinuz')).size / 1048576).toFixed(1)} MiB`);
}
