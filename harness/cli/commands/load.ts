// `migcompat load --device BDF|mdev:UUID stream.bin [--transfer PLAN]`: RESUMING, write per plan, STOP,
// RUNNING; on any failure the device is reset. Prints the verdict; exit 0 when the destination
// accepted the stream, 1 otherwise (refused, broken or error: the verdict says which).
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';
import { parseVia } from './probe.ts';

const usage = 'migcompat load --device BDF|mdev:UUID FILE [--transfer single|chunks:N,M,...|random] [--seed N] [--via auto|group|cdev] [--json]';

const load: Command = {
  name: 'load',
  usage,
  summary: 'resume a stream file on a real VF or mdev and report the verdict (device always left RUNNING)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      device: { type: 'string' }, transfer: { type: 'string' }, seed: { type: 'string' }, via: { type: 'string' }, json: { type: 'boolean' },
    }, usage);
    if (!values.device) throw new UsageError(`--device is required (usage: ${usage})`);
    if (positionals.length !== 1) throw new UsageError(`expected one stream FILE (usage: ${usage})`);
    const file = positionals[0];
    const via = parseVia(values.via);
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer`);
    const { readFileSync } = await import('node:fs');
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(file));
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const { readProvenance } = await import('../../runners/vfio-host/provenance.ts');
    const prov = readProvenance(file, bytes);
    const { planChunks } = await import('../../runners/vfio-host/transfer.ts');
    const plan = values.transfer ?? 'single';
    planChunks(plan, bytes.length, seed); // validate before touching the device
    const { hostContext } = await import('../../runners/vfio-host/context.ts');
    const { load: run } = await import('../../runners/vfio-host/ops.ts');
    const r = run(await hostContext({ via }), values.device, bytes, plan, `${prov ? `${prov.host}/${prov.kernelRelease}` : file} -> ${values.device}`, seed);
    const out = { verdict: r.verdict, destination: r.evidence.destination, recovery: r.recovery, provenance: prov, timeline: r.evidence.timeline };
    if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      const v = r.verdict;
      process.stdout.write(`${v.outcome}: ${v.reason}${v.errno ? ` [${v.errno} at ${v.stage}]` : ''}; device ${r.recovery.finalState} (${r.recovery.action})\n`);
    }
    return r.verdict.outcome === 'migrated' ? 0 : 1;
  },
};
export default load;
