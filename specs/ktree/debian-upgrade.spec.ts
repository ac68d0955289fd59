// The Debian 6.1 ↔ 6.12 slice with the real code on both sides (ktree:debian-6.1 and
// ktree:debian-6.12, each with its own core's state walk): every cell as the models answer it
// (specs/engine/debian-upgrade.spec.ts), outcome, errno and stage.
import { test, expect } from '@playwright/test';
import type { Job } from '../../harness/ktree/jobs.ts';
import { runJobsInChild } from '../../harness/ktree/pool.ts';
import { judge } from '../../harness/oracle/judge.ts';
import type { Evidence } from '../../harness/oracle/types.ts';
import { debianUpgradeSlice, expectedDebianCell } from '../engine/debian-upgrade.ts';
import { DEBIAN, DEBIAN_612, debianLib } from './trees.ts';

test('real code on both sides: 6.1.192 -> 6.12.118 and back, each workload, single and qemu, as the models say', async () => {
  const libs = { [DEBIAN]: debianLib(DEBIAN).libPath, [DEBIAN_612]: debianLib(DEBIAN_612).libPath };
  const specs = debianUpgradeSlice(DEBIAN, DEBIAN_612);
  const jobs: Job[] = specs.map((spec, i) => ({ kind: 'case', id: String(i), spec }));
  const results = await runJobsInChild(jobs, { libs });
  const cells = results.map((r, i) => {
    const s = specs[i];
    const e = r.evidence as unknown as Evidence & { stream: string | null };
    const v = e ? judge({ ...e, stream: e.stream ? Buffer.from(e.stream, 'hex') : null }) : { outcome: 'error', reason: r.error };
    return { cell: `${s.src} -> ${s.dst} ${s.workload} ${s.transfer}`, got: v, want: expectedDebianCell(s) };
  });
  await test.info().attach('cells.txt', { body: cells.map((c) => `${c.cell}: ${c.got.outcome}`).join('\n'), contentType: 'text/plain' });
  for (const c of cells) expect(c.got, c.cell).toMatchObject(c.want);
  expect(cells.filter((c) => c.got.outcome === 'refused')).toHaveLength(4);
});
