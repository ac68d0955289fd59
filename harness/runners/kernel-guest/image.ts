// The kernel guest, built from Debian packages at first use and cached by their versions and our own
// inputs: Debian's generic amd64 kernel of a series (6.12 by default, the newest point release apt
// serves), its VFIO, mdev and 9p modules, and the kernel's own sample migration driver mtty built out
// of tree from linux-source against the matching linux-headers and linux-kbuild packages. Nothing is
// installed: every package is downloaded (util/debian.ts) and unpacked into a work folder.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  archiveVersionsOf, downloadAndUnpack, downloadDeb, extractFromSourceTarball, installedVersion, metaDependency, requireProgram, upstreamOf,
  withFreshLists,
} from '../../util/debian.ts';
import { migcompatCache } from '../../util/cache.ts';
import { makeDirAtomic } from '../../util/atomic.ts';
import { withCacheLock } from '../../util/cacheLock.ts';
import type { VfioCore } from '../../vfio/fsm.ts';
import { cpioNewcGz, type CpioEntry } from '../qemu/cpio.ts';
import { InfraError, MissingDependencyError } from '../qemu/errors.ts';
import { moduleLoadOrder, readModule } from '../qemu/image.ts';
import { safeName } from '../qemu/cache.ts';
import { ensureHeaders } from '../../kbuild/headers.ts';

/** Kernel series the guest runs unless MIGCOMPAT_KERNEL_GUEST_SERIES names another. */
export const DEFAULT_SERIES = '6.12';
/** Modules the guest needs from the kernel package (VFIO core and type1 container, mdev, the 9p share, the network an SSH login comes through). */
export const GUEST_MODULES = ['vfio', 'vfio_iommu_type1', 'mdev', 'netfs', '9pnet', '9pnet_virtio', '9p', 'virtio_net'] as const;
/** mtty's debug messages report every arc the driver is asked to walk (the state-walk check reads them). */
export const MTTY_PARAMS = 'dyndbg=+p';
const BUSYBOX = '/bin/busybox';
/** skip module BTF: it needs pahole, and a sample module does not need BTF */
const MAKE_VARS = ['CONFIG_DEBUG_INFO_BTF_MODULES='];
const MTTY_SOURCE = 'samples/vfio-mdev/mtty.c';

export interface KernelGuestSources {
  series: string;
  /** the kernel ABI name, e.g. 6.12.118+deb12-amd64 */
  abi: string;
  /** Debian version shared by the image, headers, kbuild and source packages */
  version: string;
  packages: { image: string; headers: string; headersCommon: string; kbuild: string; source: string };
  busybox: string;
  key: string;
}

export interface KernelGuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  key: string;
  kernelRelease: string;
  /** Debian package -> version */
  packages: Record<string, string>;
  modules: string[];
  /** sha256 of the mtty.c it was built from, and of the module */
  mttySourceSha256: string;
  mttyKoSha256: string;
  initrdBytes: number;
  /** the VFIO core this kernel runs (docs/uapi.md#the-cores-state-walk-per-kernel) */
  vfioCore: VfioCore;
  /** how long each build step took (a cached image keeps the figures of its build) */
  buildMs: { download: number; compile: number; pack: number };
}

/** The init script's text (guest-init.sh beside this module). */
export function kernelGuestInit(): string {
  return readFileSync(fileURLToPath(new URL('./guest-init.sh', import.meta.url)), 'utf8');
}

/**
 * Which VFIO core a Debian kernel of the series runs: 6.12 point releases from 6.12.96 carry the
 * blocked-arc fix (fixed-loop); the series before them, and 6.2..6.11, the original skip loop.
 */
