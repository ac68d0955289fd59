// Shared by the ktree specs: Debian 6.1.192's tree (fetched and built once, cached outside git) and
// copies of it with a test-only change (to reach the build's error paths and the child process's
// crash and hang handling; the Debian tree itself is never modified).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchDebian } from '../../harness/ktree/fetch.ts';
import { resolveKtree, type KtreeEntry } from '../../harness/ktree/registry.ts';
import { DRIVER_DIR } from '../../harness/ktree/tree.ts';

export const DEBIAN = 'ktree:debian-6.1';
export const MODEL = 'hisi-acc/debian-6.1.192';
export const DRIVER_C = `${DRIVER_DIR}/hisi_acc_vfio_pci.c`;

export function debianTree(): string {
  return fetchDebian('debian-6.1').dir;
}

export function debianLib(): KtreeEntry {
  return resolveKtree(DEBIAN);
}

const made: string[] = [];
process.on('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A private copy of the Debian tree whose driver source went through `edit` (removed at exit). */
export function patchedTree(edit: (src: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ktree-spec-'));
  made.push(dir);
  cpSync(debianTree(), dir, { recursive: true });
  const f = join(dir, DRIVER_C);
  const before = readFileSync(f, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('patchedTree: the edit changed nothing (the anchor moved?)');
  writeFileSync(f, after);
  return dir;
}

/** Insert `code` at the start of the body of the C function `fn` (first "{" after its name). */
export function atFunctionStart(src: string, fn: string, code: string): string {
  const at = src.indexOf(`${fn}(struct hisi_acc_vf_core_device *hisi_acc_vdev)\n{`);
  if (at < 0) return src;
  const brace = src.indexOf('{', at) + 1;
  return src.slice(0, brace) + `\n\t${code}\n` + src.slice(brace);
}
