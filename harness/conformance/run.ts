// One conformance run: every selected clause against every subject, each cell classified against
// the known violations. Subjects in this process run clause by clause; real code and kernel
// devices run in a child process (isolate.ts) that reports the same ClauseResults.
import type { Clause, Contract } from './contract.ts';
import { CHECK_RUNNERS } from './checks/index.ts';
import { runClause, startSubject } from './engine.ts';
import { cellStatus, isRedStatus, knownFor, type CellStatus, type KnownViolation } from './known.ts';
import type { SubjectSpec } from './subjects.ts';
import type { SubjectKind } from './subject.ts';
import type { ClauseResult, VerdictKind } from './verdict.ts';

export interface Cell extends ClauseResult {
  status: CellStatus;
  known: KnownViolation | null;
}

export interface SubjectSummary {
  id: string;
  title: string;
  kind: SubjectKind;
  /** VFIO_MIGRATION_* flags, or null when GET MIGRATION failed */
  flags: number | null;
  ms: number;
  /** set when the subject could not run at all (its cells are `error`) */
  error?: string;
  /** the kernel driver bound to a kernel device */
  driver?: string;
}

export interface ConformanceResult {
  contract: { file: string; name: string };
  clauses: Clause[];
  subjects: SubjectSummary[];
  cells: Cell[];
  counts: Record<VerdictKind | CellStatus, number>;
  /** no cell is unexpected, fixed or error */
  ok: boolean;
  ms: number;
}

export interface RunOptions {
  contract: Contract;
  clauses: Clause[];
  known: KnownViolation[];
  subjects: SubjectSpec[];
  /** kernel devices of another identity (their streams must be refused) */
  peers?: string[];
  /** per-call time limit in a child process (ms): past it the call is a hang */
  callMs?: number;
  onCell?(c: Cell): void;
}

export async function runConformance(o: RunOptions): Promise<ConformanceResult> {
  const t0 = Date.now();
  const cells: Cell[] = [];
  const subjects: SubjectSummary[] = [];
  const classify = (r: ClauseResult, driver?: string | null): Cell => {
    const k = knownFor(o.known, r.clause, r.subject, driver) ?? null;
    const cell: Cell = { ...r, status: cellStatus(r.verdict, k ?? undefined), known: k };
    cells.push(cell);
    o.onCell?.(cell);
    return cell;
  };
  for (const spec of o.subjects) {
    const s0 = Date.now();
    if (spec.where === 'here') {
      const run = startSubject(spec.subject);
      for (const clause of o.clauses) classify(runClause(run, clause, CHECK_RUNNERS));
      subjects.push({ id: spec.id, title: spec.subject.title, kind: spec.subject.kind, flags: run.flags, ms: Date.now() - s0 });
      continue;
    }
    const { runSubjectInChild } = await import('./isolate.ts');
    const r = await runSubjectInChild(spec, o.clauses.map((c) => c.id), { contract: o.contract.file, peers: o.peers ?? [], callMs: o.callMs });
    for (const c of r.results) classify(c, r.driver);
    subjects.push({ id: spec.id, title: r.title, kind: spec.kind, flags: r.flags, ms: Date.now() - s0, ...(r.error ? { error: r.error } : {}), ...(r.driver ? { driver: r.driver } : {}) });
  }
  const counts = {} as Record<VerdictKind | CellStatus, number>;
  for (const k of ['holds', 'violated', 'hang', 'na', 'error', 'expected', 'known', 'unexpected', 'fixed'] as const) counts[k] = 0;
  for (const c of cells) {
    counts[c.verdict]++;
    if (c.status !== 'error') counts[c.status]++;
  }
  return {
    contract: { file: o.contract.file, name: o.contract.name }, clauses: o.clauses, subjects, cells, counts,
    ok: !cells.some((c) => isRedStatus(c.status)), ms: Date.now() - t0,
  };
}
