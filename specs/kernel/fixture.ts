// The kernel project's fixture: Debian's kernel in a TCG guest, booted ONCE per worker (the
// project's tests run in order in one worker), with three mtty instances: two single-port ones
// (source and destination) and a dual-port one (a device of another type). Torn down by PID.
import { test as base } from '@playwright/test';
import { join } from 'node:path';
import { ensureKernelGuestImage, type KernelGuestImage } from '../../harness/runners/kernel-guest/image.ts';
import { KernelGuest, type MdevSpec } from '../../harness/runners/kernel-guest/guest.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';

export const U1 = '6e1e0c3a-4c34-4b8e-9a51-000000000001';
export const U2 = '6e1e0c3a-4c34-4b8e-9a51-000000000002';
export const U3 = '6e1e0c3a-4c34-4b8e-9a51-000000000003';
export const SRC = `mdev:${U1}`;
export const DST = `mdev:${U2}`;
/** a dual-port instance: streams from it do not fit a single-port one, and the other way round */
export const DUAL = `mdev:${U3}`;
export const MDEVS: MdevSpec[] = [{ type: 'mtty-1', uuid: U1 }, { type: 'mtty-1', uuid: U2 }, { type: 'mtty-2', uuid: U3 }];

export interface Booted {
  guest: KernelGuest;
  image: KernelGuestImage;
}

export const test = base.extend<{}, { kernel: Booted }>({
  kernel: [
    async ({}, use, info) => {
      const image = ensureKernelGuestImage((s) => process.stderr.write(`kernel guest: ${s}\n`));
      const guest = await KernelGuest.boot({ image, dir: join(info.project.outputDir, `kernel-guest-${info.workerIndex}`), mdevs: MDEVS });
      try {
        await use({ guest, image });
      } finally {
        await guest.stop();
        const left = livePids();
        if (left.length) throw new Error(`QEMU processes still running after the kernel guest stopped: ${left.join(', ')}`);
      }
    },
    { scope: 'worker', timeout: 900_000 },
  ],
});
export { expect } from '@playwright/test';
