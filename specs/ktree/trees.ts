// Shared by the ktree specs: the Debian trees (6.1 and 6.12, fetched and built once, cached outside
// git) and copies of them with a test-only change (to reach the build's error paths, the child
// process's crash and hang handling, and a core without the blocked-arc fix; the Debian trees
// themselves are never modified).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchDebian } from '../../harness/ktree/fetch.ts';
import type { ModuleBuild } from '../../harness/kbuild/kmod.ts';
import { resolveKtree, type KtreeEntry } from '../../harness/ktree/registry.ts';
import { DRIVER_DIR } from '../../harness/ktree/tree.ts';

export const DEBIAN = 'ktree:debian-6.1';
export const MODEL = 'hisi-acc/debian-6.1.192';
export const DEBIAN_612 = 'ktree:debian-6.12';
export const MODEL_612 = 'hisi-acc/debian-6.12.118';
export const DRIVER_C = `${DRIVER_DIR}/hisi_acc_vfio_pci.c`;
export const CORE_C = 'drivers/vfio/vfio_main.c';

export function debianTree(name: 'debian-6.1' | 'debian-6.12' = 'debian-6.1'): string {
  return fetchDebian(name).dir;
}

export function debianLib(id = DEBIAN): KtreeEntry {
  return resolveKtree(id);
}

const made: string[] = [];
process.on('exit', () => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A private copy of a Debian tree whose `file` (default: the driver) went through `edit` (removed at exit). */
export function patchedTree(edit: (src: string) => string, opts: { tree?: 'debian-6.1' | 'debian-6.12'; file?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ktree-spec-'));
  made.push(dir);
  cpSync(debianTree(opts.tree), dir, { recursive: true });
  const f = join(dir, opts.file ?? DRIVER_C);
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

/**
 * hisi_qm, hisi_acc_vfio_pci and what they need, built from Debian's newest linux-source-6.1 against
 * the headers of Debian's current arm64 kernel (linux-headers-arm64): the build a Kunpeng lab host
 * running that kernel would take. Cached by source hash after the first build.
 */
export async function debianArm64HostBuild(): Promise<ModuleBuild> {
  const { ensureHeaders } = await import('../../harness/kbuild/headers.ts');
  const { buildModules, fetchModuleSource, HOST_MODULES } = await import('../../harness/kbuild/kmod.ts');
  const tree = fetchModuleSource('debian-6.1');
  return buildModules(tree.dir, ensureHeaders('linux-headers-arm64', 'arm64'), HOST_MODULES, { treeVersion: `debian-6.1 ${tree.pkgVersion}` });
}
