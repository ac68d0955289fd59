// Debian's linux-source trees by series, downloaded with apt into the cache, with only the files a
// build reads taken out of the tarball (the rest is never unpacked). Each file set is its own cache
// entry (a suffix on the folder name), so adding one never invalidates another: ktree takes the
// migration driver for its user-space shim build, kmod.ts the HiSilicon kernel modules.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MissingDependencyError, UsageError } from '../util/usage-error.ts';
import { makeDirAtomic, writeFileAtomic } from '../util/atomic.ts';
import { migcompatCache } from '../util/cache.ts';
import { withCacheLock } from '../util/cacheLock.ts';
import { compareDebianVersions, downloadDeb, extractFromSourceTarball, inSeries, newestInSeries, requireVersion, withFreshLists } from '../util/debian.ts';

/**
 * Debian trees by series: `debian-6.1` is the newest 6.1 point release apt serves (a refreshed list
 * when the local one knows none, or names a file the mirror dropped). A version picks one exactly.
 */
export const DEBIAN_SERIES: Record<string, { pkg: string; series: string }> = {
  'debian-6.1': { pkg: 'linux-source-6.1', series: '6.1' },
  'debian-6.12': { pkg: 'linux-source-6.12', series: '6.12' },
};

/** The Debian tree names `ktree:` ids resolve by fetching and building on first use. */
export const isDebianTree = (name: string): boolean => Object.hasOwn(DEBIAN_SERIES, name);

/** Which files a fetch takes (folders end with '/'), and the suffix of its cache folders. */
export interface TreeFiles {
  files: readonly string[];
  suffix: string;
}

export interface FetchedTree {
  name: string;
  dir: string;
  pkgVersion: string;
  kernelVersion: string;
  cached: boolean;
}

/** extracted trees, one folder per series, file set and package version ("debian-6.1_6.1.192-3") */
export const treesDir = (): string => join(migcompatCache('ktree'), 'trees');

export function fetchDebianSource(name: string, version: string | undefined, set: TreeFiles): FetchedTree {
  const series = DEBIAN_SERIES[name];
  if (!series) throw new UsageError(`unknown tree '${name}' (known: ${Object.keys(DEBIAN_SERIES).join(', ')})`);
  if (version !== undefined && !/^[0-9][0-9A-Za-z.+~:-]*$/.test(version)) throw new UsageError(`bad package version '${version}'`);
  return withCacheLock(`ktree-${name}`, () => {
    try {
      return withFreshLists(() => {
        const ver = version ? requireVersion(series.pkg, version) : newestInSeries(series.pkg, series.series);
        return extractTree(name, series.pkg, ver, set);
      });
    } catch (e) {
      // no usable apt (offline, not root): a tree of the series already in the cache still serves
      const have = cachedTrees(name, set.suffix).filter((v) => !version || v === version);
      if (!(e instanceof MissingDependencyError) || have.length === 0) throw e;
      return extractTree(name, series.pkg, have[0]!, set);
    }
  });
}

/** The newest package version of a series apt serves (what a fetch would take), without extracting. */
export function debianTreeVersion(name: string): string {
  const series = DEBIAN_SERIES[name];
  if (!series) throw new UsageError(`unknown tree '${name}' (known: ${Object.keys(DEBIAN_SERIES).join(', ')})`);
  return newestInSeries(series.pkg, series.series);
}

/** Trees of a series and file set already extracted in the cache (newest first): what an offline run can use. */
export function cachedTrees(name: string, suffix = ''): string[] {
  const series = DEBIAN_SERIES[name];
  const prefix = `${name}${suffix}_`;
  if (!series || !existsSync(treesDir())) return [];
  return readdirSync(treesDir()).filter((d) => d.startsWith(prefix) && !d.includes('.tmp-'))
    .map((d) => d.slice(prefix.length)).filter((v) => inSeries(v, series.series))
    .sort((a, b) => compareDebianVersions(b, a));
}

function extractTree(name: string, pkg: string, ver: string, set: TreeFiles): FetchedTree {
  const dir = join(treesDir(), `${name}${set.suffix}_${ver}`);
  if (existsSync(dir)) {
    addMissingMembers(dir, pkg, ver, set.files);
    return { ...readMeta(dir), name, dir, pkgVersion: ver, cached: true };
  }
  const deb = downloadDeb(pkg, ver);
  makeDirAtomic(dir, (tmp) => {
    extractFromSourceTarball(deb, pkg, [...set.files, 'Makefile'], tmp);
    const kernelVersion = makefileVersion(join(tmp, 'Makefile'));
    writeFileAtomic(join(tmp, '.migcompat-tree.json'), JSON.stringify({ source: 'debian', pkg, pkgVersion: ver, kernelVersion }, null, 2));
  });
  return { ...readMeta(dir), name, dir, pkgVersion: ver, cached: false };
}

/**
 * A tree extracted by an older migcompat may lack a file builds now read (the VFIO core's source):
 * take just those out of the cached package and move each into place (one rename per file).
 */
function addMissingMembers(dir: string, pkg: string, ver: string, files: readonly string[]): void {
  const missing = files.filter((m) => !m.endsWith('/') && !existsSync(join(dir, m)));
  if (!missing.length) return;
  const tmp = `${dir}.add-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    extractFromSourceTarball(downloadDeb(pkg, ver), pkg, missing, tmp);
    for (const m of missing) {
      mkdirSync(dirname(join(dir, m)), { recursive: true });
      renameSync(join(tmp, m), join(dir, m));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
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
