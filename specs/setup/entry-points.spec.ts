// One way in: `npm test` starts with the set-up, CI runs `npm ci` and `npm test` and installs nothing
// itself, and the package list is read the way the set-up reads it.
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHostNeeds, readHostNeeds } from '../../harness/util/hostPackages.ts';

test('npm test begins with the set-up; CI runs npm ci and npm test and no installer of its own', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.test!.split('&&')[0]!.trim()).toBe('tsx harness/cli/main.ts setup');
  const commands = readFileSync('.ci/run', 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  expect(commands.filter((l) => /^npm /.test(l))).toEqual(['npm ci --no-audit --no-fund', 'npm test']);
  expect(commands.filter((l) => /apt|dpkg/.test(l))).toEqual([]);
});

test('the package list: names, pkg:arch, architecture lines, comments; a bad line names file and line', () => {
  const n = parseHostNeeds('# c\nqemu-system-x86   # why\n\narchitecture: arm64\nlibc6:armhf\nqemu-system-x86\ng++\n', '/x/list.txt');
  expect(n.packages).toEqual(['qemu-system-x86', 'libc6:armhf', 'g++']);
  expect(n.architectures).toEqual(['arm64', 'armhf']);
  expect(() => parseHostNeeds('gcc\nsudo apt-get install x\n', '/x/list.txt')).toThrow(/list\.txt:2: 'sudo apt-get install x' is neither a Debian package name nor 'architecture: ARCH'$/);
  expect(readHostNeeds().packages.length).toBeGreaterThan(0);
});

test('setup: a bad list or option is one line and exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mc-setup-'));
  const list = join(dir, 'list.txt');
  writeFileSync(list, 'gcc\nNot A Package\n');
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'setup', ...args], { encoding: 'utf8' });
  const bad = cli(['--list', list]);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe(`migcompat: ${list}:2: 'Not A Package' is neither a Debian package name nor 'architecture: ARCH'\n`);
  const missing = cli(['--list', join(dir, 'nope.txt')]);
  expect([missing.status, missing.stderr]).toEqual([2, `migcompat: cannot read ${join(dir, 'nope.txt')}: ENOENT\n`]);
  expect(cli(['--frobnicate']).status).toBe(2);
});
