// Step bounds (every modelled loop ends; a loop past its bound is a `broken` "hang" with its arcs)
// and exact 64-bit event bases from the driver's composition to the restored state and DMA faults.
import { test, expect } from '@playwright/test';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';
import { START_DEVICE_BOUND } from '../../harness/drivers/hisiModel.ts';
import { judge } from '../../harness/oracle/judge.ts';
import { runCase } from '../../harness/runners/sim.ts';
import { checkStream } from '../../harness/runners/simCheck.ts';
import type { CaseSpec } from '../../harness/runners/types.ts';
import { hex64 } from '../../harness/util/hex.ts';
import { streamFrom } from './drivers-helpers.ts';

// found by fuzzing (v6.2, chunks 56,56,64): the offset-blind copy leaves 0x10000000 at qp_num
const FUZZ_STREAM = Buffer.from(
  'ccaaedfecdcdcdcd0400000056a20000000000000400000000000000000000000000000000000000' +
  '01000000010000000000000001000000000000000000000000000000000000000000000000000000' +
  '00000000000000000000000000000000000000000000000000000000000000000000000000000000' +
  '00000010000000000000000000000000000000000000000000000000000000000000000000000000' +
  '00000000000000000000000000000000', 'hex');

const spec = (over: Partial<CaseSpec>): CaseSpec => ({
  src: 'hisi-acc/v6.2', dst: 'hisi-acc/v6.2', workload: 'kernel-crypto', scenario: 'single-hop', transfer: 'single',
  device: DEFAULT_DEVICE, requests: 8, inflight: 2, requestSize: 256, seed: 3, ...over,
});

test.describe('step bounds', () => {
  test('the fuzzed v6.2 stream: start_device over a scrambled qp_num is a hang, with the arcs, and returns', () => {
    expect(FUZZ_STREAM.length).toBe(176);
    const r = checkStream({ rev: 'hisi-acc/v6.2', stream: FUZZ_STREAM, transfer: 'chunks:56,56,64', keepTimeline: true });
    expect(r.writes).toEqual([56, 56, 64]);
    expect([r.accepted, r.stage, r.errno]).toEqual([false, 'hang', null]);
    expect(r.hang).toEqual({ where: 'hisi-acc/v6.2 start_device: SQ doorbell loop over qp_num 268435456', arcs: ['RESUMING->STOP', 'STOP->RUNNING'] });
    expect(r.reason).toMatch(/^hang: .*start_device.*RESUMING->STOP, STOP->RUNNING/);
    // the loop ran step by step (never clamped to a plausible queue count); the timeline stores
    // device events up to its budget and then only counts them, saying so in a note
    const dbs = r.timeline!.filter((e) => e.kind === 'doorbell' && e.detail.by === 'host');
    expect(dbs.length).toBeGreaterThan(4096);
    expect(dbs.length).toBeLessThan(START_DEVICE_BOUND);
    expect(dbs.every((e, i) => i === 0 || e.seq > dbs[i - 1].seq)).toBe(true);
    expect(r.timeline!.some((e) => e.kind === 'note' && /further ones are counted/.test(String(e.detail.text)))).toBe(true);
    // qm_db ORs the u16 queue number under the command field: queue 4096 rings a CQ doorbell of queue 0
    expect(dbs[4095].detail).toMatchObject({ cmd: 0, qn: 4095, prio: 1 });
    expect(dbs[4096].detail).toMatchObject({ cmd: 1, qn: 0, prio: 1 });
    const set = r.timeline!.filter((e) => e.kind === 'set-state').pop()!;
    expect([set.errno, set.detail.target]).toEqual(['HANG', 'RUNNING']);
    // written at f_pos (v6.8) the same bytes carry qp_num 4 and the check ends normally
    const v68 = checkStream({ rev: 'hisi-acc/v6.8', stream: FUZZ_STREAM, transfer: 'chunks:56,56,64' });
    expect(v68.stage).not.toBe('hang');
    expect(v68.hang).toBeNull();
  });

  test('a whole case whose last chunk lands qp_num on eqe_dma is broken "hang" on v6.2, migrated on v6.8', () => {
    // chunks 136+40 on an offset-blind destination: bytes 136..175 land at 0, so qp_num = eqe_dma's
    // low word (R1's composition puts the EQ head/tail there: tail << 16 | head, far above any queue count)
    const hung = runCase(spec({ workload: 'user-polling', transfer: 'chunks:136,40' }));
    const qpNum = Buffer.from(hung.stream!).readUInt32LE(144);
    expect(qpNum).toBeGreaterThan(START_DEVICE_BOUND);
    expect(hung.hang?.where).toBe(`hisi-acc/v6.2 start_device: SQ doorbell loop over qp_num ${qpNum}`);
    expect(hung.hang?.arcs).toEqual(['RESUMING->STOP', 'STOP->RUNNING']);
    const v = judge(hung);
    expect(v.outcome).toBe('broken');
    expect(v.reason).toMatch(/^hang: .*RESUMING->STOP, STOP->RUNNING/);
    // f_pos copy (v6.8): the same case migrates (user mode survives R0-R2's event base)
    expect(judge(runCase(spec({ src: 'hisi-acc/v6.8', dst: 'hisi-acc/v6.8', workload: 'user-polling', transfer: 'chunks:136,40' }))).outcome).toBe('migrated');
  });

  test('a legal queue count rings one doorbell per queue and no more', () => {
    const stream = streamFrom('v6.16');
    const r = checkStream({ rev: 'hisi-acc/v6.16', stream, keepTimeline: true });
    expect(r.accepted).toBe(true);
    const sq = r.timeline!.filter((e) => e.kind === 'doorbell' && e.detail.by === 'host' && e.detail.cmd === 0);
    expect(sq.map((e) => e.detail.qn)).toEqual([0, 1, 2, 3]);
  });
});