export function debianVfioCore(upstream: string): VfioCore {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(upstream);
  if (!m) throw new Error(`not a kernel version: ${upstream}`);
  const [maj, min, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (maj < 6 || (maj === 6 && min < 2)) return 'no-precopy';
  if (maj === 6 && min === 12 && patch >= 96) return 'fixed-loop';
  return maj > 7 || (maj === 7 && min >= 2) ? 'fixed-loop' : 'skip-loop';
}

/** The packages for the series' newest kernel the archive serves, and the cache key they give. */
export function resolveKernelGuestSources(series = process.env.MIGCOMPAT_KERNEL_GUEST_SERIES ?? DEFAULT_SERIES): KernelGuestSources {
  if (!/^\d+\.\d+$/.test(series)) throw new MissingDependencyError(`MIGCOMPAT_KERNEL_GUEST_SERIES '${series}' is not a kernel series like 6.12`);
  requireProgram(BUSYBOX, 'busybox-static');
  const busybox = installedVersion('busybox-static');
  if (!busybox) throw new MissingDependencyError('busybox-static is not installed (listed in .ci/apt-packages.txt)');
  // linux-headers-6.12-amd64 depends on the ABI's headers: linux-headers-6.12.118+deb12-amd64
  const headers = metaDependency(`linux-headers-${series}-amd64`, 'linux-headers-');
  const abi = headers.slice('linux-headers-'.length);
  const image = `linux-image-${abi}-unsigned`;
  const flavourless = abi.replace(/-amd64$/, '');
  const packages = {
    image, headers, headersCommon: `linux-headers-${flavourless}-common`, kbuild: `linux-kbuild-${flavourless}`, source: `linux-source-${series}`,
  };
  // one apt-cache call for all five; mtty.c must come from the same release as the kernel it is built for
  const names = Object.values(packages);
  const sameRelease = (m: Map<string, string[]>) => {
    const v = m.get(image)?.[0];
    return v !== undefined && names.every((n) => m.get(n)?.includes(v));
  };
  const versions = archiveVersionsOf(names, sameRelease);
  const version = versions.get(image)?.[0];
  if (!version) throw new MissingDependencyError(`Debian's archive has no ${image}`);
  const missing = names.filter((n) => !versions.get(n)?.includes(version));
  if (missing.length) throw new MissingDependencyError(`Debian's archive has ${image}=${version} but not ${missing.map((n) => `${n}=${version}`).join(', ')}`);
  const h = createHash('sha256');
  for (const part of [series, abi, version, ...Object.values(packages), busybox, kernelGuestInit(), GUEST_MODULES.join(','), MTTY_PARAMS, MAKE_VARS.join(' '), MTTY_SOURCE, 'layout 1']) {
    h.update(part + '\0');
  }
  return { series, abi, version, packages, busybox, key: `${safeName(abi)}_${safeName(version)}-${h.digest('hex').slice(0, 10)}` };
}

export const kernelGuestDir = (src: KernelGuestSources): string => join(migcompatCache('kernel-guest'), src.key);

export function loadKernelGuestImage(dir: string): KernelGuestImage | null {
  const mf = join(dir, 'manifest.json');
  if (!existsSync(mf)) return null;
  const m = JSON.parse(readFileSync(mf, 'utf8')) as Omit<KernelGuestImage, 'dir' | 'kernel' | 'initrd'>;
  return { ...m, dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio.gz') };
}

/** The guest for the current package versions, built on first use (one builder at a time per key). */
export function ensureKernelGuestImage(log: (s: string) => void = () => {}, sources?: KernelGuestSources): KernelGuestImage {
  const src = sources ?? withFreshLists(() => resolveKernelGuestSources());
  const dir = kernelGuestDir(src);
  const have = loadKernelGuestImage(dir);
  if (have) return have;
  withCacheLock(`kernel-guest-${src.key}`, () => {
    if (existsSync(join(dir, 'manifest.json'))) return;
    log(`building kernel guest ${src.key} (first use)`);
    // a download the lists name but the mirror dropped: refresh the lists once and build again
    withFreshLists(() => makeDirAtomic(dir, (tmp) => buildImage(src, tmp, log)));
  });
  const img = loadKernelGuestImage(dir);
  if (!img) throw new InfraError(`kernel guest cache ${dir} has no manifest`);
  return img;
}

// ---------- building ----------

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[], opts: { cwd?: string; log?: string } = {}): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } });
  if (opts.log) writeFileSync(opts.log, `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.error) throw new MissingDependencyError(`${cmd} not runnable: ${r.error.message}`);
  if (r.status !== 0) {
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-6).join(' | ');
    throw new InfraError(`${cmd} ${args[0] ?? ''} failed (exit ${r.status}): ${tail}`);
  }
}

/**
 * mtty.ko out of tree, against the kernel's headers: the headers package with its -common half and
 * the linux-kbuild host programs (fixdep, modpost), unpacked once into the ktree cache with the
 * absolute /usr/src include pointed at the unpacked copy (harness/kbuild/headers.ts).
 */
function buildMtty(src: KernelGuestSources, work: string, log: (s: string) => void): { ko: Buffer; sourceSha: string } {
  requireProgram('/usr/bin/make', 'make');
  requireProgram('/usr/bin/x86_64-linux-gnu-gcc-12', 'gcc-12');
  const p = src.packages;
  const headers = ensureHeaders(`${p.headers}=${src.version}`, 'x86');
  if (headers.kernelRelease !== src.abi) throw new InfraError(`${p.headers} is for ${headers.kernelRelease}, the kernel is ${src.abi}`);
  const tree = headers.dir;
  const mod = join(work, 'mtty');
  mkdirSync(mod, { recursive: true });
  const source = mttySource(src, log);
  writeFileSync(join(mod, 'mtty.c'), source);
  writeFileSync(join(mod, 'Kbuild'), 'obj-m := mtty.o\n');
  log(`building mtty.ko against ${p.headers}`);
  run('make', ['-C', tree, `M=${mod}`, ...MAKE_VARS, 'modules'], { log: join(work, 'mtty-build.log') });
  const ko = readFileSync(join(mod, 'mtty.ko'));
  const vermagic = /vermagic=(\S+)/.exec(ko.toString('latin1'))?.[1];
  if (vermagic !== src.abi) throw new InfraError(`mtty.ko was built for '${vermagic}', the kernel is ${src.abi}`);
  return { ko, sourceSha: sha256(source) };
}

/**
 * mtty.c of the source package, kept per version: getting it means decompressing the whole kernel
 * tarball (tens of seconds), so a rebuild of the guest (a new init script) does not repeat that.
 */
function mttySource(src: KernelGuestSources, log: (s: string) => void): Buffer {
  const dir = join(migcompatCache('kernel-guest'), 'sources', `${src.packages.source}_${safeName(src.version)}`);
  const file = join(dir, MTTY_SOURCE);
  if (!existsSync(file)) {
    const deb = downloadDeb(src.packages.source, src.version);
    log(`extracting ${MTTY_SOURCE} from ${basename(deb)}`);
    makeDirAtomic(dir, (tmp) => extractFromSourceTarball(deb, src.packages.source, [MTTY_SOURCE], tmp));
  }
  return readFileSync(file);
}

function buildImage(src: KernelGuestSources, out: string, log: (s: string) => void): void {
  const work = join(out, 'work');
  const t0 = Date.now();
  log(`apt-get download ${src.packages.image}=${src.version}`);
  const kroot = join(work, 'kernel');
  downloadAndUnpack([{ name: src.packages.image, version: src.version }], kroot);
  const modRoot = join(kroot, 'lib/modules', src.abi);
  const vmlinuz = join(kroot, 'boot', `vmlinuz-${src.abi}`);
  if (!existsSync(vmlinuz) || !existsSync(modRoot)) throw new MissingDependencyError(`${src.packages.image} has no boot/vmlinuz-${src.abi} or lib/modules/${src.abi}`);
  const builtinFile = join(modRoot, 'modules.builtin');
  const builtin = new Set(existsSync(builtinFile) ? readFileSync(builtinFile, 'utf8').split('\n').filter(Boolean).map((f) => basename(f).replace(/\.ko.*$/, '').replace(/-/g, '_')) : []);
  const mods = moduleLoadOrder(modRoot, builtin, { required: GUEST_MODULES, optional: [] });
  const t1 = Date.now();
  const mtty = buildMtty(src, work, log);
  const t2 = Date.now();

  const files: CpioEntry[] = [];
  files.push({ kind: 'file', path: 'init', data: Buffer.from(kernelGuestInit()), mode: 0o755 });
  files.push({ kind: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 });
  files.push({ kind: 'symlink', path: 'bin/sh', target: 'busybox' });
  const lines: string[] = [];
  for (const m of mods) {
    files.push({ kind: 'file', path: `lib/modules/${m.name}.ko`, data: readModule(m.file) });
    lines.push(`${m.name}.ko`);
  }
  files.push({ kind: 'file', path: 'lib/modules/mtty.ko', data: mtty.ko });
  lines.push(`mtty.ko ${MTTY_PARAMS}`);
  files.push({ kind: 'file', path: 'etc/migcompat/modules', data: Buffer.from(lines.join('\n') + '\n') });
  const dirs = new Set(['proc', 'sys', 'dev', 'tmp', 'host', 'mnt']);
  for (const f of files) for (let i = f.path.indexOf('/'); i > 0; i = f.path.indexOf('/', i + 1)) dirs.add(f.path.slice(0, i));
  const initrd = cpioNewcGz([...[...dirs].sort().map((d): CpioEntry => ({ kind: 'dir', path: d })), ...files]);
  writeFileSync(join(out, 'initrd.cpio.gz'), initrd);
  copyFileSync(vmlinuz, join(out, 'vmlinuz'));
  copyFileSync(join(work, 'mtty-build.log'), join(out, 'mtty-build.log'));
  const p = src.packages;
  const manifest: Omit<KernelGuestImage, 'dir' | 'kernel' | 'initrd'> = {
    key: src.key,
    kernelRelease: src.abi,
    packages: { [p.image]: src.version, [p.headers]: src.version, [p.headersCommon]: src.version, [p.kbuild]: src.version, [p.source]: src.version, 'busybox-static': src.busybox },
    modules: [...mods.map((m) => m.name), 'mtty'],
    mttySourceSha256: mtty.sourceSha,
    mttyKoSha256: sha256(mtty.ko),
    initrdBytes: initrd.length,
    vfioCore: debianVfioCore(upstreamOf(src.version)),
    buildMs: { download: t1 - t0, compile: t2 - t1, pack: Date.now() - t2 },
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  rmSync(work, { recursive: true, force: true });
  log(`built ${src.abi}: ${mods.length} modules + mtty, initrd ${(initrd.length / 1048576).toFixed(1)} MiB`);
}
