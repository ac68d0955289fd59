// Kernel headers to build out-of-tree modules against: a folder (a lab host's
// /lib/modules/<release>/build copied here, or any prepared kernel build folder) or a Debian package
// (linux-headers-<release>, or the metapackage linux-headers-<flavour>), downloaded with its
// -common half and the linux-kbuild tools for this machine, unpacked into the cache. Debian's
// arch-specific headers include the -common Makefile by its absolute /usr/src path; the unpacked copy
// points at its own -common instead, so nothing is installed on the machine.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeDirAtomic } from '../util/atomic.ts';
import { withCacheLock } from '../util/cacheLock.ts';
import { archiveVersions, downloadDeb, lastLine, metaDependency, run, unpackDeb, withFreshLists } from '../util/debian.ts';
import { EM_AARCH64, EM_X86_64, readElf } from '../util/elf.ts';
import { MissingDependencyError, UsageError } from '../util/usage-error.ts';
import { migcompatCache } from '../util/cache.ts';

/** Kernel architectures (Kbuild's ARCH) a module build may target. */
export type KernelArch = 'arm64' | 'x86';

export interface KernelHeaders {
  /** the folder `make -C` runs in */
  dir: string;
  /** `uname -r` of the kernel the modules are for */
  kernelRelease: string;
  arch: KernelArch;
  /** what identifies these headers in a cache key: package and version, or a hash of the folder's key files */
  identity: string;
  /** Debian package and version, when they came from the archive */
  pkg?: string;
  version?: string;
}

/** --arch values: the kernel's ARCH and the Debian/uname spellings. */
export function parseKernelArch(s: string): KernelArch {
  if (s === 'arm64' || s === 'aarch64') return 'arm64';
  if (s === 'x86' || s === 'x86_64' || s === 'amd64') return 'x86';
  throw new UsageError(`--arch: '${s}' is not a kernel architecture (arm64, x86_64)`);
}

const DEB_ARCH: Record<KernelArch, string> = { arm64: 'arm64', x86: 'amd64' };
const ELF_MACHINE: Record<KernelArch, number> = { arm64: EM_AARCH64, x86: EM_X86_64 };

/** The Kbuild ARCH of this machine (what host tools such as modpost must be built for). */
export function hostKernelArch(): KernelArch {
  return process.arch === 'arm64' ? 'arm64' : 'x86';
}

const headersDir = (): string => join(migcompatCache('ktree'), 'headers');

/** `--headers`: an existing folder, or a Debian package name (optionally `=version`). */
export function ensureHeaders(spec: string, arch: KernelArch): KernelHeaders {
  if (spec.includes('/') || existsSync(spec)) return folderHeaders(resolve(spec), arch);
  const m = /^(linux-headers-[a-z0-9.+-]+)(?:=([0-9][0-9A-Za-z.+~:-]*))?$/.exec(spec);
  if (!m) throw new UsageError(`--headers: '${spec}' is neither a folder nor a Debian package like linux-headers-6.1.0-57-arm64[=6.1.192-3]`);
  // Debian's flavours end in their architecture (-arm64, -cloud-amd64, -rt-arm64): a mismatch is known before asking apt
  const named = (Object.entries(DEB_ARCH) as [KernelArch, string][]).find(([, d]) => m[1]!.endsWith(`-${d}`))?.[0];
  if (named && named !== arch) throw new UsageError(`${m[1]} is for ARCH=${named}, not --arch ${arch}`);
  return debianHeaders(m[1]!, m[2], arch);
}

function kbuildVar(text: string, name: string): string | null {
  return new RegExp(`^(?:override\\s+)?${name}\\s*:?=\\s*(\\S+)`, 'm').exec(text)?.[1] ?? null;
}

/** A prepared kernel build folder: it must hold a Makefile, .config and Module.symvers, and host tools that run here. */
function folderHeaders(dir: string, arch: KernelArch): KernelHeaders {
  for (const f of ['Makefile', '.config', 'Module.symvers']) {
    if (!existsSync(join(dir, f))) throw new UsageError(`--headers ${dir}: no ${f} (expected a kernel build folder such as /lib/modules/<release>/build)`);
  }
  const config = readFileSync(join(dir, '.config'), 'utf8');
  const theirs: KernelArch | null = /^CONFIG_ARM64=y/m.test(config) ? 'arm64' : /^CONFIG_X86_64=y/m.test(config) ? 'x86' : null;
  if (theirs !== arch) throw new UsageError(`--headers ${dir} configure ${theirs ?? 'another architecture'}, not --arch ${arch}`);
  const vars = existsSync(join(dir, '.kernelvariables')) ? readFileSync(join(dir, '.kernelvariables'), 'utf8') : '';
  const relFile = join(dir, 'include/config/kernel.release');
  const kernelRelease = existsSync(relFile) ? readFileSync(relFile, 'utf8').trim() : kbuildVar(vars, 'KERNELRELEASE');
  if (!kernelRelease) throw new UsageError(`--headers ${dir}: no include/config/kernel.release (run 'make modules_prepare' there)`);
  checkHostTools(dir);
  const h = run('sha256sum', [join(dir, 'Module.symvers'), join(dir, '.config'), join(dir, 'Makefile')]);
  return { dir, kernelRelease, arch, identity: `dir:${dir}:${h.out.split('\n').map((l) => l.split(' ')[0]).join(',')}` };
}

