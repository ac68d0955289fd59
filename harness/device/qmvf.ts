// The simulated HiSilicon QM VF: register file (docs/reference.md#registers-the-migration-driver-uses),
// mailbox (docs/reference.md#mailbox), doorbells (docs/reference.md#doorbells), SQ/CQ rings and queue
// contexts in guest memory (docs/reference.md#queue-and-event-queue-contexts), EQ/AEQ rings with phase
// (docs/reference.md#event-queue-entries), interrupt lines and a one-request-at-a-time engine. Everything
// runs in simulated time (SimClock) and is deterministic. Model assumptions are listed in
// docs/device-model.md; each is marked "assumption" where it is implemented.
import type { SimClock } from '../util/clock.ts';
import type { Rng } from '../util/rng.ts';
import type { Timeline } from '../util/timeline.ts';
import { hex64 } from '../util/hex.ts';
import { DEVICE_IDS, type DeviceConfig, type MmioSpace, type MmioTarget } from './mmio.ts';
import { compose, type GuestMemory } from './memory.ts';
import {
  AEQ_EVENT, CQC_SIZE, CQE_SIZE, DB_CMD, EQC_DWORDS, EQE_SIZE, GUEST_BAR_BYTES_VF_CTRL, MB_BUSY, MB_CMD,
  MB_OP_QUERY, MB_STATUS_MASK, MB_STATUS_SHIFT, PFWIN_AEQC_DW0, PFWIN_EQC_DW0, PF_ABNORMAL_INT_STATUS,
  PF_ENGINE_INT_STATUS, PF_MIG_REGION_SEL, PF_QUE_ISO_CFG, PF_VFT_CFG, PF_VFT_DATA_H, PF_VFT_DATA_L,
  PF_VFT_OP_ENABLE, PF_VFT_OP_WR, PF_VFT_RDY, PF_VFT_TYPE, SQC_SIZE, VF_AEQC_DW0, VF_AEQ_INT_MASK,
  VF_AEQ_INT_SOURCE, VF_CACHE_WB_DONE, VF_CACHE_WB_START, VF_DB_EQAEQ, VF_DB_SQCQ, VF_EQC_DW0, VF_EQ_INT_MASK,
  VF_EQ_INT_SOURCE, VF_IFC_INT_MASK, VF_IFC_INT_SOURCE, VF_IFC_INT_STATUS, VF_MAILBOX, VF_MB_DATA_H,
  VF_MB_DATA_L, VF_QM_STATE, VF_WINDOW_BYTES, vftValue,
} from './regs.ts';
import { OPS_BY_TYPE, SQE_OFF, SQE_STATUS } from './sqe.ts';
import { executeOp, latencyUs } from './engine.ts';
import { HangError } from '../util/hang.ts';

/** hex64 of hi:lo without a BigInt (the mailbox log is on every check's path) */
const hexHiLo = (hi: number, lo: number): string =>
  '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');

export type RasKind = 'eq-overflow' | 'cq-overflow' | 'cqe-error' | 'hw-error';

/** Interrupt vectors of a V3 VF (docs/reference.md#completion-paths, uncertain there): 0 EQ, 1 AEQ. */
export const IRQ_EQ = 0;
export const IRQ_AEQ = 1;

export type IrqSink = (vector: number, dev: QmVf) => void;

export interface QmVfOptions {
  config: DeviceConfig;
  memory: GuestMemory;
  clock: SimClock;
  timeline: Timeline;
  side: 'src' | 'dst';
  rng: Rng;
  /** engine timing: base + per KiB of input, microseconds */
  latency?: { baseUs: number; perKiBUs: number };
}

/** Hardware misbehaviour a test can switch on to reach a driver's error paths. */
export interface DeviceFaults {
  /** mailbox busy bit never clears (-EBUSY / -ETIMEDOUT paths) */
  mailboxStuckBusy: boolean;
  /** every mailbox command completes with a non-zero status (-EIO) */
  mailboxFails: boolean;
  /** PF VFT indirect access never becomes ready */
  vftNeverReady: boolean;
  /** cache write-back DONE never sets */
  cacheWbNeverDone: boolean;
  /** VF 0x28 (IFC_INT_STATUS) stays non-zero: the stop drain check fails */
  ifcStatusStuck: boolean;
}

export interface DeviceStats {
  sqesFetched: number;
  requestsCompleted: number;
  cqesWritten: number;
  eqesWritten: number;
  aeqesWritten: number;
  irqs: number;
  mailboxCommands: number;
  doorbells: number;
  dmaFaults: number;
  resets: number;
}

export interface DmaFault {
  t: number;
  /** what the device was doing: 'sqc', 'cqc', 'sqe', 'cqe', 'eqe', 'aeqe', 'data', 'mailbox' */
  what: string;
  iova: string;
  len: number;
}

const MAX_STEPS = 1_000_000; // bound of any internal loop of the device
const LOW_REGS_BYTES = 0x400;

export class QmVf implements MmioTarget {
  readonly config: DeviceConfig;
  readonly memory: GuestMemory;
  readonly clock: SimClock;
  readonly timeline: Timeline;
  readonly side: 'src' | 'dst';
  readonly rng: Rng;
  readonly devId: number;
  readonly faults: DeviceFaults = {
    mailboxStuckBusy: false, mailboxFails: false, vftNeverReady: false, cacheWbNeverDone: false, ifcStatusStuck: false,
  };
  readonly stats: DeviceStats = {
    sqesFetched: 0, requestsCompleted: 0, cqesWritten: 0, eqesWritten: 0, aeqesWritten: 0, irqs: 0,
    mailboxCommands: 0, doorbells: 0, dmaFaults: 0, resets: 0,
  };
  readonly dmaFaults: DmaFault[] = [];
  /** where interrupts go (the VM the device is assigned to); null = nobody listens */
  irqSink: IrqSink | null = null;
  /** firmware hooks: hardware behaviour the driver source does not show (docs/device-model.md#model-assumptions) */
  readonly firmware: { setEventDmaBases(eqeDma: bigint, aeqeDma: bigint): void };

