// `ktree:NAME` revisions: a built library registered under a name (in the cache, next to the
// libraries), and the Revision objects for it: in process (ktreeRevision, for the child process and
// direct use) and isolated (what `ktree:` ids resolve to through the driver registry, install.ts).
import { existsSync, readFileSync } from 'node:fs';
import type { Revision } from '../drivers/revision.ts';
import { UsageError } from '../util/usage-error.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { buildTree, sourceHash, type BuildResult } from './build.ts';
import { KtreeDriver } from './driver.ts';
import { fetchDebian, isDebianTree, makefileVersion } from './fetch.ts';
import { legacyRegistryFile, registryFile } from './paths.ts';
import { treeFileList } from './tree.ts';
import { join } from 'node:path';

export const KTREE_PREFIX = 'ktree:';

export interface KtreeEntry {
  name: string;
  tree: string;
  kernelVersion: string;
  /** Debian trees: the package version fetched (e.g. 6.12.118-1~deb12u1) */
  pkgVersion?: string;
  libPath: string;
  hash: string;
  registeredAt: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** entries resolved (and checked against the shim) in this process */
const resolved = new Map<string, KtreeEntry>();

export function readRegistry(): Record<string, KtreeEntry> {
  let f = registryFile();
  // entries of the older format: their libraries are rebuilt on first use (resolveKtree)
  if (!existsSync(f) && existsSync(legacyRegistryFile())) f = legacyRegistryFile();
  if (!existsSync(f)) return {};
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Record<string, KtreeEntry>;
  } catch {
    throw new UsageError(`ktree registry ${f} is not valid JSON (delete it and build again)`);
  }
}

export function registerKtree(name: string, tree: string, build: BuildResult, pkgVersion?: string): KtreeEntry {
  if (!NAME_RE.test(name)) throw new UsageError(`bad ktree name '${name}' (letters, digits, . _ -)`);
  const all = readRegistry();
  const e: KtreeEntry = {
    name, tree, kernelVersion: makefileVersion(join(tree, 'Makefile')), ...(pkgVersion ? { pkgVersion } : {}),
    libPath: build.libPath, hash: build.hash, registeredAt: new Date().toISOString(),
  };
  all[name] = e;
  writeFileAtomic(registryFile(), JSON.stringify(all, null, 2) + '\n');
  resolved.set(name, e);
  return e;
}

/** Is the registered library still what its tree and today's shim build (same source hash)? */
function current(e: KtreeEntry): boolean {
  if (!existsSync(e.libPath)) return false;
  try {
    return sourceHash(e.tree, treeFileList(e.tree)) === e.hash;
  } catch {
    return true; // the tree is gone or unreadable: the library built from it is all there is
  }
}

/**
 * The entry behind `ktree:NAME`, rebuilt when the shim or the tree changed since it was registered.
 * The Debian trees (`debian-6.1`, `debian-6.12`) are fetched and built on first use.
 */
export function resolveKtree(idOrName: string): KtreeEntry {
  const name = idOrName.startsWith(KTREE_PREFIX) ? idOrName.slice(KTREE_PREFIX.length) : idOrName;
  const done = resolved.get(name);
  if (done) return done;
  const e = readRegistry()[name];
  let out: KtreeEntry | null = null;
  if (e && current(e)) out = e;
  else if (isDebianTree(name)) {
    const t = fetchDebian(name);
    out = registerKtree(name, t.dir, buildTree(t.dir), t.pkgVersion);
  } else if (e && existsSync(e.tree)) out = registerKtree(name, e.tree, buildTree(e.tree), e.pkgVersion);
  if (out) {
    resolved.set(name, out);
    return out;
  }
  if (e) throw new UsageError(`ktree:${name}: its library ${e.libPath} is gone (run: migcompat ktree build --tree ${e.tree} --name ${name})`);
  const known = Object.keys(readRegistry());
  throw new UsageError(`unknown revision ktree:${name} (registered: ${known.length ? known.join(', ') : 'none'}; run migcompat ktree build --tree PATH --name ${name})`);
}

/** The Revision for `ktree:NAME`, bindable to a simulated VF like any model. */
export function ktreeRevision(id: string): Revision {
  const e = resolveKtree(id);
  const rid = `${KTREE_PREFIX}${e.name}`;
  return {
    id: rid,
    title: `real driver code of ${e.tree} (${e.kernelVersion})`,
    kernel: e.kernelVersion,
    kind: 'external',
    source: e.libPath,
    bind: (ctx) => new KtreeDriver(rid, e.libPath, ctx),
  };
}

/**
 * The revision a `ktree:` id stands for wherever a revision id goes: run isolated. The runners send a
 * case or check using it to a child process (Revision.childLib), so a crash or a hang of the code is
 * that case's `error`; koffi loads only there, or when `bind` is called directly.
 */
export function isolatedKtreeRevision(id: string): Revision {
  const k = ktreeRevision(id);
  return { ...k, childLib: k.source };
}

/** The canonical id when `id` names a registered build or a Debian tree built on first use; nothing is fetched or built. */
export function knownKtreeId(id: string): string | null {
  if (!id.startsWith(KTREE_PREFIX)) return null;
  const name = id.slice(KTREE_PREFIX.length);
  if (isDebianTree(name) || Object.hasOwn(readRegistry(), name)) return `${KTREE_PREFIX}${name}`;
  return null;
}
