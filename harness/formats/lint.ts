// Findings about a captured stream, and its provenance: which driver revisions could have written
// it. Severity: error = no destination handles it as intended (malformed, refused, or loaded
// wrong); warning = suspicious, or handled differently across revisions; info = a note.
// The provenance rules are the per-revision save behaviour of docs/reference.md#revisions-at-a-glance and
// docs/reference.md#save-path.
import { ACC_DRV_MAJOR_VER, ACC_DRV_MINOR_VER, ACC_VF_DATA_SIZE, QM_MATCH_SIZE, decodeAccVfData, type Composition, type DecodedAccVf } from './accVfData.ts';
import { hex64 } from '../util/hex.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  /** the field concerned and its offset */
  field?: string;
  offset?: number;
}

/** Revision ids used across the project. */
export const R0_R2 = ['hisi-acc/v5.18', 'hisi-acc/v6.2', 'hisi-acc/v6.8'] as const;
export const R3_PLUS = ['hisi-acc/v6.16', 'hisi-acc/v6.19', 'hisi-acc/v7.0'] as const;
export const DEBIAN = 'hisi-acc/debian-6.1.192';
export const DEBIAN_612 = 'hisi-acc/debian-6.12.118';
/** revisions with PRE_COPY, whose save fd hands out the 40-byte header with vf_qm_state 0 first */
const PRE_COPY = new Set<string>(['hisi-acc/v6.2', 'hisi-acc/v6.8', ...R3_PLUS, DEBIAN_612]);

export interface Provenance {
  /** revisions whose source could have produced exactly these bytes (empty: none) */
  revisions: string[];
  reason: string;
}

export interface LintReport {
  length: number;
  layout: DecodedAccVf['layout'];
  findings: Finding[];
  provenance: Provenance;
  /** true when no finding has severity error */
  ok: boolean;
}

function provenance(d: DecodedAccVf): Provenance {
  if (!d.header) return { revisions: [], reason: 'no source writes a stream shorter than the 40-byte header' };
  if (d.problemCode === 'length') return { revisions: [], reason: `no source writes ${d.length} bytes (only 40 or 176)` };
  if (d.layout === 'unknown') return { revisions: [], reason: 'no released revision writes this magic (hand-crafted, corrupted, or a proposed revision)' };
  const h = d.header;
  const matchOnly = d.length === QM_MATCH_SIZE;
  if (d.layout === 'v2' && (d.majorVer !== ACC_DRV_MAJOR_VER || d.minorVer !== ACC_DRV_MINOR_VER)) {
    return { revisions: [], reason: `V2 header with version ${d.majorVer}.${d.minorVer}: released V2 sources write 1.0` };
  }
  const writers: string[] = d.layout === 'v1' ? [...R0_R2] : [...R3_PLUS, DEBIAN, DEBIAN_612];
  if (matchOnly) {
    if (h.vfQmState === 1) return { revisions: writers, reason: 'match header alone with QM_NOT_READY: the guest VF driver was not ready at STOP_COPY' };
    if (h.vfQmState === 0) {
      return {
        revisions: writers.filter((r) => PRE_COPY.has(r)),
        reason: 'match header alone with QM_READY: the PRE_COPY part of a stream (revisions without PRE_COPY never write it)',
      };
    }
    return { revisions: [], reason: `vf_qm_state ${h.vfQmState} is neither QM_READY nor QM_NOT_READY` };
  }
  if (h.vfQmState !== 0) return { revisions: [], reason: 'full stream with vf_qm_state not QM_READY: a source writes the body only when the VF is ready' };
  const dv = d.derived!;
  const b = d.body!;
  const zero = b.eqeDma === 0n && b.aeqeDma === 0n;
  const comp = (want: 'fixed' | 'buggy') =>
    (dv.eqeDmaComposition === want || dv.eqeDmaComposition === 'both') && (dv.aeqeDmaComposition === want || dv.aeqeDmaComposition === 'both');
  if (d.layout === 'v1') {
    if (comp('buggy')) return { revisions: writers, reason: 'V1 magic and eqe_dma/aeqe_dma composed the buggy way (dw1:dw0), as v5.18..v6.15 sources do' };
    if (comp('fixed')) {
      return { revisions: [], reason: 'V1 magic with eqe_dma/aeqe_dma composed the fixed way: no real source (repaired, e.g. a buffer a v6.16+ destination rewrote, or hand-crafted)' };
    }
    return { revisions: [], reason: 'V1 stream whose eqe_dma/aeqe_dma match neither composition (hand-crafted or corrupted)' };
  }
  if (comp('fixed')) return { revisions: writers, reason: 'V2 magic 1.0 with eqe_dma/aeqe_dma composed the fixed way (dw2:dw1), as v6.16+ and the Debian 6.1.192 and 6.12.118 sources do' };
  return {
    revisions: [],
    reason: zero ? 'V2 stream with zero eqe_dma/aeqe_dma although the contexts hold a base: no real source' : 'V2 stream whose eqe_dma/aeqe_dma are not the fixed composition: no real source',
  };
}

