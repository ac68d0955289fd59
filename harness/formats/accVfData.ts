// struct acc_vf_data (docs/reference.md#stream-layout) as the engine sees it: named fields with exact 64-bit
// values. The byte layout lives only in formats/hisi_acc_vf_data.ksy; encode/decode walk that description.
import { format, KaitaiStream } from './parsers.ts';
import { buildPlan, compileWriter, propGetter, type Getter, type Plan, type PlanLeaf, type Writer } from './plan.ts';

export const ACC_DEV_MAGIC_V1 = 0xcdcdcdcdfeedaaccn;
export const ACC_DEV_MAGIC_V2 = 0xaaccfeeddecadeden;
export const ACC_DRV_MAJOR_VER = 1;
export const ACC_DRV_MINOR_VER = 0;
/** QM_MATCH_SIZE: end of qm_rsv_state */
export const QM_MATCH_SIZE = 40;
/** sizeof(struct acc_vf_data) */
export const ACC_VF_DATA_SIZE = 176;

export interface AccVfHeader {
  accMagic: bigint;
  qpNum: number;
  devId: number;
  queIsoCfg: number;
  qpBase: number;
  vfQmState: number;
  /**
   * Bytes 28..39 as three little-endian u32 words, whatever the magic. In a V2 header word 0 holds
   * major_ver (bits 15:0) and minor_ver (bits 31:16).
   */
  qmRsvState: [number, number, number];
}

export interface AccVfBody {
  aeqIntMask: number;
  eqIntMask: number;
  ifcIntSource: number;
  ifcIntMask: number;
  ifcIntSet: number;
  pageSize: number;
  qmEqcDw: number[]; // 7
  qmAeqcDw: number[]; // 7
  qmRsvRegs: number[]; // 5
  padding: number;
  eqeDma: bigint;
  aeqeDma: bigint;
  sqcDma: bigint;
  cqcDma: bigint;
}

/** The full struct as a driver holds it in memory; a stream carries the first 40 or all 176 bytes. */
export type AccVfData = AccVfHeader & AccVfBody;

export const majorVer = (h: AccVfHeader): number => h.qmRsvState[0] & 0xffff;
export const minorVer = (h: AccVfHeader): number => h.qmRsvState[0] >>> 16;

export function emptyAccVfData(): AccVfData {
  return {
    accMagic: 0n, qpNum: 0, devId: 0, queIsoCfg: 0, qpBase: 0, vfQmState: 0, qmRsvState: [0, 0, 0],
    aeqIntMask: 0, eqIntMask: 0, ifcIntSource: 0, ifcIntMask: 0, ifcIntSet: 0, pageSize: 0,
    qmEqcDw: [0, 0, 0, 0, 0, 0, 0], qmAeqcDw: [0, 0, 0, 0, 0, 0, 0], qmRsvRegs: [0, 0, 0, 0, 0], padding: 0,
    eqeDma: 0n, aeqeDma: 0n, sqcDma: 0n, cqcDma: 0n,
  };
}

// ---------------------------------------------------------------------------------------------
// Encode and decode (the engine calls these on every simulated save and load).

export type AccVfLayout = 'v1' | 'v2' | 'unknown';
/** How eqe_dma/aeqe_dma relate to their context dwords: dw2:dw1 (fixed), dw1:dw0 (buggy). */
export type Composition = 'fixed' | 'buggy' | 'both' | 'neither';

export interface AccVfDerived {
  eqHead: number;
  eqTail: number;
  eqDepth: number;
  eqPhase: number;
  /** qm_eqc_dw[2]:qm_eqc_dw[1], what v6.16+ sources write */
  eqBaseFixed: bigint;
  /** qm_eqc_dw[1]:qm_eqc_dw[0], what v5.18..v6.15 sources write */
  eqBaseBuggy: bigint;
  aeqHead: number;
  aeqTail: number;
  aeqDepth: number;
  aeqPhase: number;
  aeqBaseFixed: bigint;
  aeqBaseBuggy: bigint;
  eqeDmaComposition: Composition;
  aeqeDmaComposition: Composition;
}

