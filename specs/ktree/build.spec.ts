// Building a tree: the Debian 6.1 and 6.12 drivers (and their cores' state walks) compile unmodified
// against the shim, the library is cached by the source hash, and a tree that needs what the shim lacks fails with one message
// naming the missing headers and symbols (exit 2 from the CLI).
import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { buildTree, KtreeBuildError, parseDiagnostics } from '../../harness/ktree/build.ts';
import { fetchDebian } from '../../harness/ktree/fetch.ts';
import { CORE_C, DRIVER_C, atFunctionStart, debianTree, patchedTree } from './trees.ts';

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The error a build of `tree` fails with (the test fails when it builds). */
function buildError(tree: Parameters<typeof buildTree>[0]): KtreeBuildError {
  try {
    buildTree(tree);
  } catch (e) {
    expect(e).toBeInstanceOf(KtreeBuildError);
    return e as KtreeBuildError;
  }
  throw new Error('the build succeeded');
}

test('Debian 6.1: the fetched tree is the 6.1 point release it records, and its driver builds unmodified into a cached library', () => {
  // the series is pinned, not the point release: whatever apt serves, the Makefile and the record agree
  const fetched = fetchDebian('debian-6.1');
  const tree = fetched.dir;
  expect(fetched.kernelVersion).toMatch(/^6\.1\.\d+$/);
  const mk = readFileSync(join(tree, 'Makefile'), 'utf8');
  expect(mk).toMatch(/^VERSION = 6$/m);
  expect(mk).toMatch(/^PATCHLEVEL = 1$/m);
  expect(mk).toMatch(new RegExp(`^SUBLEVEL = ${fetched.kernelVersion.split('.')[2]}$`, 'm'));
  const before = sha(join(tree, DRIVER_C));
  const b = buildTree(tree);
  expect(existsSync(b.libPath)).toBe(true);
  expect(b.files).toContain(DRIVER_C);
  expect(sha(join(tree, DRIVER_C))).toBe(before); // the build never writes into the tree
  const again = buildTree(tree);
  expect(again.cached).toBe(true);
  expect(again.libPath).toBe(b.libPath);
  const meta = JSON.parse(readFileSync(join(b.libPath, '..', 'build.json'), 'utf8'));
  expect(meta.hash).toBe(b.hash);
});

test('a changed driver source gets its own library (cache key is the source hash)', () => {
  const base = buildTree(debianTree());
  const tree = patchedTree((s) => s + '\n/* a comment changes the hash, not the code */\n');
  const b = buildTree(tree);
  expect(b.hash).not.toBe(base.hash);
  expect(b.libPath).not.toBe(base.libPath);
  expect(buildTree(tree, { force: true }).cached).toBe(false);
});

test('missing headers and symbols are listed in one message', () => {
  const tree = patchedTree((s) => s.replace('#include <linux/device.h>',
    '#include <linux/device.h>\n#include <linux/no_such_shim_header.h>\n#include <linux/another_missing.h>'));
  const e = buildError(tree);
  expect(e.missingHeaders).toEqual(['linux/no_such_shim_header.h', 'linux/another_missing.h']);
  expect(e.message.split('\n')).toHaveLength(1);
  expect(e.message).toContain('linux/no_such_shim_header.h, linux/another_missing.h');

  const tree2 = patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_stop_device',
    'extern int kernel_thing_the_shim_lacks(int); if (kernel_thing_the_shim_lacks(1)) return -EIO; qm_magic_helper(hisi_acc_vdev);'));
  expect(buildError(tree2).missingSymbols).toContain('qm_magic_helper');
});

test('linker: an undefined function the shim lacks is named', () => {
  const tree = patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_stop_device',
    'extern int kernel_thing_the_shim_lacks(int); if (kernel_thing_the_shim_lacks(1)) return -EIO;'));
  expect(() => buildTree(tree)).toThrow(/missing symbols: kernel_thing_the_shim_lacks/);
  expect(parseDiagnostics("x.c:(.text+0x1): undefined reference to `foo_bar'").symbols).toEqual(['foo_bar']);
});

test('CLI: a path that is not a kernel tree is bad input (one line, exit 2)', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'harness/cli/main.ts', 'ktree', 'build', '--tree', '/', '--name', 'x'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain('missing drivers/vfio/pci/hisilicon/');
});

test('Debian 6.12: the newest 6.12 point release builds unmodified, its core walk from its own vfio_main.c', () => {
  const tree = debianTree('debian-6.12');
  expect(readFileSync(join(tree, 'Makefile'), 'utf8')).toMatch(/^PATCHLEVEL = 12$/m);
  const meta = JSON.parse(readFileSync(join(tree, '.migcompat-tree.json'), 'utf8'));
  expect(meta).toMatchObject({ source: 'debian', pkg: 'linux-source-6.12' });
  expect(meta.pkgVersion).toMatch(/^6\.12\.\d+-/);
  const before = [DRIVER_C, CORE_C].map((f) => sha(join(tree, f)));
  const b = buildTree(tree);
  expect(b.files).toEqual(expect.arrayContaining([DRIVER_C, CORE_C]));
  expect([DRIVER_C, CORE_C].map((f) => sha(join(tree, f)))).toEqual(before);
});

test('a newer tree: compile errors and calls to functions the shim lacks come in one message', () => {
  // as upstream drivers after 6.12 do: a debugfs reader on the seq_file, a core helper the shim lacks
  const tree = patchedTree((s) => s.replace('static int hisi_acc_vf_release_file(',
    'static int hisi_acc_newer_reader(struct seq_file *seq, void *data)\n{\n\tseq_puts(seq, "x");\n' +
    '\tvfio_core_helper_from_the_future(seq->private);\n\treturn seq->no_such_member;\n}\n\nstatic int hisi_acc_vf_release_file('),
  { tree: 'debian-6.12' });
  const e = buildError(tree);
  expect(e.message.split('\n')).toHaveLength(1);
  expect(e.missingSymbols).toEqual(expect.arrayContaining(['member no_such_member', 'vfio_core_helper_from_the_future']));
  expect(e.missingSymbols).not.toContain('seq_puts'); // debugfs and seq_file are stubbed in the shim
});
