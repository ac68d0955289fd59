// Serialise work on one cache entry across processes (parallel test workers, two CLIs): a lock folder
// under the cache root, waited on. A lock older than any honest holder was left by a killed process.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { migcompatCache } from './cache.ts';
import { UsageError } from './usage-error.ts';

const WAIT_MS = 15 * 60_000;
const STALE_MS = 20 * 60_000;

export function withCacheLock<T>(name: string, fn: () => T): T {
  const lock = join(migcompatCache('.locks'), name);
  mkdirSync(migcompatCache('.locks'), { recursive: true });
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch { /* released meanwhile */ }
      if (Date.now() > deadline) throw new UsageError(`${lock} held for 15 minutes (remove it if nothing else runs)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
