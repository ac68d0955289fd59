// The layering rule bites (docs/layering.md): `npm run layering` (dependency-cruiser with
// .dependency-cruiser.cjs, run by `npm test` before Playwright) fails on an upward or a sideways
// import, a circle, a folder without a floor or the product importing tests, and names the edge
// (file → file) and the rule. Checked on a copy of harness/ with planted bad imports, so the real
// tree is never touched.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = process.cwd();
const CONFIG = '.dependency-cruiser.cjs';

/** harness/ and the rules in a fresh folder (node_modules linked, generated parsers left out). */
function copyOfHarness(): string {
  const dir = mkdtempSync(join(tmpdir(), 'migcompat-layering-'));
  cpSync(join(ROOT, 'harness'), join(dir, 'harness'), {
    recursive: true, filter: (src) => relative(join(ROOT, 'harness', 'formats', 'generated'), src).startsWith('..'),
  });
  for (const f of [CONFIG, 'package.json']) cpSync(join(ROOT, f), join(dir, f));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/** dependency-cruiser on `paths` of `dir`, plain text (Playwright's workers force colours on). */
function cruise(dir: string, outputType: 'err' | 'err-long', ...paths: string[]): { code: number | null; out: string } {
  const bin = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const r = spawnSync(process.execPath, [bin, '--config', CONFIG, '--output-type', outputType, ...paths], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const plant = (dir: string, file: string, text: string) => {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), text);
};

test('the rules pass on the tree as it is and fail on each planted bad import, naming the edge and the rule', () => {
  const dir = copyOfHarness();
  const clean = cruise(dir, 'err', 'harness');
  expect(clean.out).toMatch(/no dependency violations found \(\d+ modules/);
  expect(clean.code, clean.out).toBe(0);

  // upward: a device file reaching the matrix; type-only imports and type re-exports count too
  plant(dir, 'harness/device/upward.ts', "import { DIRECTIONS } from '../matrix/types.ts';\nexport const d = DIRECTIONS;\n");
  plant(dir, 'harness/util/typeUp.ts', "import type { Verdict } from '../oracle/types.ts';\nexport type V = Verdict;\n");
  plant(dir, 'harness/guest/reexport.ts', "export type { CaseSpec } from '../runners/types.ts';\n");
  // a dynamic import is an import
  plant(dir, 'harness/vfio/lazy.ts', "export const later = () => import('../drivers/registry.ts');\n");
  // upward from a floor in the middle, to show the whole message
  plant(dir, 'harness/runners/up.ts', "import { simEngine } from '../matrix/engine.ts';\nexport const e = simEngine;\n");
  // sideways, against the declared direction: runners never import ktree
  plant(dir, 'harness/runners/sideways.ts', "import { cacheRoot } from '../ktree/paths.ts';\nexport const c = cacheRoot;\n");
  // a circle inside one folder
  plant(dir, 'harness/util/circleA.ts', "import { b } from './circleB.ts';\nexport const a = () => b;\n");
  plant(dir, 'harness/util/circleB.ts', "import { a } from './circleA.ts';\nexport const b = () => a;\n");
  // a folder nobody gave a floor
  plant(dir, 'harness/newthing/x.ts', "import { hex64 } from '../util/hex.ts';\nexport const h = hex64;\n");
  // the product importing a test helper
  plant(dir, 'specs/helper.ts', 'export const h = 1;\n');
  plant(dir, 'harness/report/usesSpec.ts', "import { h } from '../../specs/helper.ts';\nexport const x = h;\n");

  const bad = cruise(dir, 'err-long', 'harness');
  expect(bad.code, bad.out).not.toBe(0);
  const edges = [
    'error device-imports-upward: harness/device/upward.ts → harness/matrix/types.ts',
    'error util-imports-upward: harness/util/typeUp.ts → harness/oracle/types.ts',
    'error guest-imports-upward: harness/guest/reexport.ts → harness/runners/types.ts',
    'error vfio-imports-upward: harness/vfio/lazy.ts → harness/drivers/registry.ts',
    'error runners-imports-upward: harness/runners/up.ts → harness/matrix/engine.ts',
    'error runners-imports-sideways: harness/runners/sideways.ts → harness/ktree/paths.ts',
    'error folder-without-floor: harness/newthing/x.ts → harness/util/hex.ts',
    'error product-imports-tests: harness/report/usesSpec.ts → specs/helper.ts',
  ];
  for (const e of edges) expect(bad.out).toContain(e);
  // err-long adds the rule's comment: the floors, and what the folder may import
  expect(bad.out.replace(/\s+/g, ' ')).toContain('error runners-imports-upward: harness/runners/up.ts → harness/matrix/engine.ts ' +
    'harness/runners is on floor 4 (util -> oracle/device/formats/kbuild -> vfio/guest -> drivers/transfer -> runners/ktree -> ' +
    'matrix/report/fuzz/conformance -> cli); it may import runners, util, oracle, device, formats, kbuild, vfio, guest, drivers, transfer.');
  expect(bad.out).toMatch(/error no-circular: harness\/util\/circleA\.ts → \s*harness\/util\/circleB\.ts →\s*harness\/util\/circleA\.ts/);
  // nothing else failed: the planted edges and the circle (reported once); the exit code is the count
  const count = /x (\d+) dependency violations/.exec(bad.out);
  expect(Number(count?.[1]), bad.out).toBe(edges.length + 1);
  expect(bad.code).toBe(edges.length + 1);
});

/** Every .ts file under a folder. */
const tsFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true, recursive: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && !join(e.parentPath, e.name).includes(join('formats', 'generated', '')))
  .map((e) => join(e.parentPath, e.name));

test('no inline import types of local files in harness/ (the checker parses with swc, which does not see them)', () => {
  // `x: import('../a.ts').T` is a dependency swc's visitor does not report; an `import type` at the top is
  const inline = /\bimport\(\s*['"]\.{1,2}\/[^'"]+['"]\s*\)\.(?!then\b)[A-Za-z_$]/;
  const found = tsFiles(join(ROOT, 'harness')).flatMap((f) => readFileSync(f, 'utf8').split('\n')
    .map((line, i) => (inline.test(line) ? `${relative(ROOT, f)}:${i + 1}: ${line.trim()}` : null))
    .filter((x): x is string => x !== null));
  expect(found).toEqual([]);
});
