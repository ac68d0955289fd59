// `migcompat encode FIELDS.yaml -o FILE`: a stream built from named fields through the .ksy
// description. 64-bit values as "0x…" strings; `length: 40|176`. Omitted: length 176, acc_magic V2,
// major_ver 1, minor_ver 0 for a V2 header, everything else zero. FILE is written atomically.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat encode FIELDS.yaml -o FILE';

const encode: Command = {
  name: 'encode',
  usage,
  summary: 'build a stream from a YAML list of fields (see docs/formats.md for names and defaults)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { output: { type: 'string', short: 'o' } }, usage);
    if (positionals.length !== 1) throw new UsageError(`expected one FIELDS.yaml (usage: ${usage})`);
    if (!values.output) throw new UsageError(`missing -o FILE (usage: ${usage})`);
    const [{ readInputFile, writeFileAtomic }, { encodeFieldSet, parseFieldSetYaml, resolveFieldSet }] = await Promise.all([
      import('../../formats/files.ts'), import('../../formats/fieldSet.ts'),
    ]);
    const file = positionals[0];
    const text = Buffer.from(readInputFile(file, 'fields file')).toString('utf8');
    const fields = parseFieldSetYaml(text, file);
    const { layout } = resolveFieldSet(fields);
    const bytes = encodeFieldSet(fields);
    writeFileAtomic(values.output, bytes);
    process.stdout.write(`${values.output}: ${bytes.length} bytes, layout ${layout}\n`);
    return 0;
  },
};
export default encode;
