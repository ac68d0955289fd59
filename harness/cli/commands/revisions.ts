// `migcompat revisions [--json]`: the known driver revisions and their traits.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';

const usage = 'migcompat revisions [--rev FILE.yaml]... [--json]';

const revisions: Command = {
  name: 'revisions',
  usage,
  summary: 'list the driver revisions (YAML profiles and registered implementations) and their traits',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' }, rev: { type: 'string', multiple: true } }, usage);
    const { listRevisions, loadRevision } = await import('../../drivers/registry.ts');
    const { toJson } = await import('../../util/hex.ts');
    const { magicName } = await import('../../formats/streamRules.ts');
    for (const p of values.rev ?? []) loadRevision(p);
    const revs = listRevisions();
    if (values.json) {
      const out = revs.map((r) => ({ id: r.id, title: r.title, kernel: r.kernel, kind: r.kind, source: r.source, traits: r.traits ?? null }));
      process.stdout.write(toJson(out) + '\n');
      return 0;
    }
    const w = Math.max(...revs.map((r) => r.id.length));
    for (const r of revs) {
      const t = r.traits;
      const brief = t
        ? [`magic ${magicName(t.write.magic)}`,
          t.preCopy ? 'PRE_COPY' : 'no PRE_COPY', `check at ${t.matchCheck}`, `xqc ${t.xqcCompose}`, `fd ${t.fdOffset}`,
          t.nullDmaGuard ? 'NULL guard' : 'no NULL guard'].join(', ')
        : `external (${r.source})`;
      process.stdout.write(`${r.id.padEnd(w)}  ${r.kernel}\n${' '.repeat(w)}  ${r.title}; ${brief}\n`);
    }
    return 0;
  },
};
export default revisions;
