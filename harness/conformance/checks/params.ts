// Parameter readers for checks: each validates one YAML value (the loader runs them before any
// check, so a bad parameter is bad input, not a run-time surprise) and gives its default.
import { MIG_STATE_NAMES, type MigState } from '../../vfio/types.ts';

type P = Record<string, unknown>;

export function known(p: P, names: readonly string[]): void {
  const extra = Object.keys(p).filter((k) => !names.includes(k));
  if (extra.length) throw new Error(`unknown parameter ${extra.join(', ')} (this check takes ${names.length ? names.join(', ') : 'none'})`);
}

export function int(p: P, k: string, dflt: number, min = 0): number {
  const v = p[k] ?? dflt;
  if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${k}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v as number;
}

export function bool(p: P, k: string, dflt: boolean): boolean {
  const v = p[k] ?? dflt;
  if (typeof v !== 'boolean') throw new Error(`${k}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function oneOf<T extends string>(p: P, k: string, choices: readonly T[], dflt: T): T {
  const v = p[k] ?? dflt;
  if (!choices.includes(v as T)) throw new Error(`${k}: expected one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

export function listOf<T extends string>(p: P, k: string, choices: readonly T[], dflt: readonly T[]): T[] {
  const v = p[k] ?? dflt;
  if (!Array.isArray(v) || !v.every((x) => choices.includes(x as T))) throw new Error(`${k}: expected a list of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T[];
}

/** 'all', 'requestable', 'unadvertised' or a list of state names. */
export type StateSel = 'all' | 'requestable' | 'unadvertised' | MigState[];
export function states(p: P, k: string, dflt: StateSel): StateSel {
  const v = p[k] ?? dflt;
  if (v === 'all' || v === 'requestable' || v === 'unadvertised') return v;
  if (Array.isArray(v) && v.every((s) => MIG_STATE_NAMES.includes(s as MigState))) return v as MigState[];
  throw new Error(`${k}: expected all, requestable, unadvertised or a list of state names, got ${JSON.stringify(v)}`);
}

/** Read-size patterns: lists of positive integers, cycled while reading. */
export function sizeLists(p: P, k: string, dflt: number[][]): number[][] {
  const v = p[k] ?? dflt;
  if (!Array.isArray(v) || !v.every((l) => Array.isArray(l) && l.length > 0 && l.every((n) => Number.isInteger(n) && n > 0))) {
    throw new Error(`${k}: expected a list of lists of positive integers, got ${JSON.stringify(v)}`);
  }
  return v as number[][];
}

/** Write segmentations: "N" (N bytes, then the rest), "half", "every:N" (pieces of N bytes). */
export function chunkings(p: P, k: string, dflt: string[]): string[] {
  const v = p[k] ?? dflt;
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string' && /^(\d+|half|every:\d+)$/.test(c) && !/^0$|every:0$/.test(c))) {
    throw new Error(`${k}: expected a list of "N", "half" or "every:N" (N > 0), got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

/** Pieces of a `len`-byte stream for one segmentation. */
export function piecesOf(len: number, how: string): number[] {
  if (how === 'half') return len > 1 ? [Math.floor(len / 2), len - Math.floor(len / 2)] : [len];
  const every = /^every:(\d+)$/.exec(how);
  if (every) {
    const n = Number(every[1]);
    const out: number[] = [];
    for (let o = 0; o < len; o += n) out.push(Math.min(n, len - o));
    return out;
  }
  const n = Math.min(Number(how), len);
  return n < len ? [n, len - n] : [len];
}
