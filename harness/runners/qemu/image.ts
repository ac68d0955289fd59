// The guest image, built from Debian packages at first use and cached by their versions, one per
// guest architecture. The kernel and its modules are downloaded and unpacked with dpkg -x (x86_64:
// linux-image-*-cloud-amd64, LZ4-compressed, so it boots in about half the time of the generic one
// under TCG; aarch64: linux-image-*-arm64, what Kunpeng hosts run, its vmlinuz a raw Image QEMU boots
// directly). The workload's user space (busybox-static, kcapi-tools and the libraries they link) comes
// from this machine's installed packages for x86_64, and from the archive's arm64 packages, unpacked,
// for aarch64. The aarch64 image also carries the HiSilicon guest drivers, which no Debian kernel
// builds: built out of tree from linux-source against the kernel's own headers (harness/kbuild/kmod.ts).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cachedDir, cacheRoot, safeName } from './cache.ts';
import { cpioNewcGz, type CpioEntry } from './cpio.ts';
import { archiveVersions, downloadAndUnpack, ensureForeignArch, installedVersion, metaDependency, requireProgram, upstreamOf } from '../../util/debian.ts';
import { modinfo, readElf } from '../../util/elf.ts';
import { debianTreeVersion, DEBIAN_SERIES } from '../../kbuild/source.ts';
import { ensureHeaders } from '../../kbuild/headers.ts';
import { buildModules, fetchModuleSource, GUEST_MODULES } from '../../kbuild/kmod.ts';
import { archProfile, DEFAULT_ARCH, type ArchProfile, type GuestArch } from './arch.ts';
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
/** HiSilicon guest drivers: built into the aarch64 image (required there); taken from an x86 kernel only if it had them (none does). */
export const HISI_MODULES = GUEST_MODULES;

const BUSYBOX = 'bin/busybox';
const KCAPI_TOOLS = ['usr/bin/kcapi-dgst', 'usr/bin/kcapi-enc'];
/** the workload's user space, by package (for versions and, on aarch64, for download) */
const USERLAND_PACKAGES = ['busybox-static', 'kcapi-tools', 'libkcapi1', 'libc6'];
/** bump when the image layout changes in a way the other key parts do not show */
const IMAGE_FORMAT = 'image-2';

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  arch: GuestArch;
  kernelRelease: string;
  packages: Record<string, string>;
  modules: string[];
  /** HiSilicon guest drivers the image loads (empty on x86_64) */
  hisiModules: string[];
  /** modules added on request (ImageOptions.extraModules), loaded last */
  extraModules: string[];
  initrdBytes: number;
}

interface Manifest extends Omit<GuestImage, 'dir' | 'kernel' | 'initrd'> {
  key: string;
}

export interface ImageOptions {
  arch?: GuestArch;
  /** .ko files to add and load after the workload's modules (e.g. a host driver build, to see it load) */
  extraModules?: string[];
}

export interface ImageSources {
  arch: GuestArch;
  kernelPackage: string;
  kernelVersion: string;
  /** package -> version of the user space (installed here, or the archive's for the guest's architecture) */
  userland: Record<string, string>;
  /** aarch64: linux-source series and version, and the headers package the guest drivers are built against */
  hisi: { tree: string; treeVersion: string; headers: string } | null;
  extraModules: string[];
  key: string;
}

const foreign = (p: ArchProfile): string | undefined => (p.userland === 'download' ? p.debArch : undefined);

