import { test, expect } from '@playwright/test';
import { createHash, createCipheriv } from 'node:crypto';
import { GuestMemory, QmVf, regs as R, SQE_OFF, SQE_OP, SQE_SIZE, SQE_LOG2, SQE_STATUS, DEFAULT_DEVICE } from '../../harness/device/index.ts';
import type { DeviceConfig } from '../../harness/device/index.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';

function make(config: Partial<DeviceConfig> = {}) {
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(3);
  const dev = new QmVf({ config: { ...DEFAULT_DEVICE, ...config }, memory, clock, timeline, side: 'src', rng: new Rng(1) });
  const irqs: number[] = [];
  dev.irqSink = (v) => irqs.push(v);
  return { clock, timeline, memory, dev, irqs };
}

function mb(dev: QmVf, cmd: number, query: boolean, queue: number, addr: number): number {
  dev.write128('vf', R.VF_MAILBOX, R.mailboxLo(cmd, query, queue, addr >>> 0), BigInt(Math.floor(addr / 2 ** 32)));
  return (dev.read32('vf', R.VF_MAILBOX) & R.MB_STATUS_MASK) >>> R.MB_STATUS_SHIFT;
}

/** Minimal guest setup of one queue (depth 8) with EQ/AEQ, as qm.c does it through the mailbox. */
function setupQueue(dev: QmVf, memory: GuestMemory) {
  const sqc = memory.allocN(4 * 32, 32);
  const cqc = memory.allocN(4 * 32, 32);
  const eq = memory.allocN(16 * 4, 64);
  const aeq = memory.allocN(16 * 4, 64);
  const sq = memory.allocN(8 * SQE_SIZE, 128);
  const cq = memory.allocN(8 * 16, 64);
  const ctx = memory.allocN(32, 32);
  const put = (dw: number[]) => dw.forEach((v, i) => memory.w32(ctx + 4 * i, v));
  const hi = (a: number) => Math.floor(a / 2 ** 32);
  expect(mb(dev, R.MB_CMD.SQC_BT, false, 0, sqc)).toBe(0);
  expect(mb(dev, R.MB_CMD.CQC_BT, false, 0, cqc)).toBe(0);
  put([0, eq >>> 0, hi(eq), 0, 0, 0, 15 | (1 << 16), 0]);
  expect(mb(dev, R.MB_CMD.EQC, false, 0, ctx)).toBe(0);
  put([0, aeq >>> 0, hi(aeq), 0, 0, 0, 15 | (1 << 16), 0]);
  expect(mb(dev, R.MB_CMD.AEQC, false, 0, ctx)).toBe(0);
  put([0, sq >>> 0, hi(sq), 7 | (SQE_LOG2 << 12), 0, 0, 0, 0]);
  expect(mb(dev, R.MB_CMD.SQC, false, 0, ctx)).toBe(0);
  put([0, cq >>> 0, hi(cq), 7 | (4 << 12), 0, 0, 3, 0]);
  expect(mb(dev, R.MB_CMD.CQC, false, 0, ctx)).toBe(0);
  dev.write32('vf', R.VF_EQ_INT_MASK, 0);
  dev.write32('vf', R.VF_AEQ_INT_MASK, 0);
  return { sqc, cqc, eq, aeq, sq, cq };
}

function putSha(memory: GuestMemory, sq: number, slot: number, data: Uint8Array) {
  const src = memory.allocN(data.length);
  memory.writeN(src, data);
  const dst = memory.allocN(64);
  const e = sq + slot * SQE_SIZE;
  memory.w32(e + SQE_OFF.tag, slot);
  memory.w8(e + SQE_OFF.op, SQE_OP.SHA256);
  memory.w32(e + SQE_OFF.len, data.length);
  memory.w64n(e + SQE_OFF.src, src);
  memory.w64n(e + SQE_OFF.dst, dst);
  memory.w32(e + SQE_OFF.dstCap, 64);
  return dst;
}

