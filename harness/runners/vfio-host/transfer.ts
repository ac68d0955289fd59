// How `load` cuts a stream file into write() calls. The plan grammar is harness/transfer's; a file
// has no read boundaries, so `qemu` (which follows the source's reads) is not a load plan here.
import { parsePlan } from '../../transfer/plan.ts';
import { Rng } from '../../util/rng.ts';
import { UsageError } from '../../util/usage-error.ts';

/** Chunk sizes covering exactly `total` bytes; chunks: lists sizes and a remainder goes in one last write. */
export function planChunks(text: string, total: number, seed = 1): number[] {
  const plan = parsePlan(text);
  if (plan.kind === 'single') return total > 0 ? [total] : [];
  if (plan.kind === 'qemu') throw new UsageError(`transfer plan 'qemu' needs a live source; for a stream file use single, chunks:N,M,... or random`);
  const out: number[] = [];
  let left = total;
  const rng = new Rng(seed);
  const sizes = plan.kind === 'chunks' ? plan.sizes : [];
  for (let i = 0; left > 0; i++) {
    const want = plan.kind === 'chunks' ? (i < sizes.length ? sizes[i] : left) : rng.int(1, Math.max(1, Math.min(left, 64)));
    const n = Math.min(want, left);
    out.push(n);
    left -= n;
  }
  return out;
}
