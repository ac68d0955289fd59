// Verdicts and evidence (README.md#verdicts). Evidence is plain data so it can be stored in a
// repro bundle, attached to a Playwright test and judged again by the pure oracle.
import type { ErrnoName } from '../util/errno.ts';

export type Outcome = 'migrated' | 'refused' | 'broken' | 'error';
export const OUTCOMES: readonly Outcome[] = ['migrated', 'refused', 'broken', 'error'];

export type Side = 'src' | 'dst' | 'guest' | 'harness';

/** One line of the timeline. `kind` says which of the optional fields are set. */
export interface TimelineEvent {
  seq: number;
  /** simulated time in microseconds (sim) or wall-clock ms since case start (real runners) */
  t: number;
  side: Side;
  kind:
    | 'arc' | 'set-state' | 'read' | 'write' | 'precopy-info' | 'data-size' | 'reset' | 'close'
    | 'reg-read' | 'reg-write' | 'mailbox' | 'doorbell' | 'irq' | 'dma-fault' | 'event'
    | 'request' | 'completion' | 'check' | 'note';
  /** free-form details, JSON-safe (bigints as "0x…" strings) */
  detail: Record<string, string | number | boolean | null>;
  /** errno name when the step failed */
  errno?: ErrnoName | string;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** What the destination did with the stream. */
export interface DestinationResult {
  accepted: boolean;
  errno: string | null;
  /** where it failed or finished: 'write', 'resuming->stop', 'stop->running', 'set-state', … */
  stage: string | null;
  reason: string;
}

export interface Evidence {
  caseId: string;
  seed: number;
  /** captured stream bytes, as the source produced them (null when nothing was read) */
  stream: Uint8Array | null;
  timeline: TimelineEvent[];
  destination: DestinationResult | null;
  /** final migration states */
  srcFinalState: string | null;
  dstFinalState: string | null;
  /** where the guest ran at the end */
  guestOn: 'src' | 'dst' | 'none';
  checks: CheckResult[];
  /** a modelled loop exceeded its step bound: the walk it went through */
  hang: { where: string; arcs: string[] } | null;
  /** the harness or infrastructure failed (no verdict about the device) */
  harnessError: string | null;
}

export interface Verdict {
  outcome: Outcome;
  reason: string;
  errno: string | null;
  stage: string | null;
}
