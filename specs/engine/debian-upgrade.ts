// The Debian 6.1 ↔ 6.12 slice and what each cell is
// (docs/revisions.md#debian-61192-and-612118-both-directions), shared by the model spec and the
// real-code spec (specs/ktree).
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { WORKLOADS, type CaseSpec } from '../../harness/runners/types.ts';

export const DEB61 = 'debian-6.1';
export const DEB612 = 'debian-6.12';

/** Both directions and both same-version pairs, every workload, single and qemu. */
export function debianUpgradeSlice(rev61: string, rev612: string): CaseSpec[] {
  const out: CaseSpec[] = [];
  for (const [src, dst] of [[rev61, rev612], [rev612, rev61], [rev61, rev61], [rev612, rev612]]) {
    for (const workload of WORKLOADS) {
      for (const transfer of ['single', 'qemu']) {
        out.push({ src, dst, workload, transfer, scenario: 'single-hop', device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 64, seed: 1 });
      }
    }
  }
  return out;
}

const is612 = (id: string) => /6\.12/.test(id);

/**
 * Every cell migrates except 6.12 → 6.1 over QEMU's transfer with a stream body to send: the 6.12
 * source advertises PRE_COPY, so QEMU writes the 40-byte header and then the 136-byte rest; the 6.1
 * destination's resume fd copies every write to offset 0, the rest overwrites the header, and its
 * match check at RESUMING→STOP finds no magic: refused, the source keeps running.
 */
export function expectedDebianCell(s: CaseSpec): { outcome: string; errno?: string; stage?: string } {
  const bodySent = s.workload !== 'driver-unloaded'; // an unloaded guest driver: a 40-byte match-only stream
  if (is612(s.src) && !is612(s.dst) && s.transfer === 'qemu' && bodySent) return { outcome: 'refused', errno: 'EINVAL', stage: 'resuming->stop' };
  return { outcome: 'migrated' };
}
