// The engine as the matrix suite and `replay` use it: the sim runner, the oracle and the stream
// decoder behind one small interface (caseRun.ts Engine).
import { decodeAccVfData } from '../formats/accVfData.ts';
import { judge } from '../oracle/judge.ts';
import { runCase } from '../runners/sim.ts';
import type { Engine } from './caseRun.ts';

export function describeStream(stream: Uint8Array): { summary: string; decoded: unknown } {
  const d = decodeAccVfData(stream);
  const parts = [`${d.length} bytes`, `layout ${d.layout}`];
  if (d.majorVer !== undefined) parts.push(`version ${d.majorVer}.${d.minorVer}`);
  if (d.derived) parts.push(`eqe_dma ${d.derived.eqeDmaComposition}`, `aeqe_dma ${d.derived.aeqeDmaComposition}`);
  if (d.problem) parts.push(`problem: ${d.problem}`);
  const { raw: _raw, ...decoded } = d;
  return { summary: parts.join(', '), decoded };
}

export const simEngine: Engine = { runCase, judge, decode: describeStream };
