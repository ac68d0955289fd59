// The uAPI scripts `ktree compare` runs on a model and on its real code (scripts.ts): what PRE_COPY
// kernels add to the surface (PRE_COPY reads between PRECOPY_INFO calls, the blocked STOP_COPY→PRE_COPY
// arc, abandoned pre-copy), resume sessions that go on after a failed write, a second session on the
// same open device, a reset in each state, and a device closed with a data fd still open. Scripts for a
// revision without PRE_COPY still run: its refusals are compared like any other answer.
import { DEFAULT_DEVICE, type DeviceConfig } from '../device/mmio.ts';
import type { WorkloadName } from '../runners/types.ts';
import type { MigState } from '../vfio/types.ts';
import type { ScriptJob, ScriptStep } from './scripts.ts';

const set = (state: MigState): ScriptStep => ({ op: 'set', state });
const read = (max: number, fd?: number): ScriptStep => ({ op: 'read', max, fd });
const write = (b: Buffer, fd?: number): ScriptStep => ({ op: 'write', hex: b.toString('hex'), fd });
const info = (fd?: number): ScriptStep => ({ op: 'info', fd });

function withU32(b: Buffer, off: number, v: number): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32LE(v >>> 0, off);
  return c;
}

/**
 * The scripts for revision `rev`. `stream` is a full 176-byte stream a matching destination accepts
 * (the model's own save), `dest` that destination.
 */
export function probeScripts(rev: string, stream: Buffer, dest: DeviceConfig, scope: 'quick' | 'full'): ScriptJob[] {
  const out: ScriptJob[] = [];
  const add = (name: string, steps: ScriptStep[], o: { device?: DeviceConfig; workload?: WorkloadName } = {}) =>
    out.push({ kind: 'script', id: `script ${name}`, rev, device: o.device ?? dest, workload: o.workload, seed: 13, steps });
  const quick = scope === 'quick';
  const badMagic = withU32(stream, 0, 0x12345678);
  const hpre = withU32(stream, 12, 0xa259);
  const major2 = withU32(stream, 28, 2); // a V2 header's major_ver, in the second half of the header
  const src = (workload: WorkloadName, type: DeviceConfig['type'] = 'SEC') => ({ device: { ...DEFAULT_DEVICE, type }, workload });

  // PRE_COPY: the header alone, read in pieces between PRECOPY_INFO calls, then the rest in STOP_COPY
  const precopy: ScriptStep[] = [
    set('PRE_COPY'), info(), read(16), info(), read(64), info(), read(64), { op: 'size' },
    set('STOP_COPY'), info(), read(64), read(64), read(64), read(64), set('STOP'), read(64), info(), { op: 'close-fd' }, set('RUNNING'),
  ];
  for (const w of quick ? ['kernel-crypto'] as const : ['kernel-crypto', 'no-driver'] as const) {
    for (const ty of quick ? ['SEC'] as const : ['SEC', 'ZIP'] as const) add(`precopy save ${w} ${ty}`, precopy, src(w, ty));
  }
  // pre-copy given up (back to RUNNING), started again; the first session's fd afterwards
  add('precopy abandoned', [
    set('PRE_COPY'), read(64), set('RUNNING'), read(64, 0), info(0), set('PRE_COPY'), info(0), info(1), read(8, 1),
    set('STOP_COPY'), read(256, 1), read(8, 0), set('RUNNING'),
  ], src('kernel-crypto'));
  // the arcs the core blocks: STOP_COPY -> PRE_COPY / PRE_COPY_P2P
  add('blocked arc from STOP_COPY', [set('STOP_COPY'), read(256), set('PRE_COPY'), set('PRE_COPY_P2P'), set('STOP'), set('RUNNING')], src('kernel-crypto'));
  add('precopy to stop', [set('PRE_COPY'), set('STOP'), set('RUNNING'), set('PRE_COPY'), read(256), set('RESUMING'), set('RUNNING')], src('user-polling'));

  // resume sessions that go on after a failed write
  add('writes after a failed write: bad magic', [
    set('RESUMING'), write(badMagic.subarray(0, 40)), write(badMagic.subarray(40)), write(Buffer.alloc(1)), set('STOP'), set('RUNNING'),
  ]);
  add('writes after a failed write: qp_num mismatch', [
    set('RESUMING'), write(stream.subarray(0, 40)), write(stream.subarray(40)), set('RUNNING'),
  ], { device: { ...dest, qpNum: dest.qpNum === 8 ? 16 : 8 } });
  add('writes after a failed write: header split, bad second half', [
    set('RESUMING'), write(stream.subarray(0, 20)), write(major2.subarray(20, 40)), write(stream.subarray(40)), write(stream.subarray(0, 1)), set('RUNNING'),
  ]);
  if (!quick) {
    add('writes after a failed write: then the whole stream again', [
      set('RESUMING'), write(badMagic.subarray(0, 40)), write(stream), write(stream.subarray(40)), set('RUNNING'),
    ]);
  }

  // a second resume session on the same open device
  add('second resume session: other device type', [
    set('RESUMING'), write(stream), set('STOP'), set('RESUMING'), write(hpre), set('STOP'), set('RUNNING'),
  ]);
  add('second resume session: after a refused one', [
    set('RESUMING'), write(badMagic.subarray(0, 40)), set('STOP'), set('RESUMING'), write(stream), set('RUNNING'),
  ]);
  if (!quick) {
    add('second resume session: after the device was reopened', [
      set('RESUMING'), write(stream), set('STOP'), { op: 'reopen' }, set('RESUMING'), write(hpre), set('STOP'), set('RUNNING'),
    ]);
  }

  // a reset in each state, then the session's fd, then a fresh save
  const states: MigState[] = quick ? ['PRE_COPY', 'RESUMING'] : ['RUNNING', 'STOP', 'PRE_COPY', 'STOP_COPY', 'RESUMING'];
  for (const s of states) {
    const before: ScriptStep[] = s === 'RESUMING' ? [set('STOP'), set('RESUMING'), write(stream.subarray(0, 40))]
      : s === 'PRE_COPY' || s === 'STOP_COPY' ? [set(s), read(16)] : [set(s)];
    const after: ScriptStep[] = s === 'RESUMING' ? [write(stream.subarray(40))] : s === 'PRE_COPY' || s === 'STOP_COPY' ? [read(16), info()] : [];
    add(`reset in ${s}`, [...before, { op: 'reset' }, ...after, { op: 'size' }, set('STOP_COPY'), read(256), set('STOP'), set('RUNNING')],
      src('kernel-crypto'));
  }

  // the device closed while a save fd is still open
  add('reopen with a save fd open', [set('STOP_COPY'), read(16), { op: 'reopen' }, read(16, 0), set('STOP_COPY'), read(256), set('RUNNING')],
    src('kernel-crypto'));
  return out;
}
