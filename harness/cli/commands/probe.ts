// `migcompat probe --device BDF|mdev:UUID`: driver, kernel, migration flags and data size of a real
// VF or mediated device.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat probe --device BDF|mdev:UUID [--via auto|group|cdev] [--json]';

const probe: Command = {
  name: 'probe',
  usage,
  summary: 'show driver, kernel, migration flags and data size of a VF (VFIO variant driver) or an mdev device',
  async run(argv) {
    const { values } = parseCommandArgs(argv, { device: { type: 'string' }, via: { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (!values.device) throw new UsageError(`--device is required (usage: ${usage})`);
    const via = parseVia(values.via);
    const { hostContext } = await import('../../runners/vfio-host/context.ts');
    const { probe: run } = await import('../../runners/vfio-host/ops.ts');
    const r = run(await hostContext({ via }), values.device);
    if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else {
      const rows: Array<[string, string]> = [
        ['device', r.kind === 'mdev' ? `${r.bdf} (type ${r.mdevType ?? 'unknown'}, parent ${r.parent ?? 'unknown'})` : `${r.bdf} (vendor ${r.vendorId}, device ${r.deviceId})`], ['host', r.host], ['kernel', r.kernelRelease],
        ['driver', r.driver], ['open path', `${r.via} (group ${r.iommuGroup ?? '-'}, cdev ${r.cdev ?? '-'})`],
        ['migration flags', `${r.migrationFlags ?? 'none'} ${r.flagNames.join('|')}`], ['state', r.state], ['data size', r.dataSize],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(16)} ${v}\n`);
    }
    return 0;
  },
};
export default probe;

export function parseVia(v: string | undefined): 'auto' | 'group' | 'cdev' {
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'group' || v === 'cdev') return v;
  throw new UsageError(`--via must be auto, group or cdev, got '${v}'`);
}
