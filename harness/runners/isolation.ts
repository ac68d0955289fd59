// Revisions whose code must not run in this process (Revision.childLib: real driver code, the
// `ktree:` ids) run their cases and checks in an isolated executor, so a crash or a hang of that code
// ends only its own case, as `error` evidence. The executor is installed from above: harness/ktree
// installs its child processes when it is imported (harness/ktree/install.ts). The runners only
// build the jobs and read the results, so they never import ktree.
import type { DeviceConfig } from '../device/mmio.ts';
import type { DeviceFaults } from '../device/qmvf.ts';
import type { Revision } from '../drivers/revision.ts';
import type { Evidence } from '../oracle/types.ts';
import { caseTitle, type CaseSpec } from './types.ts';

/** A whole sim-runner case (runCase in the isolated process). */
export interface CaseJob {
  kind: 'case';
  id: string;
  spec: CaseSpec;
}

/** What a destination does with a stream (checkStream); `faults` are set on the VF before the driver binds. */
export interface CheckJob {
  kind: 'check';
  id: string;
  rev: string;
  streamHex: string;
  dest: DeviceConfig;
  transfer: string;
  faults?: Partial<DeviceFaults>;
  seed?: number;
}

export type IsolatedJob = CaseJob | CheckJob;

/** A job's result as plain JSON (64-bit values as "0x…" strings); `error` when it could not run to its end. */
export interface IsolatedResult {
  evidence: Record<string, unknown> | null;
  error: string | null;
}

export interface IsolatedExecutor {
  /** one job, waited for: runCase and checkStream are synchronous (matrices, fuzz, CLI) */
  runSync(job: IsolatedJob, libs: Record<string, string>): IsolatedResult;
  /** the same without blocking, for the async Runner interface */
  run(job: IsolatedJob, libs: Record<string, string>): Promise<IsolatedResult>;
}

let executor: IsolatedExecutor | null = null;

/** Called by the layer that runs isolated code (harness/ktree/install.ts); a later call replaces it. */
export function installIsolatedExecutor(e: IsolatedExecutor): void {
  executor = e;
}

function isolatedExecutor(what: string): IsolatedExecutor {
  if (!executor) throw new Error(`${what}: real driver code runs isolated, but no isolated executor is installed (import harness/ktree/install.ts)`);
  return executor;
}

/** revision id → library for every isolated revision among `revs`; null when none is isolated. */
export function childLibsOf(revs: readonly (Revision | null)[]): Record<string, string> | null {
  let libs: Record<string, string> | null = null;
  for (const r of revs) if (r?.childLib) (libs ??= {})[r.id] = r.childLib;
  return libs;
}

/** runCase for a case with isolated revisions: the executor runs it and sends the evidence back. */
export function runIsolatedCase(spec: CaseSpec, libs: Record<string, string>): Evidence {
  const caseId = `${caseTitle(spec)} #${spec.seed}`;
  return caseEvidence(spec, caseId, isolatedExecutor(caseId).runSync({ kind: 'case', id: 'case', spec }, libs));
}

/** The same for the async Runner interface. */
export async function runIsolatedCaseAsync(spec: CaseSpec, libs: Record<string, string>): Promise<Evidence> {
  const caseId = `${caseTitle(spec)} #${spec.seed}`;
  return caseEvidence(spec, caseId, await isolatedExecutor(caseId).run({ kind: 'case', id: 'case', spec }, libs));
}

/** One destination check of an isolated revision; the caller decodes the evidence. */
export function runIsolatedCheck(job: CheckJob, libs: Record<string, string>): IsolatedResult {
  return isolatedExecutor(`check of ${job.rev}`).runSync(job, libs);
}

function caseEvidence(spec: CaseSpec, caseId: string, r: IsolatedResult): Evidence {
  if (r.evidence) {
    const ev = r.evidence as unknown as Evidence & { stream: string | null };
    return { ...ev, stream: ev.stream ? new Uint8Array(Buffer.from(String(ev.stream), 'hex')) : null };
  }
  return {
    caseId, seed: spec.seed, stream: null, timeline: [], destination: null, srcFinalState: null, dstFinalState: null,
    guestOn: 'none', checks: [], hang: null, harnessError: r.error ?? 'no result from the child process',
  };
}
