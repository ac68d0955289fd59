// File input/output for the format commands: bad input is one clear line (UsageError, exit 2), and
// output is written to a temporary name and renamed, so a reader never sees half a file.
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { UsageError } from '../util/usage-error.ts';

export const MAX_INPUT_BYTES = 1 << 20;

/** The first bytes of a file (for format detection); empty when unreadable (readInputFile reports why). */
export function peekFile(path: string, n: number): Uint8Array {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = new Uint8Array(n);
      return buf.subarray(0, readSync(fd, buf, 0, n, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return new Uint8Array(0);
  }
}

export function readInputFile(path: string, what = 'file', maxBytes = MAX_INPUT_BYTES): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? `no such ${what}` : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  if (st.isDirectory()) throw new UsageError(`${path}: is a directory, expected a ${what}`);
  if (!st.isFile()) throw new UsageError(`${path}: not a regular file`);
  if (st.size === 0) throw new UsageError(`${path}: is empty`);
  if (st.size > maxBytes) throw new UsageError(`${path}: ${st.size} bytes, larger than the ${maxBytes >= 1 << 30 ? `${maxBytes / (1 << 30)} GiB` : `${maxBytes / (1 << 20)} MiB`} limit`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  try {
    if (statSync(path).isDirectory()) throw new UsageError(`${path}: is a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`${path}: cannot write: ${(e as Error).message.split('\n')[0]}`);
  }
}
