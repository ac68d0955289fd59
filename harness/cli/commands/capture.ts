// `migcompat capture --device BDF|mdev:UUID -o stream.bin`: RUNNING → (PRE_COPY) → STOP_COPY, read to end of
// stream, back to RUNNING; writes the stream and its provenance sidecar (stream.bin.json).
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';
import { parseVia } from './probe.ts';

const usage = 'migcompat capture --device BDF|mdev:UUID -o FILE [--no-precopy] [--via auto|group|cdev] [--force] [--json]';

const capture: Command = {
  name: 'capture',
  usage,
  summary: 'save a real VF or mdev migration stream to a file with a provenance sidecar (device left RUNNING)',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      device: { type: 'string' }, output: { type: 'string', short: 'o' }, 'no-precopy': { type: 'boolean' },
      via: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' },
    }, usage);
    if (!values.device) throw new UsageError(`--device is required (usage: ${usage})`);
    if (!values.output) throw new UsageError(`-o FILE is required (usage: ${usage})`);
    const via = parseVia(values.via);
    const { existsSync } = await import('node:fs');
    const { sidecarPath, writeStream } = await import('../../runners/vfio-host/provenance.ts');
    if (!values.force && (existsSync(values.output) || existsSync(sidecarPath(values.output))))
      throw new UsageError(`${values.output} already exists (use --force to replace it)`);
    const { hostContext } = await import('../../runners/vfio-host/context.ts');
    const { capture: run, CaptureError } = await import('../../runners/vfio-host/ops.ts');
    let r;
    try {
      r = run(await hostContext({ via }), values.device, { precopy: !values['no-precopy'] });
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      process.stderr.write(`migcompat: capture failed on ${values.device}: ${e.message} (device recovered to RUNNING or reset)\n`);
      return 1;
    }
    writeStream(values.output, r.stream, r.provenance, values.force);
    const summary = { file: values.output, sidecar: sidecarPath(values.output), ...r.provenance, recovery: r.recovery.action };
    if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    else
      process.stdout.write(
        `captured ${r.stream.length} bytes from ${r.provenance.bdf} (${r.provenance.driver}, kernel ${r.provenance.kernelRelease}, ` +
          `flags ${r.provenance.flagNames.join('|')}${r.provenance.precopy ? ', via PRE_COPY' : ''}) -> ${values.output}\n`,
      );
    return 0;
  },
};
export default capture;
