// Where ktree keeps what it downloads and builds: outside git, shared by every checkout on the
// machine. MIGCOMPAT_CACHE overrides the root (CI and tests may point it elsewhere).
import { migcompatCache } from '../util/cache.ts';
import { join } from 'node:path';

export { treesDir } from '../kbuild/source.ts';

export function cacheRoot(): string {
  return migcompatCache('ktree');
}

/** built libraries, one per source hash */
export const libsDir = (): string => join(cacheRoot(), 'libs');
/**
 * registered `ktree:NAME` revisions. Format 2: libraries hold the tree's own core walk, and the shim's
 * entry points changed with it, so a process of an older migcompat sharing the cache must not pick
 * them up from its registry.json (read once, as the starting point of this one).
 */
export const registryFile = (): string => join(cacheRoot(), 'registry-2.json');
export const legacyRegistryFile = (): string => join(cacheRoot(), 'registry.json');
