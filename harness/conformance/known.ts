// Known violations (specs/conformance/known.yaml): a clause a revision breaks for an upstream reason,
// declared with a one-line description and the upstream reference (a commit or a lore message).
// Like known matrix defects they stay visible: a declared cell that still fails is `known`, one that
// stops failing is `fixed` (red), and a violation nobody declared is `unexpected` (red).
import { resolve } from 'node:path';
import { citationHref, parseCitation } from '../util/citations.ts';
import { UsageError } from '../util/usage-error.ts';
import { readYaml } from '../util/yamlSchema.ts';
import { CONFORMANCE_DIR } from './contract.ts';
import type { VerdictKind } from './verdict.ts';

export const DEFAULT_KNOWN = resolve(CONFORMANCE_DIR, 'known.yaml');

export interface KnownViolation {
  id: string;
  clauses: string[];
  /** revision ids it holds for (models, ktree: builds) */
  revisions: string[];
  /**
   * kernel drivers it holds for, on whatever device they are bound to: a real device's column is
   * named by its address, so a driver's own defect is declared by the driver's name (mtty)
   */
  drivers: string[];
  /** what the clause shows: violated (✗) or hang (⧖) */
  verdict: 'violated' | 'hang';
  description: string;
  /** `commit <id> (vX.Y)` or `lore <message-id>` */
  reference: string;
}

/** How a cell relates to the declarations (the matrix's words): as the contract wants, declared, or red. */
export type CellStatus = 'expected' | 'known' | 'unexpected' | 'fixed' | 'error';

/** An upstream reference: a commit with the kernel it landed in, or a lore message id. */
export function isUpstreamReference(ref: string): boolean {
  const c = parseCitation(ref);
  return !('error' in c) && (c.kind === 'commit' || c.kind === 'lore');
}

/**
 * The known-violations file. Its shape is specs/schemas/conformance-known.schema.json's; here:
 * repeated ids, clause ids the contract has, and the reference as an upstream citation.
 */
export function loadKnown(file = DEFAULT_KNOWN, clauseIds?: ReadonlySet<string>): KnownViolation[] {
  const { known } = readYaml('conformance-known', file) as { known: (Omit<KnownViolation, 'revisions' | 'drivers'> & { revisions?: string[]; drivers?: string[] })[] };
  const ids = new Set<string>();
  return known.map((k, i) => {
    const at = `${file}: known[${i}]`;
    if (ids.has(k.id)) throw new UsageError(`${at}.id: '${k.id}' is already used by an earlier entry`);
    ids.add(k.id);
    if (clauseIds) {
      const unknown = k.clauses.filter((c) => !clauseIds.has(c));
      if (unknown.length) throw new UsageError(`${at}.clauses: unknown clause ${unknown.join(', ')}`);
    }
    if (!isUpstreamReference(k.reference)) throw new UsageError(`${at}.reference: expected 'commit <12-40 hex> (vX.Y)' or 'lore <message-id>', got ${JSON.stringify(k.reference)}`);
    return { ...k, revisions: k.revisions ?? [], drivers: k.drivers ?? [], description: k.description.trim() };
  });
}

/** The declaration that covers (clause, revision), or (clause, the driver bound to a kernel device), if any. */
export function knownFor(known: readonly KnownViolation[], clause: string, revision: string, driver?: string | null): KnownViolation | undefined {
  return known.find((k) => k.clauses.includes(clause) && (k.revisions.includes(revision) || (!!driver && k.drivers.includes(driver))));
}

/** A cell's status: `expected` and `known` pass; `unexpected`, `fixed` and `error` fail the run. */
export function cellStatus(verdict: VerdictKind, k: KnownViolation | undefined): CellStatus {
  if (verdict === 'error') return 'error';
  const broken = verdict === 'violated' || verdict === 'hang';
  if (!k) return broken ? 'unexpected' : 'expected';
  if (!broken) return 'fixed';
  return verdict === k.verdict ? 'known' : 'unexpected';
}

export const isRedStatus = (s: CellStatus): boolean => s === 'unexpected' || s === 'fixed' || s === 'error';

/** The link a report in `fromDir` shows for a reference. */
export function referenceHref(ref: string, fromDir: string): string {
  const c = parseCitation(ref);
  return 'error' in c ? '' : citationHref(c, fromDir);
}
