// Host side of the guest workload: the parameters the guest gets, parsing of its numbered lines, and
// verification of every value with node:crypto from the iteration number alone.
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import type { CheckResult } from '../../oracle/types.ts';
import { WORKLOAD_ALGS, WORKLOAD_PORT } from './guestInit.ts';

export const WORKLOAD_KEY = Buffer.from('6d6967636f6d7061742d6b65792d3235362d62697473206f6e20414620414c47', 'hex');
export const CBC_IV = '000102030405060708090a0b0c0d0e0f';
export const GCM_AAD = '6d6967636f6d7061742d616164'; // "migcompat-aad"

export interface WorkloadParams {
  /** plaintext bytes per iteration (a multiple of 16, so kcapi-enc adds no padding) */
  size: number;
  /** guest sleep between iterations */
  delayMs: number;
}

export const DEFAULT_WORKLOAD: WorkloadParams = { size: 32768, delayMs: 150 };

/** /etc/migcompat/params, sourced by the guest's /init. */
export function paramsFile(p: WorkloadParams): string {
  return [
    `SIZE=${p.size}`, `DELAY_MS=${p.delayMs}`, `CBC_IV=${CBC_IV}`, `GCM_AAD=${GCM_AAD}`,
    `PORT=${WORKLOAD_PORT}`, `ALGS='${WORKLOAD_ALGS.join(' ')}'`, '',
  ].join('\n');
}

export interface IterLine {
  n: number;
  values: Record<string, string>;
  raw: string;
}

export interface AlgLine {
  name: string;
  driver: string;
  priority: number;
  module: string;
}

/** The guest's HISI line: hisi_* modules loaded, and each hisi_* PCI driver with the devices bound to it. */
export interface HisiReport {
  modules: string[];
  pci: Record<string, number>;
}

export interface WorkloadLog {
  iters: IterLine[];
  algs: AlgLine[];
  hisi: HisiReport | null;
  /** lines that are neither (a torn or garbled line shows up here) */
  other: string[];
  /** the text after the last newline: a line being written, or torn */
  partial: string;
}

export function parseWorkload(text: string): WorkloadLog {
  const lines = text.split('\n');
  const partial = lines.pop() ?? '';
  const log: WorkloadLog = { iters: [], algs: [], hisi: null, other: [], partial };
  for (const raw of lines) {
    const l = raw.replace(/\r$/, '');
    const it = /^ITER (\d+) (.*)$/.exec(l);
    if (it) {
      const values: Record<string, string> = {};
      for (const kv of it[2]!.split(' ')) {
        const i = kv.indexOf('=');
        if (i > 0) values[kv.slice(0, i)] = kv.slice(i + 1);
      }
      log.iters.push({ n: Number(it[1]), values, raw: l });
      continue;
    }
    const alg = /^ALG (\S+) driver=(\S*) prio=(\d+) module=(\S*)$/.exec(l);
    if (alg) {
      log.algs.push({ name: alg[1]!, driver: alg[2]!, priority: Number(alg[3]), module: alg[4]! });
      continue;
    }
    const hisi = /^HISI modules=(\S+) pci=(\S+)$/.exec(l);
    if (hisi) {
      const list = (v: string) => (v === '-' ? [] : v.split(','));
      log.hisi = {
        modules: list(hisi[1]!),
        pci: Object.fromEntries(list(hisi[2]!).map((e) => e.split(':')).map(([d, n]) => [d!, Number(n)])),
      };
      continue;
    }
    if (l.length) log.other.push(l);
  }
  return log;
}

