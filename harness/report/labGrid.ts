// `migcompat lab` cells as grid entries, so a lab run writes the same summary.json / matrix.md /
// matrix.html as a matrix run (gridFiles.ts). A row or column is a host and the kernel it runs
// ("kp-new [6.16.0-kp]"), ordered by kernel version; pair cells and corpus cells are two grids. Lab
// cells have no expectations: a clean outcome (migrated or refused) passes, broken or error is red,
// as `lab`'s exit status always said. The reproduction is `migcompat load` of the cell's stream on
// the destination host's VF.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { DEFAULT_DEVICE } from '../device/mmio.ts';
import { caseSlug } from '../matrix/expand.ts';
import type { LabCell } from '../runners/lab/run.ts';
import { caseTitle, type CaseSpec } from '../runners/types.ts';
import { writeGridFiles, type GridEntry } from './gridFiles.ts';
import type { Summary } from './record.ts';

const label = (host: string, kernel: string) => `${host} [${kernel}]`;
const byKernel = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

export const LAB_RULE = 'lab: a clean outcome (migrated or refused)';

export function labEntries(cells: LabCell[]): { entries: GridEntry[]; replay: Map<string, string> } {
  const kernels = new Map<string, string>();
  for (const c of cells) {
    kernels.set(label(c.src, c.srcKernel), c.srcKernel);
    kernels.set(label(c.dst, c.dstKernel), c.dstKernel);
  }
  const order = [...kernels.keys()].sort((a, b) => byKernel(kernels.get(a)!, kernels.get(b)!) || a.localeCompare(b));
  const replay = new Map<string, string>();
  const entries = cells.map((c): GridEntry => {
    const spec: CaseSpec = {
      src: label(c.src, c.srcKernel), dst: label(c.dst, c.dstKernel), workload: 'no-driver', scenario: 'single-hop',
      transfer: c.transfer, device: DEFAULT_DEVICE, requests: 0, inflight: 0, requestSize: 0, seed: 0,
    };
    const title = caseTitle(spec);
    const id = caseSlug(title);
    const k = byKernel(c.srcKernel, c.dstKernel);
    const stream = c.stream && existsSync(c.stream) ? new Uint8Array(readFileSync(c.stream)) : null;
    if (c.stream && c.dstVf) replay.set(id, `migcompat load --device ${c.dstVf} ${relative(process.cwd(), c.stream)} --transfer ${c.transfer}   # on ${c.dst}`);
    return {
      case: {
        id, title, matrix: c.kind === 'pair' ? 'lab' : 'lab corpus', runner: 'lab',
        direction: k === 0 ? 'same-version' : k < 0 ? 'old-new' : 'new-old',
        srcRank: order.indexOf(spec.src), dstRank: order.indexOf(spec.dst), spec,
      },
      evidence: c.evidence ? { ...c.evidence, stream: c.evidence.stream ?? stream } : null,
      verdict: { outcome: c.outcome, reason: c.reason, errno: c.errno, stage: c.stage },
      expected: { outcome: 'migrated', acceptable: ['refused'], rule: LAB_RULE, known: null },
    };
  });
  return { entries, replay };
}

/** Grid files of a lab run in `dir` (results/<run-id>; history in its parent). */
export function writeLabGrid(dir: string, cells: LabCell[]): Summary {
  const { entries, replay } = labEntries(cells);
  return writeGridFiles(dir, entries, { bundles: false, replay: (c) => replay.get(c.id) ?? null });
}
