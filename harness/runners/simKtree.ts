// Cases and checks that involve real driver code (`ktree:` revisions, Revision.childLib) run in a
// child process (harness/ktree/child.ts), so a crash or a hang of that code ends only its own case,
// as `error` evidence. Synchronous on purpose: runCase and checkStream are synchronous (matrices,
// fuzz, CLI); the async Runner uses harness/ktree/pool.ts instead. One child per call (~1 s start).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Revision } from '../drivers/revision.ts';
import type { Evidence } from '../oracle/types.ts';
import type { CaseSpec } from './types.ts';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '../ktree/child.ts');
/**
 * Time limit of one child (loading tsx, the harness and the library, then the job): 60 s, or
 * MIGCOMPAT_KTREE_TIMEOUT_MS. Real code past it is a hang, reported as the case's `error`.
 */
export function childTimeoutMs(): number {
  const v = Number(process.env.MIGCOMPAT_KTREE_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : 60_000;
}

/** revision id → library for every isolated revision among `revs`; null when none is isolated. */
export function childLibsOf(revs: readonly (Revision | null)[]): Record<string, string> | null {
  let libs: Record<string, string> | null = null;
  for (const r of revs) if (r?.childLib) (libs ??= {})[r.id] = r.childLib;
  return libs;
}

export interface ChildJobResult {
  evidence: Record<string, unknown> | null;
  error: string | null;
}

/** Run one job (harness/ktree/jobs.ts shape) in a fresh child; a signal or the time limit is an error. */
export function runJobInChildSync(job: Record<string, unknown>, libs: Record<string, string>, timeoutMs = childTimeoutMs()): ChildJobResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    input: JSON.stringify({ libs, jobs: [job] }), encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@job '));
  if (line) {
    const out = JSON.parse(line.slice(5)) as ChildJobResult;
    return { evidence: out.evidence, error: out.error };
  }
  const started = (r.stdout ?? '').includes('@job-start ');
  const lastErr = (r.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? 'no output';
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    return { evidence: null, error: started ? `real driver code did not finish within ${timeoutMs} ms (killed)` : `child process did not start within ${timeoutMs} ms` };
  }
  if (r.signal) return { evidence: null, error: `real driver code crashed: ${r.signal}` };
  return { evidence: null, error: `child exited with ${r.status}: ${lastErr}` };
}

/** runCase for a case with isolated revisions: the child runs it in process and sends the evidence back. */
export function runCaseInChildSync(spec: CaseSpec, libs: Record<string, string>, caseId: string): Evidence {
  const r = runJobInChildSync({ kind: 'case', id: 'case', spec }, libs);
  if (r.evidence) {
    const ev = r.evidence as unknown as Evidence & { stream: string | null };
    return { ...ev, stream: ev.stream ? new Uint8Array(Buffer.from(String(ev.stream), 'hex')) : null };
  }
  return {
    caseId, seed: spec.seed, stream: null, timeline: [], destination: null, srcFinalState: null, dstFinalState: null,
    guestOn: 'none', checks: [], hang: null, harnessError: r.error ?? 'no result from the child process',
  };
}