/** modpost and fixdep run on this machine: headers copied from a host of another architecture cannot build here. */
function checkHostTools(dir: string): void {
  const modpost = join(dir, 'scripts/mod/modpost');
  if (!existsSync(modpost)) throw new UsageError(`${dir}: scripts/mod/modpost is missing (run 'make modules_prepare' in that tree)`);
  const machine = readElf(readFileSync(modpost), modpost).machine;
  if (machine !== ELF_MACHINE[hostKernelArch()]) {
    throw new UsageError(`${dir}: its build tools (scripts/mod/modpost) are not for this machine (${process.arch}); build on that host, or pass the Debian headers package instead of the folder`);
  }
}

/** Depends of a .deb, e.g. ["linux-headers-6.1.0-57-common (= 6.1.192-3)", …] */
function debDepends(deb: string): string[] {
  const r = run('dpkg-deb', ['-f', deb, 'Depends']);
  if (!r.ok) throw new MissingDependencyError(`dpkg-deb -f ${deb} failed: ${lastLine(r.err)}`);
  return r.out.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A dependency by name prefix, with its version (= or >=; without one: `fallback`, the headers' own). */
function depVersion(deps: string[], prefix: string, fallback: string): { name: string; version: string } | null {
  for (const d of deps.flatMap((x) => x.split('|')).map((x) => x.trim())) {
    const m = /^(\S+?)(?::\w+)?(?:\s*\(>?=\s*([^)\s]+)\))?$/.exec(d);
    if (m && m[1]!.startsWith(prefix)) return { name: m[1]!, version: m[2] ?? fallback };
  }
  return null;
}

function debianHeaders(name: string, version: string | undefined, arch: KernelArch): KernelHeaders {
  const debArch = DEB_ARCH[arch];
  return withFreshLists(() => {
    // a metapackage (linux-headers-arm64) names the real one
    const pkg = /^linux-headers-\d/.test(name) ? name : metaDependency(name, 'linux-headers-', debArch);
    const ver = version ?? archiveVersions(pkg, { arch: debArch })[0];
    if (!ver) throw new MissingDependencyError(`Debian's archive has no ${pkg}:${debArch}`);
    const dir = join(headersDir(), `${pkg}_${ver.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
    const src = join(dir, 'usr/src', pkg);
    withCacheLock(`headers-${pkg}`, () => {
      if (existsSync(dir)) return;
      const deb = downloadDeb(pkg, ver, debArch);
      const deps = debDepends(deb);
      // the -common half and linux-kbuild come from the same source upload (6.1 pins them; 6.12 leaves kbuild unversioned)
      const common = depVersion(deps, 'linux-headers-', ver);
      const kbuild = depVersion(deps, 'linux-kbuild-', ver);
      if (!common || !kbuild) throw new MissingDependencyError(`${pkg} ${ver} does not name its -common headers and linux-kbuild (Depends: ${deps.join(', ')})`);
      // -common is arch: all; linux-kbuild holds modpost & co, so it is this machine's architecture
      const debs = [deb, downloadDeb(common.name, common.version), downloadDeb(kbuild.name, kbuild.version)];
      makeDirAtomic(dir, (tmp) => {
        for (const d of debs) unpackDeb(d, tmp);
        const mk = join(tmp, 'usr/src', pkg, 'Makefile');
        if (!existsSync(mk)) throw new MissingDependencyError(`${pkg} ${ver} has no usr/src/${pkg}/Makefile`);
        // the Makefile includes its -common half by absolute path: point it at the final cache folder
        writeFileSync(mk, readFileSync(mk, 'utf8').replace(/(^|\s)\/usr\/src\//gm, `$1${join(dir, 'usr/src')}/`));
      });
    });
    const vars = existsSync(join(src, '.kernelvariables')) ? readFileSync(join(src, '.kernelvariables'), 'utf8') : '';
    const kernelRelease = kbuildVar(vars, 'KERNELRELEASE') ?? pkg.replace(/^linux-headers-/, '');
    const theirs = kbuildVar(vars, 'ARCH');
    if (theirs && theirs !== arch) throw new UsageError(`${pkg} is for ARCH=${theirs}, not --arch ${arch}`);
    // scripts/ is a relative link into the unpacked linux-kbuild: make sure it resolved
    if (!existsSync(join(src, 'scripts/mod/modpost'))) {
      throw new MissingDependencyError(`${pkg}: scripts/mod/modpost missing after unpacking (scripts -> ${safeReadlink(join(src, 'scripts'))})`);
    }
    return { dir: src, kernelRelease, arch, identity: `deb:${pkg}=${ver}`, pkg, version: ver };
  });
}

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '(not a link)';
  }
}
