// What running one clause against one subject concludes, and how a verdict reads in a table.
import type { Cmd } from './commands.ts';
import type { Step, Violation } from './monitor.ts';

/** holds ✓, violated ✗, hang ⧖ (a call never returns), na — (does not apply), error (the harness could not judge). */
export type VerdictKind = 'holds' | 'violated' | 'hang' | 'na' | 'error';
export const VERDICT_KINDS: readonly VerdictKind[] = ['holds', 'violated', 'hang', 'na', 'error'];

export const VERDICT_MARK: Record<VerdictKind, string> = { holds: '✓', violated: '✗', hang: '⧖', na: '—', error: '!' };

/** The sequence that shows a violation: its commands, what the device answered, and where it broke. */
export interface Evidence {
  /** which scenario of the check (e.g. "STOP_COPY → PRE_COPY", "prefix of 40 B") */
  scenario: string;
  steps: Step[];
  /** index of the step that violates the clause */
  at: number;
  violation: Violation;
  /** steps before shrinking (the scenario as the check wrote it) */
  shrunkFrom: number;
}

export interface ClauseResult {
  clause: string;
  subject: string;
  verdict: VerdictKind;
  /** the violation, the reason it does not apply, the error, or what was judged */
  detail: string;
  /** scenarios judged (ran to their end, or broke the clause) */
  scenarios: number;
  /** labels of the scenarios that broke the clause */
  failing: string[];
  evidence: Evidence | null;
  notes: string[];
  ms: number;
}

export const sequenceOf = (e: Evidence): Cmd[] => e.steps.map((s) => s.cmd);
