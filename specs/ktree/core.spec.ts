// The VFIO core's state walk built from each tree's own vfio_main.c: it answers every (state,
// target, flags) as harness/vfio/fsm.ts does for that kernel's core, and where the function never
// returns (the skip loop before the blocked-arc fix) a real-code run reports a hang with the arcs
// walked, never an errno and never a child-process time-out.
import { test, expect } from '@playwright/test';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTree } from '../../harness/ktree/build.ts';
import { extractFunction } from '../../harness/ktree/coreUnit.ts';
import { SHIM_CORE_HANG, loadShimLib } from '../../harness/ktree/ffi.ts';
import { compare } from '../../harness/ktree/compare.ts';
import { runJobsInChild } from '../../harness/ktree/pool.ts';
import { registerKtree } from '../../harness/ktree/registry.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { HangError } from '../../harness/vfio/driver.ts';
import { nextStep, type VfioCore } from '../../harness/vfio/fsm.ts';
import { MIG_STATE, MIG_STATE_NAMES, type MigState } from '../../harness/vfio/types.ts';
import { CORE_C, DEBIAN, DEBIAN_612, atFunctionStart, debianLib, patchedTree } from './trees.ts';

/** The tree without the blocked-arc fix: the skip loop as v6.2 (4db52602a607) up to v7.1 has it. */
const REVERT_FIX = (src: string) => src.replace(/\*next_fsm != VFIO_DEVICE_STATE_ERROR &&\s*/, '');

type Answer = MigState | 'EINVAL' | 'HANG';

/** Every (flags, cur, target) answered by the library's core and by fsm.ts with `core`. */
function table(libPath: string, core: VfioCore): { real: Answer; model: Answer; key: string }[] {
  const lib = loadShimLib(libPath);
  lib.setCoreBudget(200); // CPU ms per call: the function answers in microseconds or never
  const out: { real: Answer; model: Answer; key: string }[] = [];
  for (const flags of [0x1, 0x3, 0x5, 0x7]) {
    for (const cur of MIG_STATE_NAMES) {
      for (const target of MIG_STATE_NAMES) {
        const r = lib.coreNextState(flags, MIG_STATE[cur], MIG_STATE[target]);
        const real: Answer = r.ret === SHIM_CORE_HANG ? 'HANG' : r.ret === -22 ? 'EINVAL'
          : r.ret === 0 ? MIG_STATE_NAMES.find((k) => MIG_STATE[k] === r.next)! : (`ret ${r.ret}` as Answer);
        let model: Answer;
        try {
          const n = nextStep(cur, target, flags, core);
          model = n.ok ? n.value : 'EINVAL';
        } catch (e) {
          if (!(e instanceof HangError)) throw e;
          model = 'HANG';
        }
        out.push({ real, model, key: `flags ${flags} ${cur}->${target}` });
      }
    }
  }
  return out;
}

const differences = (t: ReturnType<typeof table>) => t.filter((x) => x.real !== x.model).map((x) => `${x.key}: real ${x.real}, model ${x.model}`);

test('extractFunction: the definition, not a prototype, a call or a name in a comment', () => {
  const src = [
    '/* vfio_mig_get_next_state() { is described here } */',
    'int vfio_mig_get_next_state(struct vfio_device *d, int a, int b, int *n);',
    'static int user(void) { return vfio_mig_get_next_state(0, 1, 2, 0); }',
    'int',
    'vfio_mig_get_next_state(struct vfio_device *d, int a,',
    '\t\t\tint b, int *n)',
    '{',
    '\tstatic const char *s = "}";',
    '\tif (a) { /* } */ return -1; }',
    "\treturn '}' == b;",
    '}',
    'EXPORT_SYMBOL_GPL(vfio_mig_get_next_state);',
  ].join('\n');
  const f = extractFunction(src, 'vfio_mig_get_next_state')!;
  expect(f.line).toBe(4);
  expect(f.text.startsWith('int\nvfio_mig_get_next_state(')).toBe(true);
  expect(f.text.endsWith("return '}' == b;\n}")).toBe(true);
  expect(extractFunction('int vfio_mig_get_next_state(int);', 'vfio_mig_get_next_state')).toBeNull();
});

test('Debian 6.1.192 core: six states, every answer as fsm.ts no-precopy (4 flag sets x 8 x 8)', () => {
  const t = table(debianLib(DEBIAN).libPath, 'no-precopy');
  expect(t).toHaveLength(256);
  expect(differences(t)).toEqual([]);
  expect(t.find((x) => x.key === 'flags 5 RUNNING->PRE_COPY')!.real).toBe('EINVAL'); // no PRE_COPY in this core
  expect(t.some((x) => x.real === 'HANG')).toBe(false);
});

test('Debian 6.12.118 core: the blocked-arc fix, every answer as fsm.ts fixed-loop', () => {
  const t = table(debianLib(DEBIAN_612).libPath, 'fixed-loop');
  expect(differences(t)).toEqual([]);
  expect(t.find((x) => x.key === 'flags 5 RUNNING->PRE_COPY')!.real).toBe('PRE_COPY');
  expect(t.find((x) => x.key === 'flags 7 STOP_COPY->PRE_COPY')!.real).toBe('EINVAL');
  expect(t.some((x) => x.real === 'HANG')).toBe(false);
});

