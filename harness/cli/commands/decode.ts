// `migcompat decode FILE [--format hisi-acc|mtty|qemu-vfio|qemu-migration] [--json]`: every field of
// a stream with its offset, size, hex value and meaning. A QEMU migration file (QEVM magic) and an
// mtty stream (its magic) are detected; a QEMU file is listed by section, with its VFIO device data
// decoded. Exit 0 once decoded, also for a malformed device stream (the problem is part of the
// output; `lint` is the command that judges).
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat decode FILE [--format hisi-acc|mtty|qemu-vfio|qemu-migration] [--json]';

const decode: Command = {
  name: 'decode',
  usage,
  summary: 'decode a captured stream: every field with offset, size, hex value and meaning',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, format: { type: 'string' } }, usage);
    if (positionals.length !== 1) throw new UsageError(`expected one FILE (usage: ${usage})`);
    const { STREAM_FORMATS, detectFormat } = await import('../../formats/detect.ts');
    if (values.format !== undefined && !(STREAM_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${STREAM_FORMATS.join(', ')}, got '${values.format}'`);
    const [{ readInputFile, peekFile }, f, { table, hexOff }, { toJson, hex64 }, { MAX_QEMU_STREAM }] = await Promise.all([
      import('../../formats/files.ts'), import('../../formats/index.ts'), import('../../formats/table.ts'), import('../../util/hex.ts'),
      import('../../formats/deviceStreams.ts'),
    ]);
    const file = positionals[0];
    const { isQemuMigrationStream, decodeQemuMigration, summarizeQemuStream } = await import('../../formats/qemuMigration.ts');
    const format = values.format ?? detectFormat(peekFile(file, 256));

    if (format === 'qemu-migration') {
      const bytes = readInputFile(file, 'stream file', MAX_QEMU_STREAM);
      if (!isQemuMigrationStream(bytes)) throw new UsageError(`${file}: not a QEMU migration stream (no QEVM magic)`);
      const d = decodeQemuMigration(bytes);
      if (values.json) {
        const { spans: _spans, vfioDevices, ...rest } = d;
        process.stdout.write(toJson({
          file, ...rest,
          vfioDevices: vfioDevices.map((v) => ({ idstr: v.idstr, bytes: v.bytes.length, complete: v.complete, device: jsonOf(f.decode(v.bytes, { fieldMap: true })) })),
        }) + '\n');
      } else {
        const out = [`${file}: ${summarizeQemuStream(d).join('\n')}`];
        for (const v of d.vfioDevices) out.push('', `vfio device ${v.idstr}:`, render(f.decode(v.bytes, { fieldMap: true })));
        process.stdout.write(out.join('\n') + '\n');
      }
      return 0;
    }
    const bytes = readInputFile(file, 'stream file');

    if (format === 'qemu-vfio') {
      const q = f.decodeVfioDeviceState(bytes);
      const inner = q.deviceData.length ? f.decode(q.deviceData, { fieldMap: true }) : undefined;
      if (values.json) {
        process.stdout.write(toJson({
          file, length: bytes.length, ok: q.ok, problem: q.problem, consumed: q.consumed, trailing: q.trailing,
          records: q.records.map((r) => ({ offset: r.offset, tag: hex64(r.tag), name: r.tagName, size: r.size, dataOffset: r.dataOffset })),
          deviceData: inner && jsonOf(inner),
        }) + '\n');
        return 0;
      }
      const out = [`${file}: ${bytes.length} bytes, VFIO section payload, ${q.ok ? 'ok' : q.problem}`];
      out.push(table(['offset', 'marker', 'name', 'size'], q.records.map((r) => [hexOff(r.offset), hex64(r.tag), r.tagName, r.size === undefined ? '' : String(r.size)])));
      if (inner) out.push('', `device data (${q.deviceData.length} bytes from DATA chunks):`, render(inner));
      process.stdout.write(out.join('\n') + '\n');
      return 0;
    }

    if (format === 'mtty') {
      const { decodeMtty } = await import('../../formats/mtty.ts');
      const m = decodeMtty(bytes, { fieldMap: true });
      const fields = (m.fieldMap?.spans ?? []).map((s) => ({ offset: s.offset, size: s.size, field: s.path, type: s.type, value: f.spanHex(s), truncated: s.truncated }));
      if (values.json) {
        const { fieldMap: _m, raw: _r, ...rest } = m;
        process.stdout.write(toJson({ file, ...rest, ports: m.ports.map((p) => ({ ...p, fifo: Buffer.from(p.fifo).toString('hex') })), fields }) + '\n');
        return 0;
      }
      const h = m.header;
      const out = [`${file}: ${m.length} bytes, mtty stream${h ? ` (${h.nrPorts}-port header)` : ''}, ${m.ok ? 'ok' : `problem: ${m.problem}`}`];
      out.push(table(['offset', 'size', 'field', 'value'], fields.map((s) => [hexOff(s.offset), String(s.size), s.field, s.value]), new Set([1])));
      for (const [i, p] of m.ports.entries()) {
        out.push('', `port ${i}: scr 0x${p.scr.toString(16).padStart(2, '0')}, lcr 0x${p.lcr.toString(16).padStart(2, '0')}, ier 0x${p.ier.toString(16).padStart(2, '0')}, mcr 0x${p.mcr.toString(16).padStart(2, '0')}; FIFO ${p.fifoCount} byte(s) waiting [${p.pending.map((b) => b.toString(16).padStart(2, '0')).join(' ')}], depth ${p.maxFifoSize}, trigger ${p.intrTriggerLevel}, divisor ${p.divisor}${p.dlab ? ' (DLAB)' : ''}${p.overrun ? ', overrun' : ''}`);
      }
      process.stdout.write(out.join('\n') + '\n');
      return 0;
    }

    const d = f.decode(bytes, { fieldMap: true });
    if (values.json) {
      process.stdout.write(toJson({ file, ...jsonOf(d) }) + '\n');
      return 0;
    }
    process.stdout.write(`${file}: ${render(d)}\n`);
    return 0;

    function jsonOf(x: ReturnType<typeof f.decode>) {
      return {
        length: x.length, layout: x.layout, ok: x.ok, problem: x.problem,
        header: x.header, majorVer: x.majorVer, minorVer: x.minorVer, body: x.body, derived: x.derived,
        fields: x.fieldMap?.spans.map((s) => ({ offset: s.offset, size: s.size, field: s.path, type: s.type, value: f.spanHex(s), meaning: s.meaning, truncated: s.truncated })),
      };
    }
    function render(x: ReturnType<typeof f.decode>): string {
      const lines = [`${x.length} bytes, layout ${x.layout}, ${x.ok ? 'ok' : `problem: ${x.problem}`}`];
      const rows = (x.fieldMap?.spans ?? []).map((s) => {
        let v = f.spanHex(s);
        if (s.type === 'bytes' && v.length > 34) v = v.slice(0, 32) + '…';
        return [hexOff(s.offset), String(s.size), s.path, v, s.meaning ?? ''];
      });
      lines.push(table(['offset', 'size', 'field', 'value', 'meaning'], rows, new Set([1])));
      const dv = x.derived;
      if (dv) {
        lines.push(
          '',
          `EQ:  head ${dv.eqHead}, tail ${dv.eqTail}, depth ${dv.eqDepth}, phase ${dv.eqPhase}; base fixed ${hex64(dv.eqBaseFixed)}, buggy ${hex64(dv.eqBaseBuggy)}; eqe_dma is ${dv.eqeDmaComposition}`,
          `AEQ: head ${dv.aeqHead}, tail ${dv.aeqTail}, depth ${dv.aeqDepth}, phase ${dv.aeqPhase}; base fixed ${hex64(dv.aeqBaseFixed)}, buggy ${hex64(dv.aeqBaseBuggy)}; aeqe_dma is ${dv.aeqeDmaComposition}`,
        );
      }
      return lines.join('\n');
    }
  },
};
export default decode;