  private readonly baseUs: number;
  private readonly perKiBUs: number;
  private readonly ops: readonly number[];
  private readonly vft: bigint;

  // VF register file: the low page (every register a driver uses) in a typed array, the rest sparse
  private readonly regs = new Uint32Array(LOW_REGS_BYTES >>> 2);
  private readonly highRegs = new Map<number, number>();
  // PF registers this VF's story needs
  private pfAbnormal = 0;
  private pfEngineStatus = 0;
  private pfMigRegionSel = 0;
  private vftOpWr = 0;
  private vftType = 0;
  private vftCfg = 0;
  private vftDataL = 0;
  private vftDataH = 0;
  private vftRdy = 1;
  // mailbox registers (0x300..0x30F) as the last command left them
  private mbW0 = 0;
  private mbQueue = 0;
  private mbL = 0;
  private mbH = 0;

  // EQ/AEQ contexts (docs/reference.md#queue-and-event-queue-contexts): dw0 head|tail<<16, dw1 base_l, dw2
  // base_h, dw6 depth-1 | phase<<16
  private readonly eqc = new Uint32Array(EQC_DWORDS);
  private readonly aeqc = new Uint32Array(EQC_DWORDS);
  /** bases the device writes EQEs/AEQEs to, exact as 32-bit halves: [eq hi, eq lo, aeq hi, aeq lo] */
  private readonly xqBase = new Uint32Array(4);

  private sqcBt = 0;
  private cqcBt = 0;
  /** the SQC/CQC base tables exactly, as the driver set them: [sqc hi, sqc lo, cqc hi, cqc lo] */
  private readonly btHL = new Uint32Array(4);

  // cached queue contexts, one slot per VF queue
  private readonly qCached: Uint8Array;
  private readonly qStopped: Uint8Array;
  private readonly sqBase: Float64Array;
  private readonly sqDepth: Uint32Array;
  private readonly sqeLog2: Uint8Array;
  private readonly sqHead: Uint32Array;
  private readonly sqTail: Uint32Array;
  private readonly sqCqn: Uint16Array;
  private readonly cqBase: Float64Array;
  private readonly cqDepth: Uint32Array;
  private readonly cqHead: Uint32Array;
  private readonly cqTail: Uint32Array;
  private readonly cqPhase: Uint8Array;
  private readonly cqFlags: Uint32Array; // CQC dw6 as loaded (phase bit rewritten on write-back)

  // the engine: at most one request in progress
  private curQ = -1;
  private curIdx = 0;
  private curDue = 0;
  private rr = 0; // round-robin cursor over queues
  private paused = false;
  /** function-level error state (fault while fetching a queue context); cleared by functionReset */
  private errored = false;

  constructor(opts: QmVfOptions) {
    this.config = opts.config;
    this.memory = opts.memory;
    this.clock = opts.clock;
    this.timeline = opts.timeline;
    this.side = opts.side;
    this.rng = opts.rng;
    this.devId = DEVICE_IDS[opts.config.type];
    this.baseUs = opts.latency?.baseUs ?? 2;
    this.perKiBUs = opts.latency?.perKiBUs ?? 1;
    this.ops = OPS_BY_TYPE[opts.config.type];
    const n = opts.config.qpNum;
    if (!(n >= 1 && n <= 1024)) throw new RangeError(`qpNum out of range: ${n}`);
    this.vft = vftValue(opts.config.qpBase, n);
    this.qCached = new Uint8Array(n);
    this.qStopped = new Uint8Array(n);
    this.sqBase = new Float64Array(n);
    this.sqDepth = new Uint32Array(n);
    this.sqeLog2 = new Uint8Array(n);
    this.sqHead = new Uint32Array(n);
    this.sqTail = new Uint32Array(n);
    this.sqCqn = new Uint16Array(n);
    this.cqBase = new Float64Array(n);
    this.cqDepth = new Uint32Array(n);
    this.cqHead = new Uint32Array(n);
    this.cqTail = new Uint32Array(n);
    this.cqPhase = new Uint8Array(n);
    this.cqFlags = new Uint32Array(n);
    // PF driver enables PF-control mode on HW V4 at load (docs/reference.md#pf-control-mode)
    this.pfMigRegionSel = opts.config.hwMode === 'pf-ctrl' ? 1 : 0;
    this.firmware = {
      // Assumption 1 (docs/device-model.md#model-assumptions): after a restore, event delivery uses the
      // driver's composed eqe_dma/aeqe_dma.
      setEventDmaBases: (eqeDma: bigint, aeqeDma: bigint) => {
        this.setXqBase(false, eqeDma);
        this.setXqBase(true, aeqeDma);
        this.timeline.push(this.side, 'note', { what: 'firmware-event-bases', eqeDma: hex64(eqeDma), aeqeDma: hex64(aeqeDma) });
      },
    };
    this.resetState();
  }

  // ---------------------------------------------------------------- state queries (evidence)

