// What differs between the runners a matrix can name: which workloads, scenarios and transfers
// they take, the tag their tests carry, and which Playwright project and spec file run them.
// Module top level stays light: the sim suite and the CLI load it at collection time.
import type { ScenarioName, WorkloadName } from '../runners/types.ts';
import type { MatrixRunner } from './types.ts';

export interface RunnerKind {
  /** tag of every case of this runner */
  tag: string;
  /** Playwright project (playwright.config.ts) and the spec file in it that runs matrices of this runner */
  project: string;
  spec: string;
  /** the matrix the spec runs when MIGCOMPAT_MATRIX names none of this runner */
  defaultMatrix: string;
  workloads: readonly WorkloadName[];
  /** workloads when the matrix leaves them out */
  defaultWorkloads: WorkloadName[];
  scenarios: readonly ScenarioName[];
  /** null: the transfer-plan grammar (harness/transfer/plan.ts); else the accepted words */
  transfers: readonly string[] | null;
  /** transfer plans this runner refuses even though the grammar takes them */
  refusedPlans: readonly string[];
  /** whether `magic: accepted|rejected` rules apply (the revision traits say what a destination accepts) */
  magicRules: boolean;
  /** what an id looks like, for error messages */
  idText: string;
  /** whether a matrix may name guest architectures (`arch:`) */
  arches: boolean;
}

const ALL_WORKLOADS: readonly WorkloadName[] = ['user-polling', 'kernel-crypto', 'ras-recovery', 'no-driver', 'driver-unloaded'];

export const RUNNER_KINDS: Record<MatrixRunner, RunnerKind> = {
  sim: {
    tag: '@sim', project: 'sim', spec: 'specs/matrix/matrix.spec.ts', defaultMatrix: 'specs/matrices/default.yaml',
    workloads: ALL_WORKLOADS, defaultWorkloads: [...ALL_WORKLOADS],
    scenarios: ['single-hop', 'ping-pong', 'retry-after-refusal'], transfers: null, refusedPlans: [], magicRules: true,
    idText: 'a revision id', arches: false,
  },
  // QemuRunner: the guest runs kernel crypto through AF_ALG; retry-after-refusal needs a retryDst, which
  // a matrix cannot name yet, so only single-hop and ping-pong
  qemu: {
    tag: '@qemu', project: 'qemu', spec: 'specs/qemu/qemu-matrix.spec.ts', defaultMatrix: 'specs/matrices/qemu.yaml',
    workloads: ['kernel-crypto'], defaultWorkloads: ['kernel-crypto'],
    scenarios: ['single-hop', 'ping-pong'], transfers: ['unix', 'tcp'], refusedPlans: [], magicRules: false,
    idText: 'a qemu runner id (qemu/<x.y.z|installed|previous>[@host][+modifier…])', arches: true,
  },
  // VfioHostRunner: no guest, so only the no-driver workload; a stream file has no QEMU read pattern
  'vfio-host': {
    tag: '@hw', project: 'hw', spec: 'specs/hw/hw-matrix.spec.ts', defaultMatrix: 'specs/matrices/hw.yaml',
    workloads: ['no-driver'], defaultWorkloads: ['no-driver'],
    scenarios: ['single-hop'], transfers: null, refusedPlans: ['qemu'], magicRules: false,
    idText: 'a PCI address (DDDD:BB:DD.F) or all (MIGCOMPAT_VFIO_DEVICES)', arches: false,
  },
};
