// `migcompat lint FILE [--format hisi-acc|mtty] [--json]`: findings with a severity and the
// stream's provenance (which revisions or device types could have written it). The format is
// detected from the magic unless given. Exit 1 when a finding has severity error.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat lint FILE [--format hisi-acc|mtty] [--json]';

const lintCommand: Command = {
  name: 'lint',
  usage,
  summary: 'check a stream and tell which revisions could have written it (exit 1 on an error finding)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, format: { type: 'string' } }, usage);
    if (positionals.length !== 1) throw new UsageError(`expected one FILE (usage: ${usage})`);
    const { DEVICE_FORMATS, detectFormat } = await import('../../formats/detect.ts');
    if (values.format !== undefined && !(DEVICE_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${DEVICE_FORMATS.join(', ')}, got '${values.format}'`);
    const [{ readInputFile }, { table, hexOff }, { toJson }] = await Promise.all([
      import('../../formats/files.ts'), import('../../formats/table.ts'), import('../../util/hex.ts'),
    ]);
    const file = positionals[0];
    const bytes = readInputFile(file, 'stream file');
    const detected = detectFormat(bytes);
    if (values.format === undefined && detected === 'qemu-migration') throw new UsageError(`${file}: a QEMU migration stream; lint takes a device state (see: migcompat decode ${file})`);
    const format = values.format ?? detected;
    const r = format === 'mtty' ? (await import('../../formats/mtty.ts')).lintMtty(bytes) : (await import('../../formats/lint.ts')).lint(bytes);
    if (values.json) {
      process.stdout.write(toJson({ file, ...r }) + '\n');
    } else {
      const errors = r.findings.filter((x) => x.severity === 'error').length;
      const warnings = r.findings.filter((x) => x.severity === 'warning').length;
      const out = [`${file}: ${r.length} bytes, layout ${r.layout}: ${errors} error(s), ${warnings} warning(s)`];
      const shown = r.findings.filter((x) => x.code !== 'provenance');
      if (shown.length) {
        out.push(table(['severity', 'offset', 'field', 'code', 'message'], shown.map((x) => [x.severity, x.offset === undefined ? '' : hexOff(x.offset), x.field ?? '', x.code, x.message])));
      }
      out.push(`provenance: ${r.provenance.revisions.length ? r.provenance.revisions.join(', ') : 'none'}: ${r.provenance.reason}`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return r.ok ? 0 : 1;
  },
};
export default lintCommand;
