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

export interface WorkloadLog {
  iters: IterLine[];
  algs: AlgLine[];
  /** lines that are neither (a torn or garbled line shows up here) */
  other: string[];
  /** the text after the last newline: a line being written, or torn */
  partial: string;
}

export function parseWorkload(text: string): WorkloadLog {
  const lines = text.split('\n');
  const partial = lines.pop() ?? '';
  const log: WorkloadLog = { iters: [], algs: [], other: [], partial };
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
 * The workload across a sequence of logs (one per QEMU process the guest ran on, in order): the counter
 * goes on with nothing lost or repeated, and every value is right. firstExpected: the number the
 * first line must carry (null when the first segment starts after an earlier hop).
 */
export function checkContinuity(segments: { label: string; text: string }[], size: number, firstExpected: number | null = 1): CheckResult[] {
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

/** The highest-priority driver per algorithm, as the guest's /proc/crypto listed it. */
export function servingDrivers(algs: AlgLine[]): Record<string, string> {
  const best: Record<string, AlgLine> = {};
  for (const a of algs) if (!best[a.name] || best[a.name]!.priority < a.priority) best[a.name] = a;
  return Object.fromEntries(Object.entries(best).map(([k, v]) => [k, v.driver]));
}
