// `ktree:NAME` revisions: a built library registered under a name (in the cache, next to the
// libraries), and the Revision objects for it: in process (ktreeRevision, for the child process and
// direct use) and isolated (what `ktree:` ids resolve to through the driver registry, install.ts).
import { existsSync, readFileSync } from 'node:fs';
import type { Revision } from '../drivers/revision.ts';
import { UsageError } from '../util/usage-error.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { buildTree, type BuildResult } from './build.ts';
import { KtreeDriver } from './driver.ts';
import { fetchDebian, makefileVersion } from './fetch.ts';
import { registryFile } from './paths.ts';
import { join } from 'node:path';

export const KTREE_PREFIX = 'ktree:';

export interface KtreeEntry {
  name: string;
  tree: string;
  kernelVersion: string;
  libPath: string;
  hash: string;
  registeredAt: string;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function readRegistry(): Record<string, KtreeEntry> {
  const f = registryFile();
  if (!existsSync(f)) return {};
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Record<string, KtreeEntry>;
  } catch {
    throw new UsageError(`ktree registry ${f} is not valid JSON (delete it and build again)`);
  }
}

export function registerKtree(name: string, tree: string, build: BuildResult): KtreeEntry {
  if (!NAME_RE.test(name)) throw new UsageError(`bad ktree name '${name}' (letters, digits, . _ -)`);
  const all = readRegistry();
  const e: KtreeEntry = {
    name, tree, kernelVersion: makefileVersion(join(tree, 'Makefile')), libPath: build.libPath, hash: build.hash,
    registeredAt: new Date().toISOString(),
  };
  all[name] = e;
  writeFileAtomic(registryFile(), JSON.stringify(all, null, 2) + '\n');
  return e;
}

/** The entry behind `ktree:NAME`; `debian-6.1` is fetched and built on first use. */
export function resolveKtree(idOrName: string): KtreeEntry {
  const name = idOrName.startsWith(KTREE_PREFIX) ? idOrName.slice(KTREE_PREFIX.length) : idOrName;
  const e = readRegistry()[name];
  if (e && existsSync(e.libPath)) return e;
  if (name === 'debian-6.1') {
    const t = fetchDebian(name);
    return registerKtree(name, t.dir, buildTree(t.dir));
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

/** The canonical id when `id` names a registered build or the one built on first use; nothing is fetched or built. */
export function knownKtreeId(id: string): string | null {
  if (!id.startsWith(KTREE_PREFIX)) return null;
  const name = id.slice(KTREE_PREFIX.length);
  if (name === 'debian-6.1' || Object.hasOwn(readRegistry(), name)) return `${KTREE_PREFIX}${name}`;
  return null;
}
