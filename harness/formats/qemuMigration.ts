// Decoder for QEMU's migration stream envelope (formats/qemu_migration_stream.ksy): walks a whole
// stream record by record with the generated parser types, supplying what the envelope does not say
// about itself (which section id is RAM or a VFIO device, and each FULL body's length, computed from
// the trailing vmdesc JSON). Every byte lands in exactly one span, so `accounted === length` proves
// nothing was skipped. VFIO sections go to the qemu_vfio_device_state decoder and their device data
// to the hisi_acc decoder.
import { decode as decodeHisi, type DecodedStream } from './index.ts';
import { decodeVfioDeviceState } from './qemuDeviceState.ts';
import { format, KaitaiStream } from './parsers.ts';

export const QEMU_MIGRATION_FORMAT = 'qemu_migration_stream';
const QEVM = 0x5145564d;

export type SectionKind = 'ram' | 'vfio' | 'vmstate';
export type SectionType = 'start' | 'part' | 'end' | 'full';

export interface RamSummary {
  records: number;
  pages: number;
  zeroPages: number;
  /** RAM blocks announced by a MEM_SIZE record (START sections) */
  blocks: { name: string; length: number }[];
}

export interface QemuSection {
  offset: number;
  end: number;
  type: SectionType;
  sectionId: number;
  idstr: string;
  instanceId: number | null;
  versionId: number | null;
  kind: SectionKind;
  bodyOffset: number;
  bodyLength: number;
  ram?: RamSummary;
  /** VFIO payload records (tags), and the device bytes carried by DATA records */
  vfio?: { tags: string[]; dataBytes: number; problem?: string };
  /** vmstate: subsection names from the vmdesc */
  subsections?: string[];
}

export interface QemuSpan {
  offset: number;
  length: number;
  what: string;
}

export interface VfioDeviceStream {
  idstr: string;
  bytes: Uint8Array;
  decoded: DecodedStream;
  /** its END section was read to the footer (false: the stream stopped first, the bytes are what came before) */
  complete: boolean;
}

export interface DecodedQemuStream {
  ok: boolean;
  problem: string | null;
  /** offset where decoding stopped, when not ok */
  problemOffset: number | null;
  length: number;
  version: number;
  machineType: string | null;
  configSubsections: string[];
  sections: QemuSection[];
  commands: { offset: number; cmd: string; len: number }[];
  eofOffset: number | null;
  vmdesc: { offset: number; length: number; pageSize: number | null; devices: number } | null;
  /**
   * the device streams of VFIO sections (PRE_COPY and STOP_COPY chunks joined), decoded as hisi_acc;
   * also when decoding stopped at a problem (each says whether its END section was reached)
   */
  vfioDevices: VfioDeviceStream[];
  spans: QemuSpan[];
  accounted: number;
}

interface VmdescField {
  name?: string;
  size?: number;
  array_len?: number;
}
interface VmdescVmsd {
  vmsd_name?: string;
  fields?: VmdescField[];
  subsections?: VmdescVmsd[];
}
interface VmdescDevice extends VmdescVmsd {
  name: string;
  instance_id: number;
}

/** Bytes a vmstate wrote: every field's recorded size times its array length, plus framed subsections. */
export function vmstateSize(v: VmdescVmsd): number {
  let n = 0;
  for (const f of v.fields ?? []) n += (f.size ?? 0) * (f.array_len ?? 1);
  for (const s of v.subsections ?? []) n += 1 + 1 + Buffer.byteLength(s.vmsd_name ?? '') + 4 + vmstateSize(s);
  return n;
}

export function isQemuMigrationStream(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).readUInt32BE(0) === QEVM;
}

/** The trailing vmdesc: EOF byte, 0x06, be32 length, JSON running exactly to the end of the stream. */
function findVmdesc(b: Buffer): number | null {
  const lo = Math.max(1, b.length - (64 << 20));
  for (let p = b.length - 5; p >= lo; p--) {
    if (b[p] === 0x06 && b[p - 1] === 0x00 && b.readUInt32BE(p + 1) === b.length - p - 5 && b[p + 5] === 0x7b) return p;
  }
  return null;
}

