// The real Debian 6.1.192 and 6.12.118 driver code against the VFIO migration contract, in a child
// process as `migcompat conform --rev ktree:…` runs it: each column equals its model's, and a
// real loop that never ends is a hang verdict (the child killed by its pid) charged as in process,
// after which the clauses go on in fresh children that do not make that call again.
import { test, expect } from '@playwright/test';
import { CHECK_PARAMS } from '../../harness/conformance/checks/index.ts';
import { loadContract, selectClauses } from '../../harness/conformance/contract.ts';
import { loadKnown } from '../../harness/conformance/known.ts';
import { runConformance } from '../../harness/conformance/run.ts';
import { resolveSubjects } from '../../harness/conformance/subjects.ts';
import { registerRevision } from '../../harness/drivers/registry.ts';
import { buildTree } from '../../harness/ktree/build.ts';
import { DEBIAN, DEBIAN_612, MODEL, MODEL_612, atFunctionStart, debianLib, patchedTree } from './trees.ts';

const contract = loadContract(undefined, CHECK_PARAMS);
const known = loadKnown(undefined, new Set(contract.clauses.map((c) => c.id)));

for (const [model, real, flags] of [[MODEL, DEBIAN, 1], [MODEL_612, DEBIAN_612, 5]] as const) {
  test(`${real} keeps and breaks exactly the clauses its model does`, async () => {
    test.setTimeout(600_000);
    debianLib(real);
    const r = await runConformance({ contract, clauses: contract.clauses, known, subjects: resolveSubjects(`${model},${real}`) });
    const col = (id: string) => Object.fromEntries(r.cells.filter((c) => c.subject === id).map((c) => [c.clause, c.verdict]));
    expect(col(real)).toEqual(col(model));
    expect(r.subjects.find((s) => s.id === real)).toMatchObject({ kind: 'ktree', flags });
    // the real code's violations are declared like the model's
    expect(r.cells.filter((c) => c.subject === real && (c.status === 'unexpected' || c.status === 'fixed' || c.status === 'error'))).toEqual([]);
  });
}

test('real code that never returns is a hang verdict; the following clauses run in a fresh child', async () => {
  test.setTimeout(600_000);
  const hang = buildTree(patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_stop_device', 'for (;;) ;')));
  registerRevision({ id: 'ktree:conformance-hang', title: 'stop_device never returns', kernel: '6.1.192', kind: 'external', source: hang.libPath, childLib: hang.libPath, bind: () => { throw new Error('runs in a child'); } }, { replace: true });
  // in contract order: the flags clause runs first, then set-returns hangs on its first RUNNING→STOP
  const clauses = selectClauses(contract, ['set-returns', 'flags-advertise-stop-copy', 'data-direction']);
  const r = await runConformance({ contract, clauses, known, subjects: resolveSubjects('ktree:conformance-hang'), callMs: 3000 });
  const set = r.cells.find((c) => c.clause === 'set-returns')!;
  const flags = r.cells.find((c) => c.clause === 'flags-advertise-stop-copy')!;
  expect(set.verdict, set.detail).toBe('hang');
  expect(set.detail).toMatch(/^SET STOP from RUNNING never returns/);
  expect(set.evidence!.steps.map((s) => s.res)).toEqual(['ok', 'ok', 'HANG']);
  expect(set.evidence!.steps[2].hang!.where).toMatch(/no answer within 3000 ms/);
  expect(set.status).toBe('unexpected');
  expect(flags.verdict).toBe('holds');
  // the clauses after the hang ran in fresh children: a known hanging call is not made again, and a
  // clause whose every scenario needs RUNNING→STOP cannot be judged (the hang is set-returns')
  const after = r.cells.find((c) => c.clause === 'data-direction')!;
  expect(after.verdict, after.detail).toBe('na');
  expect(after.detail).toMatch(/never returned/);
});
