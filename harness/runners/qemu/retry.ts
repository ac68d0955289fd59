// When a QEMU case is run again: QEMU 7.2's TCG loses guest writes after a dirty-bitmap sync (fixed
// upstream in 9.0, docs/qemu-runner.md). Under load it corrupts the destination guest: an oops (an
// infrastructure error) or, more quietly, a guest that computes wrong results or stops making
// progress while QEMU says it runs. With no device passed through, nothing but QEMU can have done
// that, so the attempt is run once more; a defect that repeats (a real incompatibility between two
// QEMU builds) is reported by the second attempt, and the first stays in its timeline.
import type { CheckResult, Evidence } from '../../oracle/types.ts';
import type { Accel } from './arch.ts';

/** Checks the race can fail on a running destination: wrong results, or no progress at all. */
const RACE_SYMPTOMS = new Set(['workload-results', 'workload-continues']);

/** Why an attempt is run again, or null when its verdict stands. */
export function retryReason(ev: Evidence, accel: Accel): string | null {
  if (ev.harnessError !== null) return ev.harnessError;
  if (accel !== 'tcg') return null;
  if (ev.timeline.some((e) => e.kind === 'note' && e.detail.vfio)) return null; // a VF: the device may be the cause
  return raceSymptom(ev.checks);
}

/** A hop's or case's checks when every one that failed is what the race does to a running destination (no VF, TCG). */
export function raceSymptom(checks: readonly CheckResult[]): string | null {
  const failed = checks.filter((c) => !c.ok);
  if (!failed.length || !failed.every((c) => RACE_SYMPTOMS.has(c.name))) return null;
  return `destination guest corrupted with no device passed through (TCG dirty-page race before QEMU 9.0 suspected): ${failed[0]!.detail}`;
}
