// What the `sim` project runs: the matrix files named by MIGCOMPAT_MATRIX (comma-separated paths),
// else specs/matrices/default.yaml, expanded at collection time.
import { resolve } from 'node:path';
import { expandMatrix } from './expand.ts';
import { loadMatrixFile } from './load.ts';
import { registryFacts } from './revisions.ts';
import type { Matrix, MatrixCase } from './types.ts';

export const DEFAULT_MATRIX = 'specs/matrices/default.yaml';

export function matrixPaths(env = process.env.MIGCOMPAT_MATRIX): string[] {
  const list = (env ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return (list.length ? list : [DEFAULT_MATRIX]).map((p) => resolve(p));
}

export interface SuiteCase extends MatrixCase {
  ranks: { src: number; dst: number };
}

export function suiteCases(paths = matrixPaths()): { matrices: Matrix[]; cases: SuiteCase[] } {
  const facts = registryFacts();
  const matrices = paths.map((p) => loadMatrixFile(p, facts));
  const cases: SuiteCase[] = [];
  for (const m of matrices) {
    for (const c of expandMatrix(m, facts)) {
      cases.push({ ...c, ranks: { src: m.order.indexOf(c.spec.src), dst: m.order.indexOf(c.spec.dst) } });
    }
  }
  return { matrices, cases };
}
