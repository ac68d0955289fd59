// What changes with the guest architecture: the QEMU binary and its Debian package, the machine type
// family, the CPU model per accelerator, the serial console, the guest kernel and where the guest's
// user space comes from. x86_64 is the q35 TCG guest the runner started with; aarch64 is the Kunpeng
// lab's architecture (HiSilicon accelerators exist only there), with machine `virt` and a GICv3.
import type { GuestArch } from '../types.ts';
import { GUEST_ARCHES } from '../types.ts';
import { UsageError } from '../../util/usage-error.ts';

export type { GuestArch };
export { GUEST_ARCHES };

export type Accel = 'tcg' | 'kvm';

export interface ArchProfile {
  arch: GuestArch;
  /** Debian architecture of the guest's packages */
  debArch: 'amd64' | 'arm64';
  /** GNU triplet: library folders and the cross compiler prefix */
  triplet: string;
  /** the installed QEMU, and the Debian package that ships it */
  qemuBinary: string;
  qemuPackage: string;
  /** versioned machine type of a QEMU release line ("7.2" -> pc-q35-7.2 / virt-7.2) */
  machineAt: (version: string) => string;
  /** machine types of this architecture's QEMU (a +machine= of another architecture is bad input) */
  machineFamily: RegExp;
  /** extra -machine properties both ends of a migration share */
  machineProps: string[];
  /** CPU model per accelerator; both ends of a migration always use the same one */
  cpu: Record<Accel, string>;
  /** the kernel's console device on this machine's first serial port */
  console: string;
  /**
   * QEMU downtime-limit (ms) for live hops under TCG, or null for QEMU's default (300 ms). QEMU 7.2's
   * TCG loses dirty pages written after a dirty-bitmap sync through a guest mapping its soft TLB keeps,
   * and the destination's kernel then runs on stale pages. aarch64 guests (ASIDs, global kernel
   * mappings) keep kernel entries longest; x86 guests flush on every address-space switch but were hit
   * too, on the first hop of a freshly booted guest. A higher limit ends the live phase after fewer
   * syncs (docs/qemu-runner.md#architectures-x86_64-and-aarch64).
   */
  tcgDowntimeLimitMs: number | null;
  /** metapackage naming the guest kernel (and its headers, where guest drivers are built) */
  kernelMeta: string;
  headersMeta: string | null;
  /** 'host': busybox/kcapi come from this machine's installed packages; 'download': from the archive, unpacked */
  userland: 'host' | 'download';
  /** the HiSilicon guest drivers are built (out of tree) and put in the image */
  hisiDrivers: boolean;
}

export const ARCH_PROFILES: Record<GuestArch, ArchProfile> = {
  x86_64: {
    arch: 'x86_64', debArch: 'amd64', triplet: 'x86_64-linux-gnu',
    qemuBinary: '/usr/bin/qemu-system-x86_64', qemuPackage: 'qemu-system-x86',
    machineAt: (v) => `pc-q35-${v}`, machineFamily: /^(pc|q35)(-|$)/, machineProps: [],
    cpu: { tcg: 'qemu64', kvm: 'host' }, console: 'ttyS0', tcgDowntimeLimitMs: 2000,
    // LZ4-compressed: boots in about half the time of the generic kernel under TCG (docs/qemu-runner.md)
    kernelMeta: 'linux-image-cloud-amd64', headersMeta: null, userland: 'host', hisiDrivers: false,
  },
  aarch64: {
    arch: 'aarch64', debArch: 'arm64', triplet: 'aarch64-linux-gnu',
    qemuBinary: '/usr/bin/qemu-system-aarch64', qemuPackage: 'qemu-system-arm',
    // Kunpeng hosts have a GICv3 and no GICv2 emulation under KVM; TCG gets the same, so the
    // command line (and the migrated interrupt controller state) is the same in the lab and here
    machineAt: (v) => `virt-${v}`, machineFamily: /^virt(-|$)/, machineProps: ['gic-version=3'],
    // pauth-impdef: QEMU's cheap pointer-authentication hash instead of the architected one, which
    // TCG computes in software on every signed return (the kernel boots in ~1.7 s instead of ~7 s)
    cpu: { tcg: 'max,pauth-impdef=on', kvm: 'host' }, console: 'ttyAMA0', tcgDowntimeLimitMs: 2000,
    kernelMeta: 'linux-image-arm64', headersMeta: 'linux-headers-arm64', userland: 'download', hisiDrivers: true,
  },
};

export const DEFAULT_ARCH: GuestArch = 'x86_64';

export function archProfile(arch: GuestArch = DEFAULT_ARCH): ArchProfile {
  return ARCH_PROFILES[arch];
}

export function isGuestArch(s: unknown): s is GuestArch {
  return typeof s === 'string' && (GUEST_ARCHES as readonly string[]).includes(s);
}

/** `--arch` / a matrix's or inventory's arch value; aliases from Debian and uname (arm64, amd64). */
export function parseArch(s: string, where = '--arch'): GuestArch {
  const a = s === 'arm64' ? 'aarch64' : s === 'amd64' ? 'x86_64' : s;
  if (!isGuestArch(a)) throw new UsageError(`${where}: '${s}' is not a guest architecture (${GUEST_ARCHES.join(', ')})`);
  return a;
}

/** The QEMU release line a build's upstream version belongs to ("7.2.22" -> "7.2"). */
export function releaseLine(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
