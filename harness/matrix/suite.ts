// What a matrix project runs: the matrix files named by MIGCOMPAT_MATRIX (comma-separated paths)
// whose runner is the project's, else that runner's default matrix, expanded at collection time.
// Each runner's ids are loaded only when a matrix names that runner (the sim suite never imports
// the QEMU or hardware runners).
import { resolve } from 'node:path';
import { UsageError } from '../util/usage-error.ts';
import { expandMatrix, idRanks, type RevisionFacts } from './expand.ts';
import { parseMatrix, peekRunner, readMatrixText } from './load.ts';
import { registryFacts } from './revisions.ts';
import { RUNNER_KINDS } from './runnerKinds.ts';
import type { Matrix, MatrixCase, MatrixRunner } from './types.ts';

export const DEFAULT_MATRIX = RUNNER_KINDS.sim.defaultMatrix;

export function matrixPaths(env = process.env.MIGCOMPAT_MATRIX, fallback = DEFAULT_MATRIX): string[] {
  const list = (env ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return (list.length ? list : [fallback]).map((p) => resolve(p));
}

export interface SuiteCase extends MatrixCase {
  ranks: { src: number; dst: number };
}

export async function factsFor(runner: MatrixRunner): Promise<RevisionFacts> {
  if (runner === 'sim') return registryFacts();
  if (runner === 'qemu') return (await import('./qemuIds.ts')).qemuFacts;
  return (await import('./hwIds.ts')).hwFacts();
}

export interface LoadedMatrix {
  path: string;
  matrix: Matrix;
  facts: RevisionFacts;
}

/** Read and validate matrix files (each with its runner's ids). */
export async function loadMatrices(paths: string[]): Promise<LoadedMatrix[]> {
  const out: LoadedMatrix[] = [];
  const cache = new Map<MatrixRunner, RevisionFacts>();
  for (const path of paths) {
    const { name, text } = readMatrixText(path);
    // an invalid runner value: parseMatrix names it (with the sim facts, never used further)
    const runner = peekRunner(text) ?? 'sim';
    let facts = cache.get(runner);
    if (!facts) cache.set(runner, (facts = await factsFor(runner)));
    out.push({ path, matrix: parseMatrix(text, name, facts), facts });
  }
  return out;
}

export function expandLoaded(loaded: LoadedMatrix[]): SuiteCase[] {
  const cases: SuiteCase[] = [];
  for (const { matrix: m, facts } of loaded) {
    const ranks = idRanks(m, facts.base);
    for (const c of expandMatrix(m, facts)) cases.push({ ...c, ranks: { src: ranks.get(c.spec.src)!, dst: ranks.get(c.spec.dst)! } });
  }
  return cases;
}

/**
 * The cases a project runs: matrices of `runner` among MIGCOMPAT_MATRIX, else the runner's default
 * matrix (when MIGCOMPAT_MATRIX names only other runners' matrices, none).
 */
export async function suiteCases(paths?: string[], runner: MatrixRunner = 'sim'): Promise<{ matrices: Matrix[]; cases: SuiteCase[] }> {
  let loaded: LoadedMatrix[];
  if (paths) loaded = await loadMatrices(paths);
  else {
    const named = (process.env.MIGCOMPAT_MATRIX ?? '').trim();
    loaded = named
      ? (await loadMatrices(matrixPaths(named))).filter((l) => l.matrix.runner === runner)
      : await loadMatrices([resolve(RUNNER_KINDS[runner].defaultMatrix)]);
  }
  for (const l of loaded) {
    if (paths && l.matrix.runner !== runner) {
      throw new UsageError(`${l.matrix.file}: runner: expected ${runner} (this suite runs ${runner} matrices), got "${l.matrix.runner}"`);
    }
  }
  return { matrices: loaded.map((l) => l.matrix), cases: expandLoaded(loaded) };
}
