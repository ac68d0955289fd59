// A compatibility matrix (specs/matrices/*.yaml) once validated, and the cases it expands to.
import type { DeviceConfig } from '../device/mmio.ts';
import type { Outcome } from '../oracle/types.ts';
import type { CaseSpec, GuestArch, ScenarioName, WorkloadName } from '../runners/types.ts';

export type Direction = 'old-new' | 'new-old' | 'same-version';

/** Which Runner runs a matrix's cases (harness/runners/types.ts): the simulated device, whole VMs, real VFs. */
export type MatrixRunner = 'sim' | 'qemu' | 'vfio-host';
export const MATRIX_RUNNERS: readonly MatrixRunner[] = ['sim', 'qemu', 'vfio-host'];
export const DIRECTIONS: readonly Direction[] = ['old-new', 'new-old', 'same-version'];

/** How device configurations combine with the other axes. */
export type DeviceCombine = 'all' | 'rotate';

/** A declared upstream defect: one line and where it is documented. */
export interface KnownDefect {
  id: string;
  description: string;
  /** a citation (docs/reference.md#how-to-cite): a repository heading, an upstream commit or a lore message id */
  link: string;
}

/** Conditions of a rule; every key present must match (lists: any of). */
export interface RuleWhen {
  src?: string[];
  dst?: string[];
  workload?: WorkloadName[];
  transfer?: string[];
  device?: string[];
  scenario?: ScenarioName[];
  direction?: Direction[];
  /** whether the destination revision accepts the magic the source revision writes */
  magic?: 'accepted' | 'rejected';
  /** guest architecture (qemu runner) */
  arch?: GuestArch[];
}

export interface ExpectRule {
  /** 'expect[3]' in the matrix file: quoted in summaries so a person finds the rule */
  where: string;
  when: RuleWhen;
  /** the outcome that passes; for a known defect, the outcome the case will have once fixed */
  outcome: Outcome;
  known?: string;
}

export interface Matrix {
  file: string;
  name: string;
  seed: number;
  runner: MatrixRunner;
  src: string[];
  dst: string[];
  /** oldest → newest (for qemu: builds without host or modifiers; for vfio-host: devices) */
  order: string[];
  workloads: WorkloadName[];
  scenarios: ScenarioName[];
  transfers: string[];
  /** guest architectures (qemu runner; every other runner: [x86_64], which adds nothing to a case) */
  arches: GuestArch[];
  devices: DeviceConfig[];
  combine: DeviceCombine;
  requests: number;
  inflight: number;
  requestSize: number;
  groups: Record<string, string[]>;
  known: Record<string, KnownDefect>;
  expect: ExpectRule[];
  /** cases matching any of these are left out of the expansion */
  exclude: RuleWhen[];
}

export interface Expectation {
  outcome: Outcome;
  /** the rule that decided it ('expect[2]'), or 'default' */
  rule: string;
  known: KnownDefect | null;
}

/** One case of a matrix: what the runner needs, plus what the suite and reports need around it. */
export interface MatrixCase {
  id: string;
  title: string;
  spec: CaseSpec;
  direction: Direction;
  runner: MatrixRunner;
  tags: string[];
  expect: Expectation;
  matrix: string;
}
