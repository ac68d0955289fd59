// Debian's archive through its own clients (apt-cache, apt-get, dpkg-deb, dpkg -x): look-ups, downloads
// into the cache and unpacking, and the one place that installs host packages (`installPackages`, which
// `migcompat setup` runs for `npm test`). Apt lists go stale: a point release leaves the mirror, a new
// one arrives. So when a package or a version we need is unknown, the lists are refreshed once per
// process; that needs root, and without it the error names the command to run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { withCacheLock } from './cacheLock.ts';
import { migcompatCache } from './cache.ts';
import { MissingDependencyError } from './usage-error.ts';

export interface RunResult {
  ok: boolean;
  out: string;
  err: string;
}

export function run(cmd: string, args: string[], cwd?: string, env: Record<string, string> = {}): RunResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C', ...env } });
  if (r.error) return { ok: false, out: '', err: r.error.message };
  return { ok: r.status === 0, out: r.stdout ?? '', err: r.stderr ?? '' };
}

export const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).pop() ?? 'no output';

/** apt's first error line ("E: Failed to fetch … 404 Not Found"): its last one only says "Unable to fetch some archives". */
const aptError = (s: string): string => s.split('\n').find((l) => l.startsWith('E: ')) ?? lastLine(s);

export const isRoot = (): boolean => process.getuid?.() === 0;

let native: string | null = null;
/** dpkg's own architecture (amd64 here). */
export const nativeArch = (): string => (native ??= run('dpkg', ['--print-architecture']).out.trim());

/**
 * Installed versions of packages (`pkg` or `pkg:arch`; a bare name means dpkg's own architecture or
 * `all`) in one dpkg-query; a package that is absent, removed or half-installed is missing from the map.
 */
export function installedVersions(pkgs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!pkgs.length) return out;
  const r = run('dpkg-query', ['-W', '-f=${Package}\t${Architecture}\t${db:Status-Status}\t${Version}\n', ...pkgs]);
  const rows = r.out.split('\n').map((l) => l.split('\t')).filter((f) => f.length === 4 && f[2] === 'installed');
  for (const p of pkgs) {
    const [name, arch] = p.split(':');
    const row = rows.find(([n, a]) => n === name && (arch ? a === arch : a === 'all' || a === nativeArch()));
    if (row) out.set(p, row[3]!);
  }
  return out;
}

/** Installed version of a package (`pkg` or `pkg:arch`), or null. */
export const installedVersion = (pkg: string): string | null => installedVersions([pkg]).get(pkg) ?? null;

/** Absolute path of an installed program, or a one-line error naming the package that provides it. */
export function requireProgram(path: string, pkg: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new MissingDependencyError(`${path} not found: install the Debian package ${pkg} (apt-get install ${pkg}; \`npm test\` does it as root)`);
  }
  return path;
}

// ---- versions ------------------------------------------------------------------------------------

/** Debian's ordering of one version part: '~' sorts before everything, letters before other symbols. */
function order(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function comparePart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    // non-digit prefix, character by character
    while ((i < a.length && !/\d/.test(a[i]!)) || (j < b.length && !/\d/.test(b[j]!))) {
      const ca = i < a.length && !/\d/.test(a[i]!) ? a[i] : undefined;
      const cb = j < b.length && !/\d/.test(b[j]!) ? b[j] : undefined;
      const d = order(ca) - order(cb);
      if (d !== 0) return d;
      if (ca !== undefined) i++;
      if (cb !== undefined) j++;
    }
    // digit run, numerically
    let na = '';
    let nb = '';
    while (i < a.length && /\d/.test(a[i]!)) na += a[i++];
    while (j < b.length && /\d/.test(b[j]!)) nb += b[j++];
    const d = Number(na || '0') - Number(nb || '0');
    if (d !== 0) return d;
  }
  return 0;
}

function splitVersion(v: string): { epoch: number; upstream: string; revision: string } {
  const c = v.indexOf(':');
  const epoch = c >= 0 ? Number(v.slice(0, c)) : 0;
  const rest = c >= 0 ? v.slice(c + 1) : v;
  const d = rest.lastIndexOf('-');
  return { epoch, upstream: d >= 0 ? rest.slice(0, d) : rest, revision: d >= 0 ? rest.slice(d + 1) : '' };
}

/** Compare two Debian versions the way dpkg does (epoch, upstream, revision); <0, 0, >0. */
export function compareDebianVersions(a: string, b: string): number {
  const x = splitVersion(a);
  const y = splitVersion(b);
  return x.epoch - y.epoch || comparePart(x.upstream, y.upstream) || comparePart(x.revision, y.revision);
}

