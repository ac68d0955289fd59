// `migcompat ktree fetch debian-6.1`: Debian's linux-source package, downloaded with apt into the
// cache, with only the files a build reads taken out of its tarball (the rest is never unpacked).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { UsageError } from '../util/usage-error.ts';
import { makeDirAtomic, writeFileAtomic } from './atomic.ts';
import { debsDir, treesDir } from './paths.ts';
import { TREE_FILES } from './tree.ts';

/** The Debian version CI checks the model against (reference K61). */
export const DEBIAN_SERIES: Record<string, { pkg: string; pin: string }> = {
  'debian-6.1': { pkg: 'linux-source-6.1', pin: '6.1.192' },
};

export interface FetchedTree {
  name: string;
  dir: string;
  pkgVersion: string;
  kernelVersion: string;
  cached: boolean;
}

function run(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) return { ok: false, out: '', err: r.error.message };
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

/** Versions apt knows for the package (runs `apt-get update` once if it knows none). */
function aptVersions(pkg: string): string[] {
  const list = () => run('apt-cache', ['madison', pkg]).out.split('\n')
    .map((l) => l.split('|')[1]?.trim()).filter((v): v is string => !!v);
  let v = list();
  if (v.length === 0) {
    run('apt-get', ['update', '-qq']);
    v = list();
  }
  return [...new Set(v)];
}

/** Highest Debian revision of the pinned upstream version, or exactly `version` when given. */
export function pickVersion(available: string[], pin: string, version?: string): string | null {
  if (version) return available.includes(version) ? version : null;
  const m = available.filter((v) => v.startsWith(pin + '-'));
  m.sort((a, b) => run('dpkg', ['--compare-versions', a, 'lt', b]).ok ? 1 : -1);
  return m[0] ?? null;
}

/** Serialise fetches across processes (parallel test workers): a lock folder, waited on. */
function withLock<T>(fn: () => T): T {
  const lock = join(debsDir(), '.lock');
  mkdirSync(debsDir(), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock left by a killed process: older than any honest fetch
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch { /* released meanwhile */ }
      if (Date.now() > deadline) throw new UsageError(`ktree fetch: ${lock} held for 15 minutes (remove it if no fetch runs)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function fetchDebian(name: string, version?: string): FetchedTree {
  return withLock(() => fetchDebianLocked(name, version));
}

function fetchDebianLocked(name: string, version?: string): FetchedTree {
  const series = DEBIAN_SERIES[name];
  if (!series) throw new UsageError(`unknown tree '${name}' (known: ${Object.keys(DEBIAN_SERIES).join(', ')})`);
  if (version !== undefined && !/^[0-9][0-9A-Za-z.+~-]*$/.test(version)) throw new UsageError(`bad package version '${version}'`);
  const treeDirFor = (v: string) => join(treesDir(), `${name}_${v}`);
  // Offline reuse: an extracted tree of the pinned version is enough.
  if (existsSync(treesDir())) {
    const have = readdirSync(treesDir()).filter((d) => d.startsWith(`${name}_`) && !d.includes('.tmp-'))
      .map((d) => d.slice(name.length + 1))
      .filter((v) => (version ? v === version : v.startsWith(series.pin + '-')));
    if (have.length) {
      const v = pickVersion(have, series.pin, version) ?? have[0];
      return { ...readMeta(treeDirFor(v)), name, dir: treeDirFor(v), pkgVersion: v, cached: true };
    }
  }
  const available = aptVersions(series.pkg);
  const ver = pickVersion(available, series.pin, version);
  if (!ver) {
    throw new UsageError(`apt has no ${series.pkg} ${version ?? series.pin + '-*'} (available: ${available.join(', ') || 'none'})`);
  }
  const deb = join(debsDir(), `${series.pkg}_${ver.replace(/:/g, '%3a')}_all.deb`);
  if (!existsSync(deb)) {
    // apt writes the file in place: download into a private folder, then move it into the cache
    const tmp = join(debsDir(), `.dl-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const r = run('apt-get', ['download', `${series.pkg}=${ver}`], tmp);
      const got = readdirSync(tmp).find((f) => f.endsWith('.deb'));
      if (!r.ok || !got) throw new UsageError(`apt-get download ${series.pkg}=${ver} failed: ${lastLine(r.err)}`);
      renameSync(join(tmp, got), deb);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const dir = treeDirFor(ver);
  const top = series.pkg; // the tarball's top folder: linux-source-6.1/
  makeDirAtomic(dir, (tmp) => {
    const script = 'dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/$3.tar.xz" | xz -dc | tar -x -C "$2" --strip-components=1 "${@:4}"';
    const members = [...TREE_FILES.map((f) => `${top}/${f}`), `${top}/Makefile`];
    const r = run('bash', ['-o', 'pipefail', '-c', script, 'bash', deb, tmp, top, ...members]);
    if (!r.ok) throw new UsageError(`extracting ${series.pkg} ${ver} failed: ${lastLine(r.err)}`);
    const kernelVersion = makefileVersion(join(tmp, 'Makefile'));
    writeFileAtomic(join(tmp, '.migcompat-tree.json'), JSON.stringify({ source: 'debian', pkg: series.pkg, pkgVersion: ver, kernelVersion }, null, 2));
  });
  return { ...readMeta(dir), name, dir, pkgVersion: ver, cached: false };
}

function readMeta(dir: string): { kernelVersion: string } {
  try {
    return { kernelVersion: JSON.parse(readFileSync(join(dir, '.migcompat-tree.json'), 'utf8')).kernelVersion ?? 'unknown' };
  } catch {
    return { kernelVersion: makefileVersion(join(dir, 'Makefile')) };
  }
}

/** "6.1.192" from the top Makefile's VERSION / PATCHLEVEL / SUBLEVEL lines. */
export function makefileVersion(path: string): string {
  if (!existsSync(path)) return 'unknown';
  const t = readFileSync(path, 'utf8');
  const g = (k: string) => new RegExp(`^${k}[ \\t]*=[ \\t]*(\\S*)`, "m").exec(t)?.[1] ?? '';
  const v = [g('VERSION'), g('PATCHLEVEL'), g('SUBLEVEL')].filter((x) => x !== '').join('.');
  return v ? v + g('EXTRAVERSION') : 'unknown';
}

const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).pop() ?? 'no output';
