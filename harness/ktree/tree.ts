// Which files of a kernel tree a build reads: the driver folder, the few headers the shim does not
// stand in for (they carry the driver's own types and the uAPI numbers, so they come from the tree
// being tested), and the VFIO core's source, whose state-walk function (vfio_mig_get_next_state)
// is compiled from the tree's own text. Everything else the driver includes is the shim's.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/usage-error.ts';

export const DRIVER_DIR = 'drivers/vfio/pci/hisilicon';
export const TREE_HEADERS = ['include/linux/hisi_acc_qm.h', 'include/uapi/linux/vfio.h'];
/** The VFIO core's source: vfio_main.c since v6.0 (the file was vfio.c before). */
export const CORE_SOURCES = ['drivers/vfio/vfio_main.c', 'drivers/vfio/vfio.c'];
/** paths given to tar when extracting (folders end with '/'); a missing member is not an error there */
export const TREE_FILES = [`${DRIVER_DIR}/`, ...TREE_HEADERS, CORE_SOURCES[0]];

/** The VFIO core source of a tree (relative path), or null when it has none. */
export function coreSource(root: string): string | null {
  return CORE_SOURCES.find((f) => existsSync(join(root, f))) ?? null;
}

/** The files to stage from `root`, relative paths; a missing one is bad input (exit 2). */
export function treeFileList(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`kernel tree not found: ${root}`);
  const missing: string[] = [];
  const files: string[] = [];
  const dd = join(root, DRIVER_DIR);
  if (!existsSync(dd)) missing.push(DRIVER_DIR + '/');
  else for (const f of readdirSync(dd).sort()) if (/\.[ch]$/.test(f)) files.push(`${DRIVER_DIR}/${f}`);
  if (existsSync(dd) && !files.some((f) => f.endsWith('.c'))) missing.push(`${DRIVER_DIR}/*.c`);
  for (const h of TREE_HEADERS) {
    if (existsSync(join(root, h))) files.push(h);
    else missing.push(h);
  }
  const core = coreSource(root);
  if (core) files.push(core);
  else missing.push(CORE_SOURCES[0]);
  if (missing.length) throw new UsageError(`${root} is not a kernel tree with the hisi_acc driver and the VFIO core: missing ${missing.join(', ')}`);
  return files;
}