/** The upstream part of a Debian version: "6.1.192-3" -> "6.1.192", "1:7.2+dfsg-7" -> "7.2+dfsg". */
export const upstreamOf = (v: string): string => splitVersion(v).upstream;

/** Does a version belong to a series ("6.1" holds 6.1.192-3 but not 6.10.1-1)? */
export function inSeries(version: string, series: string): boolean {
  const up = upstreamOf(version);
  return up === series || up.startsWith(series + '.') || up.startsWith(series + '+') || up.startsWith(series + '~');
}

// ---- apt lists -------------------------------------------------------------------------------------

let refreshed = false;

/**
 * Refresh apt's lists (apt-get update) once per process. `why` says what was missing; it is the
 * message when refreshing is impossible (not root) or fails.
 */
export function refreshAptLists(why: string): boolean {
  if (refreshed) return false;
  refreshed = true;
  if (!isRoot()) throw new MissingDependencyError(`${why}; refresh apt's package lists as root: apt-get update`);
  const r = run('apt-get', ['update', '-qq']);
  if (!r.ok) throw new MissingDependencyError(`${why}, and apt-get update failed: ${lastLine(r.err)}`);
  return true;
}

/** For tests: forget that this process already refreshed the lists. */
export function resetAptRefresh(): void {
  refreshed = false;
}

const withArch = (pkg: string, arch?: string): string => (arch ? `${pkg}:${arch}` : pkg);

function madison(pkg: string, arch?: string): string[] {
  const r = run('apt-cache', ['madison', withArch(pkg, arch)]);
  const vs = r.out.split('\n').map((l) => l.split('|')[1]?.trim()).filter((v): v is string => !!v);
  return [...new Set(vs)].sort((a, b) => compareDebianVersions(b, a));
}

/**
 * Every version of a package the archive offers, newest first. When apt knows none, or `accept`
 * rejects the list (the version we need is not in it), the lists are refreshed once and asked again.
 */
export function archiveVersions(pkg: string, opts: { arch?: string; accept?: (versions: string[]) => boolean } = {}): string[] {
  const good = (vs: string[]) => vs.length > 0 && (!opts.accept || opts.accept(vs));
  let vs = madison(pkg, opts.arch);
  if (!good(vs) && refreshAptLists(`apt knows no suitable ${withArch(pkg, opts.arch)} (has: ${vs.join(', ') || 'none'})`)) {
    vs = madison(pkg, opts.arch);
  }
  return vs;
}

/**
 * Versions of several packages from one apt-cache call (apt-cache is slow on a loaded machine),
 * newest first per package. When `accept` rejects the answer, the lists are refreshed once and asked again.
 */
export function archiveVersionsOf(pkgs: string[], accept: (m: Map<string, string[]>) => boolean = (m) => pkgs.every((p) => m.get(p)?.length)): Map<string, string[]> {
  const query = (): Map<string, string[]> => {
    const r = run('apt-cache', ['madison', ...pkgs]);
    const m = new Map<string, string[]>(pkgs.map((p) => [p, []]));
    for (const line of r.out.split('\n')) {
      const [name, version] = line.split('|').map((x) => x.trim());
      if (name && version && m.has(name) && !m.get(name)!.includes(version)) m.get(name)!.push(version);
    }
    for (const vs of m.values()) vs.sort((a, b) => compareDebianVersions(b, a));
    return m;
  };
  let m = query();
  if (!accept(m) && refreshAptLists(`apt knows no suitable ${pkgs.filter((p) => !m.get(p)?.length).join(', ') || pkgs.join(', ')}`)) m = query();
  return m;
}

/** The newest version of a package in an upstream series ("6.1" → the newest 6.1.x the archive serves). */
export function newestInSeries(pkg: string, series: string, arch?: string): string {
  const vs = archiveVersions(pkg, { arch, accept: (v) => v.some((x) => inSeries(x, series)) });
  const v = vs.find((x) => inSeries(x, series));
  if (!v) throw new MissingDependencyError(`Debian's archive has no ${withArch(pkg, arch)} in the ${series} series (has: ${vs.join(', ') || 'none'})`);
  return v;
}

/** Exactly this version, refreshing the lists if apt does not know it yet. */
export function requireVersion(pkg: string, version: string, arch?: string): string {
  const vs = archiveVersions(pkg, { arch, accept: (v) => v.includes(version) });
  if (!vs.includes(version)) {
    throw new MissingDependencyError(`Debian's archive has no ${withArch(pkg, arch)}=${version} (has: ${vs.join(', ') || 'none'})`);
  }
  return version;
}

