// Which files of a kernel tree a build reads: the driver folder and the few headers the shim does
// not stand in for (they carry the driver's own types and the uAPI numbers, so they come from the
// tree being tested). Everything else the driver includes is the shim's.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../util/usage-error.ts';

export const DRIVER_DIR = 'drivers/vfio/pci/hisilicon';
export const TREE_HEADERS = ['include/linux/hisi_acc_qm.h', 'include/uapi/linux/vfio.h'];
/** paths given to tar when extracting (folders end with '/') */
export const TREE_FILES = [`${DRIVER_DIR}/`, ...TREE_HEADERS];

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
  if (missing.length) throw new UsageError(`${root} is not a kernel tree with the hisi_acc driver: missing ${missing.join(', ')}`);
  return files;
}