test.describe('exact 64-bit event bases', () => {
  test('the R0 composition (above 2^53) reaches the restored state and the fault addresses exactly', () => {
    const stream = Buffer.from(streamFrom('v5.18', 'kernel-crypto'));
    const eqe = stream.readBigUInt64LE(144);
    const aeqe = stream.readBigUInt64LE(152);
    expect(eqe > 2n ** 53n).toBe(true); // base_l << 32 | head/tail
    expect(Number(eqe) === Number(eqe + 1n)).toBe(true); // a double cannot tell them apart
    const r = checkStream({ rev: 'hisi-acc/v5.18', stream });
    expect(r.accepted).toBe(true);
    expect(r.restored.eqeDma).toBe(eqe);
    expect(r.restored.aeqeDma).toBe(aeqe);

    // a whole case: the guest's events go to the buggy base; every EQE fault names its exact address
    const ev = runCase(spec({ src: 'hisi-acc/v5.18', dst: 'hisi-acc/v5.18' }));
    const sent = Buffer.from(ev.stream!).readBigUInt64LE(144);
    const faults = ev.timeline.filter((e) => e.side === 'dst' && e.kind === 'dma-fault' && e.detail.what === 'eqe');
    expect(faults.length).toBeGreaterThan(0);
    const tail0 = Number(BigInt.asUintN(32, sent) >> 16n) & 0xffff; // dw0 tail when saved
    faults.forEach((f, i) => expect(f.detail.iova).toBe(hex64(sent + BigInt(4 * (tail0 + i)))));
    expect(judge(ev).outcome).toBe('broken');
  });

  test('a base below 2^53 is delivered exactly as before', () => {
    const stream = Buffer.from(streamFrom('v6.16', 'kernel-crypto'));
    const r = checkStream({ rev: 'hisi-acc/v6.16', stream });
    expect(r.restored.eqeDma).toBe(stream.readBigUInt64LE(144));
    expect(r.restored.eqeDma < 2n ** 53n).toBe(true);
  });
});