/** The first `Depends:` of a metapackage starting with prefix (linux-image-cloud-amd64 → linux-image-6.1.0-57-cloud-amd64). */
export function metaDependency(meta: string, prefix: string, arch?: string): string {
  const query = (): string | null => {
    const r = run('apt-cache', ['depends', withArch(meta, arch)]);
    const m = r.out.split('\n').map((l) => l.trim()).find((l) => l.startsWith(`Depends: ${prefix}`));
    return m ? m.slice('Depends: '.length).trim().replace(/:\w+$/, '') : null;
  };
  let dep = query();
  if (!dep && refreshAptLists(`apt knows no ${withArch(meta, arch)}`)) dep = query();
  if (!dep) throw new MissingDependencyError(`apt-cache knows no ${prefix}* package behind ${withArch(meta, arch)} (is Debian's archive reachable?)`);
  return dep;
}

/** Does dpkg serve packages of this architecture (its own, or one added with --add-architecture)? */
export function dpkgKnowsArch(arch: string): boolean {
  if (nativeArch() === arch) return true;
  return run('dpkg', ['--print-foreign-architectures']).out.split('\n').map((s) => s.trim()).includes(arch);
}

/**
 * `dpkg --add-architecture` (root only). apt has no lists for it until the next refresh, so the
 * once-per-process refresh is armed again.
 */
export function addArchitecture(arch: string): void {
  if (!isRoot()) throw new MissingDependencyError(`dpkg does not know the ${arch} architecture; as root: dpkg --add-architecture ${arch} && apt-get update`);
  const r = run('dpkg', ['--add-architecture', arch]);
  if (!r.ok) throw new MissingDependencyError(`dpkg --add-architecture ${arch} failed: ${lastLine(r.err)}`);
  refreshed = false;
}

/** Make dpkg/apt serve packages of a foreign architecture (arm64 on an amd64 host); root only. */
export function ensureForeignArch(arch: string): void {
  if (dpkgKnowsArch(arch)) return;
  addArchitecture(arch);
  refreshAptLists(`no ${arch} package lists yet`);
}

// ---- host packages ---------------------------------------------------------------------------------

/** The packages (`pkg` or `pkg:arch`) dpkg does not list as installed. */
export function notInstalled(pkgs: string[]): string[] {
  const have = installedVersions(pkgs);
  return pkgs.filter((p) => !have.has(p));
}

/** What a person runs as root to get these packages (and architectures) on a machine with any lists. */
export function aptInstallCommand(pkgs: string[], arches: string[] = []): string {
  return [...arches.map((a) => `dpkg --add-architecture ${a}`), 'apt-get update', `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`].join(' && ');
}

/** Of these packages, the ones the archive offers no version of (by apt's current lists). */
function unknownToArchive(pkgs: string[]): string[] {
  const r = run('apt-cache', ['madison', ...pkgs]);
  const known = new Set(r.out.split('\n').map((l) => l.split('|')[0]?.trim()).filter(Boolean));
  return pkgs.filter((p) => !known.has(p) && !known.has(p.replace(/:[a-z0-9-]+$/, '')));
}

export interface InstallResult {
  /** why the lists were refreshed on the way, if they were */
  refreshed: string | null;
  /** installed versions by package; with `simulate`, every package apt would install (dependencies too) */
  versions: Record<string, string>;
}

/**
 * apt-get install (root only). A package apt's lists offer no version of refreshes them first; an
 * install that fails (old lists name files the mirror no longer has) refreshes them and tries once
 * more. Afterwards every package must be installed in dpkg's eyes, or it is an error. `simulate`:
 * apt-get --simulate, so nothing is installed (the lists may still be refreshed).
 */
