// Matrix → cases. Deterministic: the same matrix and revision set always give the same cases, in the
// same order, with the same per-case seeds (so a case's seed does not move when the matrix grows).
import type { DeviceConfig } from '../device/mmio.ts';
import { caseTitle, type CaseSpec } from '../runners/types.ts';
import { expectationFor, ruleMatches } from './expect.ts';
import { RUNNER_KINDS } from './runnerKinds.ts';
import type { Direction, Matrix, MatrixCase } from './types.ts';

/** What a matrix needs to know about a runner's revision ids. */
export interface RevisionFacts {
  /** the ids `all` stands for (sim: the registry; vfio-host: MIGCOMPAT_VFIO_DEVICES; qemu: none) */
  ids(): string[];
  /** true when a destination of revision `dst` accepts the magic/version a `src` source writes (sim only) */
  accepts?(src: string, dst: string): boolean;
  /** the id in canonical form, or null when this runner has no such id (default: one of ids()) */
  canonical?(id: string): string | null;
  /** the part of an id `order` ranks (qemu: the build, without host and modifiers; default: the id) */
  base?(id: string): string;
  /** oldest → newest order of bases the matrix does not order itself */
  defaultOrder?(bases: string[]): string[];
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

/**
 * Grid positions of a matrix's ids: by the rank of their base in `order`, then as the matrix lists
 * them (so qemu/7.2.22+mem=512 sits right after qemu/7.2.22).
 */
export function idRanks(m: Matrix, base: (id: string) => string = (id) => id): Map<string, number> {
  const ids = [...new Set([...m.src, ...m.dst])];
  const at = (id: string) => {
    const i = m.order.indexOf(base(id));
    return i < 0 ? m.order.length : i;
  };
  const sorted = ids.map((id, i) => ({ id, i })).sort((a, b) => at(a.id) - at(b.id) || a.i - b.i);
  return new Map(sorted.map((x, r) => [x.id, r]));
}

export function expandMatrix(m: Matrix, revs: RevisionFacts): MatrixCase[] {
  const base = (id: string) => revs.base?.(id) ?? id;
  const ranks = idRanks(m, base);
  const byOrder = (ids: string[]) => [...ids].sort((a, b) => ranks.get(a)! - ranks.get(b)!);
  const out: MatrixCase[] = [];
  let turn = 0;
  for (const src of byOrder(m.src)) {
    for (const dst of byOrder(m.dst)) {
      const dir = direction(m.order, base(src), base(dst));
      const accepted = revs.accepts ? revs.accepts(src, dst) : true;
      for (const workload of m.workloads) {
        for (const transfer of m.transfers) {
          for (const scenario of m.scenarios) {
            for (const arch of m.arches) {
              const devices: DeviceConfig[] = m.combine === 'all' ? m.devices : [m.devices[turn++ % m.devices.length]];
              for (const device of devices) {
                const fields: Omit<CaseSpec, 'seed'> = {
                  src, dst, workload, scenario, transfer, device,
                  requests: m.requests, inflight: m.inflight, requestSize: m.requestSize,
                  // x86_64 is every case's architecture unless named: its specs (and titles) stay as they were
                  ...(arch !== 'x86_64' ? { arch } : {}),
                };
                const title = caseTitle({ ...fields, seed: 0 });
                const spec: CaseSpec = { ...fields, seed: caseSeed(m.seed, title) };
                if (m.exclude.some((w) => ruleMatches(w, spec, dir, accepted))) continue;
                const expect = expectationFor(m, spec, dir, accepted);
                const tags = [`@${dir}`, RUNNER_KINDS[m.runner].tag];
                if (expect.known) tags.push('@known');
                out.push({ id: caseSlug(title), title, spec, direction: dir, runner: m.runner, tags, expect, matrix: m.name });
              }
            }
          }
        }
      }
    }
  }
  return out;
}