export function decodeQemuMigration(bytes: Uint8Array): DecodedQemuStream {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const P = format(QEMU_MIGRATION_FORMAT).Parser;
  const out: DecodedQemuStream = {
    ok: false, problem: null, problemOffset: null, length: b.length, version: 0, machineType: null, configSubsections: [],
    sections: [], commands: [], eofOffset: null, vmdesc: null, vfioDevices: [], spans: [], accounted: 0,
  };
  const io = new KaitaiStream(bytes);
  const span = (offset: number, end: number, what: string) => {
    out.spans.push({ offset, length: end - offset, what });
    out.accounted += end - offset;
  };
  const vfioData = new Map<string, Uint8Array[]>();
  const vfioEnded = new Set<string>();
  const collectDevices = () => {
    for (const [idstr, parts] of vfioData) {
      const bytes2 = Buffer.concat(parts);
      out.vfioDevices.push({ idstr, bytes: bytes2, decoded: decodeHisi(bytes2), complete: vfioEnded.has(idstr) });
    }
  };
  const fail = (offset: number, why: string): DecodedQemuStream => {
    out.problem = why;
    out.problemOffset = offset;
    collectDevices();
    return out;
  };
  const msg = (e: unknown) => ((e as Error).name === 'EOFError' ? 'truncated' : (e as Error).message);

  // header and configuration (root type)
  let root: any;
  try {
    root = new P(io);
  } catch (e) {
    return fail(io.pos, `not a QEMU migration stream: ${msg(e)}`);
  }
  out.version = root.header.version;
  span(0, 8, 'header');
  if (root.configuration) {
    out.machineType = root.configuration.machineType;
    for (let s = root.configuration.subsections; s?.item; s = s.rest) out.configSubsections.push(s.item.name);
    span(8, io.pos, 'configuration');
  }

  // the vmdesc gives page size and FULL body lengths
  const vmdescAt = findVmdesc(b);
  let devices: VmdescDevice[] = [];
  let pageSize = 4096;
  if (vmdescAt !== null) {
    try {
      const j = JSON.parse(b.toString('utf8', vmdescAt + 5)) as { page_size?: number; devices?: VmdescDevice[] };
      devices = j.devices ?? [];
      if (j.page_size) pageSize = j.page_size;
      out.vmdesc = { offset: vmdescAt, length: b.length - vmdescAt, pageSize: j.page_size ?? null, devices: devices.length };
    } catch {
      /* reported below when a FULL section needs it */
    }
  }
  for (const n of out.configSubsections) if (n === 'configuration/target-page-bits') pageSize = 1 << root.configuration.subsections.item.body;
  const used = new Set<number>();
  const deviceFor = (idstr: string, instance: number): VmdescDevice | null => {
    const i = devices.findIndex((d, k) => !used.has(k) && d.name === idstr && d.instance_id === instance);
    if (i < 0) return null;
    used.add(i);
    return devices[i]!;
  };

  const kinds = new Map<number, { kind: SectionKind; idstr: string }>();
  for (;;) {
    const start = io.pos;
    if (io.isEof()) return fail(start, 'truncated: stream ends before EOF');
    const t = b[start]!;
    io.seek(start + 1);
    try {
      if (t === 0x00) {
        out.eofOffset = start;
        span(start, start + 1, 'eof');
        break;
      }
      if (t === 0x08) {
        const c = new P.Command(io, null, root);
        out.commands.push({ offset: start, cmd: P.CommandType[c.cmd] ?? `cmd${c.cmd}`, len: c.len });
        span(start, io.pos, `command ${P.CommandType[c.cmd] ?? c.cmd}`);
        continue;
      }
      if (t < 0x01 || t > 0x04) return fail(start, `unknown section type 0x${t.toString(16)}`);
      const type: SectionType = (['start', 'part', 'end', 'full'] as const)[t - 1]!;
      let sec: QemuSection;
      if (t === 0x01 || t === 0x04) {
        const h = new P.SectionFullHeader(io, null, root);
        const kind: SectionKind = h.idstr === 'ram' ? 'ram' : h.idstr.endsWith('/vfio') ? 'vfio' : 'vmstate';
        kinds.set(h.sectionId, { kind, idstr: h.idstr });
        sec = { offset: start, end: 0, type, sectionId: h.sectionId, idstr: h.idstr, instanceId: h.instanceId, versionId: h.versionId, kind, bodyOffset: io.pos, bodyLength: 0 };
      } else {
        const h = new P.SectionShortHeader(io, null, root);
        const k = kinds.get(h.sectionId);
        if (!k) return fail(start, `${type} section for unknown section id ${h.sectionId}`);
        sec = { offset: start, end: 0, type, sectionId: h.sectionId, idstr: k.idstr, instanceId: null, versionId: null, kind: k.kind, bodyOffset: io.pos, bodyLength: 0 };
      }
      span(start, io.pos, `${type} header ${sec.idstr}`);
      const bodyStart = io.pos;
      if (sec.kind === 'ram') {
        const ram = new P.RamData(io, null, root, pageSize);
        const sum: RamSummary = { records: 0, pages: 0, zeroPages: 0, blocks: [] };
        for (const r of ram.records) {
          sum.records++;
          if (r.hasPage) sum.pages++;
          if (r.hasZero) sum.zeroPages++;
          for (let l = r.blocks; l?.block; l = l.rest) sum.blocks.push({ name: l.block.name.value, length: l.block.usedLength });
        }
        sec.ram = sum;
      } else if (sec.kind === 'vfio') {
        const d = decodeVfioDeviceState(bytes.subarray(bodyStart));
        if (!d.records.length) return fail(bodyStart, `VFIO section ${sec.idstr}: ${d.problem ?? 'no records'}`);
        sec.vfio = { tags: d.records.map((r) => r.tagName), dataBytes: d.deviceData.length, ...(d.problem ? { problem: d.problem } : {}) };
        if (d.deviceData.length) vfioData.set(sec.idstr, [...(vfioData.get(sec.idstr) ?? []), d.deviceData]);
        io.seek(bodyStart + d.consumed);
      } else {
        if (type !== 'full') return fail(start, `${type} section of iterable device ${sec.idstr} has no known body format`);
        const dev = deviceFor(sec.idstr, sec.instanceId ?? 0);
        if (!dev) return fail(start, `FULL section ${sec.idstr} (instance ${sec.instanceId}) is not described by the stream's vmdesc${out.vmdesc ? '' : ' (no vmdesc found)'}`);
        new P.OpaqueState(io, null, root, vmstateSize(dev));
        sec.subsections = (dev.subsections ?? []).map((s) => s.vmsd_name ?? '?');
      }
      sec.bodyLength = io.pos - bodyStart;
      span(bodyStart, io.pos, `${type} body ${sec.idstr}`);
      const fstart = io.pos;
      const f = new P.Footer(io, null, root);
      if (f.sectionId !== sec.sectionId) return fail(fstart, `footer of section ${sec.sectionId} (${sec.idstr}) names section ${f.sectionId}`);
      span(fstart, io.pos, 'footer');
      if (sec.kind === 'vfio' && (type === 'end' || type === 'full')) vfioEnded.add(sec.idstr);
      sec.end = io.pos;
      out.sections.push(sec);
    } catch (e) {
      return fail(io.pos, `${msg(e)} in the record at ${start}`);
    }
  }
  if (out.vmdesc && io.pos === out.vmdesc.offset) {
    const v = new P.Vmdesc(io, null, root);
    span(out.vmdesc.offset, io.pos, `vmdesc (${v.len} bytes of JSON)`);
  }
  if (io.pos !== b.length) return fail(io.pos, `${b.length - io.pos} bytes after the end of the stream`);
  collectDevices();
  out.ok = out.accounted === b.length;
  if (!out.ok) out.problem = `accounted ${out.accounted} of ${b.length} bytes`;
  return out;
}

