// Revision ids of the vfio-host runner: PCI addresses of VFs (or mdev:UUID devices). The revision is whatever the host
// kernel runs; `all` stands for the devices MIGCOMPAT_VFIO_DEVICES names, in that order.
// One host runs them all, so every case is same-version; the grid lists the VFs in that order.
import { normalizeDeviceId } from '../runners/vfio-host/sysfs.ts';
import { UsageError } from '../util/usage-error.ts';
import type { RevisionFacts } from './expand.ts';

function bdf(text: string): string | null {
  try {
    return normalizeDeviceId(text);
  } catch {
    return null;
  }
}

export function hwFacts(env = process.env.MIGCOMPAT_VFIO_DEVICES ?? ''): RevisionFacts {
  const ids = () => env.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const d = bdf(s);
    if (!d) throw new UsageError(`MIGCOMPAT_VFIO_DEVICES: '${s}' is not a PCI address (expected DDDD:BB:DD.F, e.g. 0000:75:00.1) or mdev:UUID`);
    return d;
  });
  // every VF is on this host, under one kernel: all cases are same-version
  return { ids, canonical: bdf, base: () => 'this host' };
}
