// `migcompat lab INVENTORY.yaml`: capture on each host and load on every other (both directions),
// and/or replay a stream corpus against every host, over SSH. Writes lab.json and lab.md, and the
// run's grid files (summary.json, matrix.md, matrix.html; harness/report/labGrid.ts) like a matrix run.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat lab INVENTORY.yaml [--pairs] [--corpus DIR] [--transfer PLAN] [--out DIR] [--local] [--module BUILD_DIR [--module-hosts A,B] [--swap-only M,N]] [--json]';

const lab: Command = {
  name: 'lab',
  usage,
  summary: 'capture on one lab host and load on another over SSH, and replay the stream corpus on every host',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      pairs: { type: 'boolean' }, corpus: { type: 'string' }, transfer: { type: 'string' }, out: { type: 'string' },
      local: { type: 'boolean' }, json: { type: 'boolean' },
      module: { type: 'string' }, 'module-hosts': { type: 'string' }, 'swap-only': { type: 'string' },
    }, usage);
    if (positionals.length !== 1) throw new UsageError(`expected one INVENTORY.yaml (usage: ${usage})`);
    const { readInventory } = await import('../../runners/lab/inventory.ts');
    const inv = readInventory(positionals[0]);
    const transfer = values.transfer ?? 'single';
    const { parsePlan } = await import('../../transfer/plan.ts');
    parsePlan(transfer);
    const corpus = values.corpus ?? inv.corpus;
    const doPairs = values.pairs || !corpus;
    const { existsSync } = await import('node:fs');
    if (corpus && !existsSync(corpus)) throw new UsageError(`corpus folder ${corpus} does not exist`);
    const { join } = await import('node:path');
    const { runDir } = await import('../../util/runDir.ts');
    // lab.json/lab.md in results/<run-id>/lab, the grid files in results/<run-id>; both in --out DIR
    const gridDir = values.out ?? runDir();
    const out = values.out ?? join(gridDir, 'lab');
    const { LocalTransport, SshTransport } = await import('../../runners/lab/transport.ts');
    const { runPairs, replayCorpus, writeLabResults, labMarkdown } = await import('../../runners/lab/run.ts');
    const t = values.local ? new LocalTransport() : new SshTransport();
    const cells: Awaited<ReturnType<typeof runPairs>> = [];
    const labRun = async () => {
      if (doPairs) cells.push(...(await runPairs(inv, t, { transfer, workDir: join(out, 'streams') })));
      if (corpus) cells.push(...(await replayCorpus(inv, t, corpus, transfer)));
    };
    // --module: the build goes in place on the hosts for the run and comes out afterwards, whatever happens
    const { withSwapOption } = await import('../swapOption.ts');
    let swapOk = true;
    try {
      // every host's SSH key is verified before anything runs anywhere (an untrusted host: one line, exit 2)
      if (t instanceof SshTransport) for (const h of inv.hosts) await t.connect(h);
      swapOk = await withSwapOption({ module: values.module, hosts: values['module-hosts'], only: values['swap-only'] }, inv.hosts, t, out, labRun);
    } finally {
      await t.close();
    }
    writeLabResults(out, { cells });
    const { writeLabGrid } = await import('../../report/labGrid.ts');
    if (cells.length) writeLabGrid(gridDir, cells);
    if (values.json) process.stdout.write(JSON.stringify(cells.map(({ evidence: _e, ...c }) => c), null, 2) + '\n');
    else process.stdout.write(labMarkdown(cells) + `\nresults: ${out}/lab.json, ${out}/lab.md; grid: ${gridDir}/matrix.html, ${gridDir}/matrix.md, ${gridDir}/summary.json\n`);
    return !swapOk || cells.some((c) => c.outcome === 'error' || c.outcome === 'broken') ? 1 : 0;
  },
};
export default lab;
