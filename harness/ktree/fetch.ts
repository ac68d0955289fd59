// `migcompat ktree fetch debian-6.1 | debian-6.12`: Debian's linux-source package, downloaded with apt
// into the cache, with only the files a shim build reads taken out of its tarball (harness/kbuild/source.ts).
import { cachedTrees as cachedSourceTrees, fetchDebianSource, type FetchedTree } from '../kbuild/source.ts';
import { TREE_FILES } from './tree.ts';

export { DEBIAN_SERIES, isDebianTree, makefileVersion, type FetchedTree } from '../kbuild/source.ts';

const SHIM_FILES = { files: TREE_FILES, suffix: '' };

export function fetchDebian(name: string, version?: string): FetchedTree {
  return fetchDebianSource(name, version, SHIM_FILES);
}

/** Trees of a series already extracted in the cache (newest first): what an offline run can use. */
export function cachedTrees(name: string): string[] {
  return cachedSourceTrees(name, SHIM_FILES.suffix);
}
