// Transfer plans: how the bytes travel from the source's data fd to the destination's.
//   single          read everything (one read), write it in one write()
//   qemu            QEMU's behaviour (docs/reference.md#vfio-device-sections): PRE_COPY when advertised,
// buffer from MIG_DATA_SIZE
//                   (1 MiB without it), each precopy chunk written at once, then STOP_COPY chunks
//   chunks:N,M,...  read everything, write it in chunks of N, M, … bytes (the rest in one last write)
//   random          read everything, write it in seeded random chunks
import { UsageError } from '../util/usage-error.ts';

export type TransferPlan =
  | { kind: 'single' }
  | { kind: 'qemu' }
  | { kind: 'chunks'; sizes: number[] }
  | { kind: 'random' };

export const PLAN_NAMES = ['single', 'qemu', 'chunks:N,M,...', 'random'] as const;

export function parsePlan(text: string): TransferPlan {
  const t = text.trim();
  if (t === 'single' || t === 'qemu' || t === 'random') return { kind: t };
  if (t.startsWith('chunks:')) {
    const parts = t.slice('chunks:'.length).split(',');
    const sizes = parts.map((p) => Number(p.trim()));
    if (parts.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 1 << 20) || parts.some((p) => !/^\s*\d+\s*$/.test(p))) {
      throw new UsageError(`bad transfer plan '${text}': chunk sizes must be integers 1..1048576, e.g. chunks:40,136`);
    }
    return { kind: 'chunks', sizes };
  }
  throw new UsageError(`unknown transfer plan '${text}' (expected single, qemu, chunks:N,M,... or random)`);
}

export function planText(p: TransferPlan): string {
  return p.kind === 'chunks' ? `chunks:${p.sizes.join(',')}` : p.kind;
}

/** Is this the canonical text of a plan (what planText writes)? The matrix schema's transfer pattern states the same grammar. */
export function isPlanText(s: string): boolean {
  try {
    return planText(parsePlan(s)) === s;
  } catch {
    return false;
  }
}

/** Expand a comma-separated list of plans or 'all'. chunks:… keeps its commas (the list is split on ';' then). */
export function expandPlans(text: string): string[] {
  if (text === 'all') return ['single', 'qemu', 'chunks:40,136', 'random'];
  const items = text.includes(';') ? text.split(';') : splitPlans(text);
  return items.map((s) => planText(parsePlan(s)));
}

/** 'single,qemu,chunks:40,136' → ['single', 'qemu', 'chunks:40,136']: numbers attach to the preceding chunks plan. */
function splitPlans(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(',')) {
    const p = part.trim();
    if (/^\d+$/.test(p) && out.length && out[out.length - 1].startsWith('chunks:')) out[out.length - 1] += `,${p}`;
    else if (p) out.push(p);
  }
  if (out.length === 0) throw new UsageError('empty transfer plan list');
  return out;
}
