// Child process of the ktree runner: runs jobs with the real driver code loaded in-process
// (through koffi) and prints one JSON line per finished job, so a crash or a hang loses only the
// job in progress. Input on stdin: { libs: { "ktree:NAME": libPath }, jobs: Job[] }.
import { registerRevision, loadRevision } from '../drivers/registry.ts';
import type { Revision } from '../drivers/revision.ts';
import { KtreeDriver, releaseAllKtreeDrivers } from './driver.ts';
import { runJob, type Job } from './jobs.ts';

interface Request {
  libs: Record<string, string>;
  jobs: Job[];
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const req = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request;
  for (const [id, libPath] of Object.entries(req.libs)) {
    const rev: Revision = {
      id, title: `real driver code (${libPath})`, kernel: '', kind: 'external', source: libPath,
      bind: (ctx) => new KtreeDriver(id, libPath, ctx),
    };
    registerRevision(rev, { replace: true });
  }
  for (const job of req.jobs) {
    process.stdout.write(`@job-start ${job.id}\n`);
    const r = runJob(job, (id) => loadRevision(id));
    releaseAllKtreeDrivers();
    process.stdout.write(`@job ${JSON.stringify(r)}\n`);
  }
}

await main();
