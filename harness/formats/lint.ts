// Findings about a captured stream, and its provenance: which revisions could have written it and
// which would accept it. Severity: error = no destination handles it as intended (malformed,
// refused, or loaded wrong); warning = suspicious, or handled differently across revisions; info =
// a note. Everything said about revisions is derived from the profiles passed in (their write,
// accept, xqcCompose, preCopy and nullDmaGuard traits), so a proposed or newly registered profile
// changes the verdicts without a change here. The behaviours behind the traits: docs/reference.md#revisions-at-a-glance,
// docs/reference.md#save-path.
import { ACC_VF_DATA_SIZE, QM_MATCH_SIZE, decodeAccVfData, majorVer, minorVer, type Composition, type DecodedAccVf } from './accVfData.ts';
import { findAcceptRule, magicName, ruleNamesMagic, type StreamProfile, type WriteRule } from './streamRules.ts';
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

export interface Provenance {
  /** revisions whose source could have produced exactly these bytes (empty: none) */
  revisions: string[];
  reason: string;
}

/** What each destination does with the stream's header (magic and version fields). */
export interface Acceptance {
  accepted: string[];
  /** the accepting revisions that recompute eqe_dma/aeqe_dma from the contexts */
  recompute: string[];
  /** refused revisions, each with why: 'magic' (not an accepted magic) or the version field refused */
  refused: { id: string; why: string }[];
}

export interface LintReport {
  length: number;
  layout: DecodedAccVf['layout'];
  findings: Finding[];
  provenance: Provenance;
  /** null when the stream is shorter than the 40-byte header */
  acceptance: Acceptance | null;
  /** the revisions lint reasoned over */
  revisions: string[];
  /** true when no finding has severity error */
  ok: boolean;
}

