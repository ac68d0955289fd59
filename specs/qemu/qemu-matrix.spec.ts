// The QEMU matrix (specs/matrices/qemu.yaml, or the qemu matrices MIGCOMPAT_MATRIX names): whole-VM
// cases through the Runner interface (QemuRunner + the oracle), recorded for the same grid files as
// the sim cases (tag @qemu). The cases of this file run one after another in one worker: two TCG
// guests per case already want both cores, and QEMU 7.2's dirty-page race shows under contention.
import { test, expect } from '@playwright/test';
import { matrixTests } from '../matrix/declare.ts';
import { qemuEngine } from '../../harness/matrix/runnerEngines.ts';
import { suiteCases } from '../../harness/matrix/suite.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';

test.describe.configure({ mode: 'default' });

const { cases } = await suiteCases(undefined, 'qemu');
// every QEMU a case started is gone once it ends, whatever the verdict
const tests = matrixTests(cases, () => qemuEngine(), () => expect(livePids(), 'QEMU processes left running').toEqual([]));
for (const t of tests) test(t.title, t.details, t.body);
