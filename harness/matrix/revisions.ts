// The revision facts a matrix needs (ids, whether a destination accepts a source's magic) and the
// profile snapshots a repro bundle keeps, taken from the driver registry (harness/drivers). Matrices
// name `ktree:` ids too, so loading them loads the ktree side (its resolver and child processes).
import '../ktree/install.ts';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { findAcceptRule } from '../drivers/traits.ts';
import { listRevisions, loadRevision, modelRevision, registerRevision, revisionResolverFor } from '../drivers/registry.ts';
import { parseRevisionYaml, type ProfileSnapshot, type RevisionProfile } from '../drivers/yaml.ts';
import type { Traits } from '../drivers/traits.ts';
import { UsageError } from '../util/usage-error.ts';
import type { RevisionFacts } from './expand.ts';

export function registryFacts(): RevisionFacts {
  const cache = new Map<string, boolean>();
  let known: Set<string> | null = null;
  const ids = () => listRevisions().map((r) => r.id);
  return {
    ids,
    canonical(id: string): string | null {
      known ??= new Set(ids());
      if (known.has(id)) return id;
      if (known.has(`hisi-acc/${id}`)) return `hisi-acc/${id}`;
      // `ktree:NAME`: a registered build, or the one built on first use (nothing is built here)
      return revisionResolverFor(id)?.known(id) ?? null;
    },
    accepts(src: string, dst: string): boolean {
      // real driver code (ktree:…) declares no traits, and loading it would build it: assume acceptance, the run tells
      if (revisionResolverFor(src) || revisionResolverFor(dst)) return true;
      const key = `${src}\u0000${dst}`;
      let v = cache.get(key);
      if (v === undefined) {
        const s = loadRevision(src).traits;
        const d = loadRevision(dst).traits;
        // external revisions (ktree:…) declare no traits: assume acceptance, the run tells
        v = !s || !d ? true : findAcceptRule(d.accept, s.write.magic, s.write.major ?? 0) !== null;
        cache.set(key, v);
      }
      return v;
    },
  };
}

const snapshotCache = new Map<string, Record<string, ProfileSnapshot>>();

/** The profile YAML of a revision and of every profile it extends, as text (read once per process). */
export function profileSnapshots(ids: string[]): Record<string, ProfileSnapshot> {
  const out: Record<string, ProfileSnapshot> = {};
  for (const id of ids) {
    let one = snapshotCache.get(id);
    if (!one) {
      one = readSnapshots(id);
      snapshotCache.set(id, one);
    }
    Object.assign(out, one);
  }
  return out;
}

function readSnapshots(first: string): Record<string, ProfileSnapshot> {
  const out: Record<string, ProfileSnapshot> = {};
  const visit = (id: string) => {
    if (out[id]) return;
    const rev = loadRevision(id);
    if (rev.kind !== 'model' || !/\.ya?ml$/i.test(rev.source)) {
      out[id] = { path: rev.source, text: '' };
      return;
    }
    const text = readFileSync(rev.source, 'utf8');
    out[id] = { path: relative(process.cwd(), rev.source), text };
    const p = parseRevisionYaml(text, rev.source);
    if (p.extends) visit(p.extends);
  };
  visit(first);
  return out;
}

/**
 * Make the registry use the snapshot profiles (a replay reruns a case with the revisions as they
 * were). Returns the ids whose snapshot differs from the profile on disk now.
 */
export function installSnapshots(snaps: Record<string, ProfileSnapshot>, where: string): string[] {
  const profiles = new Map<string, RevisionProfile>();
  const differs: string[] = [];
  for (const [id, s] of Object.entries(snaps)) {
    if (!s.text) continue; // external revision: nothing to install
    const p = parseRevisionYaml(s.text, `${where} profiles.${id}`);
    if (p.id !== id) throw new UsageError(`${where}: profiles.${id}: the snapshot declares id '${p.id}'`);
    profiles.set(id, p);
    let current: string | null = null;
    try {
      const rev = loadRevision(id);
      current = /\.ya?ml$/i.test(rev.source) ? readFileSync(rev.source, 'utf8') : null;
    } catch {
      current = null;
    }
    if (current !== s.text) differs.push(id);
  }
  const resolved = new Map<string, Traits>();
  const resolve = (p: RevisionProfile, seen: string[]): Traits => {
    const done = resolved.get(p.id);
    if (done) return done;
    let traits = p.traits as Traits;
    if (p.extends) {
      if (seen.includes(p.id)) throw new UsageError(`${where}: profiles: extends cycle ${[...seen, p.id].join(' -> ')}`);
      const parent = profiles.get(p.extends);
      const base = parent ? resolve(parent, [...seen, p.id]) : loadRevision(p.extends).traits;
      if (!base) throw new UsageError(`${where}: profiles.${p.id}: extends '${p.extends}', which has no traits`);
      traits = { ...base, ...p.traits } as Traits;
    }
    resolved.set(p.id, traits);
    return traits;
  };
  for (const p of profiles.values()) {
    registerRevision(modelRevision({ ...p, file: p.file }, resolve(p, [])), { replace: true });
  }
  return differs;
}
