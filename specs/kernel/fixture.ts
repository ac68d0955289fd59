// The kernel project's fixture: Debian's kernel in a TCG guest, booted ONCE per worker (the
// project's tests run in order in one worker), with three mtty instances: two single-port ones
// (source and destination) and a dual-port one (a device of another type). Torn down by PID.
import { test as base } from '@playwright/test';
import { join } from 'node:path';
import { ensureKernelGuestImage, type KernelGuestImage } from '../../harness/runners/kernel-guest/image.ts';
import { DEFAULT_MDEVS, KernelGuest } from '../../harness/runners/kernel-guest/guest.ts';
import { livePids } from '../../harness/runners/qemu/procs.ts';
import { freePort } from '../../harness/runners/qemu/hop.ts';

export const MDEVS = DEFAULT_MDEVS;
export const SRC = `mdev:${MDEVS[0]!.uuid}`;
export const DST = `mdev:${MDEVS[1]!.uuid}`;
/** a dual-port instance: streams from it do not fit a single-port one, and the other way round */
export const DUAL = `mdev:${MDEVS[2]!.uuid}`;

export interface Booted {
  guest: KernelGuest;
  image: KernelGuestImage;
}

export const test = base.extend<{}, { kernel: Booted }>({
  kernel: [
    async ({}, use, info) => {
      const image = ensureKernelGuestImage((s) => process.stderr.write(`kernel guest: ${s}\n`));
      // with a forwarded port for the SSH lab-host test
      const guest = await KernelGuest.boot({ image, dir: join(info.project.outputDir, `kernel-guest-${info.workerIndex}`), mdevs: MDEVS, sshPort: await freePort() });
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
