// QEMU builds a case can name, per guest architecture: the installed qemu-system-x86 /
// qemu-system-arm and any other build Debian's archive serves (bookworm and bookworm-security carry
// two 7.2 builds), unpacked beside it with dpkg -x, the way QEMU's own CI pairs a previous release with
// the current one. Ids: "qemu/<upstream version>" (e.g. qemu/7.2.22, qemu/7.2.18), plus the aliases
// "qemu/installed" and "qemu/previous" (the newest archive build that is not the installed one). The
// same id names the x86_64 or the aarch64 binary of that build, by the case's architecture.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDir, cacheRoot, safeName } from './cache.ts';
import { archiveVersions, downloadAndUnpack, installedVersion, requireProgram } from '../../util/debian.ts';
import { archProfile, DEFAULT_ARCH, type GuestArch } from './arch.ts';
import { MissingDependencyError } from './errors.ts';

export interface QemuBuild {
  id: string;
  /** upstream version, e.g. "7.2.22" */
  version: string;
  /** Debian version of the QEMU package (qemu-system-x86 or qemu-system-arm) */
  debVersion: string;
  /** guest architecture the binary emulates */
  arch: GuestArch;
  binary: string;
  /** environment and leading arguments an unpacked build needs */
  env: Record<string, string>;
  args: string[];
  installed: boolean;
}

const LIBDIR = 'usr/lib/x86_64-linux-gnu/qemu';

function upstreamVersion(binary: string, env?: Record<string, string>): string {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8', env: { ...process.env, ...env } });
  const m = /version (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new MissingDependencyError(`cannot read the version of ${binary}: ${out.split('\n')[0]}`);
  return m[1]!;
}

const installedCache = new Map<GuestArch, QemuBuild>();
export function installedBuild(arch: GuestArch = DEFAULT_ARCH): QemuBuild {
  const have = installedCache.get(arch);
  if (have) return have;
  const p = archProfile(arch);
  requireProgram(p.qemuBinary, p.qemuPackage);
  const debVersion = installedVersion(p.qemuPackage) ?? 'unknown';
  const version = upstreamVersion(p.qemuBinary);
  const b: QemuBuild = { id: `qemu/${version}`, version, debVersion, arch, binary: p.qemuBinary, env: {}, args: [], installed: true };
  installedCache.set(arch, b);
  return b;
}

/** x86_64 entries stay where they always were; other architectures get a subfolder. */
function buildsDir(arch: GuestArch): string {
  return arch === 'x86_64' ? join(cacheRoot(), 'qemu-builds') : join(cacheRoot(), 'qemu-builds', arch);
}

/** An archive build of the architecture's QEMU package (and -common: the x86 TCG accelerator is a module there), unpacked. */
export async function unpackedBuild(debVersion: string, arch: GuestArch = DEFAULT_ARCH): Promise<QemuBuild> {
  const p = archProfile(arch);
  const dir = join(buildsDir(arch), safeName(debVersion));
  await cachedDir(dir, async (tmp) => {
    // -common is arch-dependent too, but a binNMU (+bN) may exist for one and not the other
    const common = archiveVersions('qemu-system-common').find((v) => v === debVersion) ??
      archiveVersions('qemu-system-common').find((v) => v === debVersion.replace(/\+b\d+$/, ''));
    if (!common) throw new MissingDependencyError(`no qemu-system-common matching ${p.qemuPackage} ${debVersion}`);
    downloadAndUnpack([{ name: p.qemuPackage, version: debVersion }, { name: 'qemu-system-common', version: common }], join(tmp, 'root'));
  });
  const root = join(dir, 'root');
  const env = { QEMU_MODULE_DIR: join(root, LIBDIR) };
  const binary = join(root, 'usr/bin', p.qemuBinary.replace(/^.*\//, ''));
  // firmware: the unpacked share dir first, then the installed seabios/ipxe/qemu-system-data
  const args = ['-L', join(root, 'usr/share/qemu'), '-L', '/usr/share/qemu', '-L', '/usr/share/seabios', '-L', '/usr/lib/ipxe/qemu'];
  const version = upstreamVersion(binary, env);
  return { id: `qemu/${version}`, version, debVersion, arch, binary, env, args, installed: false };
}

/** Builds the archive offers besides the installed one (Debian versions). */
export function otherArchiveVersions(arch: GuestArch = DEFAULT_ARCH): string[] {
  const inst = installedBuild(arch).debVersion;
  return archiveVersions(archProfile(arch).qemuPackage).filter((v) => v !== inst);
}

/** Resolve a runner revision id to a build of the architecture (unpacking it on first use). */
export async function resolveBuild(id: string, arch: GuestArch = DEFAULT_ARCH): Promise<QemuBuild> {
  const inst = installedBuild(arch);
  if (id === 'qemu/installed' || id === inst.id) return inst;
  const m = /^qemu\/(previous|\d+\.\d+\.\d+)$/.exec(id);
  if (!m) throw new MissingDependencyError(`unknown QEMU build id '${id}' (expected qemu/<x.y.z>, qemu/installed or qemu/previous)`);
  // unpacked builds already in the cache answer without touching apt
  for (const deb of cachedDebVersions(arch)) {
    const b = await unpackedBuild(deb, arch);
    if (b.id === id) return b;
  }
  for (const deb of otherArchiveVersions(arch)) {
    const b = await unpackedBuild(deb, arch);
    if (m[1] === 'previous' || b.id === id) return b;
  }
  throw new MissingDependencyError(`no ${arch} QEMU build ${id}: installed is ${inst.id}, the archive offers ${otherArchiveVersions(arch).join(', ') || 'nothing else'}`);
}

function cachedDebVersions(arch: GuestArch): string[] {
  const d = buildsDir(arch);
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((n) => !n.includes('.tmp-') && existsSync(join(d, n, 'root'))).map((n) => n.replace(/^(\d+)_/, '$1:'));
}
