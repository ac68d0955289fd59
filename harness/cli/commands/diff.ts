// `migcompat diff A B [--json]`: field-level differences between two hisi_acc streams, with
// offsets and old/new hex values. Exit 0 when identical, 1 when they differ (as diff(1) does).
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat diff A B [--json]';

const diffCommand: Command = {
  name: 'diff',
  usage,
  summary: 'field-level differences between two streams (exit 1 when they differ)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (positionals.length !== 2) throw new UsageError(`expected two files (usage: ${usage})`);
    const [{ readInputFile }, { diff }, { table, hexOff }, { toJson }] = await Promise.all([
      import('../../formats/files.ts'), import('../../formats/diff.ts'), import('../../formats/table.ts'), import('../../util/hex.ts'),
    ]);
    const [a, b] = positionals;
    const d = diff(readInputFile(a, 'stream file'), readInputFile(b, 'stream file'));
    if (values.json) {
      process.stdout.write(toJson({ a, b, ...d }) + '\n');
    } else {
      const out = [`A: ${a} (${d.length.a} bytes, ${d.layout.a})`, `B: ${b} (${d.length.b} bytes, ${d.layout.b})`];
      if (d.same) out.push('identical');
      else {
        out.push(`${d.changes.length} field(s) differ:`);
        out.push(table(['offset', 'size', 'field', 'A', 'B'], d.changes.map((c) => [hexOff(c.offset), String(c.size), c.newPath ? `${c.path} | ${c.newPath}` : c.path, c.old ?? '(absent)', c.new ?? '(absent)']), new Set([1])));
      }
      process.stdout.write(out.join('\n') + '\n');
    }
    return d.same ? 0 : 1;
  },
};
export default diffCommand;
