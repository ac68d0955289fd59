// The compatibility matrix: one test per case, generated at collection time from the matrix YAML
// (MIGCOMPAT_MATRIX, default specs/matrices/default.yaml). Titles are greppable
// ("v5.18 -> v6.16 kernel-crypto qemu SEC"); tags give the direction and the runner.
import { test } from '@playwright/test';
import { runMatrixTest } from '../../harness/matrix/caseTest.ts';
import { simEngine } from '../../harness/matrix/engine.ts';
import { suiteCases } from '../../harness/matrix/suite.ts';

const { cases } = suiteCases();

for (const c of cases) {
  const annotation = c.expect.known
    ? [{ type: 'known', description: `${c.expect.known.id}: ${c.expect.known.description} (${c.expect.known.link})` }]
    : [];
  test(c.title, { tag: c.tags, annotation }, () => runMatrixTest(c, simEngine, c.ranks));
}