export type AccVfProblemCode = 'truncated' | 'length' | 'magic';

export interface DecodedAccVf {
  /** a stream some destination could take: 40 or 176 bytes with a known magic */
  ok: boolean;
  layout: AccVfLayout;
  length: number;
  /** present when at least 40 bytes arrived (also for an unknown magic, with V1 labels) */
  header?: AccVfHeader;
  /** V2 header only: qm_rsv_state[0] split as the V2 layout labels it */
  majorVer?: number;
  minorVer?: number;
  /** present when at least 176 bytes arrived */
  body?: AccVfBody;
  derived?: AccVfDerived;
  problemCode?: AccVfProblemCode;
  /** one line saying what is wrong (invalid length, unknown magic) */
  problem?: string;
  /** the input bytes (not copied) */
  raw: Uint8Array;
}

export const ACC_VF_FORMAT = 'hisi_acc_vf_data';
const fmt = format(ACC_VF_FORMAT);
const LAYOUT_ENUM = fmt.Parser.Layout as Record<number, string>;

export function layoutOfMagic(magic: bigint): AccVfLayout {
  return magic === ACC_DEV_MAGIC_V1 ? 'v1' : magic === ACC_DEV_MAGIC_V2 ? 'v2' : 'unknown';
}

/** One write plan per header layout, from the description's `layout` switch. */
export const accVfPlans: Record<AccVfLayout, Plan> = {
  v1: buildPlan(fmt.ksy, { layout: 'v1' }),
  v2: buildPlan(fmt.ksy, { layout: 'v2' }),
  unknown: buildPlan(fmt.ksy, { layout: 'unknown' }),
};
for (const [k, p] of Object.entries(accVfPlans)) {
  if (p.requiredSize !== QM_MATCH_SIZE || p.fullSize !== ACC_VF_DATA_SIZE) {
    throw new Error(`formats/${ACC_VF_FORMAT}.ksy: ${k} layout spans ${p.requiredSize}/${p.fullSize} bytes, expected ${QM_MATCH_SIZE}/${ACC_VF_DATA_SIZE}`);
  }
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/**
 * Where a leaf's value sits in AccVfData: the .ksy id in camelCase. The V2 header relabels bytes
 * 28..39, which AccVfData keeps as three words: major/minor are word 0, the reserved pair words 1-2.
 */
function accGetter(layout: AccVfLayout, l: PlanLeaf): Getter {
  if (layout === 'v2' && l.name === 'major_ver') return (d: AccVfData) => d.qmRsvState[0] & 0xffff;
  if (layout === 'v2' && l.name === 'minor_ver') return (d: AccVfData) => d.qmRsvState[0] >>> 16;
  if (layout === 'v2' && l.name === 'qm_rsv_state') return propGetter('qmRsvState', (l.index ?? 0) + 1);
  return propGetter(camel(l.name), l.index);
}

// Leaves past the match header (under the body's `if:`) are written only for a full stream.
const writers = {} as Record<AccVfLayout, { header: Writer; body: Writer }>;
for (const k of Object.keys(accVfPlans) as AccVfLayout[]) {
  const leaves = accVfPlans[k].leaves;
  writers[k] = {
    header: compileWriter(leaves.filter((l) => !l.optional), (l) => accGetter(k, l)),
    body: compileWriter(leaves.filter((l) => l.optional), (l) => accGetter(k, l)),
  };
}

export function encodeAccVfData(d: AccVfData, length: 40 | 176): Uint8Array {
  if (length !== QM_MATCH_SIZE && length !== ACC_VF_DATA_SIZE) throw new RangeError(`acc_vf_data length must be 40 or 176, got ${length}`);
  const layout = layoutOfMagic(d.accMagic);
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  const w = writers[layout];
  w.header(dv, d);
  if (length === ACC_VF_DATA_SIZE) w.body(dv, d);
  return out;
}

const u64 = (hi: number, lo: number): bigint => (BigInt(hi) << 32n) | BigInt(lo);
const pair = (p: { hi: number; lo: number }): bigint => u64(p.hi, p.lo);
const composition = (fixed: boolean, buggy: boolean): Composition => (fixed ? (buggy ? 'both' : 'fixed') : buggy ? 'buggy' : 'neither');

export function decodeAccVfData(bytes: Uint8Array): DecodedAccVf {
  const length = bytes.length;
  if (length < QM_MATCH_SIZE) {
    return {
      ok: false, layout: 'unknown', length, raw: bytes, problemCode: 'truncated',
      problem: `invalid length ${length}: shorter than the ${QM_MATCH_SIZE}-byte match header`,
    };
  }
  const p = new fmt.Parser(new KaitaiStream(bytes));
  const h = p.header;
  const r = h.rsv;
  const layout = (LAYOUT_ENUM[h.layout] ?? 'unknown').toLowerCase() as AccVfLayout;
  const header: AccVfHeader = {
    accMagic: pair(h.accMagic), qpNum: h.qpNum, devId: h.devId, queIsoCfg: h.queIsoCfg, qpBase: h.qpBase, vfQmState: h.vfQmState,
    qmRsvState: layout === 'v2'
      ? [(r.majorVer | (r.minorVer << 16)) >>> 0, r.qmRsvState[0], r.qmRsvState[1]]
      : [r.qmRsvState[0], r.qmRsvState[1], r.qmRsvState[2]],
  };
  const out: DecodedAccVf = { ok: true, layout, length, header, raw: bytes };
  if (layout === 'v2') {
    out.majorVer = r.majorVer;
    out.minorVer = r.minorVer;
  }
  const b = p.body;
  if (b) {
    out.body = {
      aeqIntMask: b.aeqIntMask, eqIntMask: b.eqIntMask, ifcIntSource: b.ifcIntSource, ifcIntMask: b.ifcIntMask,
      ifcIntSet: b.ifcIntSet, pageSize: b.pageSize, qmEqcDw: b.qmEqcDw, qmAeqcDw: b.qmAeqcDw, qmRsvRegs: b.qmRsvRegs,
      padding: b.padding, eqeDma: pair(b.eqeDma), aeqeDma: pair(b.aeqeDma), sqcDma: pair(b.sqcDma), cqcDma: pair(b.cqcDma),
    };
    out.derived = {
      eqHead: b.eqHead, eqTail: b.eqTail, eqDepth: b.eqDepth, eqPhase: b.eqPhase,
      eqBaseFixed: u64(b.eqBaseFixedHi, b.eqBaseFixedLo), eqBaseBuggy: u64(b.eqBaseBuggyHi, b.eqBaseBuggyLo),
      aeqHead: b.aeqHead, aeqTail: b.aeqTail, aeqDepth: b.aeqDepth, aeqPhase: b.aeqPhase,
      aeqBaseFixed: u64(b.aeqBaseFixedHi, b.aeqBaseFixedLo), aeqBaseBuggy: u64(b.aeqBaseBuggyHi, b.aeqBaseBuggyLo),
      eqeDmaComposition: composition(b.eqeDmaIsFixed, b.eqeDmaIsBuggy),
      aeqeDmaComposition: composition(b.aeqeDmaIsFixed, b.aeqeDmaIsBuggy),
    };
  }
  if (length !== QM_MATCH_SIZE && length !== ACC_VF_DATA_SIZE) {
    out.ok = false;
    out.problemCode = 'length';
    out.problem = `invalid length ${length}: a stream is ${QM_MATCH_SIZE} (match header) or ${ACC_VF_DATA_SIZE} (full) bytes`;
  } else if (layout === 'unknown') {
    out.ok = false;
    out.problemCode = 'magic';
    out.problem = `unknown magic 0x${header.accMagic.toString(16).padStart(16, '0')}`;
  }
  return out;
}

/** The struct a destination would hold after receiving this stream (body zero when match-only). */
export function accVfDataOf(d: DecodedAccVf): AccVfData | undefined {
  if (!d.header) return undefined;
  const e = emptyAccVfData();
  return { ...e, ...(d.body ?? {}), ...d.header, qmRsvState: [...d.header.qmRsvState] as [number, number, number] };
}
