// Playwright Test as migcompat's runner: one project per concern. `npm test` installs the Debian
// packages the tests need first (`migcompat setup`), then runs every project that needs no hardware;
// only tests that need real VFs skip (with the reason) unless MIGCOMPAT_VFIO_DEVICES names devices.
import { defineConfig } from '@playwright/test';
import { runDir } from './harness/util/runDir.ts';

const dir = runDir();
const workers = Number(process.env.MIGCOMPAT_WORKERS ?? 2);
// Under `npm test` the QEMU project waits for every other project: two TCG guests want both cores,
// and QEMU 7.2's dirty-page race under TCG shows up under CPU contention (docs/qemu-runner.md).
const underNpmTest = process.env.npm_lifecycle_event === 'test';
const beforeQemu = underNpmTest ? ['setup', 'formats', 'engine', 'sim', 'report', 'fuzz', 'hw', 'ktree', 'layering', 'conformance'] : [];
// The kernel guest is a TCG guest too: it runs after the QEMU project, never beside it.
const beforeKernel = underNpmTest ? [...beforeQemu, 'qemu'] : [];

export default defineConfig({
  testDir: 'specs',
  outputDir: `${dir}/test-results`,
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  workers,
  timeout: 60_000,
  reporter: [
    [process.env.CI ? 'dot' : 'list'],
    ['junit', { outputFile: `${dir}/junit.xml` }],
    ['json', { outputFile: `${dir}/results.json` }],
    ['html', { outputFolder: `${dir}/playwright`, open: 'never' }],
    // matrix grid: results/<run-id>/summary.json, matrix.md, matrix.html, repro/ (docs/reports.md)
    ['./harness/report/gridReporter.ts'],
    ['./harness/report/closingLine.ts'],
  ],
  projects: [
    // the front door: `npm test`'s own set-up on a bare machine (dpkg and apt views, nothing removed),
    // one entry point for CI, and no test that skips for want of a tool
    { name: 'setup', testMatch: 'setup/**/*.spec.ts', timeout: 180_000 },
    // stream formats: Kaitai descriptions, decode/encode/diff/lint, the CLI commands on them
    { name: 'formats', testMatch: 'formats/**/*.spec.ts' },
    // the simulated device, driver revisions, uAPI, transfers and oracle
    { name: 'engine', testMatch: 'engine/**/*.spec.ts' },
    // the compatibility matrix: one test per case (`npm run matrix` runs this project alone)
    { name: 'sim', testMatch: 'matrix/**/*.spec.ts' },
    // reports: grid files, the HTML page in a real browser, repro bundles and replay
    { name: 'report', testMatch: 'report/**/*.spec.ts' },
    // property-based and model-based fuzzing with fixed seeds and bounded runs
    { name: 'fuzz', testMatch: 'fuzz/**/*.spec.ts', timeout: 180_000 },
    // whole-VM migration with QEMU (TCG)
    { name: 'qemu', testMatch: 'qemu/**/*.spec.ts', timeout: 300_000, retries: 0, dependencies: beforeQemu },
    // real VFs (MIGCOMPAT_VFIO_DEVICES) and the kernel backend against a user-space stand-in
    { name: 'hw', testMatch: 'hw/**/*.spec.ts', timeout: 120_000 },
    // real driver source built against our shim
    { name: 'ktree', testMatch: 'ktree/**/*.spec.ts', timeout: 600_000 },
    // the repository's shape: the import rules between harness/ folders bite, ktree plugs itself in
    { name: 'layering', testMatch: 'layering/**/*.spec.ts' },
    // a real kernel: Debian's kernel in a TCG guest with mtty, migcompat running inside (one boot, tests in order)
    { name: 'kernel', testMatch: 'kernel/**/*.spec.ts', timeout: 600_000, retries: 0, fullyParallel: false, dependencies: beforeKernel },
    // the VFIO migration uAPI contract: every clause can fail, the released table, the CLI, the stand-in
    { name: 'conformance', testMatch: 'conformance/**/*.spec.ts', timeout: 120_000 },
  ],
});
