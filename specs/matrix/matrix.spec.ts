// The compatibility matrix on the simulated device: one test per case, generated at collection time
// from the sim matrices MIGCOMPAT_MATRIX names (default specs/matrices/default.yaml). Titles are
// greppable ("v5.18 -> v6.16 kernel-crypto qemu SEC"); tags give the direction and the runner (@sim).
// Cases run synchronously (runCase): per-test overhead is what bounds the 810-case run.
import { test } from '@playwright/test';
import { matrixTests } from './declare.ts';
import { simEngine } from '../../harness/matrix/engine.ts';
import { suiteCases } from '../../harness/matrix/suite.ts';

const { cases } = await suiteCases(undefined, 'sim');
for (const t of matrixTests(cases, simEngine)) test(t.title, t.details, t.body);
