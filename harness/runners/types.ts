// One interface for every runner: sim (in process), vfio-host (real VFs),
// qemu (whole VMs). A case is a pure function of (case, seed) on sim.
import type { Evidence } from '../oracle/types.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import type { WorkloadName } from '../guest/workloads.ts';

// Workload names belong to the guest (harness/guest/workloads.ts); re-exported for case specs.
export { WORKLOADS, type WorkloadName } from '../guest/workloads.ts';

export type ScenarioName = 'single-hop' | 'ping-pong' | 'retry-after-refusal';
export const SCENARIOS: readonly ScenarioName[] = ['single-hop', 'ping-pong', 'retry-after-refusal'];

/** Guest architecture of a whole-VM case (qemu runner): x86_64 (q35) or aarch64 (virt, the Kunpeng lab's). */
export type GuestArch = 'x86_64' | 'aarch64';
export const GUEST_ARCHES: readonly GuestArch[] = ['x86_64', 'aarch64'];

export interface CaseSpec {
  /** revision ids, e.g. 'hisi-acc/v6.16' or 'ktree:debian-6.1' */
  src: string;
  dst: string;
  workload: WorkloadName;
  scenario: ScenarioName;
  /** transfer plan text: 'single', 'qemu', 'chunks:40,136', 'random' */
  transfer: string;
  device: DeviceConfig;
  /** destination device configuration when it differs from the source's */
  dstDevice?: DeviceConfig;
  /** third revision for retry-after-refusal (the compatible destination) */
  retryDst?: string;
  /** requests submitted before the stop point, and how many are still in flight at the stop */
  requests: number;
  inflight: number;
  /** request payload size in bytes */
  requestSize: number;
  seed: number;
  /** qemu runner: the guest architecture (absent: x86_64, or what the case's lab hosts run) */
  arch?: GuestArch;
}

export interface RunnerCapabilities {
  name: 'sim' | 'vfio-host' | 'qemu';
  /** whether a run is deterministic in (case, seed) */
  deterministic: boolean;
  workloads: readonly WorkloadName[];
}

export interface Runner {
  readonly capabilities: RunnerCapabilities;
  /** validate the case and acquire what it needs; throws UsageError on bad input */
  prepare(spec: CaseSpec): Promise<void>;
  run(spec: CaseSpec): Promise<Evidence>;
}

/** Stable, greppable id: "v5.18 -> v6.16 kernel-crypto single SEC". */
export function caseTitle(spec: CaseSpec): string {
  const short = (id: string) => id.replace(/^hisi-acc\//, '');
  const dev = spec.dstDevice ? `${spec.device.type}->${spec.dstDevice.type}` : spec.device.type;
  const scen = spec.scenario === 'single-hop' ? '' : ` ${spec.scenario}`;
  // x86_64 titles stay as they were before aarch64 existed, so history and greps keep working
  const arch = spec.arch && spec.arch !== 'x86_64' ? ` ${spec.arch}` : '';
  return `${short(spec.src)} -> ${short(spec.dst)} ${spec.workload} ${spec.transfer} ${dev}${scen}${arch}`;
}
