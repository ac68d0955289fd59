// Where built guest images and unpacked QEMU builds live: outside git, reused across runs, keyed by the
// Debian package versions they were made from. Entries are built in a temp folder and renamed into place,
// so a crash never leaves a half-written entry behind.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { migcompatCache } from '../../util/cache.ts';

export function cacheRoot(): string {
  return migcompatCache();
}

/** Returns dir (building it with `build(tmpDir)` first when absent). */
export async function cachedDir(dir: string, build: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process won the race: its entry is as good as ours
      if (!existsSync(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** File-system-safe form of a Debian version ("1:7.2+dfsg-7" -> "1_7.2+dfsg-7"). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9.+-]/g, '_');
}
