// Verdicts and evidence (README.md#verdicts). Evidence is plain data so it can be stored in a
// repro bundle, attached to a Playwright test and judged again by the pure oracle. The timeline's
// vocabulary (Side, TimelineEvent) lives with the timeline (harness/util/timeline.ts); it is
// re-exported here because evidence is made of it.
import type { TimelineEvent } from '../util/timeline.ts';

export type { Side, TimelineEvent } from '../util/timeline.ts';

export type Outcome = 'migrated' | 'refused' | 'broken' | 'error';
export const OUTCOMES: readonly Outcome[] = ['migrated', 'refused', 'broken', 'error'];

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
