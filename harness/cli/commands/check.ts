// `migcompat check --rev IDS --stream FILE [--device ID] [--dest CONFIG.yaml] [--transfer PLAN] [--json]`:
// what destinations of those revisions do with a captured stream. FILE is a hisi_acc stream, a QEMU
// VFIO section payload or a whole QEMU migration file (every VFIO device in it, or --device). One row
// per device and revision: accepted or refused, errno, stage, and the EQ/AEQ bases the device
// delivers events to after the load.
// Exit codes: one row (one revision, one device): 0 accepted, 1 refused, hung or failed. Several
// rows (the survey `--rev all` answers): 0 when every row is accepted or refused (each is an answer),
// 1 when a destination hung or the harness failed on a row. 2 bad input.
import type { Command } from '../command.ts';
import { parseCommandArgs } from '../command.ts';
import { UsageError } from '../../util/usage-error.ts';

const usage = 'migcompat check --rev IDS --stream FILE [--format hisi-acc|qemu-vfio|qemu-migration] [--device ID] ' +
  '[--dest CONFIG.yaml] [--transfer PLAN] [--seed N] [--json]   (IDS: comma-separated ids or YAML paths, all = every profile)';

const check: Command = {
  name: 'check',
  usage,
  summary: 'what destinations of the given revisions do with a captured stream (or the VFIO devices of a QEMU migration file)',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      rev: { type: 'string' }, stream: { type: 'string' }, dest: { type: 'string' }, transfer: { type: 'string' },
      seed: { type: 'string' }, json: { type: 'boolean' }, format: { type: 'string' }, device: { type: 'string' },
    }, usage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${usage})`);
    if (!values.rev) throw new UsageError(`--rev is required (usage: ${usage})`);
    if (!values.stream) throw new UsageError(`--stream is required (usage: ${usage})`);
    const { checkStream } = await import('../../runners/simCheck.ts');
    const { expandRevisionIds } = await import('../../drivers/registry.ts');
    const { parsePlan } = await import('../../transfer/plan.ts');
    const { readDeviceConfig } = await import('../../runners/simDeviceConfig.ts');
    const { readDeviceStreams, parseContainerFormat } = await import('../../formats/deviceStreams.ts');
    const { table } = await import('../../formats/table.ts');
    const { toJson, hex64 } = await import('../../util/hex.ts');
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!/^\d+$/.test(values.seed ?? '1') || seed > 0xffffffff) throw new UsageError(`--seed must be an integer 0..4294967295`);
    const plan = parsePlan(values.transfer ?? 'single');
    const revs = expandRevisionIds(values.rev);
    if (values.format === 'mtty') throw new UsageError('--format must be one of hisi-acc, qemu-vfio, qemu-migration (check runs hisi_acc revisions; an mtty stream is checked with migcompat load on an mtty device)');
    const input = readDeviceStreams(values.stream, { format: parseContainerFormat(values.format), device: values.device });
    // check runs hisi_acc revisions: other device formats (mtty, e.g. a kernel-guest VM's device) are named and left out
    const others = input.streams.filter((s) => s.format !== 'hisi-acc');
    input.streams = input.streams.filter((s) => s.format === 'hisi-acc');
    const otherText = others.map((s) => `${s.device ?? values.stream} (${s.format})`).join(', ');
    if (!input.streams.length) throw new UsageError(`${values.stream}: no hisi_acc device stream to check: ${otherText} (check runs hisi_acc revisions)`);
    const dest = values.dest ? readDeviceConfig(values.dest) : undefined;

    const rows = input.streams.flatMap((s) => revs.map((rev) => {
      const r = checkStream({ rev, stream: s.bytes, dest, transfer: plan, seed });
      return {
        ...(s.device === null ? {} : { device: s.device, deviceComplete: s.complete }),
        ...r, stream: values.stream, length: s.bytes.length, transfer: values.transfer ?? 'single',
        ...(input.problem ? { problem: input.problem } : {}),
      };
    }));
    const verdict = (r: (typeof rows)[number]) => (r.harnessError ? 'ERROR' : r.hang ? 'HANG' : r.accepted ? 'ACCEPTED' : 'REFUSED');
    const single = rows.length === 1;

    if (values.json) {
      process.stdout.write(toJson(single ? rows[0] : rows) + '\n');
    } else {
      const out: string[] = [];
      if (input.format !== 'hisi-acc') {
        const what = input.format === 'qemu-migration' ? 'QEMU migration file' : 'QEMU VFIO section payload';
        const devs = input.streams.map((s) => `${s.device ?? 'device data'} (${s.bytes.length} bytes${s.complete ? '' : ', incomplete'})`);
        out.push(`${values.stream}: ${what}; checking ${devs.join(', ')}`);
      }
      if (input.problem) out.push(`note: ${input.problem}; the device data read before it is checked`);
      if (others.length) out.push(`note: not checked (not hisi_acc device state): ${otherText}`);
      if (single) {
        const r = rows[0];
        const s = r.restored;
        out.push(`${r.rev}: ${verdict(r)} (${r.reason})`);
        if (!r.accepted) out.push(`  errno ${r.errno ?? '-'} at ${r.stage ?? '-'}`);
        out.push(`  destination ${r.dest.type} qp_num ${r.dest.qpNum} que_iso_cfg ${r.dest.queIsoCfg}; writes ${r.writes.join('+') || 'none'}`);
        out.push(`  restored: state ${s.migState}, QM_VF_STATE ${s.vfQmState}, event bases eq ${hex64(s.eqeDma)} aeq ${hex64(s.aeqeDma)}` +
          `${s.deviceError ? ', DEVICE ERROR' : ''}${s.dmaFaults.length ? `, DMA faults at ${s.dmaFaults.map((f) => `${f.what} ${f.iova}`).join(', ')}` : ''}`);
        for (const m of r.dmesg) out.push(`  dmesg: ${m}`);
      } else {
        const devCol = input.streams.length > 1;
        const head = [...(devCol ? ['device'] : []), 'revision', 'result', 'errno', 'stage', 'eq base', 'aeq base', 'note'];
        out.push(table(head, rows.map((r) => {
          const s = r.restored;
          // no guest memory stands behind a checked stream, so a restarted VF faults on its queue
          // contexts anyway (simCheck.ts): only a fault at a NULL base says something about the stream
          const note = r.harnessError ?? (r.hang ? `hang in ${r.hang.where}` : r.accepted
            ? [s.nullDmaFault ? 'DMA fault at a NULL base' : '', r.dmesg.at(-1) ?? ''].filter(Boolean).join('; ')
            : r.dmesg.at(-1) ?? '');
          return [
            ...(devCol ? [r.device ?? ''] : []), r.rev.replace(/^hisi-acc\//, ''), verdict(r), r.errno ?? '-', r.stage ?? '-',
            r.accepted ? hex64(s.eqeDma) : '-', r.accepted ? hex64(s.aeqeDma) : '-', note,
          ];
        })));
        const n = (v: string) => rows.filter((r) => verdict(r) === v).length;
        out.push(`${rows.length} checks: ${n('ACCEPTED')} accepted, ${n('REFUSED')} refused${n('HANG') ? `, ${n('HANG')} hung` : ''}${n('ERROR') ? `, ${n('ERROR')} harness errors` : ''}` +
          `; transfer ${rows[0].transfer}`);
        out.push(`destination: ${values.dest ? values.dest : 'a SEC VF whose queues and isolation match the stream header'}; ` +
          'eq/aeq base: where the device delivers events once the destination runs');
      }
      process.stdout.write(out.join('\n') + '\n');
    }
    if (single) return rows[0].accepted ? 0 : 1;
    return rows.some((r) => r.hang || r.harnessError) ? 1 : 0;
  },
};
export default check;
