// The revision registry other engineers build on: listRevisions(), loadRevision(id | YAML path),
// registerRevision() for revisions defined at run time (external code), and
// registerRevisionResolver() for families of ids that a layer above defines: harness/ktree installs
// the `ktree:` resolver when it is imported, so this layer never imports ktree (docs/layering.md).
// Built-in profiles are the YAML files in specs/revisions/<driver>/, read once on first use.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../util/usage-error.ts';
import { HisiAccModel } from './hisiModel.ts';
import type { Revision } from './revision.ts';
import { TRAIT_NAMES, type Traits } from './traits.ts';
import { readRevisionYaml, type RevisionProfile } from './yaml.ts';

export const REVISIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../specs/revisions');

const registry = new Map<string, Revision>();
let builtinsLoaded = false;

/** A family of revision ids defined above this layer (real driver code: `ktree:NAME`). */
export interface RevisionResolver {
  /** the Revision an id of the family stands for (it may fetch or build); UsageError when it names nothing */
  resolve(id: string): Revision;
  /** the canonical id when `id` names one, found without fetching or building anything; else null */
  known(id: string): string | null;
}

const resolvers = new Map<string, RevisionResolver>();

/** Resolve ids that start with `prefix` ('ktree:') through `resolver`; a later call replaces it. */
export function registerRevisionResolver(prefix: string, resolver: RevisionResolver): void {
  resolvers.set(prefix, resolver);
}

/** The installed resolver of an id's family, or null (built-in and registered ids have none). */
export function revisionResolverFor(id: string): RevisionResolver | null {
  for (const [prefix, r] of resolvers) if (id.startsWith(prefix)) return r;
  return null;
}

/** A trait-driven revision from a validated profile (traits already complete). */
export function modelRevision(p: { id: string; title: string; kernel: string; file: string }, traits: Traits): Revision {
  return {
    id: p.id, title: p.title, kernel: p.kernel, kind: 'model', source: p.file, traits,
    bind: (ctx) => new HisiAccModel(p.id, traits, ctx),
  };
}

/** Resolve `extends:` chains against the registry (and the profiles being loaded alongside). */
function resolveProfile(p: RevisionProfile, pending: Map<string, RevisionProfile>, seen: string[] = []): Traits {
  if (!p.extends) return p.traits as Traits;
  if (seen.includes(p.id)) throw new UsageError(`${p.file}: extends: cycle ${[...seen, p.id].join(' -> ')}`);
  const parentProfile = pending.get(p.extends);
  let parent: Traits | undefined;
  if (parentProfile) parent = resolveProfile(parentProfile, pending, [...seen, p.id]);
  else parent = registry.get(p.extends)?.traits;
  if (!parent) throw new UsageError(`${p.file}: extends: unknown model revision '${p.extends}'`);
  const t = { ...parent, ...p.traits } as Traits;
  for (const k of TRAIT_NAMES) if (t[k] === undefined) throw new UsageError(`${p.file}: traits.${k}: missing`);
  return t;
}

function loadBuiltins(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  const pending = new Map<string, RevisionProfile>();
  if (existsSync(REVISIONS_DIR)) {
    for (const driver of readdirSync(REVISIONS_DIR, { withFileTypes: true })) {
      if (!driver.isDirectory()) continue;
      const dir = join(REVISIONS_DIR, driver.name);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
        const p = readRevisionYaml(join(dir, f));
        if (pending.has(p.id)) throw new UsageError(`${p.file}: id: '${p.id}' already defined in ${pending.get(p.id)!.file}`);
        pending.set(p.id, p);
      }
    }
  }
  for (const p of pending.values()) {
    if (!registry.has(p.id)) registry.set(p.id, modelRevision(p, resolveProfile(p, pending)));
  }
}

/** Every known revision (built-in profiles first time, plus those registered), sorted by id. */
export function listRevisions(): Revision[] {
  loadBuiltins();
  return [...registry.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

/**
 * A revision by id ('hisi-acc/v6.16'), short id ('v6.16' → 'hisi-acc/v6.16'), or a YAML path
 * (loaded, validated and registered under the id it declares).
 */
export function loadRevision(idOrPath: string): Revision {
  loadBuiltins();
  if (/\.ya?ml$/i.test(idOrPath)) {
    const p = readRevisionYaml(idOrPath);
    const existing = registry.get(p.id);
    if (existing && existing.source !== p.file) {
      throw new UsageError(`${p.file}: id: '${p.id}' is already defined by ${existing.source}`);
    }
    const rev = modelRevision(p, resolveProfile(p, new Map()));
    registry.set(p.id, rev);
    return rev;
  }
  const rev = registry.get(idOrPath) ?? registry.get(`hisi-acc/${idOrPath}`);
  if (rev) return rev;
  const resolver = revisionResolverFor(idOrPath);
  if (resolver) {
    // e.g. real driver code (docs/ktree.md): debian-6.1 is fetched and built on first use
    const resolved = resolver.resolve(idOrPath);
    registry.set(resolved.id, resolved);
    return resolved;
  }
  const family = /^[A-Za-z][\w-]*:/.exec(idOrPath)?.[0];
  const hint = family ? `; no resolver for '${family}' ids is installed` : '';
  throw new UsageError(`unknown revision '${idOrPath}' (known: ${listRevisions().map((r) => r.id).join(', ')}${hint})`);
}

/** Register a revision defined in code (external implementation or a generated model). */
export function registerRevision(rev: Revision, opts: { replace?: boolean } = {}): void {
  loadBuiltins();
  if (registry.has(rev.id) && !opts.replace) throw new UsageError(`revision '${rev.id}' is already registered`);
  registry.set(rev.id, rev);
}

export function unregisterRevision(id: string): boolean {
  return registry.delete(id);
}

/**
 * Expand a comma-separated list of ids, YAML paths and 'all' (every hisi-acc model revision known
 * at that point, the built-in profiles and those registered), in order and without repeats.
 */
export function expandRevisionIds(text: string): string[] {
  const parts = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new UsageError('empty revision list');
  const out: string[] = [];
  for (const p of parts) {
    const ids = p === 'all' ? listRevisions().filter((r) => r.id.startsWith('hisi-acc/')).map((r) => r.id) : [loadRevision(p).id];
    for (const id of ids) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** Revisions with declared traits (models), for tools that reason over profiles rather than run code. */
export function profiledRevisions(ids: readonly string[]): (Revision & { traits: Traits })[] {
  return ids.map((id) => {
    const r = loadRevision(id);
    if (!r.traits) throw new UsageError(`revision '${id}' declares no traits (real code): use check or run for it`);
    return r as Revision & { traits: Traits };
  });
}