function plaintext(n: number, size: number): Buffer {
  const unit = Buffer.from(`migcompat-${n}\n`);
  const buf = Buffer.alloc(size);
  for (let off = 0; off < size; off += unit.length) unit.copy(buf, off, 0, Math.min(unit.length, size - off));
  return buf;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What a correct guest prints for iteration n. */
export function expectedValues(n: number, size: number): Record<string, string> {
  const pt = plaintext(n, size);
  const cbc = createCipheriv('aes-256-cbc', WORKLOAD_KEY, Buffer.from(CBC_IV, 'hex')).setAutoPadding(false);
  const ct = Buffer.concat([cbc.update(pt), cbc.final()]);
  const aad = Buffer.from(GCM_AAD, 'hex');
  const gcm = createCipheriv('aes-256-gcm', WORKLOAD_KEY, Buffer.from(n.toString(16).padStart(24, '0'), 'hex'));
  gcm.setAAD(aad);
  const gct = Buffer.concat([gcm.update(pt), gcm.final()]);
  return {
    sha256: sha256(pt),
    sha512: createHash('sha512').update(pt).digest('hex'),
    hmac: createHmac('sha256', WORKLOAD_KEY).update(pt).digest('hex'),
    cbc: sha256(ct),
    // kcapi-enc writes the raw AF_ALG AEAD output: AAD || ciphertext || tag
    gcm: sha256(Buffer.concat([aad, gct, gcm.getAuthTag()])),
    rt: 'ok',
  };
}

/** First mismatching field of a line, or null when every value is right. */
export function verifyIter(line: IterLine, size: number): string | null {
  const want = expectedValues(line.n, size);
  for (const [k, v] of Object.entries(want)) {
    if (line.values[k] !== v) return `ITER ${line.n} ${k}=${line.values[k] ?? '(missing)'} expected ${v}`;
  }
  return null;
}

/**
 * The guest's output is one stream cut at each hop: a line the guest was writing when the source
 * stopped ends on the destination. Each segment's unfinished last line moves to the next segment,
 * so the line counts where it was completed.
 */
export function joinSegments(segments: { label: string; text: string }[]): { label: string; text: string }[] {
  let carry = '';
  return segments.map((seg, i) => {
    const text = carry + seg.text;
    if (i === segments.length - 1) return { label: seg.label, text };
    const cut = text.lastIndexOf('\n') + 1;
    carry = text.slice(cut);
    return { label: seg.label, text: text.slice(0, cut) };
  });
}

/**
 * The workload across a sequence of logs (one per QEMU process the guest ran on, in order): the counter
 * goes on with nothing lost or repeated, and every value is right. firstExpected: the number the
 * first line must carry (null when the first segment starts after an earlier hop).
 */
export function checkContinuity(segments: { label: string; text: string }[], size: number, firstExpected: number | null = 1): CheckResult[] {
  segments = joinSegments(segments);
  const checks: CheckResult[] = [];
  let prev: { label: string; n: number } | null = null;
  let total = 0;
  const bad: string[] = [];
  const gaps: string[] = [];
  for (const seg of segments) {
    const log = parseWorkload(seg.text);
    if (log.other.length) bad.push(`${seg.label}: unexpected line '${log.other[0]!.slice(0, 80)}'`);
    for (const it of log.iters) {
      total++;
      const want: number | null = prev ? prev.n + 1 : firstExpected;
      if (want !== null && it.n !== want) gaps.push(`${seg.label}: ITER ${it.n} after ${prev ? `${prev.label} ITER ${prev.n}` : 'start'}`);
      const err = verifyIter(it, size);
      if (err) bad.push(`${seg.label}: ${err}`);
      prev = { label: seg.label, n: it.n };
    }
  }
  checks.push({
    name: 'workload-continuity',
    ok: gaps.length === 0 && total > 0,
    detail: gaps.length ? gaps.slice(0, 3).join('; ') : `${total} iterations in order, none lost or repeated`,
  });
  checks.push({
    name: 'workload-results',
    ok: bad.length === 0 && total > 0,
    detail: bad.length ? bad.slice(0, 3).join('; ') : `${total} iterations match node:crypto`,
  });
  return checks;
}

/** The driver that served each workload algorithm in this iteration (its drv= field), by algorithm name. */
export function iterDrivers(it: IterLine): Record<string, string> {
  const v = it.values.drv;
  if (!v) return {};
  const ds = v.split('|');
  return Object.fromEntries(WORKLOAD_ALGS.map((a, i) => [a, ds[i] ?? '-']));
}

/** PCI drivers of the HiSilicon guest modules (a VF of each kind binds to one of them). */
export const HISI_PCI_DRIVERS = ['hisi_sec2', 'hisi_hpre', 'hisi_zip'];
/**
 * Workload algorithms hisi_sec2 registers (its skcipher and AEAD tables hold cbc(aes) and gcm(aes);
 * it has no hashes): with a SEC VF bound, these must be served by hisi_sec_* drivers.
 */
export const HISI_SEC_ALGS = ['cbc(aes)', 'gcm(aes)'];

export interface HisiExpectation {
  /** HiSilicon modules the image loads (none: no check) */
  modules: string[];
  /** VFs passed through to the guest */
  vfs: number;
}

const describePci = (r: HisiReport) => Object.entries(r.pci).map(([d, n]) => `${d}:${n}`).join(', ') || 'none';

/**
 * The HiSilicon drivers in the guest. `hisi-drivers`: the modules loaded and registered their PCI
 * drivers, and every VF passed through is bound to one of them. `hisi-served` (a SEC VF bound): every
 * iteration, before and after each hop, went to hisi_sec_* for cbc(aes) and gcm(aes), and the SEC
 * request counter grew; a generic driver answering means the VF silently stopped being used.
 */
export function checkHisi(segments: { label: string; text: string }[], report: HisiReport | null, want: HisiExpectation): CheckResult[] {
  if (want.modules.length === 0) return [];
  const checks: CheckResult[] = [];
  if (!report) return [{ name: 'hisi-drivers', ok: false, detail: 'the guest printed no HISI line (modules and PCI drivers unknown)' }];
  const missing = want.modules.filter((m) => !report.modules.includes(m));
  const pciWanted = HISI_PCI_DRIVERS.filter((d) => want.modules.includes(d));
  const unregistered = pciWanted.filter((d) => !(d in report.pci));
  const bound = pciWanted.reduce((a, d) => a + (report.pci[d] ?? 0), 0);
  const problems: string[] = [];
  if (missing.length) problems.push(`not loaded: ${missing.join(', ')}`);
  if (unregistered.length) problems.push(`PCI drivers not registered: ${unregistered.join(', ')}`);
  if (want.vfs > bound) problems.push(`${want.vfs} VF(s) passed through, the HiSilicon drivers bound ${bound}`);
  const state = `${report.modules.join(', ')} loaded; PCI drivers ${describePci(report)}`;
  checks.push({
    name: 'hisi-drivers',
    ok: problems.length === 0,
    detail: problems.length ? `${problems.join('; ')} (${state})`
      : want.vfs === 0 ? `no VF present: ${state} (registered, bound to no device)` : `${state}`,
  });
  const sec = report.pci.hisi_sec2 ?? 0;
  if (want.vfs === 0) return checks;
  if (sec === 0) {
    checks.push({ name: 'hisi-served', ok: true, detail: `no SEC VF bound (${describePci(report)}): the workload's algorithms have no HiSilicon engine on HPRE/ZIP VFs` });
    return checks;
  }
  const bad: string[] = [];
  let prev: { label: string; n: number; hw: number } | null = null;
  let total = 0;
  for (const seg of joinSegments(segments)) {
    for (const it of parseWorkload(seg.text).iters) {
      total++;
      const d = iterDrivers(it);
      for (const a of HISI_SEC_ALGS) {
        if (!d[a]?.startsWith('hisi_sec_')) bad.push(`${seg.label} ITER ${it.n}: ${a} answered by ${d[a] ?? '(not reported)'}, not hisi_sec2: the VF silently stopped being used`);
      }
      const hw = Number(it.values.hw);
      if (!Number.isFinite(hw)) bad.push(`${seg.label} ITER ${it.n}: no SEC request counter (hw=${it.values.hw ?? ''})`);
      else {
        if (prev && hw <= prev.hw) bad.push(`${seg.label} ITER ${it.n}: SEC request counter ${hw} did not grow since ${prev.label} ITER ${prev.n} (${prev.hw})`);
        prev = { label: seg.label, n: it.n, hw };
      }
    }
  }
  checks.push({
    name: 'hisi-served',
    ok: bad.length === 0 && total > 0,
    detail: bad.length ? bad.slice(0, 3).join('; ') : total ? `${total} iterations served by hisi_sec2 (${HISI_SEC_ALGS.join(', ')}), SEC request counter growing` : 'no iterations',
  });
  return checks;
}

/** The highest-priority driver per algorithm, as the guest's /proc/crypto listed it. */
export function servingDrivers(algs: AlgLine[]): Record<string, string> {
  const best: Record<string, AlgLine> = {};
  for (const a of algs) if (!best[a.name] || best[a.name]!.priority < a.priority) best[a.name] = a;
  return Object.fromEntries(Object.entries(best).map(([k, v]) => [k, v.driver]));
}
