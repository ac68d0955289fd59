// The byte -> field map of a hisi_acc stream, with a short meaning per value for the decode table.
import { ACC_DEV_MAGIC_V1, ACC_DEV_MAGIC_V2, ACC_DRV_MAJOR_VER, ACC_DRV_MINOR_VER, ACC_VF_FORMAT, QM_MATCH_SIZE, type DecodedAccVf } from './accVfData.ts';
import { fieldMapOf, type FieldMap, type FieldSpan } from './fieldMap.ts';
import { format } from './parsers.ts';

export interface AccVfSpan extends FieldSpan {
  meaning?: string;
}

export type AccVfFieldMap = Omit<FieldMap, 'spans'> & { spans: AccVfSpan[] };

const RESERVED = new Set(['qm_rsv_state', 'qm_rsv_regs', 'padding']);

function meaningOf(s: FieldSpan, d: DecodedAccVf): string | undefined {
  if (s.truncated) return 'truncated: the input ends inside this field';
  const v = s.value;
  const dv = d.derived;
  switch (s.name) {
    case 'acc_magic':
      return v === ACC_DEV_MAGIC_V1 ? 'ACC_DEV_MAGIC (V1)' : v === ACC_DEV_MAGIC_V2 ? 'ACC_DEV_MAGIC_V2' : 'unknown magic';
    case 'qp_num':
      return v === 0 ? 'no queues (no real source writes 0)' : `${v} queue pair(s)`;
    case 'major_ver':
      return v === ACC_DRV_MAJOR_VER ? 'ACC_DRV_MAJOR_VER' : `unexpected (destinations require ${ACC_DRV_MAJOR_VER})`;
    case 'minor_ver':
      return v === ACC_DRV_MINOR_VER ? 'ACC_DRV_MINOR_VER' : 'unexpected (destinations ignore it)';
    case 'qm_eqc_dw':
    case 'qm_aeqc_dw': {
      const q = s.name === 'qm_eqc_dw' ? 'EQ' : 'AEQ';
      const n = v as number;
      if (s.index === 0) return `${q} head ${n & 0xffff}, tail ${n >>> 16}`;
      if (s.index === 1) return `${q} base low`;
      if (s.index === 2) return `${q} base high`;
      if (s.index === 6) return `${q} depth ${(n & 0xffff) + 1}, phase ${(n >>> 16) & 1}`;
      return undefined;
    }
    case 'eqe_dma':
    case 'aeqe_dma': {
      if (v === 0n) return 'zero (v6.16+ destinations skip the restore)';
      const c = s.name === 'eqe_dma' ? dv?.eqeDmaComposition : dv?.aeqeDmaComposition;
      return c === 'fixed' ? 'fixed composition dw2:dw1' : c === 'buggy' ? 'buggy composition dw1:dw0 (v5.18..v6.15)' : c === 'both' ? 'both compositions agree' : 'matches neither composition';
    }
    case 'sqc_dma':
    case 'cqc_dma':
      return v === 0n ? 'zero (v6.16+ destinations skip the restore)' : undefined;
    case 'excess':
      return 'beyond any valid length';
  }
  if (RESERVED.has(s.name)) return v === 0 ? 'reserved' : 'reserved, non-zero';
  return s.enumValue;
}

/** Field map of a hisi_acc stream. Inputs shorter than the header are mapped as far as they go. */
export function accVfFieldMap(bytes: Uint8Array, decoded: DecodedAccVf): AccVfFieldMap {
  const fmt = format(ACC_VF_FORMAT);
  let map: FieldMap;
  if (bytes.length < QM_MATCH_SIZE) {
    // the header is one sized read, so a short input would map as a single blob: map a zero-padded
    // copy and cut it at the real end instead
    const padded = new Uint8Array(QM_MATCH_SIZE);
    padded.set(bytes);
    const full = fieldMapOf(fmt, padded);
    const spans: FieldSpan[] = [];
    for (const s of full.spans) {
      if (s.offset >= bytes.length) break;
      if (s.offset + s.size > bytes.length) spans.push({ ...s, size: bytes.length - s.offset, value: undefined, truncated: true });
      else spans.push(s);
    }
    map = { spans, tree: full.tree, error: `input ends at ${bytes.length}, inside the ${QM_MATCH_SIZE}-byte match header` };
  } else {
    map = fieldMapOf(fmt, bytes);
  }
  for (const s of map.spans as AccVfSpan[]) {
    const m = meaningOf(s, decoded);
    if (m) s.meaning = m;
  }
  return map as AccVfFieldMap;
}