// docs/reference.md#registers-the-migration-driver-uses
test.describe('QmVf registers', () => {
  // docs/reference.md#opening-the-save-file
  test('PF VFT indirect read returns qp_base/qp_num for this VF only', () => {
    const { dev } = make({ qpBase: 12, qpNum: 6, vfId: 3 });
    const readVft = (vf: number) => {
      expect(dev.read32('pf', R.PF_VFT_RDY) & 1).toBe(1);
      dev.write32('pf', R.PF_VFT_OP_WR, 1);
      dev.write32('pf', R.PF_VFT_TYPE, 0);
      dev.write32('pf', R.PF_VFT_CFG, vf);
      dev.write32('pf', R.PF_VFT_RDY, 0);
      dev.write32('pf', R.PF_VFT_OP_ENABLE, 1);
      expect(dev.read32('pf', R.PF_VFT_RDY) & 1).toBe(1);
      return (BigInt(dev.read32('pf', R.PF_VFT_DATA_H)) << 32n) | BigInt(dev.read32('pf', R.PF_VFT_DATA_L));
    };
    const v = readVft(3);
    expect(Number((v >> 28n) & 0xffffn)).toBe(12);
    expect(Number((v >> 45n) & 0x3ffn) + 1).toBe(6);
    expect(readVft(4)).toBe(0n);
    dev.faults.vftNeverReady = true;
    expect(dev.read32('pf', R.PF_VFT_RDY) & 1).toBe(0);
  });

  // docs/reference.md#mailbox
  test('mailbox SQC_VFT_V2 query on the VF, SQC_BT set/query, status bits and busy', () => {
    const { dev, timeline } = make({ qpBase: 8, qpNum: 2 });
    expect(mb(dev, R.MB_CMD.SQC_VFT_V2, true, 0, 0)).toBe(0);
    const v = (BigInt(dev.read32('vf', R.VF_MB_DATA_H)) << 32n) | BigInt(dev.read32('vf', R.VF_MB_DATA_L));
    expect(Number((v >> 28n) & 0xffffn)).toBe(8);
    expect(Number((v >> 45n) & 0x3ffn) + 1).toBe(2);
    expect(mb(dev, R.MB_CMD.SQC_BT, false, 0, 0xa0_1234_5000)).toBe(0);
    expect(mb(dev, R.MB_CMD.SQC_BT, true, 0, 0)).toBe(0);
    expect(dev.read32('vf', R.VF_MB_DATA_L)).toBe(0x12345000);
    expect(dev.read32('vf', R.VF_MB_DATA_H)).toBe(0xa0);
    expect(mb(dev, 0x7f, false, 0, 0)).not.toBe(0); // unknown command fails
    dev.faults.mailboxStuckBusy = true;
    dev.write128('vf', R.VF_MAILBOX, R.mailboxLo(R.MB_CMD.PAUSE_QM, false, 0, 0), 0n);
    expect(dev.read32('vf', R.VF_MAILBOX) & R.MB_BUSY).toBe(R.MB_BUSY);
    const kinds = timeline.events.map((e) => e.kind);
    expect(kinds.filter((k) => k === "mailbox").length).toBe(5);
  });

  // docs/reference.md#no-guest-driver-what-the-source-saves
  test('QM_VF_STATE reads 0 after reset with no driver; the guest can set NOT_READY; reset restores 0', () => {
    const { dev } = make();
    expect(dev.read32('vf', R.VF_QM_STATE)).toBe(0);
    dev.guestWrite32(R.VF_QM_STATE, 1);
    expect(dev.read32('vf', R.VF_QM_STATE)).toBe(1);
    dev.functionReset();
    expect(dev.read32('vf', R.VF_QM_STATE)).toBe(0);
    expect(dev.read32('vf', R.VF_EQ_INT_MASK)).toBe(1);
  });

  // docs/reference.md#pf-control-mode
  test('VF-control: EQC shadow at 0x8000, hidden from the guest; PF-control: shadow at 0x1C00, 0x8000 all-ones', () => {
    const vfc = make({ hwMode: 'vf-ctrl' });
    const s1 = setupQueue(vfc.dev, vfc.memory);
    expect(vfc.dev.read32('vf', R.VF_EQC_DW0 + 4)).toBe(s1.eq >>> 0);
    expect(vfc.dev.read32('vf', R.VF_EQC_DW0 + 24)).toBe(15 | (1 << 16));
    expect(vfc.dev.guestRead32(R.VF_EQC_DW0 + 4)).toBe(0xffffffff);
    expect(vfc.dev.read32('pf', R.PF_MIG_REGION_SEL) & 1).toBe(0);

    const pfc = make({ hwMode: 'pf-ctrl' });
    const s2 = setupQueue(pfc.dev, pfc.memory);
    expect(pfc.dev.read32('pf', R.PF_MIG_REGION_SEL) & 1).toBe(1);
    expect(pfc.dev.read32('vf', R.PFWIN_AEQC_DW0 + 4)).toBe(s2.aeq >>> 0);
    expect(pfc.dev.read32('vf', R.VF_EQC_DW0 + 4)).toBe(0xffffffff);
    pfc.dev.write32('vf', R.VF_EQC_DW0 + 4, 0); // ignored
    expect(pfc.dev.read32('vf', R.PFWIN_EQC_DW0 + 4)).toBe(s2.eq >>> 0);
  });

  test('every host register write, mailbox command and doorbell is in the timeline; reads only when asked', () => {
    const { dev, timeline } = make();
    dev.write32('vf', R.VF_PAGE_SIZE, 2);
    dev.read32('vf', R.VF_PAGE_SIZE);
    dev.write64('vf', R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.EQ, 0, 0, 0));
    timeline.recordRegReads = true;
    dev.read32('vf', R.VF_PAGE_SIZE);
    expect(timeline.events.map((e) => e.kind)).toEqual(['reg-write', 'doorbell', 'reg-read']);
    expect(timeline.events[0].detail).toMatchObject({ space: 'vf', off: R.VF_PAGE_SIZE, val: 2 });
  });
});

