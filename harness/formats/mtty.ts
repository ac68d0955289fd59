// The mtty sample driver's migration stream (formats/mtty_data.ksy): decode with exact values, a
// byte -> field map, and lint findings saying what a real mtty destination does with the bytes
// (docs/kernel-guest.md#mttys-stream-and-what-a-destination-checks).
import { hex64 } from '../util/hex.ts';
import { fieldMapOf, type FieldMap } from './fieldMap.ts';
import type { Finding, Provenance, Severity } from './lint.ts';
import { format, KaitaiStream } from './parsers.ts';

export const MTTY_FORMAT = 'mtty_data';
export const MTTY_MAGIC = 0x7e9d09898c3e2c4en;
export const MTTY_MAJOR_VER = 1;
export const MTTY_MINOR_VER = 0;
export const MTTY_HEADER_SIZE = 24;
export const MTTY_PORT_SIZE = 36;
export const MTTY_FIFO_SIZE = 16;
/** the port counts mtty's two types have (mtty-1, mtty-2) */
export const MTTY_PORT_COUNTS = [1, 2] as const;

/** Stream bytes of an instance with `ports` UARTs (MIG_DATA_SIZE of that instance). */
export const mttyStreamSize = (ports: number): number => MTTY_HEADER_SIZE + ports * MTTY_PORT_SIZE;

export interface MttyPort {
  /** the eight UART register slots as stored (0 RBR/THR, 1 IER, 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR) */
  regs: number[];
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  fifo: Uint8Array;
  fifoHead: number;
  fifoTail: number;
  fifoCount: number;
  dlab: number;
  overrun: number;
  divisor: number;
  fcr: number;
  maxFifoSize: number;
  intrTriggerLevel: number;
  pad: [number, number];
  /** the bytes an RX read would return, oldest first (fifo_count of them from fifo_tail, wrapping) */
  pending: number[];
}

export interface MttyHeader {
  magic: bigint;
  magicOk: boolean;
  majorVer: number;
  minorVer: number;
  nrPorts: number;
  flags: number;
}

export type MttyProblemCode = 'short-header' | 'magic' | 'version' | 'flags' | 'nr-ports' | 'truncated' | 'too-long';

export interface DecodedMtty {
  format: 'mtty';
  /** header valid and exactly nr_ports whole port records: a stream a same-type destination takes */
  ok: boolean;
  length: number;
  header?: MttyHeader;
  ports: MttyPort[];
  /** bytes after the last whole port record */
  excess: number;
  problemCode?: MttyProblemCode;
  problem?: string;
  fieldMap?: FieldMap;
  raw: Uint8Array;
}

/** The first 8 bytes are mtty's magic (little-endian). */
export function isMttyStream(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return ((BigInt(dv.getUint32(4, true)) << 32n) | BigInt(dv.getUint32(0, true))) === MTTY_MAGIC;
}

function port(p: any): MttyPort {
  const fifo = new Uint8Array(p.fifo);
  const pending: number[] = [];
  // what RX would return: from tail, count bytes, the index wrapping like the driver's (mask 15)
  for (let i = 0, at = p.fifoTail; i < Math.min(p.fifoCount, MTTY_FIFO_SIZE); i++, at = (at + 1) & (MTTY_FIFO_SIZE - 1)) {
    pending.push(fifo[at % MTTY_FIFO_SIZE]!);
  }
  return {
    regs: [p.reg0, p.ier, p.reg2, p.lcr, p.mcr, p.reg5, p.reg6, p.scr],
    ier: p.ier, lcr: p.lcr, mcr: p.mcr, scr: p.scr, fifo,
    fifoHead: p.fifoHead, fifoTail: p.fifoTail, fifoCount: p.fifoCount, dlab: p.dlab, overrun: p.overrun,
    divisor: p.divisor, fcr: p.fcr, maxFifoSize: p.maxFifoSize, intrTriggerLevel: p.intrTriggerLevel,
    pad: [p.pad1[0] ?? 0, p.pad2[0] ?? 0], pending,
  };
}