const short = (id: string) => id.replace(/^hisi-acc\//, '');
const names = (ids: readonly string[]) => ids.map(short).join(', ');

/** Does a source with this write rule put these version fields in the header? */
function writesVersion(w: WriteRule, d: DecodedAccVf): boolean {
  if (w.major === undefined && w.minor === undefined) return true; // no version fields: bytes 28..31 are reserved
  return d.header!.qmRsvState[0] === (((w.major ?? 0) & 0xffff) | (((w.minor ?? 0) & 0xffff) << 16)) >>> 0;
}

function provenance(d: DecodedAccVf, revs: readonly StreamProfile[]): Provenance {
  if (!d.header) return { revisions: [], reason: 'no source writes a stream shorter than the 40-byte header' };
  if (d.problemCode === 'length') return { revisions: [], reason: `no source writes ${d.length} bytes (only 40 or 176)` };
  const h = d.header;
  const name = magicName(h.accMagic);
  const byMagic = revs.filter((r) => r.traits.write.magic === h.accMagic);
  if (!byMagic.length) return { revisions: [], reason: `no loaded revision writes magic ${name} (hand-crafted, corrupted, or a revision not loaded)` };
  const writers = byMagic.filter((r) => writesVersion(r.traits.write, d));
  if (!writers.length) {
    const versions = [...new Set(byMagic.map((r) => `${r.traits.write.major ?? 0}.${r.traits.write.minor ?? 0}`))].join(', ');
    return { revisions: [], reason: `${name} header with version ${majorVer(h)}.${minorVer(h)}: sources of this magic write ${versions}` };
  }
  const ids = (rs: readonly StreamProfile[]) => rs.map((r) => r.id);
  if (d.length === QM_MATCH_SIZE) {
    if (h.vfQmState === 1) return { revisions: ids(writers), reason: 'match header alone with QM_NOT_READY: the guest VF driver was not ready at STOP_COPY' };
    if (h.vfQmState === 0) {
      return {
        revisions: ids(writers.filter((r) => r.traits.preCopy)),
        reason: 'match header alone with QM_READY: the PRE_COPY part of a stream (revisions without PRE_COPY never write it)',
      };
    }
    return { revisions: [], reason: `vf_qm_state ${h.vfQmState} is neither QM_READY nor QM_NOT_READY` };
  }
  if (h.vfQmState !== 0) return { revisions: [], reason: 'full stream with vf_qm_state not QM_READY: a source writes the body only when the VF is ready' };
  const dv = d.derived!;
  const b = d.body!;
  const comp = (want: 'fixed' | 'buggy') =>
    (dv.eqeDmaComposition === want || dv.eqeDmaComposition === 'both') && (dv.aeqeDmaComposition === want || dv.aeqeDmaComposition === 'both');
  const how = { fixed: 'the fixed way (dw2:dw1)', buggy: 'the buggy way (dw1:dw0)' } as const;
  const found = writers.filter((r) => comp(r.traits.xqcCompose));
  if (found.length) {
    const c = found[0].traits.xqcCompose;
    return { revisions: ids(found), reason: `${name} magic and eqe_dma/aeqe_dma composed ${how[c]}, as ${names(ids(found))} sources write` };
  }
  for (const c of ['fixed', 'buggy'] as const) {
    if (comp(c)) {
      return {
        revisions: [],
        reason: `${name} magic with eqe_dma/aeqe_dma composed ${how[c]}, which no source of this magic does: repaired (e.g. a buffer a recomputing destination rewrote) or hand-crafted`,
      };
    }
  }
  if (b.eqeDma === 0n && b.aeqeDma === 0n) return { revisions: [], reason: `${name} stream with zero eqe_dma/aeqe_dma although the contexts hold a base: no real source` };
  return { revisions: [], reason: `${name} stream whose eqe_dma/aeqe_dma match neither composition (hand-crafted or corrupted)` };
}

function acceptance(d: DecodedAccVf, revs: readonly StreamProfile[]): Acceptance | null {
  const h = d.header;
  if (!h) return null;
  const out: Acceptance = { accepted: [], recompute: [], refused: [] };
  for (const r of revs) {
    const rule = findAcceptRule(r.traits.accept, h.accMagic, majorVer(h));
    if (rule) {
      out.accepted.push(r.id);
      if (rule.recomputeDma) out.recompute.push(r.id);
      continue;
    }
    const named = r.traits.accept.find((a) => ruleNamesMagic(a, h.accMagic));
    out.refused.push({
      id: r.id,
      why: !named ? 'magic' : named.versionByte ? `version byte ${Number(h.accMagic & 0xffn)}` : `major_ver ${majorVer(h)}`,
    });
  }
  return out;
}

/** 'X, Y do A; Z do B' over a list, naming only the non-empty parts. */
function split(ids: string[], pred: (id: string) => boolean, yes: string, no: string): string {
  const a = ids.filter(pred);
  const b = ids.filter((x) => !pred(x));
  return [a.length ? `${names(a)} ${yes}` : '', b.length ? `${names(b)} ${no}` : ''].filter(Boolean).join('; ');
}

/**
 * Lint a decoded stream against the revisions given (normally every loaded profile: the CLI takes
 * `--rev IDS`). Statements about acceptance and provenance hold for exactly those revisions.
 */
export function lintDecoded(d: DecodedAccVf, revisions: readonly StreamProfile[]): LintReport {
  const f: Finding[] = [];
  const add = (severity: Severity, code: string, message: string, field?: string, offset?: number) =>
    f.push({ severity, code, message, ...(field ? { field } : {}), ...(offset !== undefined ? { offset } : {}) });
  const acc = acceptance(d, revisions);
  const accepted = acc?.accepted ?? [];
  const recomputes = (id: string) => acc!.recompute.includes(id);

  if (d.length !== QM_MATCH_SIZE && d.length !== ACC_VF_DATA_SIZE) {
    add('error', 'invalid-length', `length ${d.length}: a stream is ${QM_MATCH_SIZE} (match header) or ${ACC_VF_DATA_SIZE} (full) bytes; destinations refuse anything else`);
  }
  const h = d.header;
  if (h && acc) {
    const name = magicName(h.accMagic);
    const refused = acc.refused.map((r) => `${short(r.id)}${r.why === 'magic' ? '' : ` (${r.why})`}`).join(', ');
    const byVersion = acc.refused.filter((r) => r.why !== 'magic');
    if (accepted.length) {
      const code = d.layout === 'unknown' ? 'magic-other' : `magic-${d.layout}`;
      const who = acc.refused.length ? `accepted by ${names(accepted)}; refused by ${refused}` : `accepted by every revision (${names(accepted)})`;
      const fix = acc.recompute.length ? `; ${names(acc.recompute)} recompute eqe_dma/aeqe_dma` : '';
      add('info', code, `${name} magic: ${who}${fix}`, 'acc_magic', 0);
    } else if (byVersion.length) {
      const [field, offset] = d.layout === 'v2' ? ['major_ver', 28] : ['acc_magic', 0];
      add('error', d.layout === 'v2' ? 'v2-major' : 'version-refused',
        `${name} magic with ${byVersion[0].why}: every revision refuses it (${refused})`, field, offset);
    } else {
      add('error', d.layout === 'unknown' ? 'unknown-magic' : 'magic-refused', `magic ${hex64(h.accMagic)} (${name}): every revision refuses it (${names(revisions.map((r) => r.id))})`, 'acc_magic', 0);
    }
    if (d.layout === 'v2') {
      const minors = [...new Set(revisions.filter((r) => r.traits.write.magic === h.accMagic && r.traits.write.minor !== undefined).map((r) => r.traits.write.minor!))];
      const mv = minorVer(h);
      if (minors.length && !minors.includes(mv)) add('warning', 'v2-minor', `minor_ver ${mv}: sources of this magic write ${minors.join(', ')}; no destination compares it`, 'minor_ver', 30);
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
  if (h && b && dv) {
    b.qmRsvRegs.forEach((w, i) => {
      if (w !== 0) add('warning', 'reserved-nonzero', `qm_rsv_regs[${i}] is 0x${w.toString(16)}; never written by a source`, `qm_rsv_regs[${i}]`, 120 + 4 * i);
    });
    if (b.padding !== 0) add('warning', 'padding-nonzero', `padding is 0x${b.padding.toString(16)}; sources leave it zero`, 'padding', 140);
    const guard = (id: string) => revisions.find((r) => r.id === id)!.traits.nullDmaGuard;
    const dmas: [string, bigint, number][] = [['eqe_dma', b.eqeDma, 144], ['aeqe_dma', b.aeqeDma, 152], ['sqc_dma', b.sqcDma, 160], ['cqc_dma', b.cqcDma, 168]];
    for (const [name, v, off] of dmas) {
      if (v !== 0n) continue;
      const who = accepted.length ? `: ${split(accepted, guard, 'skip the restore (NULL guard)', 'program it')}` : '';
      add('warning', 'dma-zero', `${name} is zero${who}`, name, off);
    }
    // a wrong composition matters where an accepting destination keeps it: error when none repairs it
    const repaired = accepted.some(recomputes);
    const fate = (consequence: string) => (accepted.length ? `: ${split(accepted, recomputes, 'recompute it', `keep it${consequence}`)}` : '');
    const writers = revisions.filter((r) => r.traits.write.magic === h.accMagic);
    const comps: [string, string, Composition, bigint, bigint, number][] = [
      ['eqe_dma', 'EQC', dv.eqeDmaComposition, dv.eqBaseFixed, dv.eqBaseBuggy, 144],
      ['aeqe_dma', 'AEQC', dv.aeqeDmaComposition, dv.aeqBaseFixed, dv.aeqBaseBuggy, 152],
    ];
    for (const [name, ctx, c, fixed, buggy, off] of comps) {
      const sev = (otherwise: Severity): Severity => (accepted.length && !repaired ? 'error' : otherwise);
      if (c === 'buggy') {
        add(sev('info'), 'dma-buggy', `${name} = ${ctx} dw1:dw0 (buggy composition; the base is ${hex64(fixed)})${fate(', so events go to the wrong address')}`, name, off);
      } else if (c === 'neither') {
        add(sev('warning'), 'dma-inconsistent', `${name} matches neither the fixed ${ctx} composition ${hex64(fixed)} nor the buggy ${hex64(buggy)}${fate('')}`, name, off);
      } else if (c === 'fixed' && writers.length && !writers.some((r) => r.traits.xqcCompose === 'fixed')) {
        add('info', 'dma-unwritten-composition', `${name} is the fixed composition, but no source of this magic (${names(writers.map((r) => r.id))}) composes it that way`, name, off);
      }
    }
    for (const [q, head, tail, depth, base] of [['eq', dv.eqHead, dv.eqTail, dv.eqDepth, 64], ['aeq', dv.aeqHead, dv.aeqTail, dv.aeqDepth, 92]] as const) {
      if (head >= depth) add('error', `${q}-head-range`, `${q.toUpperCase()} head ${head} is beyond depth ${depth}`, `qm_${q}c_dw[0]`, base);
      if (tail >= depth) add('error', `${q}-tail-range`, `${q.toUpperCase()} tail ${tail} is beyond depth ${depth}`, `qm_${q}c_dw[0]`, base);
    }
  }
  const p = provenance(d, revisions);
  add('info', 'provenance', p.revisions.length ? `could have been written by ${names(p.revisions)}: ${p.reason}` : `no known revision writes this stream: ${p.reason}`);
  return {
    length: d.length, layout: d.layout, findings: f, provenance: p, acceptance: acc, revisions: revisions.map((r) => r.id),
    ok: !f.some((x) => x.severity === 'error'),
  };
}

export function lint(bytes: Uint8Array, revisions: readonly StreamProfile[]): LintReport {
  return lintDecoded(decodeAccVfData(bytes), revisions);
}