export function installPackages(pkgs: string[], opts: { simulate?: boolean; onRefresh?: (why: string) => void } = {}): InstallResult {
  if (!isRoot()) throw new MissingDependencyError(`installing ${pkgs.join(', ')} needs root; as root: ${aptInstallCommand(pkgs)}`);
  const onRefresh = opts.onRefresh ?? (() => {});
  let why: string | null = null;
  const unknown = unknownToArchive(pkgs);
  if (unknown.length && !refreshed) {
    why = `apt's lists offer no ${unknown.join(', ')}`;
    onRefresh(why);
    refreshAptLists(why);
  }
  const args = ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...(opts.simulate ? ['--simulate'] : []), ...pkgs];
  const install = () => run('apt-get', args, undefined, { DEBIAN_FRONTEND: 'noninteractive' });
  let r = install();
  if (!r.ok && !refreshed) {
    why = `apt-get install failed (${aptError(r.err)})`;
    onRefresh(why);
    refreshAptLists(why);
    r = install();
  }
  if (!r.ok) throw new MissingDependencyError(`apt-get install ${pkgs.join(' ')} failed: ${aptError(r.err || r.out)}`);
  if (opts.simulate) {
    // "Inst name (version archive [arch])" per package apt would unpack
    const versions = Object.fromEntries([...r.out.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+)/gm)].map((m) => [m[1]!, m[2]!]));
    return { refreshed: why, versions };
  }
  const still = notInstalled(pkgs);
  if (still.length) throw new MissingDependencyError(`apt-get install finished, but dpkg does not list ${still.join(', ')} as installed`);
  return { refreshed: why, versions: Object.fromEntries(installedVersions(pkgs)) };
}

// ---- downloads -------------------------------------------------------------------------------------

/** Shared by every concern: one copy of each .deb on the machine. */
export const debCacheDir = (): string => migcompatCache('debs');

const debPattern = (pkg: string, version: string, arch?: string): RegExp => {
  const v = version.replace(/:/g, '%3a').replace(/[.+~]/g, (c) => `\\${c}`);
  return new RegExp(`^${pkg.replace(/[.+]/g, (c) => `\\${c}`)}_${v}_(${arch ? `${arch}|all` : '[a-z0-9]+'})\\.deb$`);
};

/** `apt-get download pkg=version` into the cache (once), returning the .deb's path. */
export function downloadDeb(pkg: string, version: string, arch?: string): string {
  const dir = debCacheDir();
  const find = () => (existsSync(dir) ? readdirSync(dir).find((f) => debPattern(pkg, version, arch).test(f)) : undefined);
  const have = find();
  if (have) return join(dir, have);
  return withCacheLock('debs', () => {
    const again = find();
    if (again) return join(dir, again);
    requireVersion(pkg, version, arch);
    // apt writes in the working folder: a private one, then the file moves into the cache
    const tmp = join(dir, `.dl-${process.pid}-${Date.now()}`);
    mkdirSync(tmp, { recursive: true });
    try {
      const r = run('apt-get', ['download', '-qq', `${withArch(pkg, arch)}=${version}`], tmp);
      const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
      if (!r.ok || !got) throw new MissingDependencyError(`apt-get download ${withArch(pkg, arch)}=${version} failed: ${lastLine(r.err)}`);
      renameSync(join(tmp, got), join(dir, got));
      return join(dir, got);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

/** `dpkg -x` of a .deb into root. */
export function unpackDeb(deb: string, root: string): void {
  mkdirSync(root, { recursive: true });
  const r = run('dpkg', ['-x', deb, root]);
  if (!r.ok) throw new MissingDependencyError(`dpkg -x ${deb} failed: ${lastLine(r.err)}`);
}

/** Download (cached) and unpack several packages into one root. Returns the .deb paths. */
export function downloadAndUnpack(pkgs: { name: string; version: string; arch?: string }[], root: string): string[] {
  const debs = pkgs.map((p) => downloadDeb(p.name, p.version, p.arch));
  for (const d of debs) unpackDeb(d, root);
  return debs;
}

/**
 * A linux-source-X.Y package holds one tarball (usr/src/linux-source-X.Y.tar.xz): take only the
 * members asked for (folders end with '/') out of it into dest, without the top folder.
 */
export function extractFromSourceTarball(deb: string, top: string, members: string[], dest: string): void {
  mkdirSync(dest, { recursive: true });
  const script = 'dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/$3.tar.xz" | xz -dc | tar -x -C "$2" --strip-components=1 "${@:4}"';
  const r = run('bash', ['-o', 'pipefail', '-c', script, 'bash', deb, dest, top, ...members.map((m) => `${top}/${m}`)]);
  if (!r.ok) throw new MissingDependencyError(`extracting ${members.join(' ')} from ${deb} failed: ${lastLine(r.err)}`);
}

/**
 * Run something that trusts apt's lists (a download of the version they name). Stale lists name
 * files the mirror no longer has: on failure, refresh the lists once and run it again.
 */
export function withFreshLists<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof MissingDependencyError) || refreshed) throw e;
    refreshAptLists(e.message);
    return fn();
  }
}
