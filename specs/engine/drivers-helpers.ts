// Shared by the engine specs: streams from real source revisions (a booted guest on a simulated VF),
// and header edits through the formats engine (never a hand-written layout).
import { GuestMemory, QmVf } from '../../harness/device/index.ts';
import { DEFAULT_DEVICE, type DeviceConfig } from '../../harness/device/mmio.ts';
import { accVfDataOf, decodeAccVfData, encodeAccVfData, type AccVfData } from '../../harness/formats/accVfData.ts';
import { Vm, createWorkload } from '../../harness/guest/index.ts';
import { captureStream } from '../../harness/runners/simCapture.ts';
import { Rng } from '../../harness/util/rng.ts';
import type { WorkloadName } from '../../harness/runners/types.ts';

/** The stream `rev` writes for a guest running `workload` (booted, then at its stop point). */
export function streamFrom(rev: string, workload: WorkloadName = 'user-polling', device: DeviceConfig = DEFAULT_DEVICE): Uint8Array {
  const r = captureStream({
    rev, device, seed: 7,
    prepare: (dev: QmVf, memory: GuestMemory, clock, timeline) => {
      const vm = new Vm({ memory, device: dev, clock, timeline, rng: new Rng(7) });
      const wl = createWorkload(workload, { requests: 4, inflight: 1, requestSize: 64, seed: 7, deviceType: device.type });
      wl.boot(vm);
      wl.runToStopPoint(vm);
    },
  });
  if (!r.ok) throw new Error(`capture from ${rev} failed: ${r.errno}`);
  return r.value;
}

/** Decode, edit, re-encode at the same length. */
export function edit(stream: Uint8Array, f: (d: AccVfData) => void): Uint8Array {
  const d = accVfDataOf(decodeAccVfData(stream));
  if (!d) throw new Error('stream has no header');
  f(d);
  return encodeAccVfData(d, stream.length as 40 | 176);
}

export const decoded = (stream: Uint8Array): AccVfData => accVfDataOf(decodeAccVfData(stream))!;