test('the 6.12 core with the fix reverted never returns on the blocked arcs, as fsm.ts skip-loop says', () => {
  const tree = patchedTree(REVERT_FIX, { tree: 'debian-6.12', file: CORE_C });
  const t = table(buildTree(tree).libPath, 'skip-loop');
  expect(differences(t)).toEqual([]);
  expect(t.filter((x) => x.real === 'HANG').map((x) => x.key)).toEqual([
    'flags 5 STOP_COPY->PRE_COPY', 'flags 7 STOP_COPY->PRE_COPY', 'flags 7 STOP_COPY->PRE_COPY_P2P',
  ]);
});

test('real code on the reverted core: STOP_COPY->PRE_COPY is a hang with the arcs walked, and the model on a skip-loop core agrees on every job', async () => {
  const tree = patchedTree(REVERT_FIX, { tree: 'debian-6.12', file: CORE_C });
  const e = registerKtree('spec-612-skip-loop', tree, buildTree(tree));
  const real = `ktree:${e.name}`;
  const [r] = await runJobsInChild([{
    kind: 'script', id: 'blocked', rev: real, device: DEFAULT_DEVICE, seed: 1, workload: 'kernel-crypto',
    steps: [{ op: 'set', state: 'STOP_COPY' }, { op: 'set', state: 'PRE_COPY' }, { op: 'set', state: 'RUNNING' }],
  }], { libs: { [real]: e.libPath }, jobTimeoutMs: 120_000 });
  expect(r.error).toBeNull();
  expect(r.evidence).toMatchObject({
    results: ['set STOP_COPY -> ok fd#0 (state STOP_COPY)', 'set PRE_COPY -> hang'],
    hang: [], // the core never answered: no arc of this SET was asked of the driver
    finalState: null,
  });
  // the model of this tree: Debian 6.12.118 on the core without the fix
  const dir = mkdtempSync(join(tmpdir(), 'ktree-whatif-'));
  const profile = join(dir, 'skip.yaml');
  writeFileSync(profile, 'id: whatif/debian-6.12.118-skip-loop\ntitle: Debian 6.12.118 on the unfixed core\nkernel: Debian linux 6.12.118\n' +
    'extends: hisi-acc/debian-6.12.118\ntraits:\n  vfioCore: skip-loop\n');
  const rep = await compare(profile, real, { scope: 'quick' });
  expect(rep.findings.map((f) => `${f.job} :: ${f.field}`)).toEqual([]);
  expect(rep.byKind.script[0]).toBe(rep.byKind.script[1]);
});

test('a driver loop past the model\'s start_device bound ends the SET as a hang in the real code too', async () => {
  // test-only change: start_device's queue count grows far past any VF's (as a scrambled stream would make it)
  const tree = patchedTree((s) => atFunctionStart(s, 'hisi_acc_vf_start_device', 'hisi_acc_vdev->vf_qm.qp_num += 0x20000;'),
    { tree: 'debian-6.12' });
  const e = registerKtree('spec-612-doorbells', tree, buildTree(tree));
  const real = `ktree:${e.name}`;
  const own = await runJobsInChild([{ kind: 'save', id: 's', rev: DEBIAN_612, device: DEFAULT_DEVICE, workload: 'kernel-crypto', seed: 7 }],
    { libs: { [DEBIAN_612]: debianLib(DEBIAN_612).libPath } });
  const stream = String(own[0].evidence!.stream);
  const [r] = await runJobsInChild([{ kind: 'check', id: 'c', rev: real, streamHex: stream, dest: DEFAULT_DEVICE, transfer: 'single' }],
    { libs: { [real]: e.libPath }, jobTimeoutMs: 120_000 });
  expect(r.error).toBeNull();
  expect(r.evidence).toMatchObject({ stage: 'hang', hang: { arcs: ['RESUMING->STOP', 'STOP->RUNNING'] } });
  expect(String((r.evidence!.hang as { where: string }).where)).toMatch(/start_device: SQ doorbell loop past 65536/);
  const actions = r.evidence!.actions as string[];
  expect(actions.filter((a) => / db cmd=[01] /.test(a)).length).toBeGreaterThan(1000); // the timeline keeps the first ones
  expect(actions.some((a) => /arc STOP->RUNNING HANG$/.test(a))).toBe(true);
});

test('a core source without the function: the build names it in its one message', () => {
  const tree = patchedTree((s) => s.replace(/\bvfio_mig_get_next_state\(struct vfio_device \*device,/, 'vfio_mig_get_next_state_renamed(struct vfio_device *device,'),
    { tree: 'debian-6.12', file: CORE_C });
  expect(() => buildTree(tree)).toThrow(/^the shim cannot build this tree: missing symbols: vfio_mig_get_next_state \(no definition in drivers\/vfio\/vfio_main.c\)$/);
});
