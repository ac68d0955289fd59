// The findings registry (specs/findings/fuzz.yaml): property violations that reveal real revision
// behaviour, each with an id, the revisions it holds for, the property and a minimal case. A run
// sorts what it sees into known findings (expected, counted) and new ones (which fail the run).
import { resolve } from 'node:path';
import { UsageError } from '../util/usage-error.ts';
import { parseCitation } from '../util/citations.ts';
import { readYaml } from '../util/yamlSchema.ts';

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

/**
 * The registry file. Its shape is specs/schemas/fuzz-findings.schema.json's; here: repeated ids, and
 * that every reference is a citation the product can resolve (docs/reference.md#how-to-cite).
 */
export function loadRegistry(path = DEFAULT_REGISTRY): KnownFinding[] {
  const { findings } = readYaml('fuzz-findings', path) as { findings: KnownFinding[] };
  const ids = new Set<string>();
  findings.forEach((f, i) => {
    if (ids.has(f.id)) throw new UsageError(`${path}: findings[${i}].id: '${f.id}' is already used by an earlier finding`);
    ids.add(f.id);
    (f.reference ?? []).forEach((r, j) => {
      const c = parseCitation(r);
      if ('error' in c) throw new UsageError(`${path}: findings[${i}].reference[${j}]: ${c.error}`);
    });
  });
  return findings;
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