  /** function-level error state: a queue-context fetch faulted (see docs/device-model.md) */
  get inError(): boolean {
    return this.errored;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  /** work pending in the engine or in any SQ */
  get busy(): boolean {
    if (this.curQ >= 0) return true;
    if (this.paused || this.errored) return false;
    for (let q = 0; q < this.qCached.length; q++) if (this.pending(q)) return true;
    return false;
  }
  /** simulated time of the next engine event, or null */
  nextDue(): number | null {
    return this.curQ >= 0 ? this.curDue : null;
  }
  /** bases the device currently uses for EQE/AEQE delivery */
  eventBases(): { eq: bigint; aeq: bigint } {
    const b = this.xqBase;
    return { eq: (BigInt(b[0]) << 32n) | BigInt(b[1]), aeq: (BigInt(b[2]) << 32n) | BigInt(b[3]) };
  }

  // ---------------------------------------------------------------- MmioTarget (host side)

  read32(space: MmioSpace, offset: number): number {
    const v = space === 'pf' ? this.pfRead(offset) : this.hostVfRead(offset);
    if (this.timeline.recordRegReads) this.timeline.push(this.side, 'reg-read', { space, off: offset, val: v });
    return v;
  }

  write32(space: MmioSpace, offset: number, value: number): void {
    value >>>= 0;
    this.timeline.push(this.side, 'reg-write', { space, off: offset, val: value, by: 'host' });
    if (space === 'pf') this.pfWrite(offset, value);
    else this.hostVfWrite(offset, value);
  }

  write64(space: MmioSpace, offset: number, value: bigint): void {
    if (space === 'vf' && (offset === VF_DB_SQCQ || offset === VF_DB_EQAEQ)) {
      this.doorbell(value, 'host');
      return;
    }
    this.write32(space, offset, Number(value & 0xffffffffn));
    this.write32(space, offset + 4, Number((value >> 32n) & 0xffffffffn));
  }

  write128(space: MmioSpace, offset: number, lo: bigint, hi: bigint): void {
    if (space === 'vf' && offset === VF_MAILBOX) {
      this.mailbox(lo, hi, 'host');
      return;
    }
    this.write64(space, offset, lo);
    this.write64(space, offset + 8, hi);
  }

  delayUs(us: number): void {
    this.advance(us);
  }

  // ---------------------------------------------------------------- guest view of the VF BAR2

  /** The guest's own MMIO access to its VF BAR2 (not the host's migration window). */
  guestRead32(offset: number): number {
    const v = this.guestVisible(offset) ? this.vfRead(offset) : 0xffffffff;
    if (this.timeline.recordRegReads) this.timeline.push(this.side, 'reg-read', { space: 'vf', off: offset, val: v, by: 'guest' });
    return v;
  }
  guestWrite32(offset: number, value: number): void {
    value >>>= 0;
    this.timeline.push(this.side, 'reg-write', { space: 'vf', off: offset, val: value, by: 'guest' });
    if (this.guestVisible(offset)) this.vfWrite(offset, value);
  }
  guestWrite64(offset: number, value: bigint): void {
    if (offset === VF_DB_SQCQ || offset === VF_DB_EQAEQ) this.doorbell(value, 'guest');
    else {
      this.guestWrite32(offset, Number(value & 0xffffffffn));
      this.guestWrite32(offset + 4, Number(value >> 32n));
    }
  }
  guestWrite128(offset: number, lo: bigint, hi: bigint): void {
    if (offset === VF_MAILBOX) this.mailbox(lo, hi, 'guest');
  }

  private guestVisible(offset: number): boolean {
    // VF-control mode exposes only the first half of BAR2 to the guest (docs/reference.md#pf-control-mode)
    return this.config.hwMode === 'pf-ctrl' ? offset < VF_WINDOW_BYTES : offset < GUEST_BAR_BYTES_VF_CTRL;
  }

  // ---------------------------------------------------------------- registers

  private hostVfRead(off: number): number {
    if (this.config.hwMode === 'pf-ctrl') {
      // PF-control window: EQC/AEQC shadows at 0x1C00/0x1C20; the VF's own region reads all-ones
      // (docs/reference.md#pf-control-mode)
      if (off >= PFWIN_EQC_DW0 && off < PFWIN_EQC_DW0 + 28) return this.eqc[(off - PFWIN_EQC_DW0) >>> 2];
      if (off >= PFWIN_AEQC_DW0 && off < PFWIN_AEQC_DW0 + 28) return this.aeqc[(off - PFWIN_AEQC_DW0) >>> 2];
      if (off >= VF_EQC_DW0) return 0xffffffff;
    }
    return this.vfRead(off);
  }

  private hostVfWrite(off: number, v: number): void {
    if (this.config.hwMode === 'pf-ctrl') {
      if (off >= PFWIN_EQC_DW0 && off < PFWIN_EQC_DW0 + 28) return this.xeqcWrite(this.eqc, (off - PFWIN_EQC_DW0) >>> 2, v, false);
      if (off >= PFWIN_AEQC_DW0 && off < PFWIN_AEQC_DW0 + 28) return this.xeqcWrite(this.aeqc, (off - PFWIN_AEQC_DW0) >>> 2, v, true);
      if (off >= VF_EQC_DW0) return; // ignored (docs/reference.md#pf-control-mode)
    }
    this.vfWrite(off, v);
  }

  private vfRead(off: number): number {
    if (off < 0 || off >= VF_WINDOW_BYTES || (off & 3) !== 0) return 0xffffffff;
    switch (off) {
      case VF_IFC_INT_STATUS:
        return this.faults.ifcStatusStuck ? 1 : this.regs[off >>> 2];
      case VF_MAILBOX:
        return (this.mbW0 | (this.mbQueue << 16)) >>> 0;
      case VF_MB_DATA_L:
        return this.mbL;
      case VF_MB_DATA_H:
        return this.mbH;
    }
    if (this.config.hwMode === 'vf-ctrl') {
      if (off >= VF_EQC_DW0 && off < VF_EQC_DW0 + 28) return this.eqc[(off - VF_EQC_DW0) >>> 2];
      if (off >= VF_AEQC_DW0 && off < VF_AEQC_DW0 + 28) return this.aeqc[(off - VF_AEQC_DW0) >>> 2];
    } else if (off >= VF_EQC_DW0) {
      return 0xffffffff;
    }
    return off < LOW_REGS_BYTES ? this.regs[off >>> 2] : this.highRegs.get(off) ?? 0;
  }

  private vfWrite(off: number, v: number): void {
    if (off < 0 || off >= VF_WINDOW_BYTES || (off & 3) !== 0) return;
    switch (off) {
      case VF_AEQ_INT_SOURCE:
      case VF_EQ_INT_SOURCE:
      case VF_IFC_INT_SOURCE:
        this.regs[off >>> 2] &= ~v; // write 1 to clear
        return;
      case VF_EQ_INT_MASK:
        this.regs[off >>> 2] = v;
        if ((v & 1) === 0 && this.regs[VF_EQ_INT_SOURCE >>> 2]) this.raise(IRQ_EQ);
        return;
      case VF_AEQ_INT_MASK:
        this.regs[off >>> 2] = v;
        if ((v & 1) === 0 && this.regs[VF_AEQ_INT_SOURCE >>> 2]) this.raise(IRQ_AEQ);
        return;
      case VF_CACHE_WB_START:
        if (v & 1) this.cacheWriteBack();
        return;
      case VF_CACHE_WB_DONE:
        return; // read-only
      case VF_MAILBOX:
        this.mbW0 = v & 0xffff;
        this.mbQueue = v >>> 16;
        return;
      case VF_MB_DATA_L:
        this.mbL = v;
        return;
      case VF_MB_DATA_H:
        this.mbH = v;
        return;
    }
    if (this.config.hwMode === 'vf-ctrl') {
      if (off >= VF_EQC_DW0 && off < VF_EQC_DW0 + 28) return this.xeqcWrite(this.eqc, (off - VF_EQC_DW0) >>> 2, v, false);
      if (off >= VF_AEQC_DW0 && off < VF_AEQC_DW0 + 28) return this.xeqcWrite(this.aeqc, (off - VF_AEQC_DW0) >>> 2, v, true);
    } else if (off >= VF_EQC_DW0) {
      return;
    }
    if (off < LOW_REGS_BYTES) this.regs[off >>> 2] = v;
    else this.highRegs.set(off, v);
  }

  /** A write to an EQC/AEQC shadow dword updates the live context; dw1/dw2 move the event base. */
  private xeqcWrite(ctx: Uint32Array, dw: number, v: number, aeq: boolean): void {
    ctx[dw] = v;
    if (dw === 1 || dw === 2) {
      this.xqBase[aeq ? 2 : 0] = ctx[2];
      this.xqBase[aeq ? 3 : 1] = ctx[1];
    }
  }

  private pfRead(off: number): number {
    switch (off) {
      case PF_QUE_ISO_CFG:
        return this.config.queIsoCfg >>> 0;
      case PF_ABNORMAL_INT_STATUS:
        return this.pfAbnormal;
      case PF_VFT_OP_ENABLE:
        return 0;
      case PF_VFT_OP_WR:
        return this.vftOpWr;
      case PF_VFT_TYPE:
        return this.vftType;
      case PF_VFT_CFG:
        return this.vftCfg;
      case PF_VFT_DATA_L:
        return this.vftDataL;
      case PF_VFT_DATA_H:
        return this.vftDataH;
      case PF_VFT_RDY:
        return this.faults.vftNeverReady ? 0 : this.vftRdy;
      case PF_MIG_REGION_SEL:
        return this.pfMigRegionSel;
    }
    if (off === PF_ENGINE_INT_STATUS[this.config.type]) return this.pfEngineStatus;
    return 0;
  }

  private pfWrite(off: number, v: number): void {
    switch (off) {
      case PF_VFT_OP_WR:
        this.vftOpWr = v;
        return;
      case PF_VFT_TYPE:
        this.vftType = v;
        return;
      case PF_VFT_CFG:
        this.vftCfg = v;
        return;
      case PF_VFT_RDY:
        this.vftRdy = v & 1;
        return;
      case PF_VFT_OP_ENABLE:
        if (v & 1) {
          // indirect VFT read (docs/reference.md#opening-the-save-file): only this VF's SQC VFT (type 0) is
          // known here
          const val = this.vftType === 0 && this.vftCfg === this.config.vfId ? this.vft : 0n;
          this.vftDataL = Number(val & 0xffffffffn);
          this.vftDataH = Number(val >> 32n);
          this.vftRdy = 1;
        }
        return;
      case PF_MIG_REGION_SEL:
        this.pfMigRegionSel = v & 1;
        return;
      case PF_ABNORMAL_INT_STATUS:
        this.pfAbnormal &= ~v; // write 1 to clear, as RAS status registers do
        return;
    }
  }

  // ---------------------------------------------------------------- mailbox (docs/reference.md#mailbox)

  private mailbox(lo: bigint, hi: bigint, by: 'host' | 'guest'): void {
    const l = Number(lo & 0xffffffffn);
    const w0 = l & 0xffff;
    const queue = l >>> 16;
    const baseL = Number(lo >> 32n) >>> 0;
    const baseH = Number(hi & 0xffffffffn) >>> 0;
    const cmd = w0 & 0xff;
    const query = (w0 & MB_OP_QUERY) !== 0;
    const addr = compose(baseH, baseL);
    const addrHex = hexHiLo(baseH, baseL); // exact, whatever its size
    this.stats.mailboxCommands++;
    this.mbQueue = queue;
    this.mbL = baseL;
    this.mbH = baseH;
    if (this.faults.mailboxStuckBusy) {
      this.mbW0 = (w0 | MB_BUSY) & 0xffff;
      this.timeline.push(this.side, 'mailbox', { cmd, op: query ? 1 : 0, queue, addr: addrHex, by, status: 'busy' }, 'EBUSY');
      return;
    }
    const status = this.faults.mailboxFails ? 1 : this.execMailbox(cmd, query, queue, addr, baseH, baseL);
    this.mbW0 = ((w0 & ~(MB_BUSY | MB_STATUS_MASK)) | (status << MB_STATUS_SHIFT)) & 0xffff;
    this.timeline.push(this.side, 'mailbox', { cmd, op: query ? 1 : 0, queue, addr: addrHex, by, status });
  }

  /** Returns the status field (0 = success). */
  private execMailbox(cmd: number, query: boolean, queue: number, addr: number, baseH: number, baseL: number): number {
    const n = this.qCached.length;
    // Assumption: in the error state the function refuses configuration until a function reset.
    const configCmd = !query && cmd <= MB_CMD.CQC_BT;
    if (this.errored && configCmd) return 2;
    switch (cmd) {
      case MB_CMD.SQC:
      case MB_CMD.CQC: {
        if (queue >= n) return 3;
        const bt = cmd === MB_CMD.SQC ? this.sqcBt : this.cqcBt;
        const slot = bt + queue * SQC_SIZE;
        if (!this.dmaOk(addr, SQC_SIZE, 'mailbox')) return 4;
        if (!this.dmaOk(slot, SQC_SIZE, cmd === MB_CMD.SQC ? 'sqc' : 'cqc')) {
          this.enterError(cmd === MB_CMD.SQC ? 'sqc' : 'cqc');
          return 4;
        }
        if (query) this.memory.writeN(addr, this.memory.readN(slot, SQC_SIZE));
        else {
          this.memory.writeN(slot, this.memory.readN(addr, SQC_SIZE));
          this.dropQueue(queue);
          this.qStopped[queue] = 0;
        }
        return 0;
      }
      case MB_CMD.EQC:
      case MB_CMD.AEQC: {
        const ctx = cmd === MB_CMD.EQC ? this.eqc : this.aeqc;
        if (!this.dmaOk(addr, 28, 'mailbox')) return 4;
        if (query) {
          for (let i = 0; i < EQC_DWORDS; i++) this.memory.w32(addr + 4 * i, ctx[i]);
        } else {
          for (let i = 0; i < EQC_DWORDS; i++) ctx[i] = this.memory.r32(addr + 4 * i);
          const k = cmd === MB_CMD.EQC ? 0 : 2;
          this.xqBase[k] = ctx[2];
          this.xqBase[k + 1] = ctx[1];
        }
        return 0;
      }
      case MB_CMD.SQC_BT:
      case MB_CMD.CQC_BT: {
        const sq = cmd === MB_CMD.SQC_BT;
        if (query) {
          this.mbH = this.btHL[sq ? 0 : 2];
          this.mbL = this.btHL[sq ? 1 : 3];
        } else {
          if (sq) this.sqcBt = addr;
          else this.cqcBt = addr;
          this.btHL[sq ? 0 : 2] = baseH;
          this.btHL[sq ? 1 : 3] = baseL;
          this.qCached.fill(0); // a new table: cached contexts are stale
          // Assumption: reprogramming the queue tables (a driver initialising the function) ends a PAUSE_QM.
          this.paused = false;
        }
        return 0;
      }
      case MB_CMD.SQC_VFT_V2:
        if (!query) return 1; // a VF cannot program its own VFT
        this.mbL = Number(this.vft & 0xffffffffn);
        this.mbH = Number(this.vft >> 32n);
        return 0;
      case MB_CMD.STOP_QP:
        if (queue >= n) return 3;
        if (this.curQ === queue) this.completeCurrent();
        this.dropQueue(queue);
        this.qStopped[queue] = 1;
        return 0;
      case MB_CMD.SRC:
      case MB_CMD.DST:
        return 0; // PF<->VF messaging: acknowledged, no PF driver modelled
      case MB_CMD.PAUSE_QM:
        // Assumption: PAUSE_QM drains the request already in the engine, then fetches nothing more.
        if (this.curQ >= 0) this.completeCurrent();
        this.paused = true;
        return 0;
      default:
        return 1;
    }
  }

  // ---------------------------------------------------------------- doorbells (docs/reference.md#doorbells)

  private doorbell(v: bigint, by: 'host' | 'guest'): void {
    const lo = Number(v & 0xffffffffn);
    const hi = Number(v >> 32n);
    const qn = lo & 0xfff;
    const cmd = (lo >>> 12) & 0xf;
    const index = hi & 0xffff;
    const prio = (hi >>> 16) & 0xffff;
    this.stats.doorbells++;
    this.timeline.push(this.side, 'doorbell', { cmd, qn, index, prio, by });
    switch (cmd) {
      case DB_CMD.SQ:
        if (qn >= this.qCached.length || this.errored) return;
        // Assumption (docs/device-model.md #5): PAUSE_QM quiesces the function for a save and the next
        // SQ doorbell of any priority ends it. The driver has no resume command, and a source's
        // start_device rings no doorbell (its queue count is set only on a destination), yet a refused
        // migration is described upstream as leaving the source running.
        this.paused = false;
        if (prio === 1) {
          // A priority-1 SQ doorbell (driver start_device, docs/reference.md#starting-the-device) re-arms the
          // queue; its index is not a new tail. A context not held in the cache is fetched from the SQC/CQC
          // tables in memory (the destination's case); a held one stays as it is.
          this.qStopped[qn] = 0;
          if (!this.qCached[qn] && !this.loadQueue(qn)) return;
        } else {
          if (!this.qCached[qn] && !this.loadQueue(qn)) return;
          this.sqTail[qn] = index % Math.max(1, this.sqDepth[qn]);
        }
        this.pump();
        return;
      case DB_CMD.CQ:
        if (qn >= this.qCached.length || this.errored) return;
        if (!this.qCached[qn] && !this.loadQueue(qn)) return;
        this.cqHead[qn] = index;
        return;
      case DB_CMD.EQ:
      case DB_CMD.AEQ: {
        const aeq = cmd === DB_CMD.AEQ;
        const ctx = aeq ? this.aeqc : this.eqc;
        ctx[0] = ((ctx[0] & 0xffff0000) | index) >>> 0;
        const src = aeq ? VF_AEQ_INT_SOURCE : VF_EQ_INT_SOURCE;
        this.regs[src >>> 2] = 0;
        // Events not yet consumed: the device signals again (what the R3 "interruption restore" relies on).
        if (index !== ctx[0] >>> 16) this.signal(aeq);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- queue contexts

  private loadQueue(q: number): boolean {
    const sqc = this.sqcBt + q * SQC_SIZE;
    const cqc = this.cqcBt + q * CQC_SIZE;
    if (!this.dmaOk(sqc, SQC_SIZE, 'sqc')) {
      this.enterError('sqc');
      return false;
    }
    if (!this.dmaOk(cqc, CQC_SIZE, 'cqc')) {
      this.enterError('cqc');
      return false;
    }
    const m = this.memory;
    const s0 = m.r32(sqc);
    this.sqHead[q] = s0 & 0xffff;
    this.sqTail[q] = s0 >>> 16;
    this.sqBase[q] = compose(m.r32(sqc + 8), m.r32(sqc + 4));
    const s3 = m.r32(sqc + 12);
    // depth-1 in bits 11:0, log2(SQE size) from bit 12 (docs/reference.md#queue-and-event-queue-contexts;
    // qm.c keeps depth <= 4096)
    this.sqDepth[q] = (s3 & 0xfff) + 1;
    this.sqeLog2[q] = (s3 >>> 12) & 0xf;
    this.sqCqn[q] = m.r32(sqc + 24) & 0xffff;
    const c0 = m.r32(cqc);
    this.cqHead[q] = c0 & 0xffff;
    this.cqTail[q] = c0 >>> 16;
    this.cqBase[q] = compose(m.r32(cqc + 8), m.r32(cqc + 4));
    this.cqDepth[q] = (m.r32(cqc + 12) & 0xfff) + 1;
    const c6 = m.r32(cqc + 24);
    this.cqFlags[q] = c6;
    this.cqPhase[q] = c6 & 1;
    this.qCached[q] = 1;
    return true;
  }

  private dropQueue(q: number): void {
    this.qCached[q] = 0;
  }

  /** QM_CACHE_WB: flush cached queue positions into the SQC/CQC tables in guest memory. */
  private cacheWriteBack(): void {
    this.regs[VF_CACHE_WB_DONE >>> 2] = 0;
    for (let q = 0; q < this.qCached.length; q++) {
      if (!this.qCached[q]) continue;
      const sqc = this.sqcBt + q * SQC_SIZE;
      const cqc = this.cqcBt + q * CQC_SIZE;
      if (!this.dmaOk(sqc, SQC_SIZE, 'sqc') || !this.dmaOk(cqc, CQC_SIZE, 'cqc')) continue;
      this.memory.w32(sqc, this.sqHead[q] | (this.sqTail[q] << 16));
      this.memory.w32(cqc, this.cqHead[q] | (this.cqTail[q] << 16));
      // Assumption: the written-back CQC carries the current producer phase, so a restart continues it.
      this.memory.w32(cqc + 24, ((this.cqFlags[q] & ~1) | this.cqPhase[q]) >>> 0);
    }
    if (!this.faults.cacheWbNeverDone) this.regs[VF_CACHE_WB_DONE >>> 2] = 1;
  }

  private pending(q: number): boolean {
    return this.qCached[q] === 1 && this.qStopped[q] === 0 && this.sqHead[q] !== this.sqTail[q];
  }

  // ---------------------------------------------------------------- engine

  /** Start the next request if the engine is free (round-robin over queues). */
  private pump(): void {
    if (this.curQ >= 0 || this.paused || this.errored) return;
    const n = this.qCached.length;
    for (let k = 0; k < n; k++) {
      const q = (this.rr + k) % n;
      if (!this.pending(q)) continue;
      this.rr = (q + 1) % n;
      const idx = this.sqHead[q];
      const size = 1 << this.sqeLog2[q];
      const sqe = this.sqBase[q] + idx * size;
      if (!this.dmaOk(sqe, size, 'sqe')) {
        this.enterError('sqe');
        return;
      }
      this.sqHead[q] = (idx + 1) % this.sqDepth[q];
      this.stats.sqesFetched++;
      this.curQ = q;
      this.curIdx = idx;
      this.curDue = this.clock.now() + latencyUs(this.baseUs, this.perKiBUs, this.memory.r32(sqe + SQE_OFF.len));
      return;
    }
  }

  /** Finish the request in the engine: data, SQE status, CQE, EQE, interrupt. */
  private completeCurrent(): void {
    const q = this.curQ;
    const idx = this.curIdx;
    this.curQ = -1;
    if (q < 0) return;
    const m = this.memory;
    const sqe = this.sqBase[q] + idx * (1 << this.sqeLog2[q]);
    let status: number = SQE_STATUS.DONE;
    let outLen = 0;
    const op = m.r8(sqe + SQE_OFF.op);
    if (!this.ops.includes(op)) status = SQE_STATUS.BAD_OP;
    else {
      const len = m.r32(sqe + SQE_OFF.len);
      const src = m.r64n(sqe + SQE_OFF.src);
      const dst = m.r64n(sqe + SQE_OFF.dst);
      const key = m.r64n(sqe + SQE_OFF.key);
      const keyLen = m.r32(sqe + SQE_OFF.keyLen);
      const ivLen = m.r32(sqe + SQE_OFF.ivLen);
      const iv = m.r64n(sqe + SQE_OFF.iv);
      const cap = m.r32(sqe + SQE_OFF.dstCap);
      if (!this.dmaOk(src, len, 'data') || (keyLen > 0 && !this.dmaOk(key, keyLen, 'data')) || (ivLen > 0 && !this.dmaOk(iv, ivLen, 'data'))) {
        status = SQE_STATUS.DMA_FAULT;
      } else {
        const out = executeOp({
          op, data: m.view(src, len), key: keyLen ? m.readN(key, keyLen) : new Uint8Array(0), iv: ivLen ? m.readN(iv, ivLen) : new Uint8Array(0),
        });
        if (typeof out === 'string') status = out === 'bad-op' ? SQE_STATUS.BAD_OP : out === 'bad-len' ? SQE_STATUS.BAD_LEN : SQE_STATUS.ENGINE_ERROR;
        else if (out.length > cap) status = SQE_STATUS.BAD_LEN;
        else if (!this.dmaOk(dst, out.length, 'data')) status = SQE_STATUS.DMA_FAULT;
        else {
          m.writeN(dst, out);
          outLen = out.length;
        }
      }
    }
    if (m.contains(sqe, 16)) {
      m.w8(sqe + SQE_OFF.status, status);
      m.w32(sqe + SQE_OFF.outLen, outLen);
    }
    this.stats.requestsCompleted++;
    // CQE (docs/reference.md#queue-and-event-queue-contexts): dw2 = sq_head (the completed SQE's index) |
    // sq_num << 16; dw3 bit16 = phase
    const cqn = this.sqCqn[q] < this.qCached.length ? this.sqCqn[q] : q;
    if (!this.qCached[cqn] && !this.loadQueue(cqn)) return;
    const cqe = this.cqBase[cqn] + this.cqTail[cqn] * CQE_SIZE;
    if (!this.dmaOk(cqe, CQE_SIZE, 'cqe')) {
      this.qStopped[q] = 1;
      return;
    }
    m.w32(cqe, 0);
    m.w32(cqe + 4, idx & 0xffff);
    m.w32(cqe + 8, (idx & 0xffff) | (q << 16));
    m.w32(cqe + 12, this.cqPhase[cqn] << 16);
    this.stats.cqesWritten++;
    if (++this.cqTail[cqn] >= this.cqDepth[cqn]) {
      this.cqTail[cqn] = 0;
      this.cqPhase[cqn] ^= 1;
    }
    this.postEvent(false, cqn, 0);
  }

  /** Write an EQE (or AEQE) and raise the line. */
  private postEvent(aeq: boolean, qn: number, type: number): void {
    const ctx = aeq ? this.aeqc : this.eqc;
    const depth = (ctx[6] & 0xffff) + 1;
    const phase = (ctx[6] >>> 16) & 1;
    const tail = ctx[0] >>> 16;
    const entry = ((qn & 0xffff) | (phase << 16) | (aeq ? type << 17 : 0)) >>> 0;
    // Assumption: a fault writing an EQE/AEQE is recorded (SMMU) but the engine keeps going.
    const addr = this.xqAddr(aeq, tail * EQE_SIZE, aeq ? 'aeqe' : 'eqe');
    if (addr >= 0) {
      this.memory.w32(addr, entry);
      if (aeq) this.stats.aeqesWritten++;
      else this.stats.eqesWritten++;
    }
    let next = tail + 1;
    if (next >= depth) {
      next = 0;
      // Assumption: the shadow dw6 phase bit tracks the producer phase, so a restore continues it.
      ctx[6] = (ctx[6] ^ (1 << 16)) >>> 0;
    }
    ctx[0] = ((ctx[0] & 0xffff) | (next << 16)) >>> 0;
    this.signal(aeq);
  }

  private signal(aeq: boolean): void {
    const src = aeq ? VF_AEQ_INT_SOURCE : VF_EQ_INT_SOURCE;
    this.regs[src >>> 2] = 1;
    const mask = this.regs[(aeq ? VF_AEQ_INT_MASK : VF_EQ_INT_MASK) >>> 2];
    if ((mask & 1) === 0) this.raise(aeq ? IRQ_AEQ : IRQ_EQ);
  }

  private raise(vector: number): void {
    this.stats.irqs++;
    this.timeline.push(this.side, 'irq', { vector, delivered: this.irqSink !== null });
    this.irqSink?.(vector, this);
  }

  // ---------------------------------------------------------------- DMA and errors

  private setXqBase(aeq: boolean, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.xqBase[aeq ? 2 : 0] = Number(u >> 32n);
    this.xqBase[aeq ? 3 : 1] = Number(u & 0xffffffffn);
  }

  /**
   * Guest address of an EQE/AEQE at byte offset `off` from the event base, or -1 after recording a
   * DMA fault. Bases above 2^53 (e.g. the R0-R2 composition) are never guest memory; their fault
   * carries the exact 64-bit address.
   */
  private xqAddr(aeq: boolean, off: number, what: string): number {
    const hi = this.xqBase[aeq ? 2 : 0];
    const lo = this.xqBase[aeq ? 3 : 1];
    if (hi < 0x100000) { // below 2^52: the sum stays an exact number
      const a = hi * 0x1_0000_0000 + lo + off;
      return this.dmaOk(a, EQE_SIZE, what) ? a : -1;
    }
    const iova = BigInt.asUintN(64, ((BigInt(hi) << 32n) | BigInt(lo)) + BigInt(off));
    this.recordFault(what, hex64(iova), EQE_SIZE);
    return -1;
  }

  private dmaOk(addr: number, len: number, what: string): boolean {
    if (this.memory.contains(addr, len)) return true;
    this.recordFault(what, addr < 2 ** 53 ? hex64(BigInt(addr)) : 'above-2^53', len);
    return false;
  }

  private recordFault(what: string, iova: string, len: number): void {
    this.stats.dmaFaults++;
    this.dmaFaults.push({ t: this.clock.now(), what, iova, len });
    this.timeline.push(this.side, 'dma-fault', { what, iova, len });
  }

  /** Assumption: a fault fetching queue state stops the function until a function reset. */
  private enterError(what: string): void {
    if (this.errored) return;
    this.errored = true;
    this.curQ = -1;
    this.pfAbnormal = 1;
    this.pfEngineStatus = 1;
    this.timeline.push(this.side, 'event', { what: 'device-error', cause: what });
  }

  // ---------------------------------------------------------------- time

  /** Run the engine for `us` of simulated time. */
  advance(us: number): void {
    const target = this.clock.now() + us;
    for (let i = 0; this.curQ >= 0 && this.curDue <= target; i++) {
      if (i > MAX_STEPS) throw new HangError('device engine (advance)', []);
      const d = this.curDue - this.clock.now();
      if (d > 0) this.clock.advance(d);
      this.completeCurrent();
      this.pump();
    }
    const rest = target - this.clock.now();
    if (rest > 0) this.clock.advance(rest);
  }

  /** Process pending work until idle or maxUs elapsed; returns whether the device went idle. */
  runUntilIdle(maxUs: number): boolean {
    const end = this.clock.now() + maxUs;
    for (let i = 0; i < MAX_STEPS; i++) {
      if (this.curQ < 0) this.pump();
      if (this.curQ < 0) return true;
      if (this.curDue > end) {
        this.advance(end - this.clock.now());
        return false;
      }
      this.advance(Math.max(0, this.curDue - this.clock.now()));
    }
    return false;
  }

  // ---------------------------------------------------------------- reset and RAS

  /** VFIO_DEVICE_RESET / FLR: every function register to its reset value. */
  functionReset(): void {
    this.stats.resets++;
    this.timeline.push(this.side, 'reset', { what: 'function-reset' });
    this.resetState();
  }

  private resetState(): void {
    this.regs.fill(0);
    this.highRegs.clear();
    this.regs[VF_AEQ_INT_MASK >>> 2] = 1;
    this.regs[VF_EQ_INT_MASK >>> 2] = 1;
    this.regs[VF_IFC_INT_MASK >>> 2] = 1;
    // Assumption (docs/reference.md#no-guest-driver-what-the-source-saves): QM_VF_STATE reads 0 (ready) after
    // reset, with or without a guest driver.
    this.regs[VF_QM_STATE >>> 2] = 0;
    this.regs[VF_CACHE_WB_DONE >>> 2] = 1;
    this.mbW0 = this.mbQueue = this.mbL = this.mbH = 0;
    this.eqc.fill(0);
    this.aeqc.fill(0);
    this.xqBase.fill(0);
    this.sqcBt = this.cqcBt = 0;
    this.btHL.fill(0);
    this.qCached.fill(0);
    this.qStopped.fill(0);
    this.curQ = -1;
    this.paused = false;
    this.errored = false;
    this.pfAbnormal = 0;
    this.pfEngineStatus = 0;
    this.vftRdy = 1;
  }

  /** Raise a RAS event (ras-recovery workload). */
  injectRas(kind: RasKind): void {
    this.timeline.push(this.side, 'event', { what: 'ras', kind });
    switch (kind) {
      case 'eq-overflow':
        return this.postEvent(true, 0, AEQ_EVENT.EQ_OVERFLOW);
      case 'cq-overflow':
        return this.postEvent(true, 0, AEQ_EVENT.CQ_OVERFLOW);
      case 'cqe-error':
        return this.postEvent(true, 0, AEQ_EVENT.CQE_ERROR);
      case 'hw-error':
        this.pfAbnormal = 1;
        this.pfEngineStatus = 1;
        return;
    }
  }
}
