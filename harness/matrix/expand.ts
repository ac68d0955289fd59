// Matrix → cases. Deterministic: the same matrix and revision set always give the same cases, in the
// same order, with the same per-case seeds (so a case's seed does not move when the matrix grows).
import type { DeviceConfig } from '../device/mmio.ts';
import { caseTitle, type CaseSpec } from '../runners/types.ts';
import { expectationFor } from './expect.ts';
import type { Direction, Matrix, MatrixCase } from './types.ts';

/** What expansion needs to know about revisions beyond their ids. */
export interface RevisionFacts {
  ids(): string[];
  /** true when a destination of revision `dst` accepts the magic/version a `src` source writes */
  accepts(src: string, dst: string): boolean;
}

/** FNV-1a 32-bit: a stable per-case seed from the matrix seed and the case title. */
export function caseSeed(matrixSeed: number, title: string): number {
  let h = 0x811c9dc5 ^ (matrixSeed >>> 0);
  for (let i = 0; i < title.length; i++) h = Math.imul(h ^ title.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** File-name-safe id of a case title. */
export function caseSlug(title: string): string {
  return title.replace(/ -> /g, '_to_').replace(/->/g, '-to-').replace(/[^A-Za-z0-9._-]+/g, '_');
}

export function direction(order: string[], src: string, dst: string): Direction {
  if (src === dst) return 'same-version';
  return order.indexOf(src) < order.indexOf(dst) ? 'old-new' : 'new-old';
}

export function expandMatrix(m: Matrix, revs: RevisionFacts): MatrixCase[] {
  const byOrder = (ids: string[]) => [...ids].sort((a, b) => m.order.indexOf(a) - m.order.indexOf(b));
  const out: MatrixCase[] = [];
  let turn = 0;
  for (const src of byOrder(m.src)) {
    for (const dst of byOrder(m.dst)) {
      const dir = direction(m.order, src, dst);
      const accepted = revs.accepts(src, dst);
      for (const workload of m.workloads) {
        for (const transfer of m.transfers) {
          for (const scenario of m.scenarios) {
            const devices: DeviceConfig[] = m.combine === 'all' ? m.devices : [m.devices[turn++ % m.devices.length]];
            for (const device of devices) {
              const base: Omit<CaseSpec, 'seed'> = {
                src, dst, workload, scenario, transfer, device,
                requests: m.requests, inflight: m.inflight, requestSize: m.requestSize,
              };
              const title = caseTitle({ ...base, seed: 0 });
              const spec: CaseSpec = { ...base, seed: caseSeed(m.seed, title) };
              const expect = expectationFor(m, spec, dir, accepted);
              const tags = [`@${dir}`, `@${m.runner}`];
              if (expect.known) tags.push('@known');
              out.push({ id: caseSlug(title), title, spec, direction: dir, runner: m.runner, tags, expect, matrix: m.name });
            }
          }
        }
      }
    }
  }
  return out;
}