// docs/reference.md#queue-and-event-queue-contexts, docs/reference.md#event-queue-entries, docs/reference.md#doorbells
test.describe('QmVf engine, rings and events', () => {
  test('SQEs complete after a simulated latency: result, SQE status, CQE with sq_head and phase, EQE, EQ irq', () => {
    const { dev, memory, clock, irqs } = make();
    const s = setupQueue(dev, memory);
    const data = new Uint8Array(4096).map((_, i) => i * 7);
    const dst = putSha(memory, s.sq, 0, data);
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 1, 0));
    expect(dev.busy).toBe(true);
    expect(memory.r8(s.sq + SQE_OFF.status)).toBe(SQE_STATUS.PENDING); // in flight
    const due = dev.nextDue()!;
    expect(due).toBeGreaterThan(clock.now());
    dev.advance(due - clock.now());
    expect(memory.r8(s.sq + SQE_OFF.status)).toBe(SQE_STATUS.DONE);
    expect(Buffer.from(memory.readN(dst, 32)).equals(createHash('sha256').update(data).digest())).toBe(true);
    expect(memory.r32(s.cq + 8) & 0xffff).toBe(0); // sq_head = completed SQE
    expect((memory.r32(s.cq + 12) >>> 16) & 1).toBe(1); // phase 1 on the first pass
    expect(memory.r32(s.eq)).toBe(0 | (1 << 16)); // EQE: cq 0, phase 1
    expect(irqs).toEqual([0]);
    expect(dev.read32('vf', R.VF_EQ_INT_SOURCE)).toBe(1);
    dev.write64('vf', R.VF_DB_EQAEQ, R.doorbell(R.DB_CMD.EQ, 0, 1, 0)); // consume
    expect(dev.read32('vf', R.VF_EQ_INT_SOURCE)).toBe(0);
    expect(dev.read32('vf', R.VF_EQC_DW0) >>> 16).toBe(1); // tail in the shadow
  });

  test('CQ phase toggles on wrap; EQ masked means no interrupt', () => {
    const { dev, memory, irqs } = make();
    const s = setupQueue(dev, memory);
    dev.write32('vf', R.VF_EQ_INT_MASK, 1);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 7; i++) putSha(memory, s.sq, (round * 7 + i) % 8, Uint8Array.of(i));
      dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, (round * 7 + 7) % 8, 0));
      expect(dev.runUntilIdle(10_000)).toBe(true);
      dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.CQ, 0, (round * 7 + 7) % 8, 0));
    }
    // 14 completions in a depth-8 CQ: entries 0..5 were rewritten on the second pass with phase 0
    expect((memory.r32(s.cq + 0 * 16 + 12) >>> 16) & 1).toBe(0);
    expect((memory.r32(s.cq + 6 * 16 + 12) >>> 16) & 1).toBe(1);
    expect(irqs).toEqual([]);
    expect(dev.stats.requestsCompleted).toBe(14);
  });

  test('AES-CBC through the engine equals node:crypto; an op the device type lacks fails with BAD_OP', () => {
    const { dev, memory } = make({ type: 'SEC' });
    const s = setupQueue(dev, memory);
    const key = new Uint8Array(16).fill(9);
    const iv = new Uint8Array(16).fill(3);
    const data = new Uint8Array(64).fill(5);
    const put = (slot: number, op: number) => {
      const a = (b: Uint8Array) => {
        const p = memory.allocN(b.length || 1);
        memory.writeN(p, b);
        return p;
      };
      const e = s.sq + slot * SQE_SIZE;
      const dst = memory.allocN(128);
      memory.w8(e + SQE_OFF.op, op);
      memory.w32(e + SQE_OFF.len, data.length);
      memory.w64n(e + SQE_OFF.src, a(data));
      memory.w64n(e + SQE_OFF.dst, dst);
      memory.w64n(e + SQE_OFF.key, a(key));
      memory.w32(e + SQE_OFF.keyLen, 16);
      memory.w64n(e + SQE_OFF.iv, a(iv));
      memory.w32(e + SQE_OFF.ivLen, 16);
      memory.w32(e + SQE_OFF.dstCap, 128);
      return dst;
    };
    const d0 = put(0, SQE_OP.AES_CBC_ENC);
    put(1, SQE_OP.DEFLATE);
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 2, 0));
    dev.runUntilIdle(1000);
    const c = createCipheriv('aes-128-cbc', key, iv);
    c.setAutoPadding(false);
    expect(Buffer.from(memory.readN(d0, 64)).equals(Buffer.concat([c.update(data), c.final()]))).toBe(true);
    expect(memory.r8(s.sq + SQE_SIZE + SQE_OFF.status)).toBe(SQE_STATUS.BAD_OP);
  });

  test('PAUSE_QM drains the request in the engine and fetches nothing more; cache write-back stores positions; a priority-1 SQ doorbell resumes', () => {
    const { dev, memory } = make();
    const s = setupQueue(dev, memory);
    for (let i = 0; i < 5; i++) putSha(memory, s.sq, i, Uint8Array.of(i));
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 5, 0));
    expect(mb(dev, R.MB_CMD.PAUSE_QM, false, 0, 0)).toBe(0);
    expect(dev.stats.requestsCompleted).toBe(1);
    dev.advance(1000);
    expect(dev.stats.requestsCompleted).toBe(1);
    dev.write32('vf', R.VF_CACHE_WB_START, 1);
    expect(dev.read32('vf', R.VF_CACHE_WB_DONE) & 1).toBe(1);
    expect(memory.r32(s.sqc)).toBe(1 | (5 << 16)); // head 1, tail 5
    expect(memory.r32(s.cqc) >>> 16).toBe(1); // CQ tail 1
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 0, 1));
    expect(dev.runUntilIdle(1000)).toBe(true);
    expect(dev.stats.requestsCompleted).toBe(5);
  });

  test('a PAUSE_QM on a function with no driver ends when a driver programs the queue tables (assumption)', () => {
    const { dev, memory } = make();
    expect(mb(dev, R.MB_CMD.PAUSE_QM, false, 0, 0)).toBe(0);
    expect(dev.isPaused).toBe(true);
    const s = setupQueue(dev, memory);
    expect(dev.isPaused).toBe(false);
    putSha(memory, s.sq, 0, Uint8Array.of(1));
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 1, 0));
    expect(dev.runUntilIdle(100)).toBe(true);
    expect(dev.stats.requestsCompleted).toBe(1);
  });

  test('a queue context fetch from a NULL table puts the function in error until a function reset (assumption)', () => {
    const { dev, memory, timeline } = make();
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 1, 0, 1)); // start_device with NULL SQC_BT
    expect(dev.inError).toBe(true);
    expect(dev.read32('pf', R.PF_ABNORMAL_INT_STATUS)).not.toBe(0);
    expect(dev.read32('pf', R.PF_ENGINE_INT_STATUS.SEC)).not.toBe(0);
    expect(dev.dmaFaults[0]).toMatchObject({ what: 'sqc', iova: '0x0000000000000020' });
    expect(timeline.events.some((e) => e.kind === 'dma-fault')).toBe(true);
    // a guest driver loading now sees its configuration refused
    expect(mb(dev, R.MB_CMD.SQC_BT, false, 0, memory.allocN(128))).not.toBe(0);
    dev.functionReset();
    expect(dev.inError).toBe(false);
    expect(dev.read32('pf', R.PF_ABNORMAL_INT_STATUS)).toBe(0);
    setupQueue(dev, memory);
  });

  test('a wrong event base (firmware hook) faults each EQE write but the engine keeps completing (assumption)', () => {
    const { dev, memory, irqs } = make();
    const s = setupQueue(dev, memory);
    const eqc = [0, 1, 2].map((i) => dev.read32('vf', R.VF_EQC_DW0 + 4 * i));
    dev.firmware.setEventDmaBases((BigInt(eqc[1]) << 32n) | BigInt(eqc[0]), BigInt(s.aeq)); // R0-R2 composition
    for (let i = 0; i < 3; i++) putSha(memory, s.sq, i, Uint8Array.of(i));
    dev.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, 0, 3, 0));
    expect(dev.runUntilIdle(1000)).toBe(true);
    expect(dev.stats.requestsCompleted).toBe(3);
    expect(dev.stats.cqesWritten).toBe(3);
    expect(dev.stats.eqesWritten).toBe(0);
    expect(dev.dmaFaults.filter((f) => f.what === 'eqe')).toHaveLength(3);
    expect(dev.inError).toBe(false);
    expect(memory.r32(s.eq)).toBe(0); // the guest's EQ never got an entry
    expect(irqs.length).toBe(3);
  });

  test('injectRas writes an AEQE with its type and raises the AEQ line; hw-error sets RAS status', () => {
    const { dev, memory, irqs } = make();
    const s = setupQueue(dev, memory);
    dev.injectRas('eq-overflow');
    expect(memory.r32(s.aeq)).toBe((R.AEQ_EVENT.EQ_OVERFLOW << 17) | (1 << 16));
    expect(irqs).toEqual([1]);
    dev.injectRas('hw-error');
    expect(dev.read32('pf', R.PF_ABNORMAL_INT_STATUS)).not.toBe(0);
  });
});
