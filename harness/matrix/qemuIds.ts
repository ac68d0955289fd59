// Revision ids of the qemu runner as a matrix sees them: the runner's own grammar decides
// (harness/runners/qemu/runner.ts parseSideId: qemu/<x.y.z|installed|previous>[@host][+modifier…]).
// Loaded only for qemu matrices, so the sim suite never imports the QEMU runner.
import { parseSideId } from '../runners/qemu/runner.ts';
import type { RevisionFacts } from './expand.ts';

/** qemu/7.2.22@hostB+mem=512 → qemu/7.2.22: what direction and grid order go by. */
export function qemuBase(id: string): string {
  return id.split('+')[0]!.replace(/@.*$/, '');
}

/** Version order: numbered builds by version, then `previous`, then `installed` (the newest here). */
function versionKey(base: string): number[] {
  const v = base.replace(/^qemu\//, '');
  if (v === 'previous') return [Number.MAX_SAFE_INTEGER - 1];
  if (v === 'installed') return [Number.MAX_SAFE_INTEGER];
  return v.split('.').map(Number);
}

export function compareQemuBuilds(a: string, b: string): number {
  const x = versionKey(a), y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

export const qemuFacts: RevisionFacts = {
  // no 'all': builds are whatever the archive serves, a matrix lists the ones it means
  ids: () => [],
  canonical(id: string): string | null {
    try {
      parseSideId(id);
      return id;
    } catch {
      return null;
    }
  },
  base: qemuBase,
  defaultOrder: (bases) => [...bases].sort(compareQemuBuilds),
};
