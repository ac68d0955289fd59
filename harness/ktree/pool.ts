// Parent side of the ktree runner: hands jobs to a child process (real driver code runs there),
// reads one result per job, and turns a crash (signal) or a hang (timeout) into an `error` result
// for the job in progress; the remaining jobs go on in a fresh child. runJobInChildSync is the
// synchronous form the sim runner's runCase and checkStream use (through harness/ktree/install.ts).
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { IsolatedResult } from '../runners/isolation.ts';
import type { Job, JobResult } from './jobs.ts';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts');
const STARTUP_MS = 30_000;

export interface PoolOptions {
  /** ktree revision id → built library */
  libs: Record<string, string>;
  /** per-job time limit in ms (a real-code hang); default 30 s */
  jobTimeoutMs?: number;
}

/** Run jobs in a child process; results come back in job order, one per job. */
export async function runJobsInChild(jobs: Job[], opts: PoolOptions): Promise<JobResult[]> {
  const results = new Map<string, JobResult>();
  let rest = jobs;
  while (rest.length) {
    const done = await runBatch(rest, opts, results);
    rest = rest.slice(done);
  }
  return jobs.map((j) => results.get(j.id)!);
}

/** One child for as many jobs as it finishes; returns how many jobs of `jobs` got a result. */
function runBatch(jobs: Job[], opts: PoolOptions, results: Map<string, JobResult>): Promise<number> {
  const timeoutMs = opts.jobTimeoutMs ?? 30_000;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let n = 0;
    let current: string | null = null;
    let timedOut = false;
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    const arm = (ms: number) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = current !== null;
        child.kill('SIGKILL');
      }, ms);
    };
    arm(STARTUP_MS + timeoutMs); // loading tsx, the harness and the library
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('@job-start ')) {
        current = line.slice(11);
        arm(timeoutMs);
      } else if (line.startsWith('@job ')) {
        const r = JSON.parse(line.slice(5)) as JobResult;
        results.set(r.id, r);
        current = null;
        n++;
        arm(timeoutMs);
      }
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (n < jobs.length) {
        const id = current ?? jobs[n].id;
        const why = timedOut ? `real driver code did not finish within ${timeoutMs} ms (killed)`
          : signal === 'SIGKILL' && current === null ? `child process did not start a job within ${STARTUP_MS + timeoutMs} ms`
          : signal ? `real driver code crashed: ${signal}` : `child exited with ${code}: ${lastLine(stderr)}`;
        results.set(id, { id, evidence: null, error: why });
        n++;
      }
      resolve(n);
    });
    child.stdin.end(JSON.stringify({ libs: opts.libs, jobs }));
  });
}

const lastLine = (s: string): string => s.trim().split('\n').filter(Boolean).pop() ?? 'no output';

/**
 * Time limit of one synchronous child (loading tsx, the harness and the library, then the job): 60 s,
 * or MIGCOMPAT_KTREE_TIMEOUT_MS. Real code past it is a hang, reported as the case's `error`.
 */
export function childTimeoutMs(): number {
  const v = Number(process.env.MIGCOMPAT_KTREE_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : 60_000;
}

/** Run one job in a fresh child and wait for it (~1 s start); a signal or the time limit is an error. */
export function runJobInChildSync(job: Job, libs: Record<string, string>, timeoutMs = childTimeoutMs()): IsolatedResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    input: JSON.stringify({ libs, jobs: [job] }), encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('@job '));
  if (line) {
    const out = JSON.parse(line.slice(5)) as JobResult;
    return { evidence: out.evidence, error: out.error };
  }
  const started = (r.stdout ?? '').includes('@job-start ');
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    return { evidence: null, error: started ? `real driver code did not finish within ${timeoutMs} ms (killed)` : `child process did not start within ${timeoutMs} ms` };
  }
  if (r.signal) return { evidence: null, error: `real driver code crashed: ${r.signal}` };
  return { evidence: null, error: `child exited with ${r.status}: ${lastLine(r.stderr ?? '')}` };
}
