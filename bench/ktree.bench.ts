// ktree figures, per Debian tree (6.1 and 6.12): build time (cold compile and cached lookup), and
// real-code cases per second next to the model's on the same matrix slice (in process, and through
// the child process the runner isolates real code in).
import { DEFAULT_DEVICE } from '../harness/device/mmio.ts';
import { registerRevision } from '../harness/drivers/registry.ts';
import { buildTree } from '../harness/ktree/build.ts';
import { releaseAllKtreeDrivers } from '../harness/ktree/driver.ts';
import { fetchDebian } from '../harness/ktree/fetch.ts';
import type { Job } from '../harness/ktree/jobs.ts';
import { runJobsInChild } from '../harness/ktree/pool.ts';
import { ktreeRevision, resolveKtree } from '../harness/ktree/registry.ts';
import { runCase } from '../harness/runners/sim.ts';
import type { CaseSpec, WorkloadName } from '../harness/runners/types.ts';
import { report } from './util.ts';

const TREES: { name: 'debian-6.1' | 'debian-6.12'; real: string; model: string }[] = [
  { name: 'debian-6.1', real: 'ktree:debian-6.1', model: 'hisi-acc/debian-6.1.192' },
  { name: 'debian-6.12', real: 'ktree:debian-6.12', model: 'hisi-acc/debian-6.12.118' },
];

// the same slice for both: the revision on both sides and against two released models
function slice(rev: string): CaseSpec[] {
  const out: CaseSpec[] = [];
  const pairs: [string, string][] = [[rev, rev], [rev, 'hisi-acc/v6.16'], ['hisi-acc/v5.18', rev]];
  const workloads: WorkloadName[] = ['kernel-crypto', 'user-polling', 'no-driver'];
  for (const [src, dst] of pairs) for (const workload of workloads) for (const transfer of ['single', 'qemu']) {
    out.push({ src, dst, workload, scenario: 'single-hop', transfer, device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 64, seed: 1 });
  }
  return out;
}

/** cases per wall second and per CPU second of this process (the latter steadier on a shared machine) */
function rate(specs: CaseSpec[], seconds: number): { wall: number; cpu: number } {
  let n = 0;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const budget = BigInt(seconds * 1e9);
  while (process.hrtime.bigint() - start < budget) {
    for (const s of specs) runCase({ ...s, seed: n + 1 });
    releaseAllKtreeDrivers();
    n += specs.length;
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: n / (Number(process.hrtime.bigint() - start) / 1e9), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

for (const t of TREES) {
  const tree = fetchDebian(t.name);
  let t0 = process.hrtime.bigint();
  buildTree(tree.dir, { force: true });
  report(`ktree build ${t.name} ${tree.kernelVersion} (gcc, cold: driver + core walk + shim)`, Number(process.hrtime.bigint() - t0) / 1e9, 's');
  t0 = process.hrtime.bigint();
  buildTree(tree.dir);
  report(`ktree build ${t.name} (cached, source hash)`, Number(process.hrtime.bigint() - t0) / 1e6, 'ms');

  const lib = resolveKtree(t.real).libPath;
  registerRevision(ktreeRevision(t.real), { replace: true });
  const model = slice(t.model);
  const real = slice(t.real);
  rate(model, 1); // warm-up (JIT), not reported
  rate(real, 1);
  const m = rate(model, 3);
  const r = rate(real, 3);
  report(`model cases/s (${t.model}, ${model.length}-case slice, in process)`, m.wall, 'cases/s');
  report(`real-code cases/s (${t.real}, same slice, in process)`, r.wall, 'cases/s');
  report(`model cases per CPU second (${t.model})`, m.cpu, 'cases/s');
  report(`real-code cases per CPU second (${t.real})`, r.cpu, 'cases/s');

  const jobs: Job[] = [];
  for (let r = 0; r < 10; r++) real.forEach((s, i) => jobs.push({ kind: 'case', id: `${r}/${i}`, spec: { ...s, seed: r + 1 } }));
  t0 = process.hrtime.bigint();
  const res = await runJobsInChild(jobs, { libs: { [t.real]: lib } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  report(`real-code cases/s through the child process (${t.real}, ${jobs.length} cases, incl. child start)`, res.length / secs, 'cases/s');
}
