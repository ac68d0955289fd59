// The one place migcompat keeps downloads and builds outside git (guest images, unpacked QEMU builds,
// kernel trees and their libraries, the C helpers): MIGCOMPAT_CACHE, else $XDG_CACHE_HOME/migcompat,
// else ~/.cache/migcompat. Each concern uses its own subfolder.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function migcompatCache(sub?: string): string {
  const root = process.env.MIGCOMPAT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'migcompat');
  return sub ? join(root, sub) : root;
}
