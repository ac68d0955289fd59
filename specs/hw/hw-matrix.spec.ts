// The hardware matrix (specs/matrices/hw.yaml, or the vfio-host matrices MIGCOMPAT_MATRIX names): real
// VFs named by MIGCOMPAT_VFIO_DEVICES, capture on the source VF and load on the destination VF through
// VfioHostRunner (tag @hw). Without devices the matrix expands to nothing and this file skips with the
// reason. Cases run one after another: each takes the VFs' locks.
import { test } from '@playwright/test';
import { matrixTests } from '../matrix/declare.ts';
import { hwEngine } from '../../harness/matrix/runnerEngines.ts';
import { suiteCases } from '../../harness/matrix/suite.ts';

test.describe.configure({ mode: 'default' });

const { matrices, cases } = await suiteCases(undefined, 'vfio-host');
if (cases.length === 0) {
  test(`hw matrix ${matrices.map((m) => m.name).join(', ') || '(none)'}`, { tag: '@hw' }, () => {
    test.skip(true, 'no VFs: set MIGCOMPAT_VFIO_DEVICES=0000:75:00.1[,…] (bound to hisi_acc_vfio_pci)');
  });
}
for (const t of matrixTests(cases, () => hwEngine())) test(t.title, t.details, t.body);
