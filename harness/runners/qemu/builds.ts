// QEMU builds a case can name: the installed qemu-system-x86 and any other build Debian's archive
// serves (bookworm and bookworm-security carry two 7.2 builds), unpacked beside it with dpkg -x, the way
// QEMU's own CI pairs a previous release with the current one. Ids: "qemu/<upstream version>"
// (e.g. qemu/7.2.22, qemu/7.2.18), plus the aliases "qemu/installed" and "qemu/previous" (the newest
// archive build that is not the installed one).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDir, cacheRoot, safeName } from './cache.ts';
import { archiveVersions, downloadAndUnpack, installedVersion, requireProgram } from '../../util/debian.ts';
import { MissingDependencyError } from './errors.ts';

export interface QemuBuild {
  id: string;
  /** upstream version, e.g. "7.2.22" */
  version: string;
  /** Debian version of qemu-system-x86 */
  debVersion: string;
  binary: string;
  /** environment and leading arguments an unpacked build needs */
  env: Record<string, string>;
  args: string[];
  installed: boolean;
}

const INSTALLED_BIN = '/usr/bin/qemu-system-x86_64';
const LIBDIR = 'usr/lib/x86_64-linux-gnu/qemu';

function upstreamVersion(binary: string, env?: Record<string, string>): string {
  const out = execFileSync(binary, ['--version'], { encoding: 'utf8', env: { ...process.env, ...env } });
  const m = /version (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new MissingDependencyError(`cannot read the version of ${binary}: ${out.split('\n')[0]}`);
  return m[1]!;
}

let installedCache: QemuBuild | null = null;
export function installedBuild(): QemuBuild {
  if (installedCache) return installedCache;
  requireProgram(INSTALLED_BIN, 'qemu-system-x86');
  const debVersion = installedVersion('qemu-system-x86') ?? 'unknown';
  const version = upstreamVersion(INSTALLED_BIN);
  installedCache = { id: `qemu/${version}`, version, debVersion, binary: INSTALLED_BIN, env: {}, args: [], installed: true };
  return installedCache;
}

/** An archive build of qemu-system-x86 (and its -common, which holds the TCG accelerator module), unpacked. */
export async function unpackedBuild(debVersion: string): Promise<QemuBuild> {
  const dir = join(cacheRoot(), 'qemu-builds', safeName(debVersion));
  await cachedDir(dir, async (tmp) => {
    // -common is arch-dependent too, but a binNMU (+bN) may exist for one and not the other
    const common = archiveVersions('qemu-system-common').find((v) => v === debVersion) ??
      archiveVersions('qemu-system-common').find((v) => v === debVersion.replace(/\+b\d+$/, ''));
    if (!common) throw new MissingDependencyError(`no qemu-system-common matching qemu-system-x86 ${debVersion}`);
    downloadAndUnpack([{ name: 'qemu-system-x86', version: debVersion }, { name: 'qemu-system-common', version: common }], join(tmp, 'root'));
  });
  const root = join(dir, 'root');
  const env = { QEMU_MODULE_DIR: join(root, LIBDIR) };
  const binary = join(root, 'usr/bin/qemu-system-x86_64');
  // firmware: the unpacked share dir first, then the installed seabios/ipxe/qemu-system-data
  const args = ['-L', join(root, 'usr/share/qemu'), '-L', '/usr/share/qemu', '-L', '/usr/share/seabios', '-L', '/usr/lib/ipxe/qemu'];
  const version = upstreamVersion(binary, env);
  return { id: `qemu/${version}`, version, debVersion, binary, env, args, installed: false };
}

/** Builds the archive offers besides the installed one (Debian versions). */
export function otherArchiveVersions(): string[] {
  const inst = installedBuild().debVersion;
  return archiveVersions('qemu-system-x86').filter((v) => v !== inst);
}

/** Resolve a runner revision id to a build (unpacking it on first use). */
export async function resolveBuild(id: string): Promise<QemuBuild> {
  const inst = installedBuild();
  if (id === 'qemu/installed' || id === inst.id) return inst;
  const m = /^qemu\/(previous|\d+\.\d+\.\d+)$/.exec(id);
  if (!m) throw new MissingDependencyError(`unknown QEMU build id '${id}' (expected qemu/<x.y.z>, qemu/installed or qemu/previous)`);
  // unpacked builds already in the cache answer without touching apt
  for (const deb of cachedDebVersions()) {
    const b = await unpackedBuild(deb);
    if (b.id === id) return b;
  }
  for (const deb of otherArchiveVersions()) {
    const b = await unpackedBuild(deb);
    if (m[1] === 'previous' || b.id === id) return b;
  }
  throw new MissingDependencyError(`no QEMU build ${id}: installed is ${inst.id}, the archive offers ${otherArchiveVersions().join(', ') || 'nothing else'}`);
}

function cachedDebVersions(): string[] {
  const d = join(cacheRoot(), 'qemu-builds');
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((n) => !n.includes('.tmp-') && existsSync(join(d, n, 'root'))).map((n) => n.replace(/^(\d+)_/, '$1:'));
}
