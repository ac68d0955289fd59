// The findings registry (specs/findings/fuzz.yaml): property violations that reveal real revision
// behaviour, each with an id, the revisions it holds for, the property and a minimal case. A run
// sorts what it sees into known findings (expected, counted) and new ones (which fail the run).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import { UsageError } from '../util/usage-error.ts';
import { CITATION_FORMS, parseCitation } from '../util/citations.ts';

export const PROPERTIES = ['stream', 'transfer', 'config', 'uapi', 'transparency'] as const;
export type PropertyName = (typeof PROPERTIES)[number];

export interface KnownFinding {
  id: string;
  property: PropertyName;
  /** violation kind the property reports (e.g. 'chunking-changes-verdict', 'reset-keeps-state') */
  kind: string;
  revisions: string[];
  summary: string;
  /** citations of where the behaviour is documented (docs/reference.md#how-to-cite) */
  reference?: string[];
  /** the minimal case, as the property prints it */
  minimal: Record<string, unknown>;
}

/** One violation a property observed. */
export interface Violation {
  property: PropertyName;
  kind: string;
  /** the revision the violation is about (the destination, or the device under test) */
  revision: string;
  detail: string;
  /** the minimal case (after shrinking) in replayable form */
  minimal: Record<string, unknown>;
  seed?: number;
  path?: string;
  replayPath?: string;
}

export const DEFAULT_REGISTRY = resolve('specs/findings/fuzz.yaml');

export function loadRegistry(path = DEFAULT_REGISTRY): KnownFinding[] {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`findings registry ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { findings?: unknown })?.findings;
  if (!Array.isArray(list)) throw new UsageError(`findings registry ${path}: expected a top-level 'findings:' list`);
  const ids = new Set<string>();
  return list.map((f: Record<string, unknown>, i) => {
    const where = `findings registry ${path}: entry ${i + 1}`;
    for (const k of ['id', 'property', 'kind', 'revisions', 'summary', 'minimal']) {
      if (f?.[k] === undefined) throw new UsageError(`${where}: missing '${k}'`);
    }
    if (!PROPERTIES.includes(f.property as PropertyName)) throw new UsageError(`${where}: unknown property '${String(f.property)}'`);
    if (!Array.isArray(f.revisions)) throw new UsageError(`${where}: 'revisions' must be a list`);
    if (ids.has(String(f.id))) throw new UsageError(`${where}: duplicate id '${String(f.id)}'`);
    ids.add(String(f.id));
    if (f.reference !== undefined) {
      if (!Array.isArray(f.reference) || f.reference.length === 0) throw new UsageError(`${where}: 'reference' must be a list of citations (${CITATION_FORMS})`);
      for (const r of f.reference) {
        const c = typeof r === 'string' ? parseCitation(r) : { error: `${JSON.stringify(r)} is not a citation (${CITATION_FORMS})` };
        if ('error' in c) throw new UsageError(`${where}: reference: ${c.error}`);
      }
    }
    return f as unknown as KnownFinding;
  });
}

export class FindingsLedger {
  readonly known = new Map<string, { finding: KnownFinding; count: number; revisions: Set<string>; example: Violation }>();
  readonly fresh: Violation[] = [];
  constructor(readonly registry: KnownFinding[]) {}

  lookup(property: PropertyName, kind: string, revision: string): KnownFinding | undefined {
    return this.registry.find((f) => f.property === property && f.kind === kind && f.revisions.includes(revision));
  }

  isKnown(property: PropertyName, kind: string, revision: string): boolean {
    return this.lookup(property, kind, revision) !== undefined;
  }

  /** Records a violation; returns the known finding it matches, or undefined when it is new. */
  add(v: Violation): KnownFinding | undefined {
    const f = this.lookup(v.property, v.kind, v.revision);
    if (!f) {
      if (!this.fresh.some((x) => x.property === v.property && x.kind === v.kind && x.revision === v.revision)) this.fresh.push(v);
      return undefined;
    }
    const e = this.known.get(f.id) ?? { finding: f, count: 0, revisions: new Set<string>(), example: v };
    e.count++;
    e.revisions.add(v.revision);
    this.known.set(f.id, e);
    return f;
  }

  summary(): { known: { id: string; count: number; revisions: string[] }[]; new: Violation[] } {
    return {
      known: [...this.known.values()].map((e) => ({ id: e.finding.id, count: e.count, revisions: [...e.revisions].sort() })),
      new: this.fresh,
    };
  }
}