/** Decode an mtty stream; never throws on bytes (the problem is part of the result). */
export function decodeMtty(bytes: Uint8Array, opts: { fieldMap?: boolean } = {}): DecodedMtty {
  const fmt = format(MTTY_FORMAT);
  const p = new fmt.Parser(new KaitaiStream(bytes));
  const out: DecodedMtty = { format: 'mtty', ok: true, length: bytes.length, ports: (p.ports ?? []).map(port), excess: p.excess?.length ?? 0, raw: bytes };
  if (opts.fieldMap) out.fieldMap = fieldMapOf(fmt, bytes);
  const bad = (code: MttyProblemCode, problem: string) => {
    if (out.ok) Object.assign(out, { ok: false, problemCode: code, problem });
  };
  const h = p.header;
  if (!h) {
    bad('short-header', `${bytes.length} bytes: shorter than the ${MTTY_HEADER_SIZE}-byte header`);
    return out;
  }
  out.header = {
    magic: (BigInt(h.magic.hi >>> 0) << 32n) | BigInt(h.magic.lo >>> 0), magicOk: h.magicOk,
    majorVer: h.majorVer, minorVer: h.minorVer, nrPorts: h.nrPorts, flags: h.flags,
  };
  const hd = out.header;
  if (!hd.magicOk) bad('magic', `magic ${hex64(hd.magic)} is not mtty's ${hex64(MTTY_MAGIC)}`);
  if (hd.majorVer !== MTTY_MAJOR_VER || hd.minorVer !== MTTY_MINOR_VER) bad('version', `version ${hd.majorVer}.${hd.minorVer}: mtty writes and accepts only ${MTTY_MAJOR_VER}.${MTTY_MINOR_VER}`);
  if (hd.flags !== 0) bad('flags', `flags 0x${hd.flags.toString(16)}: reserved, must be 0`);
  if (!(MTTY_PORT_COUNTS as readonly number[]).includes(hd.nrPorts)) bad('nr-ports', `nr_ports ${hd.nrPorts}: mtty instances have 1 or 2 ports`);
  else if (bytes.length < mttyStreamSize(hd.nrPorts)) bad('truncated', `${bytes.length} bytes: a ${hd.nrPorts}-port stream is ${mttyStreamSize(hd.nrPorts)} (header ${MTTY_HEADER_SIZE} + ${hd.nrPorts} x ${MTTY_PORT_SIZE})`);
  else if (bytes.length > mttyStreamSize(hd.nrPorts)) bad('too-long', `${bytes.length} bytes: a ${hd.nrPorts}-port stream is ${mttyStreamSize(hd.nrPorts)}`);
  return out;
}

export interface MttyLintReport {
  format: 'mtty';
  length: number;
  /** mtty-1 / mtty-2 by the header's port count, or 'unknown' */
  layout: string;
  findings: Finding[];
  provenance: Provenance;
  ok: boolean;
}

const regName = ['reg0', 'ier', 'reg2', 'lcr', 'mcr', 'reg5', 'reg6', 'scr'];

/**
 * Findings about an mtty stream, each saying what an mtty destination (Linux v6.7+) does with it:
 * the header is checked at the write that completes it (EFAULT), the length at RESUMING->STOP
 * (EINVAL when short) or per write (ENOMEM past the destination's size), and the port records are
 * copied into the UARTs unchecked.
 */
