// The oracle: one pure function from evidence to a verdict (README.md#verdicts). Order matters:
// a harness failure says nothing about the device; a hang or a lost request is broken whatever
// the destination said; a refusal is clean only if the source runs again with nothing lost.
import type { Evidence, Verdict } from './types.ts';

export function judge(ev: Evidence): Verdict {
  const d = ev.destination;
  const errno = d?.errno ?? null;
  const stage = d?.stage ?? null;
  if (ev.harnessError !== null) return { outcome: 'error', reason: `harness error: ${ev.harnessError}`, errno, stage };
  if (ev.hang) {
    return { outcome: 'broken', reason: `hang: step bound exceeded in ${ev.hang.where} (${ev.hang.arcs.join(', ') || 'no arcs'})`, errno, stage: stage ?? 'hang' };
  }
  const failed = ev.checks.filter((c) => !c.ok);
  const firstFail = failed.length ? `${failed[0].name}: ${failed[0].detail}` : '';
  const more = failed.length > 1 ? ` (+${failed.length - 1} more failed checks)` : '';

  if (d?.accepted) {
    if (ev.dstFinalState !== 'RUNNING') {
      return { outcome: 'broken', reason: `destination accepted but ended in ${ev.dstFinalState ?? 'an unknown state'}`, errno, stage };
    }
    if (ev.guestOn !== 'dst') return { outcome: 'broken', reason: `destination accepted but the guest is on ${ev.guestOn}`, errno, stage };
    if (failed.length) return { outcome: 'broken', reason: `accepted, then ${firstFail}${more}`, errno, stage };
    if (ev.checks.length === 0) return { outcome: 'error', reason: 'no workload checks were recorded', errno, stage };
    return { outcome: 'migrated', reason: `migrated; ${ev.checks.length} workload checks passed`, errno, stage };
  }

  // not accepted: the destination refused, or the source never produced a stream
  const who = !d ? 'the source could not save'
    : d.stage?.startsWith('src') ? `the source could not save (${d.errno ?? 'no errno'} at ${d.stage})`
      : `destination refused at ${d.stage ?? '?'} with ${d.errno ?? 'no errno'}`;
  if (ev.srcFinalState !== 'RUNNING') {
    return { outcome: 'broken', reason: `${who}, and the source is left in ${ev.srcFinalState ?? 'an unknown state'}`, errno, stage };
  }
  if (ev.guestOn !== 'src') return { outcome: 'broken', reason: `${who}, and the guest is not running on the source`, errno, stage };
  if (failed.length) return { outcome: 'broken', reason: `${who}, and on the source ${firstFail}${more}`, errno, stage };
  if (ev.checks.length === 0) return { outcome: 'error', reason: 'no workload checks were recorded', errno, stage };
  return { outcome: 'refused', reason: `${who}; the source resumed with nothing lost`, errno, stage };
}
