// `migcompat check --rev ID --stream FILE [--dest CONFIG.yaml] [--transfer PLAN] [--json]`: what a
// destination of that revision does with that stream. Exit 0 accepted, 1 refused or failed.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat check --rev ID --stream FILE [--dest CONFIG.yaml] [--transfer PLAN] [--seed N] [--json]';

const check: Command = {
  name: 'check',
  usage,
  summary: 'run a destination of a revision on a captured stream: accepted or refused, errno, stage, restored state',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      rev: { type: 'string' }, stream: { type: 'string' }, dest: { type: 'string' }, transfer: { type: 'string' },
      seed: { type: 'string' }, json: { type: 'boolean' },
    }, usage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${usage})`);
    if (!values.rev) throw new UsageError(`--rev is required (usage: ${usage})`);
    if (!values.stream) throw new UsageError(`--stream is required (usage: ${usage})`);
    const { readFileSync } = await import('node:fs');
    const { checkStream } = await import('../../runners/simCheck.ts');
    const { loadRevision } = await import('../../drivers/registry.ts');
    const { parsePlan } = await import('../../transfer/plan.ts');
    const { readDeviceConfig } = await import('../../runners/simDeviceConfig.ts');
    const { toJson, hex64 } = await import('../../util/hex.ts');
    const rev = loadRevision(values.rev);
    const plan = parsePlan(values.transfer ?? 'single');
    let stream: Uint8Array;
    try {
      stream = new Uint8Array(readFileSync(values.stream));
    } catch (e) {
      throw new UsageError(`${values.stream}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const dest = values.dest ? readDeviceConfig(values.dest) : undefined;
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed must be an integer 0..4294967295`);
    const r = checkStream({ rev, stream, dest, transfer: plan, seed });
    if (values.json) {
      process.stdout.write(toJson({ ...r, stream: values.stream, length: stream.length, transfer: values.transfer ?? 'single' }) + '\n');
    } else {
      const s = r.restored;
      process.stdout.write(`${r.rev}: ${r.harnessError ? 'ERROR' : r.accepted ? 'ACCEPTED' : 'REFUSED'} (${r.reason})\n`);
      if (!r.accepted) process.stdout.write(`  errno ${r.errno ?? '-'} at ${r.stage ?? '-'}\n`);
      process.stdout.write(`  destination ${r.dest.type} qp_num ${r.dest.qpNum} que_iso_cfg ${r.dest.queIsoCfg}; writes ${r.writes.join('+') || 'none'}\n`);
      process.stdout.write(`  restored: state ${s.migState}, QM_VF_STATE ${s.vfQmState}, event bases eq ${hex64(s.eqeDma)} aeq ${hex64(s.aeqeDma)}` +
        `${s.deviceError ? ', DEVICE ERROR' : ''}${s.dmaFaults.length ? `, DMA faults at ${s.dmaFaults.map((f) => `${f.what} ${f.iova}`).join(', ')}` : ''}\n`);
      for (const m of r.dmesg) process.stdout.write(`  dmesg: ${m}\n`);
    }
    return r.accepted ? 0 : 1;
  },
};
export default check;
