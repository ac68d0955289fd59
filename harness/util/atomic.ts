// Writes never leave a half-written file or folder behind: fill a temp name in the same folder, then
// rename (atomic on one file system). A crash mid-run keeps the previous version intact.
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

let counter = 0;
const tmpName = (path: string): string => `${path}.tmp-${process.pid}-${counter++}`;

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** One line appended with a single write(2) (O_APPEND): concurrent runs never interleave inside a line. */
export function appendLine(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, line.endsWith('\n') ? line : line + '\n');
}

/** Fill a temp folder with `fill`, then move it to `path` (replacing nothing: an existing one wins). */
export function makeDirAtomic(path: string, fill: (tmp: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    try {
      renameSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      rmSync(tmp, { recursive: true, force: true }); // another process finished first
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
