// `migcompat conform --rev IDS [--json]`: every clause of the VFIO migration contract against every
// listed revision (models, ktree: builds, kernel devices), the clause × revision table, and
// results/<run>/conformance.{json,md,html} with a repro bundle per violation. Exit 1 when a cell is
// red (an undeclared violation, a declared one that now holds, or an error), 2 on bad input.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const USAGE = 'migcompat conform --rev IDS|all|released [--clause IDS] [--contract FILE] [--known FILE] [--peer DEVICES] [--call-ms N] [--out DIR] [--json]';

const conform: Command = {
  name: 'conform',
  usage: USAGE,
  summary: 'check revisions clause by clause against the VFIO migration uAPI contract; exit 1 on an undeclared violation',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      rev: { type: 'string' }, clause: { type: 'string' }, contract: { type: 'string' }, known: { type: 'string' },
      peer: { type: 'string' }, 'call-ms': { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' },
    }, USAGE);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
    if (!values.rev) throw new UsageError(`--rev is required (usage: ${USAGE})`);
    const callMs = values['call-ms'] === undefined ? undefined : Number(values['call-ms']);
    if (callMs !== undefined && !(Number.isInteger(callMs) && callMs > 0)) throw new UsageError(`--call-ms needs a positive integer, got '${values['call-ms']}'`);
    const { loadContract, selectClauses, DEFAULT_CONTRACT } = await import('../../conformance/contract.ts');
    const { CHECK_PARAMS } = await import('../../conformance/checks/index.ts');
    const { loadKnown, DEFAULT_KNOWN } = await import('../../conformance/known.ts');
    const { resolveSubjects, kernelDeviceId } = await import('../../conformance/subjects.ts');
    const { runConformance } = await import('../../conformance/run.ts');
    const { writeConformanceFiles, tableMarkdown, countsText, cellMark, LEGEND } = await import('../../conformance/report.ts');
    const { runDir } = await import('../../util/runDir.ts');
    const { toJson } = await import('../../util/hex.ts');
    const { resolve } = await import('node:path');

    // everything is validated before anything runs or is written
    const contractFile = values.contract ? resolve(values.contract) : DEFAULT_CONTRACT;
    const contract = loadContract(contractFile, CHECK_PARAMS);
    const clauses = selectClauses(contract, values.clause ? values.clause.split(',').map((s) => s.trim()).filter(Boolean) : null);
    const knownFile = values.known ? resolve(values.known) : DEFAULT_KNOWN;
    const known = loadKnown(knownFile, new Set(contract.clauses.map((c) => c.id)));
    const subjects = resolveSubjects(values.rev);
    const peers = values.peer ? values.peer.split(',').map((p) => {
      const d = kernelDeviceId(p.trim());
      if (!d) throw new UsageError(`--peer: '${p}' is not a device (DDDD:BB:DD.F or mdev:UUID)`);
      return d;
    }) : [];
    if (peers.length && !subjects.some((s) => s.where === 'child' && s.kind === 'kernel')) throw new UsageError('--peer applies to kernel devices only (none in --rev)');

    const json = values.json === true;
    const log = (s: string) => {
      if (!json) process.stderr.write(s);
    };
    let current = '';
    let done = 0;
    const result = await runConformance({
      contract, clauses, known, subjects, peers, callMs,
      onCell(c) {
        if (c.subject !== current) {
          if (current) log('\n');
          current = c.subject;
          done = 0;
          log(`${c.subject}: `);
        }
        done++;
        log(cellMark(c) + (done % 10 === 0 ? ' ' : ''));
      },
    });
    if (current) log('\n');
    const dir = values.out ? resolve(values.out) : runDir();
    const report = writeConformanceFiles(dir, result, { known: knownFile, peers });
    if (json) {
      process.stdout.write(toJson(report) + '\n');
    } else {
      const red = report.cells.filter((c) => c.status === 'unexpected' || c.status === 'fixed' || c.status === 'error');
      const out = ['', ...tableMarkdown(report, false), '', LEGEND, ''];
      for (const c of red) {
        out.push(`${cellMark(c)} ${c.clause} on ${c.subject} (${c.status}): ${c.detail}`);
        if (c.sequence) out.push(...c.sequence.map((l) => `    ${l}`));
        if (c.replay) out.push(`    replay: ${c.replay}`);
      }
      out.push(countsText(report), `report: ${resolve(dir, 'conformance.html')}`);
      process.stdout.write(out.join('\n') + '\n');
    }
    return report.ok ? 0 : 1;
  },
};
export default conform;
