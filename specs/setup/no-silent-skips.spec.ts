// Only tests that need real VFs may skip, and they say so: every skip or fixme in the specs and in the
// harness (which generates the matrix tests) must give a reason naming MIGCOMPAT_VFIO_DEVICES. A
// missing browser, QEMU or compiler is a failure with a one-line cause instead (the set-up installs them).
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Files that write throwaway specs with skips in them, to test how a run reports skips. */
const WRITES_SKIPPING_SPECS = new Set(['specs/report/closing-line.spec.ts']);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' || e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

// test.skip(, test.fixme(, test.describe.skip(, testInfo.skip(, test.info().skip(, describe.fixme( …
const SKIP_CALL = new RegExp(String.raw`\b(?:test\s*\.\s*info\(\)|test|describe|testInfo)\s*\.\s*(?:describe\s*\.\s*)?(skip|fixme)\s*\(`, 'g');

function skipCalls(text: string): { line: number; call: string }[] {
  const out: { line: number; call: string }[] = [];
  for (const m of text.matchAll(SKIP_CALL)) {
    // the call up to its closing parenthesis (strings with parentheses inside are rare enough here)
    let depth = 0;
    let end = m.index! + m[0].length - 1;
    for (; end < text.length; end++) {
      if (text[end] === '(') depth++;
      else if (text[end] === ')' && --depth === 0) break;
    }
    out.push({ line: text.slice(0, m.index).split('\n').length, call: text.slice(m.index, end + 1) });
  }
  return out;
}

test('the audit finds skips in every form', () => {
  const found = skipCalls([
    `test.skip(!ok, 'chromium missing');`, `test.fixme('later', () => {});`, `test.describe.skip('x', () => {});`,
    `testInfo.skip(cond);`, `test.info().skip(true, 'no (gcc)');`, `test.step('skip nothing', () => {});`,
  ].join('\n'));
  expect(found.map((f) => [f.line, f.call])).toEqual([
    [1, `test.skip(!ok, 'chromium missing')`], [2, `test.fixme('later', () => {})`], [3, `test.describe.skip('x', () => {})`],
    [4, 'testInfo.skip(cond)'], [5, `test.info().skip(true, 'no (gcc)')`],
  ]);
});

test('every skip in specs/ and harness/ is for want of real VFs and names MIGCOMPAT_VFIO_DEVICES', () => {
  const bad: string[] = [];
  let vfSkips = 0;
  for (const f of [...tsFiles('specs'), ...tsFiles('harness')]) {
    if (WRITES_SKIPPING_SPECS.has(f) || f === 'specs/setup/no-silent-skips.spec.ts') continue;
    for (const c of skipCalls(readFileSync(f, 'utf8'))) {
      if (c.call.includes('MIGCOMPAT_VFIO_DEVICES')) vfSkips++;
      else bad.push(`${f}:${c.line}: ${c.call.replace(/\s+/g, ' ')}`);
    }
  }
  expect(bad).toEqual([]);
  expect(vfSkips).toBeGreaterThan(0); // the audit does see the real-VF skips (specs/hw/real.spec.ts)
});
