// Builds the C helpers (header probe, stand-in library) with gcc at test time into a cache folder,
// keyed by a hash of source and flags: build output is never committed, and parallel Playwright
// workers share one build (each writes a temp name and renames, so no reader sees half a file).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migcompatCache } from '../../util/cache.ts';

export const KERNEL_DIR = dirname(fileURLToPath(import.meta.url));

export function cacheDir(): string {
  const dir = migcompatCache('c-build');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export class BuildError extends Error {
  override name = 'BuildError';
}

/** Compile `source` (relative to harness/vfio/kernel) into an executable or a shared library. */
export function buildC(source: string, kind: 'exe' | 'so', extraFlags: string[] = []): string {
  const src = join(KERNEL_DIR, source);
  const flags = ['-O2', '-Wall', '-Werror', ...(kind === 'so' ? ['-fPIC', '-shared'] : []), ...extraFlags];
  const key = createHash('sha256').update(readFileSync(src)).update(flags.join(' ')).digest('hex').slice(0, 16);
  const base = source.replace(/[^A-Za-z0-9]+/g, '-').replace(/-c$/, '');
  const out = join(cacheDir(), `${base}-${key}${kind === 'so' ? '.so' : ''}`);
  if (existsSync(out)) return out;
  const tmp = `${out}.tmp-${process.pid}`;
  const r = spawnSync('gcc', [...flags, '-o', tmp, src], { encoding: 'utf8' });
  if (r.error) throw new BuildError(`gcc not runnable (${r.error.message}); install gcc, libc6-dev and linux-libc-dev`);
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new BuildError(`gcc failed on ${source}: ${r.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
  }
  renameSync(tmp, out);
  return out;
}
