// The oracle as a pure function (README.md#verdicts).
import { test, expect } from '@playwright/test';
import { judge } from '../../harness/oracle/judge.ts';
import type { Evidence } from '../../harness/oracle/types.ts';

const pass = [{ name: 'all-completed', ok: true, detail: '' }];
const base: Evidence = {
  caseId: 'c', seed: 1, stream: null, timeline: [], checks: pass, hang: null, harnessError: null,
  destination: { accepted: true, errno: null, stage: null, reason: '' }, srcFinalState: 'STOP', dstFinalState: 'RUNNING', guestOn: 'dst',
};
const refused = { ...base, destination: { accepted: false, errno: 'EFAULT', stage: 'write', reason: '' }, srcFinalState: 'RUNNING', dstFinalState: 'RESUMING', guestOn: 'src' as const };

test('migrated needs acceptance, RUNNING destination, guest there and every check passing', () => {
  expect(judge(base).outcome).toBe('migrated');
  expect(judge({ ...base, checks: [{ name: 'no-stall', ok: false, detail: 'stalled' }] })).toMatchObject({ outcome: 'broken', reason: /no-stall: stalled/ });
  expect(judge({ ...base, dstFinalState: 'STOP' }).outcome).toBe('broken');
  expect(judge({ ...base, guestOn: 'src' }).outcome).toBe('broken');
  expect(judge({ ...base, checks: [] }).outcome).toBe('error');
});

test('refused is clean only when the source runs again with nothing lost', () => {
  expect(judge(refused)).toMatchObject({ outcome: 'refused', errno: 'EFAULT', stage: 'write' });
  expect(judge({ ...refused, srcFinalState: 'STOP' })).toMatchObject({ outcome: 'broken', reason: /left in STOP/ });
  expect(judge({ ...refused, checks: [{ name: 'exactly-once', ok: false, detail: 'dup' }] }).outcome).toBe('broken');
  expect(judge({ ...refused, guestOn: 'none' }).outcome).toBe('broken');
});

test('a hang is broken with its arcs; a harness failure is error', () => {
  expect(judge({ ...base, hang: { where: 'x set_device_state', arcs: ['RUNNING->STOP'] } })).toMatchObject({ outcome: 'broken', reason: /hang.*RUNNING->STOP/ });
  expect(judge({ ...base, harnessError: 'boom', hang: { where: 'w', arcs: [] } }).outcome).toBe('error');
});

test('the runner turns an implementation that never reaches its state into a broken "hang" case', async () => {
  const { registerRevision, unregisterRevision } = await import('../../harness/drivers/registry.ts');
  const { walkArcs } = await import('../../harness/vfio/fsm.ts');
  const { runAndJudge } = await import('../../harness/runners/sim.ts');
  const { DEFAULT_DEVICE } = await import('../../harness/device/mmio.ts');
  registerRevision({
    id: 'ext:stuck', title: 'state never moves', kernel: 'none', kind: 'external', source: 'test',
    bind: () => ({
      migrationFlags: 1, open() {}, close() {}, getState: () => 'RUNNING' as const, dataSize: () => ({ ok: false, errno: 'ENOTTY' }),
      reset: () => ({ ok: true, value: undefined }),
      setState: (t) => walkArcs({ get: () => 'RUNNING', set: () => {}, flags: 1, where: 'ext:stuck set_state', arc: () => ({ ok: true, value: null }) }, t),
    }),
  });
  try {
    const { evidence, verdict } = runAndJudge({ src: 'ext:stuck', dst: 'v6.16', workload: 'user-polling', scenario: 'single-hop', transfer: 'single',
      device: DEFAULT_DEVICE, requests: 4, inflight: 1, requestSize: 64, seed: 2 });
    expect(evidence.hang).toEqual({ where: 'ext:stuck set_state', arcs: Array(8).fill('RUNNING->STOP') });
    expect(verdict).toMatchObject({ outcome: 'broken', reason: /^hang/ });
  } finally {
    unregisterRevision('ext:stuck');
  }
});