export function lintMtty(bytes: Uint8Array): MttyLintReport {
  const d = decodeMtty(bytes);
  const f: Finding[] = [];
  const add = (severity: Severity, code: string, message: string, field?: string, offset?: number) =>
    f.push({ severity, code, message, ...(field ? { field } : {}), ...(offset !== undefined ? { offset } : {}) });
  const h = d.header;
  const typeOf = (n: number) => `mtty-${n}`;
  let provenance: Provenance;
  if (!h) {
    add('error', 'short-header', `${d.length} bytes, less than the ${MTTY_HEADER_SIZE}-byte header: a destination takes the bytes and refuses at RESUMING->STOP (EINVAL)`);
    provenance = { revisions: [], reason: 'no mtty source writes less than its header' };
  } else {
    if (!h.magicOk) add('error', 'bad-magic', `magic ${hex64(h.magic)} is not ${hex64(MTTY_MAGIC)}: every destination refuses the write that completes the header (EFAULT)`, 'header.magic', 0);
    if (h.majorVer !== MTTY_MAJOR_VER) add('error', 'major-ver', `major_ver ${h.majorVer}: destinations require ${MTTY_MAJOR_VER} (EFAULT)`, 'header.major_ver', 8);
    if (h.minorVer !== MTTY_MINOR_VER) add('error', 'minor-ver', `minor_ver ${h.minorVer}: destinations require ${MTTY_MINOR_VER} (EFAULT)`, 'header.minor_ver', 12);
    if (h.flags !== 0) add('error', 'flags', `flags 0x${h.flags.toString(16)}: destinations require 0 (EFAULT)`, 'header.flags', 20);
    const known = (MTTY_PORT_COUNTS as readonly number[]).includes(h.nrPorts);
    if (!known) add('error', 'nr-ports', `nr_ports ${h.nrPorts}: no mtty type has it; every destination refuses it (EFAULT)`, 'header.nr_ports', 16);
    else add('info', 'type', `the header names an ${typeOf(h.nrPorts)} instance (${h.nrPorts} port(s)): only ${typeOf(h.nrPorts)} destinations take it (another port count is refused with EFAULT)`, 'header.nr_ports', 16);
    if (known) {
      const want = mttyStreamSize(h.nrPorts);
      if (d.length === MTTY_HEADER_SIZE) add('error', 'header-only', `the header alone (the PRE_COPY part): a destination refuses at RESUMING->STOP (EINVAL) until the ${want - MTTY_HEADER_SIZE} port bytes follow`);
      else if (d.length < want) add('error', 'truncated', `${d.length} of ${want} bytes: a destination refuses at RESUMING->STOP (EINVAL)`);
      else if (d.length > want) add('error', 'too-long', `${d.length} bytes, more than the ${want} a ${typeOf(h.nrPorts)} destination holds: the write crossing ${want} is refused (ENOMEM)`, 'excess', want);
    }
    d.ports.forEach((p, i) => {
      const base = MTTY_HEADER_SIZE + i * MTTY_PORT_SIZE;
      const at = (name: string, off: number) => [`ports[${i}].${name}`, base + off] as const;
      for (const [name, v, off] of [['fifo_head', p.fifoHead, 24], ['fifo_tail', p.fifoTail, 25]] as const) {
        if (v >= MTTY_FIFO_SIZE) add('error', 'fifo-index', `port ${i} ${name} ${v}: a destination loads it unchecked and its next FIFO access indexes past the ${MTTY_FIFO_SIZE}-byte FIFO (kernel memory)`, ...at(name, off));
      }
      if (p.fifoCount > MTTY_FIFO_SIZE) add('error', 'fifo-count', `port ${i} fifo_count ${p.fifoCount} is more than the FIFO holds (${MTTY_FIFO_SIZE})`, ...at('fifo_count', 26));
      else if (p.fifoHead < MTTY_FIFO_SIZE && p.fifoTail < MTTY_FIFO_SIZE && ((p.fifoHead - p.fifoTail) & 15) !== (p.fifoCount & 15)) {
        add('warning', 'fifo-inconsistent', `port ${i}: fifo_count ${p.fifoCount} does not match head ${p.fifoHead} - tail ${p.fifoTail}`, ...at('fifo_count', 26));
      }
      for (const [name, v, off] of [['dlab', p.dlab, 27], ['overrun', p.overrun, 28]] as const) {
        if (v > 1) add('warning', 'bool', `port ${i} ${name} ${v}: a C bool, a source writes 0 or 1`, ...at(name, off));
      }
      if (p.dlab !== (p.lcr >> 7 & 1) && p.dlab <= 1) add('warning', 'dlab-lcr', `port ${i}: dlab ${p.dlab} disagrees with LCR bit 7 (lcr 0x${p.lcr.toString(16)})`, ...at('dlab', 27));
      if (![1, MTTY_FIFO_SIZE].includes(p.maxFifoSize)) add('warning', 'fifo-size', `port ${i} max_fifo_size ${p.maxFifoSize}: a source has 1 (FIFO off) or 16`, ...at('max_fifo_size', 33));
      if (![1, 4, 8, 14].includes(p.intrTriggerLevel)) add('warning', 'trigger-level', `port ${i} intr_trigger_level ${p.intrTriggerLevel}: a source has 1, 4, 8 or 14`, ...at('intr_trigger_level', 34));
      for (const r of [0, 2, 5, 6]) {
        if (p.regs[r] !== 0) add('warning', 'unused-reg', `port ${i} ${regName[r]} is 0x${p.regs[r]!.toString(16)}: mtty never stores that slot`, ...at(regName[r]!, r));
      }
      if (p.pad[0] !== 0 || p.pad[1] !== 0) add('warning', 'padding', `port ${i} padding is not zero`, ...at('pad1', 29));
    });
    if (d.ok) provenance = { revisions: [`mtty ${typeOf(h.nrPorts)}`], reason: `a whole ${typeOf(h.nrPorts)} stream (header, then ${h.nrPorts} port record(s)) as mtty (Linux v6.7+) writes it` };
    else if (h.magicOk && known && d.length === MTTY_HEADER_SIZE && h.flags === 0) provenance = { revisions: [`mtty ${typeOf(h.nrPorts)}`], reason: 'the PRE_COPY part of an mtty stream (header only)' };
    else provenance = { revisions: [], reason: d.problem ?? 'malformed' };
  }
  add('info', 'provenance', provenance.revisions.length ? `could have been written by ${provenance.revisions.join(', ')}: ${provenance.reason}` : `no mtty source writes this stream: ${provenance.reason}`);
  return {
    format: 'mtty', length: d.length, layout: h && (MTTY_PORT_COUNTS as readonly number[]).includes(h.nrPorts) ? typeOf(h.nrPorts) : 'unknown',
    findings: f, provenance, ok: !f.some((x) => x.severity === 'error'),
  };
}