/** Package versions the image is made from, and the cache key they give. */
export function resolveImageSources(opts: ImageOptions = {}): ImageSources {
  const arch = opts.arch ?? DEFAULT_ARCH;
  const p = archProfile(arch);
  const debArch = foreign(p);
  if (debArch) ensureForeignArch(debArch);
  const envKernel = arch === 'x86_64' ? process.env.MIGCOMPAT_GUEST_KERNEL : process.env.MIGCOMPAT_GUEST_KERNEL_AARCH64;
  const kernelPackage = envKernel ?? metaDependency(p.kernelMeta, 'linux-image-', debArch);
  const kernelVersion = archiveVersions(kernelPackage, { arch: debArch })[0];
  if (!kernelVersion) throw new MissingDependencyError(`Debian's archive has no ${kernelPackage}${debArch ? `:${debArch}` : ''}`);
  const userland: Record<string, string> = {};
  if (p.userland === 'host') {
    requireProgram(`/${BUSYBOX}`, 'busybox-static');
    for (const t of KCAPI_TOOLS) requireProgram(`/${t}`, 'kcapi-tools');
    for (const pkg of ['busybox-static', 'kcapi-tools', 'libkcapi1']) {
      const v = installedVersion(pkg);
      if (!v) throw new MissingDependencyError(`${pkg} is not installed (listed in .ci/apt-packages.txt)`);
      userland[pkg] = v;
    }
  } else {
    for (const pkg of USERLAND_PACKAGES) {
      const v = archiveVersions(pkg, { arch: debArch })[0];
      if (!v) throw new MissingDependencyError(`Debian's archive has no ${pkg}:${debArch}`);
      userland[pkg] = v;
    }
  }
  let hisi: ImageSources['hisi'] = null;
  if (p.hisiDrivers) {
    const series = upstreamOf(kernelVersion).split('.').slice(0, 2).join('.');
    const tree = Object.entries(DEBIAN_SERIES).find(([, s]) => s.series === series)?.[0];
    if (!tree) throw new MissingDependencyError(`no linux-source series ${series} known for the guest drivers of ${kernelPackage} (known: ${Object.values(DEBIAN_SERIES).map((s) => s.series).join(', ')})`);
    hisi = { tree, treeVersion: debianTreeVersion(tree), headers: `${kernelPackage.replace(/^linux-image-/, 'linux-headers-')}=${kernelVersion}` };
  }
  const extraModules = opts.extraModules ?? [];
  const h = createHash('sha256');
  const parts = [IMAGE_FORMAT, arch, kernelPackage, kernelVersion, ...Object.entries(userland).map(([k, v]) => `${k}=${v}`),
    hisi ? `${hisi.tree}=${hisi.treeVersion}@${hisi.headers}` : 'no-hisi', guestInit(), paramsFile(DEFAULT_WORKLOAD), REQUIRED_MODULES.join(','), HISI_MODULES.join(',')];
  for (const part of parts) h.update(part + '\0');
  for (const f of extraModules) h.update(readFileSync(f)).update('\0');
  // x86_64 keys keep their old shape (no arch in the folder name)
  const prefix = arch === 'x86_64' ? '' : `${arch}_`;
  return { arch, kernelPackage, kernelVersion, userland, hisi, extraModules, key: `${prefix}${safeName(kernelPackage)}_${safeName(kernelVersion)}-${h.digest('hex').slice(0, 10)}` };
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
export async function ensureImage(opts: ImageOptions | GuestArch = {}, log: (s: string) => void = () => {}): Promise<GuestImage> {
  const o = typeof opts === 'string' ? { arch: opts } : opts;
  const src = resolveImageSources(o);
  const dir = imageDir(src);
  if (!existsSync(dir)) log(`building the ${src.arch} guest image ${src.key} (first use)`);
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

/** `depends=` of a module (from its .modinfo section; no modinfo or depmod needed, any architecture). */
export function moduleDepends(ko: Buffer): string[] {
  const v = modinfo(ko).get('depends')?.[0] ?? '';
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

export interface LoadItem {
  file: string;
  name: string;
  optional: boolean;
}

/**
 * Modules to insmod, dependencies first: the closure of `required` and `optional` over the kernel's
 * modules (`modRoot/kernel`) and the `extra` files (which win over a kernel module of the same name).
 * Throws when a required one is neither a module nor built in. The default is the crypto workload's list.
 */
export function moduleLoadOrder(
  modRoot: string,
  builtin: Set<string>,
  lists: { required: readonly string[]; optional?: readonly string[]; extra?: readonly string[] } = { required: REQUIRED_MODULES },
): LoadItem[] {
  const byName = new Map<string, string>();
  for (const f of walk(join(modRoot, 'kernel'))) if (/\.ko(\.[a-z]+)?$/.test(f)) byName.set(modName(f), f);
  for (const f of lists.extra ?? []) byName.set(modName(f), f);
  const order: LoadItem[] = [];
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
  for (const m of lists.required) visit(m, false, []);
  for (const m of lists.optional ?? []) visit(m, true, []);
  for (const f of lists.extra ?? []) visit(modName(f), false, []);
  return order;
}

/** A path inside `root`, following symlinks (absolute ones relative to root), or null. */
export function resolveInRoot(root: string, rel: string): string | null {
  let p = rel.replace(/^\/+/, '');
  for (let hops = 0; hops < 40; hops++) {
    const parts = p.split('/');
    let cur = '';
    let relinked = false;
    for (let i = 0; i < parts.length; i++) {
      const next = cur ? `${cur}/${parts[i]}` : parts[i]!;
      const full = join(root, next);
      let st;
      try {
        st = lstatSync(full);
      } catch {
        return null;
      }
      if (st.isSymbolicLink()) {
        const t = readlinkSync(full);
        const target = t.startsWith('/') ? t.slice(1) : join(dirname(next), t);
        p = [target, ...parts.slice(i + 1)].join('/');
        relinked = true;
        break;
      }
      cur = next;
    }
    if (!relinked) return join(root, cur);
  }
  return null;
}

/**
 * The dynamic loader and every library the binaries need (DT_NEEDED, transitively), found inside
 * `root` the way the loader would look: /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib.
 * Returns guest path -> file holding its bytes.
 */
export function sharedLibs(root: string, bins: string[], triplet: string): Map<string, string> {
  const dirs = [`lib/${triplet}`, `usr/lib/${triplet}`, 'lib', 'usr/lib', 'lib64', 'usr/lib64'];
  const out = new Map<string, string>();
  const queue = [...bins];
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const elf = readElf(readFileSync(file), file);
    if (elf.interpreter && !out.has(elf.interpreter.slice(1))) {
      const at = resolveInRoot(root, elf.interpreter);
      if (!at) throw new MissingDependencyError(`${basename(file)} needs the loader ${elf.interpreter}, not found in ${root}`);
      out.set(elf.interpreter.slice(1), at);
    }
    for (const lib of elf.needed) {
      if ([...out.keys()].some((k) => basename(k) === lib)) continue;
      const d = dirs.find((x) => resolveInRoot(root, `${x}/${lib}`));
      if (!d) throw new MissingDependencyError(`${basename(file)} needs ${lib}, not found in ${root} (${dirs.join(', ')})`);
      const at = resolveInRoot(root, `${d}/${lib}`)!;
      out.set(`${d}/${lib}`, at);
      queue.push(at);
    }
  }
  return out;
}

async function buildImage(src: ImageSources, out: string, log: (s: string) => void): Promise<void> {
  const p = archProfile(src.arch);
  const debArch = foreign(p);
  const work = join(out, 'work');
  const root = join(work, 'root');
  log(`apt-get download ${src.kernelPackage}${debArch ? `:${debArch}` : ''}=${src.kernelVersion}`);
  downloadAndUnpack([{ name: src.kernelPackage, version: src.kernelVersion, arch: debArch }], root);
  const kreleases = readdirSync(join(root, 'lib', 'modules'));
  const krel = kreleases[0];
  if (!krel) throw new MissingDependencyError(`${src.kernelPackage} has no lib/modules`);
  const modRoot = join(root, 'lib', 'modules', krel);
  const vmlinuz = join(root, 'boot', `vmlinuz-${krel}`);
  if (!existsSync(vmlinuz)) throw new MissingDependencyError(`${src.kernelPackage} has no boot/vmlinuz-${krel}`);
  const builtinFile = join(modRoot, 'modules.builtin');
  const builtin = new Set(existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map(modName) : []);

  // the workload's user space: this machine's installed files, or the guest architecture's packages unpacked
  let userRoot = '/';
  if (p.userland === 'download') {
    userRoot = join(work, 'user');
    log(`apt-get download ${Object.entries(src.userland).map(([k, v]) => `${k}:${debArch}=${v}`).join(' ')}`);
    downloadAndUnpack(Object.entries(src.userland).map(([name, version]) => ({ name, version, arch: debArch })), userRoot);
  }

  // HiSilicon guest drivers: linux-source built against this kernel's headers
  let hisiFiles: string[] = [];
  if (src.hisi) {
    log(`HiSilicon guest drivers: linux-source (${src.hisi.tree} ${src.hisi.treeVersion}) against ${src.hisi.headers}`);
    const tree = fetchModuleSource(src.hisi.tree, src.hisi.treeVersion);
    const headers = ensureHeaders(src.hisi.headers, 'arm64');
    if (headers.kernelRelease !== krel) throw new MissingDependencyError(`headers ${src.hisi.headers} are for ${headers.kernelRelease}, the guest kernel is ${krel}`);
    const b = buildModules(tree.dir, headers, HISI_MODULES, { treeVersion: tree.pkgVersion, log });
    log(`HiSilicon guest drivers ${b.cached ? 'cached' : `built in ${b.seconds.toFixed(1)} s`}: ${b.dir}`);
    hisiFiles = b.modules.filter((m) => HISI_MODULES.includes(m.name)).map((m) => join(b.dir, m.file));
  }
  const mods = moduleLoadOrder(modRoot, builtin, {
    required: src.hisi ? [...REQUIRED_MODULES, ...HISI_MODULES] : REQUIRED_MODULES,
    optional: src.hisi ? [] : HISI_MODULES,
    extra: [...hisiFiles, ...src.extraModules],
  });

  const files: CpioEntry[] = [];
  const fromUser = (rel: string): Buffer => {
    const at = resolveInRoot(userRoot, rel);
    if (!at) throw new MissingDependencyError(`${rel} not found in ${userRoot === '/' ? 'this machine' : userRoot}`);
    return readFileSync(at);
  };
  files.push({ kind: 'file', path: 'init', data: Buffer.from(guestInit()), mode: 0o755 });
  files.push({ kind: 'file', path: BUSYBOX, data: fromUser(BUSYBOX), mode: 0o755 });
  files.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  for (const t of KCAPI_TOOLS) files.push({ kind: 'file', path: t, data: fromUser(t), mode: 0o755 });
  const tools = KCAPI_TOOLS.map((t) => resolveInRoot(userRoot, t)!);
  for (const [guestPath, file] of sharedLibs(userRoot, tools, p.triplet)) files.push({ kind: 'file', path: guestPath, data: readFileSync(file), mode: 0o755 });
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
  const names = mods.map((m) => m.name);
  const manifest: Manifest = {
    key: src.key,
    arch: src.arch,
    kernelRelease: krel,
    packages: { [src.kernelPackage]: src.kernelVersion, ...src.userland, ...(src.hisi ? { [`linux-source-${src.hisi.tree.replace(/^debian-/, '')}`]: src.hisi.treeVersion } : {}) },
    modules: names,
    hisiModules: HISI_MODULES.filter((n) => names.includes(n)),
    extraModules: src.extraModules.map(modName),
    initrdBytes: initrd.length,
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
  log(`${src.arch} guest image: kernel ${krel}, ${mods.length} modules, initrd ${(initrd.length / 1048576).toFixed(1)} MiB, kernel ${(statSync(join(out, 'vmlinuz')).size / 1048576).toFixed(1)} MiB`);
}