export function lintDecoded(d: DecodedAccVf): LintReport {
  const f: Finding[] = [];
  const add = (severity: Severity, code: string, message: string, field?: string, offset?: number) =>
    f.push({ severity, code, message, ...(field ? { field } : {}), ...(offset !== undefined ? { offset } : {}) });

  if (d.length !== QM_MATCH_SIZE && d.length !== ACC_VF_DATA_SIZE) {
    add('error', 'invalid-length', `length ${d.length}: a stream is ${QM_MATCH_SIZE} (match header) or ${ACC_VF_DATA_SIZE} (full) bytes; destinations refuse anything else`);
  }
  const h = d.header;
  if (h) {
    if (d.layout === 'unknown') add('error', 'unknown-magic', `magic ${hex64(h.accMagic)} is neither V1 nor V2; every destination refuses it`, 'acc_magic', 0);
    if (d.layout === 'v1') add('info', 'magic-v1', 'V1 magic: accepted by every revision; v6.16+ destinations recompute eqe_dma/aeqe_dma', 'acc_magic', 0);
    if (d.layout === 'v2') {
      add('info', 'magic-v2', 'V2 magic: refused by v5.18..v6.15 destinations (they accept only V1)', 'acc_magic', 0);
      if (d.majorVer !== ACC_DRV_MAJOR_VER) add('error', 'v2-major', `major_ver ${d.majorVer}: V2 destinations require ${ACC_DRV_MAJOR_VER} and refuse the stream`, 'major_ver', 28);
      if (d.minorVer !== ACC_DRV_MINOR_VER) add('warning', 'v2-minor', `minor_ver ${d.minorVer}: released sources write ${ACC_DRV_MINOR_VER}; destinations ignore it`, 'minor_ver', 30);
    }
    const rsv = d.layout === 'v2' ? [1, 2] : [0, 1, 2];
    for (const i of rsv) {
      if (h.qmRsvState[i] !== 0) {
        const idx = d.layout === 'v2' ? i - 1 : i;
        add('warning', 'reserved-nonzero', `qm_rsv_state[${idx}] is 0x${h.qmRsvState[i].toString(16)}; sources leave it zero`, `qm_rsv_state[${idx}]`, 28 + 4 * i);
      }
    }
    if (h.qpNum === 0) add('error', 'qp-num-zero', 'qp_num 0: no source writes it (a VF has at least one queue); destinations refuse the qp_num mismatch', 'qp_num', 8);
    if (![0xa251, 0xa256, 0xa259].includes(h.devId)) add('warning', 'dev-id', `dev_id 0x${h.devId.toString(16)} is not a hisi_acc VF (0xa251 ZIP, 0xa256 SEC, 0xa259 HPRE)`, 'dev_id', 12);
    if (h.vfQmState > 1) add('warning', 'vf-qm-state', `vf_qm_state ${h.vfQmState} is neither QM_READY (0) nor QM_NOT_READY (1)`, 'vf_qm_state', 24);
    if (d.length === ACC_VF_DATA_SIZE && h.vfQmState === 1) add('warning', 'full-not-ready', 'full stream with QM_NOT_READY: a source stops after the header when the VF is not ready', 'vf_qm_state', 24);
  }
  const b = d.body;
  const dv = d.derived;
  if (b && dv) {
    b.qmRsvRegs.forEach((w, i) => {
      if (w !== 0) add('warning', 'reserved-nonzero', `qm_rsv_regs[${i}] is 0x${w.toString(16)}; never written by a source`, `qm_rsv_regs[${i}]`, 120 + 4 * i);
    });
    if (b.padding !== 0) add('warning', 'padding-nonzero', `padding is 0x${b.padding.toString(16)}; sources leave it zero`, 'padding', 140);
    const dmas: [string, bigint, number][] = [['eqe_dma', b.eqeDma, 144], ['aeqe_dma', b.aeqeDma, 152], ['sqc_dma', b.sqcDma, 160], ['cqc_dma', b.cqcDma, 168]];
    for (const [name, v, off] of dmas) {
      if (v === 0n) add('warning', 'dma-zero', `${name} is zero: v6.16+ and Debian destinations skip the restore (NULL guard), v5.18..v6.15 destinations program it`, name, off);
    }
    const comps: [string, string, Composition, bigint, bigint, number][] = [
      ['eqe_dma', 'EQC', dv.eqeDmaComposition, dv.eqBaseFixed, dv.eqBaseBuggy, 144],
      ['aeqe_dma', 'AEQC', dv.aeqeDmaComposition, dv.aeqBaseFixed, dv.aeqBaseBuggy, 152],
    ];
    for (const [name, ctx, c, fixed, buggy, off] of comps) {
      if (c === 'buggy') {
        const sev: Severity = d.layout === 'v2' ? 'error' : 'info';
        add(sev, 'dma-buggy', `${name} = ${ctx} dw1:dw0 (buggy composition; the base is ${hex64(fixed)})${d.layout === 'v2' ? ': V2 destinations trust it, so events go to the wrong address' : ': v6.16+ destinations recompute it, v5.18..v6.15 destinations keep it'}`, name, off);
      } else if (c === 'neither') {
        const sev: Severity = d.layout === 'v2' ? 'error' : 'warning';
        add(sev, 'dma-inconsistent', `${name} matches neither the fixed ${ctx} composition ${hex64(fixed)} nor the buggy ${hex64(buggy)}`, name, off);
      } else if (c === 'fixed' && d.layout === 'v1') {
        add('info', 'dma-fixed-v1', `${name} is the fixed composition under a V1 magic: no V1 source composes it that way`, name, off);
      }
    }
    for (const [q, head, tail, depth, base] of [['eq', dv.eqHead, dv.eqTail, dv.eqDepth, 64], ['aeq', dv.aeqHead, dv.aeqTail, dv.aeqDepth, 92]] as const) {
      if (head >= depth) add('error', `${q}-head-range`, `${q.toUpperCase()} head ${head} is beyond depth ${depth}`, `qm_${q}c_dw[0]`, base);
      if (tail >= depth) add('error', `${q}-tail-range`, `${q.toUpperCase()} tail ${tail} is beyond depth ${depth}`, `qm_${q}c_dw[0]`, base);
    }
  }
  const p = provenance(d);
  add('info', 'provenance', p.revisions.length ? `could have been written by ${p.revisions.join(', ')}: ${p.reason}` : `no known revision writes this stream: ${p.reason}`);
  return { length: d.length, layout: d.layout, findings: f, provenance: p, ok: !f.some((x) => x.severity === 'error') };
}

export function lint(bytes: Uint8Array): LintReport {
  return lintDecoded(decodeAccVfData(bytes));
}
