// Known violations (specs/conformance/known.yaml): a clause a revision breaks for an upstream reason,
// declared with a one-line description and the upstream reference (a commit or a lore message).
// Like known matrix defects they stay visible: a declared cell that still fails is `known`, one that
// stops failing is `fixed` (red), and a violation nobody declared is `unexpected` (red).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import { citationHref, parseCitation } from '../util/citations.ts';
import { UsageError } from '../util/usage-error.ts';
import { CONFORMANCE_DIR } from './contract.ts';
import type { VerdictKind } from './verdict.ts';

export const DEFAULT_KNOWN = resolve(CONFORMANCE_DIR, 'known.yaml');

export interface KnownViolation {
  id: string;
  clauses: string[];
  revisions: string[];
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

export function loadKnown(file = DEFAULT_KNOWN, clauseIds?: ReadonlySet<string>): KnownViolation[] {
  let doc: unknown;
  try {
    doc = YAML.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`known violations ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { known?: unknown } | null)?.known;
  if (!Array.isArray(list)) throw new UsageError(`known violations ${file}: expected a top-level 'known:' list`);
  const ids = new Set<string>();
  return list.map((raw: unknown, i: number) => {
    const k = raw as Record<string, unknown>;
    const at = `known violations ${file}: entry ${typeof k?.id === 'string' ? `'${k.id}'` : i + 1}`;
    const bad = (key: string, want: string): never => {
      throw new UsageError(`${at}: ${key}: expected ${want}, got ${JSON.stringify(k?.[key]) ?? 'nothing'}`);
    };
    if (!k || typeof k.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(k.id)) bad('id', 'lower-case words joined by -');
    if (ids.has(k.id as string)) throw new UsageError(`${at}: id: duplicate`);
    ids.add(k.id as string);
    for (const key of ['clauses', 'revisions'] as const) {
      if (!Array.isArray(k[key]) || !(k[key] as unknown[]).length || !(k[key] as unknown[]).every((x) => typeof x === 'string')) bad(key, 'a non-empty list of ids');
    }
    if (clauseIds) {
      const unknown = (k.clauses as string[]).filter((c) => !clauseIds.has(c));
      if (unknown.length) throw new UsageError(`${at}: clauses: unknown clause ${unknown.join(', ')}`);
    }
    if (k.verdict !== 'violated' && k.verdict !== 'hang') bad('verdict', 'violated or hang');
    if (typeof k.description !== 'string' || !k.description.trim() || k.description.trim().includes('\n')) bad('description', 'one line of text');
    if (typeof k.reference !== 'string' || !isUpstreamReference(k.reference)) bad('reference', "'commit <12-40 hex> (vX.Y)' or 'lore <message-id>'");
    return { ...(k as unknown as KnownViolation), description: (k.description as string).trim() };
  });
}

/** The declaration that covers (clause, revision), if any. */
export function knownFor(known: readonly KnownViolation[], clause: string, revision: string): KnownViolation | undefined {
  return known.find((k) => k.clauses.includes(clause) && k.revisions.includes(revision));
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
