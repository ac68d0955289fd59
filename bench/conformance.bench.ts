// Conformance throughput on the revision models, one core: clause checks per second per revision
// (every clause of the contract; a clause check runs all its scenarios, each on a fresh device),
// the uAPI calls they make per second, and the whole `migcompat conform --rev all` run (every model
// revision, process start-up included; target < 10 s). CPU time is printed next to wall time: on a
// shared machine wall time says as much about the neighbours as about the code.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CHECK_PARAMS, CHECK_RUNNERS } from '../harness/conformance/checks/index.ts';
import { loadContract } from '../harness/conformance/contract.ts';
import { runClause, startSubject } from '../harness/conformance/engine.ts';
import { resolveSubjects } from '../harness/conformance/subjects.ts';
import { report } from './util.ts';

const contract = loadContract(undefined, CHECK_PARAMS);
const seconds = Number(process.env.BENCH_CONFORMANCE_SECONDS ?? 2);

// warm-up: one pass over one revision
{
  const [w] = resolveSubjects('v7.0');
  if (w.where === 'here') for (const c of contract.clauses) runClause(startSubject(w.subject), c, CHECK_RUNNERS);
}

for (const spec of resolveSubjects('all')) {
  if (spec.where !== 'here') continue;
  let clauses = 0;
  let scenarios = 0;
  let calls = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    const run = startSubject(spec.subject, { onExec: () => void calls++ });
    for (const c of contract.clauses) {
      scenarios += runClause(run, c, CHECK_RUNNERS).scenarios;
      clauses++;
    }
    elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  report(`clause checks ${spec.id}`, clauses / elapsed, 'clauses/s', undefined);
  report(`  scenarios ${spec.id}`, scenarios / elapsed, 'scenarios/s');
  report(`  uAPI calls ${spec.id}`, calls / elapsed, 'calls/s');
  report(`  one whole contract ${spec.id}`, (elapsed / (clauses / contract.clauses.length)) * 1000, `ms (cpu ${((cpuS / (clauses / contract.clauses.length)) * 1000).toFixed(0)} ms)`);
}

// the whole run as users start it: a process, every model revision, the report files written
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'mc-bench-conform-'));
const t0 = Date.now();
const r = spawnSync('bash', ['-c', `TIMEFORMAT='%U %S'; { time "$0" --import tsx harness/cli/main.ts conform --rev all --out "$1" >/dev/null 2>&1; } 2>&1`, process.execPath, out],
  { cwd: root, encoding: 'utf8' });
const wall = (Date.now() - t0) / 1000;
const [u, s] = (r.stdout.trim().split('\n').pop() ?? '0 0').split(' ').map(Number);
report('whole conformance run, every model revision (migcompat conform --rev all)', wall, `s wall, ${(u + s).toFixed(1)} s cpu`, '< 10 s');
