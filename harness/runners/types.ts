// One interface for every runner: sim (in process), vfio-host (real VFs),
// qemu (whole VMs). A case is a pure function of (case, seed) on sim.
import type { Evidence } from '../oracle/types.ts';
import type { DeviceConfig } from '../device/mmio.ts';
import type { WorkloadName } from '../guest/workloads.ts';

// Workload names belong to the guest (harness/guest/workloads.ts); re-exported for case specs.
export { WORKLOADS, type WorkloadName } from '../guest/workloads.ts';

export type ScenarioName = 'single-hop' | 'ping-pong' | 'retry-after-refusal';
export const SCENARIOS: readonly ScenarioName[] = ['single-hop', 'ping-pong', 'retry-after-refusal'];

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
  return `${short(spec.src)} -> ${short(spec.dst)} ${spec.workload} ${spec.transfer} ${dev}${scen}`;
}
