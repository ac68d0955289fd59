// The `vfio-host` runner: a matrix case on real VFs. The revisions are whatever the host kernel
// runs (a case's src/dst ids are recorded, not enforced); the source is the first VF named in
// MIGCOMPAT_VFIO_DEVICES and the destination the second (or the same VF again).
import type { Evidence } from '../../oracle/types.ts';
import { UsageError } from '../../util/usage-error.ts';
import type { CaseSpec, Runner, RunnerCapabilities } from '../types.ts';
import { capture, CaptureError, load, type HostContext } from './ops.ts';
import { normalizeDeviceId } from './sysfs.ts';

export class VfioHostRunner implements Runner {
  readonly capabilities: RunnerCapabilities = { name: 'vfio-host', deterministic: false, workloads: ['no-driver'] };
  private devices: string[] = [];

  constructor(private readonly ctx: HostContext, devices = process.env.MIGCOMPAT_VFIO_DEVICES ?? '') {
    this.devices = devices.split(',').map((s) => s.trim()).filter(Boolean).map(normalizeDeviceId);
  }

  async prepare(spec: CaseSpec): Promise<void> {
    if (this.devices.length === 0) throw new UsageError('vfio-host runner: set MIGCOMPAT_VFIO_DEVICES=0000:75:00.1[,0000:75:00.2] (or mdev:UUID,…)');
    if (!this.capabilities.workloads.includes(spec.workload))
      throw new UsageError(`vfio-host runner runs no guest: workload '${spec.workload}' needs the qemu runner (only 'no-driver' here)`);
  }

  async run(spec: CaseSpec): Promise<Evidence> {
    const [src, dst = src] = this.devices;
    let stream: Uint8Array;
    try {
      stream = capture(this.ctx, src).stream;
    } catch (e) {
      if (!(e instanceof CaptureError)) throw e;
      return {
        caseId: `${spec.src} -> ${spec.dst}`, seed: spec.seed, stream: null, timeline: [], destination: null, srcFinalState: null,
        dstFinalState: null, guestOn: 'src', checks: [], hang: null, harnessError: `capture on ${src}: ${e.message}`,
      };
    }
    const r = load(this.ctx, dst, stream, spec.transfer, `${spec.src} -> ${spec.dst} (${src} -> ${dst})`, spec.seed);
    r.evidence.seed = spec.seed;
    return r.evidence;
  }
}
