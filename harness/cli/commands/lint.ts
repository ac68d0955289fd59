// `migcompat lint FILE [--format hisi-acc|mtty] [--rev IDS] [--json]`: findings with a severity, and
// the stream's provenance (which revisions or device types could have written it). The format is
// detected from the magic unless given. For a hisi_acc stream, what lint says about revisions
// (which accept it, which could have written it) comes from their profiles (`--rev`, default all:
// every built-in profile and any registered one; a proposal YAML joins with `--rev all,proposal.yaml`).
// Exit 1 when a finding has severity error.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat lint FILE [--format hisi-acc|mtty] [--rev IDS] [--json]   (IDS: comma-separated ids or YAML paths, all = every profile; default all)';

const lintCommand: Command = {
  name: 'lint',
  usage,
  summary: 'check a stream: findings, which revisions accept it and which could have written it (exit 1 on an error finding)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, format: { type: 'string' }, rev: { type: 'string' } }, usage);
    if (positionals.length !== 1) throw new UsageError(`expected one FILE (usage: ${usage})`);
    const { DEVICE_FORMATS, detectFormat } = await import('../../formats/detect.ts');
    if (values.format !== undefined && !(DEVICE_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format must be one of ${DEVICE_FORMATS.join(', ')}, got '${values.format}'`);
    const [{ readInputFile }, { table, hexOff }, { toJson }] = await Promise.all([
      import('../../formats/files.ts'), import('../../formats/table.ts'), import('../../util/hex.ts'),
    ]);
    const file = positionals[0];
    const bytes = readInputFile(file, 'stream file');
    const detected = detectFormat(bytes);
    if (values.format === undefined && detected === 'qemu-migration') throw new UsageError(`${file}: a QEMU migration stream; lint takes a device state (see: migcompat decode ${file}, migcompat check --rev all --stream ${file})`);
    const format = values.format ?? detected;
    if (format === 'mtty' && values.rev !== undefined) throw new UsageError('--rev names hisi_acc revision profiles; an mtty stream is judged without them');
    let r;
    if (format === 'mtty') r = (await import('../../formats/mtty.ts')).lintMtty(bytes);
    else {
      const { expandRevisionIds, profiledRevisions } = await import('../../drivers/registry.ts');
      const text = values.rev ?? 'all';
      const ktree = text.split(',').map((s) => s.trim()).find((s) => s.startsWith('ktree:'));
      if (ktree) throw new UsageError(`--rev ${ktree}: real driver code declares no profile to reason over; use check --rev ${ktree}`);
      r = (await import('../../formats/lint.ts')).lint(bytes, profiledRevisions(expandRevisionIds(text)));
    }
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
