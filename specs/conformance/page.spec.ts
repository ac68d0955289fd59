// conformance.html in a real browser (Debian's chromium via playwright-core): one cell per clause and
// revision, coloured by verdict, outlined when known or red; a click shows the violation, its
// minimal sequence and the replay command. Without chromium this fails with launchChromium's one line.
import { test, expect } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHECK_PARAMS } from '../../harness/conformance/checks/index.ts';
import { loadContract } from '../../harness/conformance/contract.ts';
import { loadKnown } from '../../harness/conformance/known.ts';
import { writeConformanceFiles } from '../../harness/conformance/report.ts';
import { runConformance } from '../../harness/conformance/run.ts';
import { resolveSubjects } from '../../harness/conformance/subjects.ts';
import { launchChromium } from '../report/browser.ts';

test('conformance.html: the table, colours per verdict, a cell opens its sequence and replay command', async () => {
  const contract = loadContract(undefined, CHECK_PARAMS);
  const clauses = contract.clauses.filter((c) => ['set-returns', 'reset-returns-running', 'saving-group-one-session', 'resume-stop-validates'].includes(c.id));
  // declarations for all but the v6.2 reset gate: that cell is unexpected, red
  const known = loadKnown(undefined, new Set(contract.clauses.map((c) => c.id))).filter((k) => k.id !== 'reset-done-gate-pre-copy');
  const r = await runConformance({ contract, clauses, known, subjects: resolveSubjects('v5.18,v6.2,v7.0') });
  const dir = join(mkdtempSync(join(tmpdir(), 'mc-conf-page-')), 'run');
  writeConformanceFiles(dir, r, { known: 'test' });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'conformance.html')).href);
    await expect(page.locator('td.cell')).toHaveCount(12);
    const bg = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await bg('td.v-holds')).toBe('rgb(183, 225, 176)');
    expect(await bg('td.v-violated')).toBe('rgb(244, 163, 163)');
    expect(await bg('td.v-hang')).toBe('rgb(247, 198, 122)');
    expect(await bg('td.v-na')).toBe('rgb(228, 228, 228)');
    await expect(page.locator('td.cell.s-known')).toHaveCount(5); // v6.2, v7.0 hangs; three 40-byte prefixes
    await expect(page.locator('td.cell.s-unexpected')).toHaveCount(1);
    expect(await page.locator('td.s-unexpected').evaluate((el) => getComputedStyle(el).outlineColor)).toBe('rgb(204, 0, 0)');
    const red = page.locator('td.cell[data-clause="reset-returns-running"][data-subject="hisi-acc/v6.2"]');
    await expect(red).toHaveText(/^✗‼/);
    await expect(page.locator('td.cell[data-verdict="hang"] svg.hourglass').first()).toBeVisible();
    await red.click();
    await expect(page.locator('#panel')).toBeVisible();
    await expect(page.locator('#panel .seq')).toContainText('VFIO_DEVICE_RESET = ok → STOP');
    await expect(page.locator('#panel .replay')).toContainText('replay');
    await page.locator('td.cell[data-clause="set-returns"][data-subject="hisi-acc/v7.0"]').click();
    await expect(page.locator('#panel')).toContainText('core-skip-loop-blocked-arc');
    await expect(page.locator('#panel a[href^="https://lore.kernel.org/r/"]')).toHaveCount(1);
    await expect(page.locator('#panel .seq')).toContainText('SET PRE_COPY = never returns');
    test.info().attachments.push({ name: 'conformance.png', contentType: 'image/png', body: await page.screenshot({ fullPage: true }) });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
});
