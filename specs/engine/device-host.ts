// Test support for the device and guest specs: the minimum a host migration driver does to a QM VF
// (docs/reference.md#save-path, docs/reference.md#load_data-steps, docs/reference.md#starting-the-device),
// written against the register/mailbox contract only. It is not a revision model (those live in
// harness/drivers); `compose` picks the XQC address rule.
import { QmVf, GuestMemory, regs as R } from '../../harness/device/index.ts';
import type { DeviceConfig } from '../../harness/device/index.ts';
import { Vm, createWorkload, type Workload } from '../../harness/guest/index.ts';
import type { WorkloadName } from '../../harness/runners/types.ts';
import { SimClock } from '../../harness/util/clock.ts';
import { Rng } from '../../harness/util/rng.ts';
import { Timeline } from '../../harness/util/timeline.ts';
import { DEFAULT_DEVICE } from '../../harness/device/mmio.ts';

export interface Saved {
  ready: boolean;
  regs: number[]; // 0x4, 0xC, 0x20, 0x24, 0x2C, 0x34
  eqc: number[];
  aeqc: number[];
  eqeDma: bigint;
  aeqeDma: bigint;
  sqcDma: bigint;
  cqcDma: bigint;
}

export type Compose = 'buggy' | 'fixed';

function mbox(d: QmVf, cmd: number, query: boolean, queue: number, addr: bigint): number {
  d.write128('vf', R.VF_MAILBOX, R.mailboxLo(cmd, query, queue, Number(addr & 0xffffffffn)), addr >> 32n);
  return (d.read32('vf', R.VF_MAILBOX) & R.MB_STATUS_MASK) >>> R.MB_STATUS_SHIFT;
}

export function hostStop(d: QmVf): void {
  mbox(d, R.MB_CMD.PAUSE_QM, false, 0, 0n);
  d.write32('vf', R.VF_CACHE_WB_START, 1);
}

export function hostSave(d: QmVf, compose: Compose): Saved {
  let ready = false;
  for (let i = 0; i < 100; i++) {
    if ((d.read32('vf', R.VF_QM_STATE) & 1) === 0) {
      ready = true;
      break;
    }
    d.delayUs(10);
  }
  const pf = d.config.hwMode === 'pf-ctrl';
  const eqBase = pf ? R.PFWIN_EQC_DW0 : R.VF_EQC_DW0;
  const aeqBase = pf ? R.PFWIN_AEQC_DW0 : R.VF_AEQC_DW0;
  const regs = [0x4, 0xc, 0x20, 0x24, 0x2c, 0x34].map((o) => d.read32('vf', o));
  const eqc = Array.from({ length: 7 }, (_, i) => d.read32('vf', eqBase + 4 * i));
  const aeqc = Array.from({ length: 7 }, (_, i) => d.read32('vf', aeqBase + 4 * i));
  const c = (dw: number[]) => (compose === 'buggy' ? (BigInt(dw[1]) << 32n) | BigInt(dw[0]) : (BigInt(dw[2]) << 32n) | BigInt(dw[1]));
  mbox(d, R.MB_CMD.SQC_BT, true, 0, 0n);
  const sqcDma = (BigInt(d.read32('vf', R.VF_MB_DATA_H)) << 32n) | BigInt(d.read32('vf', R.VF_MB_DATA_L));
  mbox(d, R.MB_CMD.CQC_BT, true, 0, 0n);
  const cqcDma = (BigInt(d.read32('vf', R.VF_MB_DATA_H)) << 32n) | BigInt(d.read32('vf', R.VF_MB_DATA_L));
  return { ready, regs, eqc, aeqc, eqeDma: c(eqc), aeqeDma: c(aeqc), sqcDma, cqcDma };
}

/** Load on the destination and start it; `nullGuard` is the R3+ guard of docs/reference.md#null-dma-guard. */
export function hostLoadAndStart(d: QmVf, s: Saved, opts: { nullGuard: boolean }): void {
  if (!s.ready) return;
  if (opts.nullGuard && (s.eqeDma === 0n || s.aeqeDma === 0n || s.sqcDma === 0n || s.cqcDma === 0n)) return;
  d.write32('vf', R.VF_QM_STATE, 0);
  const pf = d.config.hwMode === 'pf-ctrl';
  [0x4, 0xc, 0x20, 0x24, 0x2c].forEach((o, i) => d.write32('vf', o, s.regs[i]));
  d.write32('vf', R.VF_QUE_ISO_CFG, d.config.queIsoCfg);
  d.write32('vf', R.VF_PAGE_SIZE, s.regs[5]);
  s.eqc.forEach((v, i) => d.write32('vf', (pf ? R.PFWIN_EQC_DW0 : R.VF_EQC_DW0) + 4 * i, v));
  s.aeqc.forEach((v, i) => d.write32('vf', (pf ? R.PFWIN_AEQC_DW0 : R.VF_AEQC_DW0) + 4 * i, v));
  mbox(d, R.MB_CMD.SQC_BT, false, 0, s.sqcDma);
  mbox(d, R.MB_CMD.CQC_BT, false, 0, s.cqcDma);
  d.write32('vf', R.VF_IFC_INT_SOURCE, 1);
  d.write32('vf', R.VF_IFC_INT_MASK, 0);
  d.firmware.setEventDmaBases(s.eqeDma, s.aeqeDma);
  for (let q = 0; q < d.config.qpNum; q++) d.write64('vf', R.VF_DB_SQCQ, R.doorbell(R.DB_CMD.SQ, q, 0, 1));
}

export interface Bench {
  clock: SimClock;
  timeline: Timeline;
  memory: GuestMemory;
  src: QmVf;
  dst: QmVf;
  vm: Vm;
  workload: Workload;
}

export function setup(name: WorkloadName, o: Partial<{ seed: number; requests: number; inflight: number; requestSize: number; resumeRequests: number; device: DeviceConfig; dstDevice: DeviceConfig }> = {}): Bench {
  const seed = o.seed ?? 7;
  const device = o.device ?? DEFAULT_DEVICE;
  const clock = new SimClock();
  const timeline = new Timeline(clock);
  const memory = new GuestMemory(seed);
  const rng = new Rng(seed);
  const src = new QmVf({ config: device, memory, clock, timeline, side: 'src', rng });
  const dst = new QmVf({ config: o.dstDevice ?? device, memory, clock, timeline, side: 'dst', rng });
  const vm = new Vm({ memory, device: src, clock, timeline, rng });
  const workload = createWorkload(name, {
    requests: o.requests ?? 16, inflight: o.inflight ?? 3, requestSize: o.requestSize ?? 4096, seed, deviceType: device.type,
    resumeRequests: o.resumeRequests,
  });
  return { clock, timeline, memory, src, dst, vm, workload };
}

/** Whole case with the minimal host: boot, stop point, save (compose rule), load on dst, resume there. */
export function migrate(b: Bench, compose: Compose, nullGuard: boolean) {
  b.workload.boot(b.vm);
  b.workload.runToStopPoint(b.vm);
  hostStop(b.src);
  const saved = hostSave(b.src, compose);
  hostLoadAndStart(b.dst, saved, { nullGuard });
  b.vm.device = b.dst;
  b.workload.resume(b.vm);
  return { saved, checks: b.workload.checks(b.vm) };
}
