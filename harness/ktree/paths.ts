// Where ktree keeps what it downloads and builds: outside git, shared by every checkout on the
// machine. MIGCOMPAT_CACHE overrides the root (CI and tests may point it elsewhere).
import { migcompatCache } from '../util/cache.ts';
import { join } from 'node:path';

export function cacheRoot(): string {
  return migcompatCache('ktree');
}

/** extracted trees, one folder per package version ("debian-6.1.192-2") */
export const treesDir = (): string => join(cacheRoot(), 'trees');
/** built libraries, one per source hash */
export const libsDir = (): string => join(cacheRoot(), 'libs');
/** registered `ktree:NAME` revisions */
export const registryFile = (): string => join(cacheRoot(), 'registry.json');