/** One line per section (RAM sections grouped), for the CLI. */
export function summarizeQemuStream(d: DecodedQemuStream): string[] {
  const lines = [`QEMU migration stream v${d.version}, ${d.length} bytes, machine ${d.machineType ?? '?'}${d.configSubsections.length ? ` (${d.configSubsections.join(', ')})` : ''}`];
  for (const c of d.commands) lines.push(`  @${c.offset} command ${c.cmd} (${c.len} bytes)`);
  let ramRun: QemuSection[] = [];
  const flushRam = () => {
    if (!ramRun.length) return;
    const pages = ramRun.reduce((a, s) => a + (s.ram?.pages ?? 0), 0);
    const zero = ramRun.reduce((a, s) => a + (s.ram?.zeroPages ?? 0), 0);
    const bytes = ramRun.reduce((a, s) => a + (s.end - s.offset), 0);
    const first = ramRun[0]!;
    const blocks = ramRun.flatMap((s) => s.ram?.blocks ?? []).map((x) => `${x.name}=${x.length}`);
    lines.push(`  @${first.offset} ram: ${ramRun.map((s) => s.type).join('/').replace(/(part\/)+/g, 'part…/')} ${ramRun.length} sections, ${pages} pages, ${zero} zero pages, ${bytes} bytes${blocks.length ? ` [${blocks.join(' ')}]` : ''}`);
    ramRun = [];
  };
  for (const s of d.sections) {
    if (s.kind === 'ram') {
      ramRun.push(s);
      continue;
    }
    flushRam();
    const extra = s.vfio ? ` tags ${s.vfio.tags.join(',')} data ${s.vfio.dataBytes} bytes` : s.subsections?.length ? ` subsections ${s.subsections.join(',')}` : '';
    lines.push(`  @${s.offset} ${s.type} #${s.sectionId} ${s.idstr}${s.instanceId ? ` instance ${s.instanceId}` : ''} v${s.versionId ?? '-'} ${s.bodyLength} bytes${extra}`);
  }
  flushRam();
  for (const v of d.vfioDevices) {
    lines.push(`  vfio ${v.idstr}: ${v.bytes.length} device bytes, layout ${v.decoded.layout}${v.decoded.ok ? '' : ` (${v.decoded.problem})`}${v.complete ? '' : ', no END section before the problem'}`);
  }
  if (d.eofOffset !== null) lines.push(`  @${d.eofOffset} eof`);
  if (d.vmdesc) lines.push(`  @${d.vmdesc.offset} vmdesc ${d.vmdesc.length} bytes, ${d.vmdesc.devices} devices`);
  lines.push(d.ok ? `all ${d.length} bytes accounted for` : `PROBLEM at ${d.problemOffset}: ${d.problem}`);
  return lines;
}
