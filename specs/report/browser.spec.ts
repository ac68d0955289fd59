// The generated matrix.html in a real browser (Debian's chromium via playwright-core): cells are
// counted, outcome colours checked, filters used, a cell's details opened; a screenshot is kept.
// Without chromium this fails with the one line launchChromium gives; it never skips.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchChromium } from './browser.ts';
import { writeRunFiles } from '../../harness/report/gridReporter.ts';
import { OUTCOME_COLORS } from '../../harness/report/html.ts';
import { handGrid } from './records.ts';

const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

test('matrix.html: cells, colours, filters, details and the changed mark in chromium', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mc-html-'));
  writeRunFiles(join(root, 'run-1'), handGrid(), { snapshots: () => ({}) });
  writeRunFiles(join(root, 'run-2'), handGrid({ 'v7.0_to_v5.18_user-polling_qemu_SEC': 'broken' }), { snapshots: () => ({}) });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(root, 'run-2', 'matrix.html')).href);

    await expect(page.locator('.case')).toHaveCount(18);
    await expect(page.locator('section.g')).toHaveCount(2);
    await expect(page.locator('#shown')).toHaveText('18 cases shown');
    const bg = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await bg('.case.o-migrated')).toBe(rgb(OUTCOME_COLORS.migrated));
    expect(await bg('.case.o-refused')).toBe(rgb(OUTCOME_COLORS.refused));
    expect(await bg('.case.o-broken')).toBe(rgb(OUTCOME_COLORS.broken));
    expect(await bg('.case.o-error')).toBe(rgb(OUTCOME_COLORS.error));
    // the known defect is marked, the unexpected ones outlined in red, the changed one dotted
    await expect(page.locator('.case.s-known')).toHaveCount(1);
    await expect(page.locator('.case.s-unexpected')).toHaveCount(2);
    await expect(page.locator('.case.changed')).toHaveCount(1);
    expect(await page.locator('.case.s-unexpected').first().evaluate((el) => getComputedStyle(el).outlineColor)).toBe('rgb(204, 0, 0)');
    // trend: two runs
    await expect(page.locator('svg.trend g.run')).toHaveCount(2);

    await page.selectOption('#f-workload', 'kernel-crypto');
    await expect(page.locator('section.g:visible')).toHaveCount(1);
    await expect(page.locator('#shown')).toHaveText('9 cases shown');
    await page.selectOption('#f-device', 'SEC');
    const secVisible = await page.locator('section.g:visible .case:visible').count();
    expect(secVisible).toBe(handGrid().filter((c) => c.spec.workload === 'kernel-crypto' && c.spec.device.type === 'SEC').length);
    await page.selectOption('#f-workload', '');
    await page.selectOption('#f-device', '');
    await page.check('#f-red');
    await expect(page.locator('#shown')).toHaveText('2 cases shown'); // the unexpected error + the changed/unexpected broken
    await page.uncheck('#f-red');

    await page.locator('.case.changed').click();
    const panel = page.locator('#panel');
    await expect(panel).toBeVisible();
    await expect(panel.locator('.t')).toHaveText('v7.0 -> v5.18 user-polling qemu SEC');
    await expect(panel.locator('.reason')).toHaveText('broken because test');
    await expect(panel.locator('.replay')).toContainText('migcompat -- replay');
    await expect(panel.locator('.replay')).toContainText('repro/v7.0_to_v5.18_user-polling_qemu_SEC.json');
    await expect(panel).toContainText('changed since the previous run');
    await expect(panel.locator('a', { hasText: 'bundle' })).toHaveAttribute('href', 'repro/v7.0_to_v5.18_user-polling_qemu_SEC.json');

    const shot = await page.screenshot({ fullPage: true });
    const out = test.info().outputPath('matrix-page.png');
    writeFileSync(out, shot);
    await test.info().attach('matrix-page.png', { path: out, contentType: 'image/png' });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
});

test('no chromium: one line naming the package, not a skip', async () => {
  const script = `const { launchChromium } = await import(${JSON.stringify(join(process.cwd(), 'specs/report/browser.ts'))});
try { await launchChromium(); console.log('launched'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, MIGCOMPAT_CHROMIUM: '/nonexistent/chromium' } });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe('MissingDependencyError: /nonexistent/chromium not found: install the Debian package chromium (apt-get install chromium; `npm test` does it as root)\n');
});
