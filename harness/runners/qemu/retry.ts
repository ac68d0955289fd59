// When a QEMU case is run again: QEMU 7.2's TCG loses guest writes after a dirty-bitmap sync (fixed
// upstream in 9.0, docs/qemu-runner.md). Under load it corrupts the destination guest: an oops (an
// infrastructure error) or, more quietly, results the guest computed wrong. With no device passed
// through, nothing but QEMU can have corrupted them, so that attempt is run once more; a defect that
// repeats is reported by the second attempt, and the first stays in its timeline.
import type { Evidence } from '../../oracle/types.ts';
import type { Accel } from './arch.ts';

/** Why an attempt is run again, or null when its verdict stands. */
export function retryReason(ev: Evidence, accel: Accel): string | null {
  if (ev.harnessError !== null) return ev.harnessError;
  if (accel !== 'tcg') return null;
  if (ev.timeline.some((e) => e.kind === 'note' && e.detail.vfio)) return null; // a VF: the device may be the cause
  const failed = ev.checks.filter((c) => !c.ok);
  if (!failed.length || !failed.every((c) => c.name === 'workload-results')) return null;
  return `guest results corrupted with no device passed through (TCG dirty-page race before QEMU 9.0 suspected): ${failed[0]!.detail}`;
}
